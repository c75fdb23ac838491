//! The memory a user's sockets hold in the kernel (what waits in their send and receive
//! queues), asked of the kernel's sock_diag interface: every TCP and UDP socket (IPv4 and
//! IPv6) and every unix socket of the calling thread's network namespace, with its owner
//! and its memory, in one dump a family. No privilege is needed.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// `SOCK_DIAG_BY_FAMILY`.
const SOCK_DIAG_BY_FAMILY: u16 = 20;
/// `INET_DIAG_SKMEMINFO`, and `UNIX_DIAG_MEMINFO`, `UNIX_DIAG_UID`: attributes asked for.
const INET_DIAG_SKMEMINFO: u16 = 7;
const UNIX_DIAG_MEMINFO: u16 = 5;
const UNIX_DIAG_UID: u16 = 7;
const UDIAG_SHOW_MEMINFO: u32 = 0x20;
const UDIAG_SHOW_UID: u32 = 0x40;
/// In `SK_MEMINFO_*` order: what is queued to receive; what was sent and not yet freed (a
/// unix or UDP socket's send side); TCP's send queue.
const SK_MEMINFO_RMEM_ALLOC: usize = 0;
const SK_MEMINFO_WMEM_ALLOC: usize = 2;
const SK_MEMINFO_WMEM_QUEUED: usize = 5;
/// Header sizes: `nlmsghdr`, `inet_diag_msg` (which holds the owner at offset 64),
/// `unix_diag_msg`, `rtattr`.
const NLMSG_HEADER: usize = 16;
const INET_DIAG_MSG: usize = 72;
const INET_DIAG_UID_AT: usize = 64;
const UNIX_DIAG_MSG: usize = 16;
const RTATTR_HEADER: usize = 4;

/// Bytes held in the queues of every socket `uid` owns.
pub fn memory_of(uid: u32) -> io::Result<u64> {
    let mut total = 0;
    for family in [libc::AF_INET, libc::AF_INET6] {
        for (protocol, sent) in [
            (libc::IPPROTO_TCP, SK_MEMINFO_WMEM_QUEUED),
            (libc::IPPROTO_UDP, SK_MEMINFO_WMEM_ALLOC),
        ] {
            total += dump(&inet_request(family as u8, protocol as u8), |msg| {
                let owner = read_u32(msg, INET_DIAG_UID_AT)?;
                let meminfo = attribute(msg.get(INET_DIAG_MSG..)?, INET_DIAG_SKMEMINFO)?;
                (owner == uid).then(|| queued(meminfo, sent))?
            })?;
        }
    }
    total += dump(&unix_request(), |msg| {
        let attrs = msg.get(UNIX_DIAG_MSG..)?;
        let owner = read_u32(attribute(attrs, UNIX_DIAG_UID)?, 0)?;
        let meminfo = attribute(attrs, UNIX_DIAG_MEMINFO)?;
        (owner == uid).then(|| queued(meminfo, SK_MEMINFO_WMEM_ALLOC))?
    })?;
    Ok(total)
}

/// What a `sk_meminfo` array says waits in a socket's queues: received, and sent (the
/// field that counts it for the protocol).
fn queued(meminfo: &[u8], sent: usize) -> Option<u64> {
    let at = |i: usize| read_u32(meminfo, i * 4).map(u64::from);
    Some(at(SK_MEMINFO_RMEM_ALLOC)? + at(sent)?)
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// The payload of the first attribute of `kind` in `attrs` (a run of rtattrs).
fn attribute(mut attrs: &[u8], kind: u16) -> Option<&[u8]> {
    while attrs.len() >= RTATTR_HEADER {
        let len = usize::from(u16::from_ne_bytes([attrs[0], attrs[1]]));
        let this = u16::from_ne_bytes([attrs[2], attrs[3]]);
        if len < RTATTR_HEADER || len > attrs.len() {
            return None;
        }
        if this == kind {
            return Some(&attrs[RTATTR_HEADER..len]);
        }
        attrs = &attrs[align(len).min(attrs.len())..];
    }
    None
}

fn align(len: usize) -> usize {
    (len + 3) & !3
}

/// A dump request for every TCP or UDP socket of `family`, with its memory.
fn inet_request(family: u8, protocol: u8) -> Vec<u8> {
    // inet_diag_req_v2: family, protocol, ext (a bit per attribute asked), pad, states, id.
    let mut body = vec![family, protocol, 1 << (INET_DIAG_SKMEMINFO - 1), 0];
    body.extend(u32::MAX.to_ne_bytes()); // every state
    body.extend([0u8; 48]); // inet_diag_sockid: any
    body
}

/// A dump request for every unix socket, with its owner and memory.
fn unix_request() -> Vec<u8> {
    // unix_diag_req: family, protocol, pad, states, ino, show, cookie.
    let mut body = vec![libc::AF_UNIX as u8, 0, 0, 0];
    body.extend(u32::MAX.to_ne_bytes());
    body.extend(0u32.to_ne_bytes());
    body.extend((UDIAG_SHOW_MEMINFO | UDIAG_SHOW_UID).to_ne_bytes());
    body.extend([0u8; 8]);
    body
}

/// Sends a dump request with `body`, and adds up `each` over the sockets in the answer.
fn dump(body: &[u8], each: impl Fn(&[u8]) -> Option<u64>) -> io::Result<u64> {
    // SAFETY: socket(2) with constant arguments; the descriptor is owned below.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            libc::NETLINK_SOCK_DIAG,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new descriptor nothing else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut request = Vec::with_capacity(NLMSG_HEADER + body.len());
    request.extend(((NLMSG_HEADER + body.len()) as u32).to_ne_bytes());
    request.extend(SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    request.extend(((libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16).to_ne_bytes());
    request.extend(1u32.to_ne_bytes()); // sequence
    request.extend(0u32.to_ne_bytes()); // port: the kernel's
    request.extend(body);
    // SAFETY: a valid buffer of that length.
    if unsafe { libc::send(sock.as_raw_fd(), request.as_ptr().cast(), request.len(), 0) } < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut total = 0;
    let mut buf = vec![0u8; 64 << 10];
    loop {
        // SAFETY: a valid buffer of that length.
        let n = unsafe { libc::recv(sock.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        let mut rest = &buf[..n as usize];
        while rest.len() >= NLMSG_HEADER {
            let len = read_u32(rest, 0).unwrap_or(0) as usize;
            let kind = u16::from_ne_bytes([rest[4], rest[5]]);
            if len < NLMSG_HEADER || len > rest.len() {
                break;
            }
            match kind as i32 {
                libc::NLMSG_DONE => return Ok(total),
                libc::NLMSG_ERROR => {
                    let errno = read_u32(rest, NLMSG_HEADER).map_or(0, |e| -(e as i32));
                    return Err(io::Error::from_raw_os_error(errno));
                }
                _ => total += each(&rest[NLMSG_HEADER..len]).unwrap_or(0),
            }
            rest = &rest[align(len).min(rest.len())..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes written to a connected unix socket, and to a TCP connection over the
    /// loopback, and not read are counted for this user. (In a network namespace of the
    /// test's own, where no other socket of this user comes and goes meanwhile.)
    #[test]
    fn counts_what_waits_in_a_users_sockets() {
        std::thread::spawn(count_in_a_namespace).join().unwrap();
    }

    fn count_in_a_namespace() {
        if let Err(crate::sandbox::netns::NotEntered::Refused(why)) = crate::sandbox::netns::enter()
        {
            panic!("run the tests where namespaces may be made (as root): {why}");
        }
        let uid = nix::unistd::geteuid().as_raw();
        let (unix, _peer) = std::os::unix::net::UnixStream::pair().unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let tcp = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let _accepted = listener.accept().unwrap();
        let before = memory_of(uid).unwrap();
        std::io::Write::write_all(&mut &unix, &[7u8; 100_000]).unwrap();
        std::io::Write::write_all(&mut &tcp, &[7u8; 100_000]).unwrap();
        let after = memory_of(uid).unwrap();
        assert_eq!(before, 0);
        assert!(after >= 200_000, "{after}");
    }
}

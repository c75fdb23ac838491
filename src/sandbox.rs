//! A fresh network and PID namespace for each run, so that the lesson's hard-coded port is
//! free every time, TIME_WAIT from the last run cannot touch the next, parallel runs never
//! meet, and every process the program starts dies with it.
//!
//! Namespaces are per thread: the grading thread unshares, then creates the harness's peer
//! sockets and starts the program, which inherits the namespace. A thread that has unshared
//! its PID namespace may not start threads of its own (the kernel says EINVAL), so a run is
//! one thread driven by `poll`.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::script::Proto;

/// `SOCKLAB_ISOLATION=host` grades on the host's loopback even where namespaces work: the
/// fallback path, on purpose (for systems where namespaces misbehave, and for its tests).
pub const ISOLATION_ENV: &str = "SOCKLAB_ISOLATION";

/// Where a run's sockets live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Isolation {
    /// Its own network and PID namespaces, loopback up.
    Namespace,
    /// The host's loopback, shared with everything else on the machine (namespaces refused).
    Host { reason: String },
}

impl Isolation {
    pub fn describe(&self) -> String {
        match self {
            Isolation::Namespace => "own network namespace".into(),
            Isolation::Host { .. } => "host loopback".into(),
        }
    }
}

/// Called once at start-up, before any thread exists: without root, enter a user namespace
/// (the kernel refuses CLONE_NEWUSER to a threaded process) so that each grading thread may
/// then make network and PID namespaces of its own. Failure is fine: runs fall back to the
/// host.
pub fn prepare_process() {
    if nix::unistd::geteuid().is_root() {
        return;
    }
    let uid = nix::unistd::getuid();
    let gid = nix::unistd::getgid();
    if nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUSER).is_err() {
        return;
    }
    // Map ourselves to root inside, so the namespace grants the capabilities we need.
    let _ = std::fs::write("/proc/self/setgroups", "deny");
    let _ = std::fs::write("/proc/self/uid_map", format!("0 {uid} 1"));
    let _ = std::fs::write("/proc/self/gid_map", format!("0 {gid} 1"));
}

/// Moves the calling thread into new network and PID namespaces and brings loopback up.
/// Children this thread starts afterwards live there; the first becomes its PID 1.
pub fn enter_fresh_namespace() -> Isolation {
    use nix::sched::{CloneFlags, unshare};
    if std::env::var_os(ISOLATION_ENV).is_some_and(|v| v == "host") {
        return Isolation::Host {
            reason: format!("{ISOLATION_ENV}=host"),
        };
    }
    if let Err(e) = unshare(CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWPID) {
        return Isolation::Host {
            reason: format!("cannot create a network namespace ({e})"),
        };
    }
    let ready = loopback_up().and_then(|()| {
        add_address("lo:alice", ALICE_IP)?;
        add_address("lo:bob", BOB_IP)?;
        // On real hosts whoever talks to Alice speaks from Bob's address and the other way
        // round. Sharing one loopback, the kernel would answer Alice from her own address,
        // and a UDP server that connect()s to its peer (nc -ul) would then miss her next
        // datagrams, sent to Bob.
        prefer_source(ALICE_IP, BOB_IP)?;
        prefer_source(BOB_IP, ALICE_IP)
    });
    match ready {
        Ok(()) => Isolation::Namespace,
        // The thread is already in the new namespace; without loopback nothing would work.
        Err(e) => Isolation::Host {
            reason: format!("cannot set up loopback ({e})"),
        },
    }
}

/// Alice, the client of the lesson's drawing.
pub const ALICE_IP: Ipv4Addr = Ipv4Addr::new(111, 111, 111, 111);
/// Bob, the server of the lesson's drawing.
pub const BOB_IP: Ipv4Addr = Ipv4Addr::new(222, 222, 222, 222);

/// The lesson's two hosts as a run has them: their own addresses in a namespace, both
/// 127.0.0.1 on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hosts {
    pub alice: Ipv4Addr,
    pub bob: Ipv4Addr,
}

impl Isolation {
    pub fn hosts(&self) -> Hosts {
        match self {
            Isolation::Namespace => Hosts {
                alice: ALICE_IP,
                bob: BOB_IP,
            },
            Isolation::Host { .. } => Hosts {
                alice: Ipv4Addr::LOCALHOST,
                bob: Ipv4Addr::LOCALHOST,
            },
        }
    }
}

/// Adds `ip/32` to loopback under an alias label, as `ifconfig lo:alice IP` would. An
/// ioctl, not `ip addr add`: a child started here would become PID 1 of the run's namespace.
fn add_address(label: &str, ip: Ipv4Addr) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)?;
    let sockaddr = |ip: Ipv4Addr| {
        // SAFETY: sockaddr_in is plain data.
        let mut sin: libc::sockaddr_in = unsafe { std::mem::zeroed() };
        sin.sin_family = libc::AF_INET as libc::sa_family_t;
        sin.sin_addr.s_addr = u32::from(ip).to_be();
        // SAFETY: sockaddr_in fits in sockaddr (both 16 bytes) and is what AF_INET means.
        unsafe { std::mem::transmute::<libc::sockaddr_in, libc::sockaddr>(sin) }
    };
    // SAFETY: ifreq is plain data; the label fits (checked); the ioctls read only it.
    unsafe {
        let mut ifr: libc::ifreq = std::mem::zeroed();
        assert!(label.len() < ifr.ifr_name.len());
        for (dst, src) in ifr.ifr_name.iter_mut().zip(label.bytes()) {
            *dst = src as libc::c_char;
        }
        ifr.ifr_ifru.ifru_addr = sockaddr(ip);
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFADDR, &ifr) < 0 {
            return Err(io::Error::last_os_error());
        }
        ifr.ifr_ifru.ifru_netmask = sockaddr(Ipv4Addr::BROADCAST);
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFNETMASK, &ifr) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

fn loopback_up() -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)?;
    // SAFETY: ifreq is plain data; the name fits; the ioctls read and write only it.
    unsafe {
        let mut ifr: libc::ifreq = std::mem::zeroed();
        for (dst, src) in ifr.ifr_name.iter_mut().zip(b"lo\0") {
            *dst = *src as libc::c_char;
        }
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut ifr) < 0 {
            return Err(io::Error::last_os_error());
        }
        ifr.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &ifr) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// A socket waiting for peers: a TCP listener or a bound UDP socket.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Listening {
    pub proto: Proto,
    pub addr: IpAddr,
    pub port: u16,
}

/// What listens in the calling thread's network namespace (TCP in LISTEN, UDP bound and
/// unconnected). In a run's own namespace these are the program's sockets and the harness's.
pub fn listening_sockets() -> Vec<Listening> {
    let mut found = Vec::new();
    for (file, proto, state) in [
        ("tcp", Proto::Tcp, "0A"),
        ("tcp6", Proto::Tcp, "0A"),
        ("udp", Proto::Udp, "07"),
        ("udp6", Proto::Udp, "07"),
    ] {
        let Some(table) = read_proc(&format!("/proc/thread-self/net/{file}")) else {
            continue;
        };
        for line in table.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 4 || fields[3] != state {
                continue;
            }
            if proto == Proto::Udp && !fields[2].ends_with(":0000") {
                continue; // a connected UDP socket is not waiting for just anyone
            }
            if let Some((addr, port)) = parse_proc_addr(fields[1]) {
                found.push(Listening { proto, addr, port });
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

/// Reads a /proc table in large reads: it reports size 0, so a size-guided read would take
/// many small ones, and each makes the kernel walk its socket table again.
fn read_proc(path: &str) -> Option<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).ok()?;
    let mut data = Vec::with_capacity(64 << 10);
    let mut buf = vec![0u8; 64 << 10];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => data.extend_from_slice(&buf[..n]),
            Err(_) => return None,
        }
    }
    String::from_utf8(data).ok()
}

/// Makes the kernel speak from `source` to `local` (a loopback address of this namespace):
/// `ip route replace local LOCAL dev lo table local scope host src SOURCE`, over netlink,
/// since a child process started here would become PID 1 of the run's namespace.
fn prefer_source(local: Ipv4Addr, source: Ipv4Addr) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    fn attr(msg: &mut Vec<u8>, kind: u16, data: &[u8]) {
        msg.extend_from_slice(&((4 + data.len()) as u16).to_ne_bytes());
        msg.extend_from_slice(&kind.to_ne_bytes());
        msg.extend_from_slice(data);
        msg.resize(msg.len().next_multiple_of(4), 0);
    }
    let lo = nix::net::if_::if_nametoindex("lo").map_err(io::Error::from)?;
    let flags = libc::NLM_F_REQUEST | libc::NLM_F_ACK | libc::NLM_F_CREATE | libc::NLM_F_REPLACE;
    let mut msg = Vec::with_capacity(64);
    msg.extend_from_slice(&0u32.to_ne_bytes()); // length, filled in below
    msg.extend_from_slice(&libc::RTM_NEWROUTE.to_ne_bytes());
    msg.extend_from_slice(&(flags as u16).to_ne_bytes());
    msg.extend_from_slice(&1u32.to_ne_bytes()); // sequence
    msg.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel fills it in
    // struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags.
    msg.extend_from_slice(&[
        libc::AF_INET as u8,
        32,
        0,
        0,
        libc::RT_TABLE_LOCAL,
        libc::RTPROT_KERNEL,
        libc::RT_SCOPE_HOST,
        libc::RTN_LOCAL,
    ]);
    msg.extend_from_slice(&0u32.to_ne_bytes());
    attr(&mut msg, libc::RTA_DST, &local.octets());
    attr(&mut msg, libc::RTA_PREFSRC, &source.octets());
    attr(&mut msg, libc::RTA_OIF, &lo.to_ne_bytes());
    let len = msg.len() as u32;
    msg[..4].copy_from_slice(&len.to_ne_bytes());

    // SAFETY: a plain socket call; the fd is owned right away.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_ROUTE,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a new socket we own.
    let sock = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    // SAFETY: a zeroed sockaddr_nl addresses the kernel.
    let mut kernel: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    // SAFETY: msg and kernel are valid for their lengths.
    let sent = unsafe {
        libc::sendto(
            sock.as_raw_fd(),
            msg.as_ptr().cast(),
            msg.len(),
            0,
            (&kernel as *const libc::sockaddr_nl).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    // The answer is an NLMSG_ERROR whose error field (after the 16-byte header) is 0 on
    // success.
    let mut answer = [0u8; 1024];
    // SAFETY: answer is valid for its length.
    let n = unsafe {
        libc::recv(
            sock.as_raw_fd(),
            answer.as_mut_ptr().cast(),
            answer.len(),
            0,
        )
    };
    if n < 20 {
        return Err(io::Error::last_os_error());
    }
    let kind = u16::from_ne_bytes([answer[4], answer[5]]);
    let error = i32::from_ne_bytes([answer[16], answer[17], answer[18], answer[19]]);
    if kind == libc::NLMSG_ERROR as u16 && error != 0 {
        return Err(io::Error::from_raw_os_error(-error));
    }
    Ok(())
}

/// `0100007F:1F40` (IPv4) or 32 hex digits (IPv6), each 32-bit word in host byte order.
fn parse_proc_addr(field: &str) -> Option<(IpAddr, u16)> {
    let (addr, port) = field.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let words: Option<Vec<u32>> = (0..addr.len() / 8)
        .map(|i| u32::from_str_radix(&addr[i * 8..i * 8 + 8], 16).ok())
        .collect();
    let words = words?;
    let ip = match words.as_slice() {
        [w] => IpAddr::V4(Ipv4Addr::from(w.to_ne_bytes())),
        [a, b, c, d] => {
            let mut bytes = [0u8; 16];
            for (i, w) in [a, b, c, d].iter().enumerate() {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&w.to_ne_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some((ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_net_addresses() {
        assert_eq!(
            parse_proc_addr("0100007F:1F40"),
            Some((IpAddr::V4(Ipv4Addr::LOCALHOST), 8000))
        );
        assert_eq!(
            parse_proc_addr("00000000000000000000000001000000:2328"),
            Some((IpAddr::V6(Ipv6Addr::LOCALHOST), 9000))
        );
    }
}

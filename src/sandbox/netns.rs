//! A fresh network namespace for the calling thread, with loopback up and the lesson's two
//! hosts on it.
//!
//! Namespaces are per thread: the grading thread unshares, then creates the harness's peer
//! sockets and starts the program, which inherits the namespace. Its PID namespace comes
//! when the program's init is started ([`crate::launch`]), so that what runs before it on
//! that thread (a compiler) does not become PID 1. A thread that has unshared its PID
//! namespace may not start threads of its own (the kernel says EINVAL), so a run is one
//! thread driven by `poll`.

use std::io;
use std::net::Ipv4Addr;
use std::sync::OnceLock;

/// Alice, the client of the lesson's drawing.
pub const ALICE_IP: Ipv4Addr = Ipv4Addr::new(111, 111, 111, 111);
/// Bob, the server of the lesson's drawing.
pub const BOB_IP: Ipv4Addr = Ipv4Addr::new(222, 222, 222, 222);

/// Who socklab is on the host, taken before it enters a user namespace of its own (where it
/// is seen as root): what names its per-user state, whoever it appears to be later.
static REAL_IDS: OnceLock<(u32, u32)> = OnceLock::new();

/// socklab's own uid and gid on the host.
pub fn real_ids() -> (u32, u32) {
    *REAL_IDS.get_or_init(|| {
        (
            nix::unistd::getuid().as_raw(),
            nix::unistd::getgid().as_raw(),
        )
    })
}

/// Called once at start-up, before any thread exists: without root, enter a user namespace
/// (the kernel refuses CLONE_NEWUSER to a threaded process) so that each grading thread may
/// then make network and PID namespaces of its own. Where the system refuses one, or gives
/// one that is of no use, socklab stays as it is and runs grade on the host.
pub fn prepare_process() {
    let (uid, gid) = real_ids();
    let host_forced = std::env::var_os(super::ISOLATION_ENV).is_some_and(|v| v == "host");
    if nix::unistd::geteuid().is_root() || host_forced {
        return;
    }
    // A process cannot leave a user namespace: try one in a child first. Ubuntu's AppArmor
    // rule lets an ordinary user create one but gives it no uid mapping and no
    // capabilities, which would leave socklab unable even to make a network namespace.
    if try_in_child(|| enter_user_namespace(uid, gid).is_ok() && can_make_network_namespace()) {
        let _ = enter_user_namespace(uid, gid);
    }
}

/// Maps ourselves to root inside a new user namespace, so that it grants the capabilities
/// a run's own namespaces need.
fn enter_user_namespace(uid: u32, gid: u32) -> io::Result<()> {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUSER)?;
    // Kernels before 3.19 have no setgroups file; gid_map then works without it.
    let _ = std::fs::write("/proc/self/setgroups", "deny");
    std::fs::write("/proc/self/uid_map", format!("0 {uid} 1"))?;
    std::fs::write("/proc/self/gid_map", format!("0 {gid} 1"))
}

fn can_make_network_namespace() -> bool {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).is_ok()
}

/// Whether `probe` returns true in a forked child (so that what it changes is thrown away).
fn try_in_child(probe: impl FnOnce() -> bool) -> bool {
    use nix::sys::wait::{WaitStatus, waitpid};
    use nix::unistd::ForkResult;
    // SAFETY: called before any thread exists, so the child may do anything the parent
    // could; it ends with _exit.
    match unsafe { nix::unistd::fork() } {
        Ok(ForkResult::Child) => {
            let code = if probe() { 0 } else { 1 };
            // SAFETY: the child ends without running the parent's destructors.
            unsafe { libc::_exit(code) }
        }
        Ok(ForkResult::Parent { child }) => loop {
            match waitpid(child, None) {
                Ok(WaitStatus::Exited(_, code)) => return code == 0,
                Err(nix::errno::Errno::EINTR) => {}
                _ => return false,
            }
        },
        Err(_) => false,
    }
}

/// Why a thread has no namespaces of its own.
pub enum NotEntered {
    /// The system refused them: the thread is where it was, on the host.
    Refused(String),
    /// They were made but could not be set up: the thread is in a namespace that does not
    /// work, and must not grade.
    Broken(String),
}

/// Moves the calling thread into a new network namespace and brings loopback up with
/// Alice's and Bob's addresses. Children this thread starts afterwards live there.
pub fn enter() -> Result<(), NotEntered> {
    use nix::sched::{CloneFlags, unshare};
    unshare(CloneFlags::CLONE_NEWNET)
        .map_err(|e| NotEntered::Refused(format!("cannot create a network namespace ({e})")))?;
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
    ready.map_err(|e| NotEntered::Broken(format!("cannot set up loopback ({e})")))
}

/// Adds `ip/32` to loopback under an alias label, as `ifconfig lo:alice IP` would (an ioctl:
/// no `ip addr add` to depend on).
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

/// Makes the kernel speak from `source` to `local` (a loopback address of this namespace):
/// `ip route replace local LOCAL dev lo table local scope host src SOURCE`, over netlink
/// (no `ip` to depend on).
fn prefer_source(local: Ipv4Addr, source: Ipv4Addr) -> io::Result<()> {
    let msg = local_route(local, source)?;
    ask_kernel(&msg)
}

/// RTM_NEWROUTE for the local route to `local` over the loopback, with `source` as its
/// preferred source.
fn local_route(local: Ipv4Addr, source: Ipv4Addr) -> io::Result<Vec<u8>> {
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
    Ok(msg)
}

/// Sends one netlink request to the kernel's routing and reads its acknowledgement.
fn ask_kernel(msg: &[u8]) -> io::Result<()> {
    use std::os::fd::AsRawFd;
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

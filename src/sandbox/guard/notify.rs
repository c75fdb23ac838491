//! The guard's side of a seccomp user notification: receiving one, deciding on it, and
//! answering with an error, with "go on", or with a socket of the guard's own making put
//! into the program in place of the one it asked for.
//!
//! The decisions:
//! - `socket` of an Internet family: the guard makes it, bound to the loopback device
//!   (SO_BINDTODEVICE "lo", which a process without CAP_NET_RAW cannot undo), so that
//!   nothing sent through it leaves the machine, and shareable by the run's own user
//!   (SO_REUSEPORT; for TCP SO_REUSEADDR too, so that what it leaves in TIME_WAIT never
//!   keeps the next run from the port).
//! - `bind` to an Internet port other than the run's own (or 0, any free one): refused
//!   (EACCES), so that a program cannot take ports other runs wait for.
//! - `sendmsg`, `sendmmsg` with IP_PKTINFO naming another interface than the loopback
//!   (which would send past the device binding): refused (EPERM).
//!
//! Reading a call's arguments from the program's memory and then letting the call go on
//! leaves a moment in which another thread of the program may change them: the bind and
//! sendmsg checks stop a program that asks plainly, not one that races itself. The socket
//! a program gets, made by the guard, has no such gap.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// A seccomp listener: where the program's notifications arrive.
pub struct Listener(pub OwnedFd);

/// One system call of the program, waiting for the guard.
#[derive(Debug, Clone, Copy)]
pub struct Notification {
    pub id: u64,
    pub pid: u32,
    pub nr: i64,
    pub args: [u64; 6],
}

/// How a call is answered.
pub enum Answer {
    /// Made as the program asked.
    Continue,
    /// Not made: the call fails with this errno.
    Error(i32),
    /// Not made: the guard's own socket is put into the program instead, and its number is
    /// what the call returns.
    Socket { socket: OwnedFd, cloexec: bool },
}

/// What a run's program may do with its sockets.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Ports it may bind (besides 0).
    pub ports: Vec<u16>,
    /// Ports other runs may need, not its to bind (see `GuardSpec::others`).
    pub others: Vec<u16>,
    /// The loopback device's index.
    pub loopback: u32,
}

impl Listener {
    /// The next notification (blocking).
    pub fn receive(&self) -> io::Result<Notification> {
        // SAFETY: a zeroed seccomp_notif is what NOTIF_RECV expects to fill.
        let mut notif: libc::seccomp_notif = unsafe { std::mem::zeroed() };
        ioctl(&self.0, libc::SECCOMP_IOCTL_NOTIF_RECV, &mut notif)?;
        Ok(Notification {
            id: notif.id,
            pid: notif.pid,
            nr: i64::from(notif.data.nr),
            args: notif.data.args,
        })
    }

    /// Whether the call is still waiting (its process has not died, its pid not reused).
    fn still_waiting(&self, id: u64) -> bool {
        let mut id = id;
        ioctl(&self.0, libc::SECCOMP_IOCTL_NOTIF_ID_VALID, &mut id).is_ok()
    }

    /// Answers the call `id`. An error if the call is gone (its process died).
    pub fn answer(&self, id: u64, answer: Answer) -> io::Result<()> {
        let mut resp = libc::seccomp_notif_resp {
            id,
            val: 0,
            error: 0,
            flags: 0,
        };
        match answer {
            Answer::Continue => resp.flags = libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32,
            Answer::Error(errno) => resp.error = -errno,
            Answer::Socket { socket, cloexec } => {
                let mut addfd = libc::seccomp_notif_addfd {
                    id,
                    flags: libc::SECCOMP_ADDFD_FLAG_SEND as u32,
                    srcfd: socket.as_raw_fd() as u32,
                    newfd: 0,
                    newfd_flags: if cloexec { libc::O_CLOEXEC as u32 } else { 0 },
                };
                // The descriptor is put in and the call answered at once (Linux 5.14);
                // before that, in two steps.
                match ioctl(&self.0, libc::SECCOMP_IOCTL_NOTIF_ADDFD, &mut addfd) {
                    Ok(_) => return Ok(()),
                    Err(e) if e.raw_os_error() != Some(libc::EINVAL) => return Err(e),
                    Err(_) => {
                        addfd.flags = 0;
                        resp.val = i64::from(ioctl(
                            &self.0,
                            libc::SECCOMP_IOCTL_NOTIF_ADDFD,
                            &mut addfd,
                        )?);
                    }
                }
            }
        }
        ioctl(&self.0, libc::SECCOMP_IOCTL_NOTIF_SEND, &mut resp).map(drop)
    }

    /// Decides on `call` by `policy` and answers it.
    pub fn handle(&self, call: &Notification, policy: &Policy) -> io::Result<()> {
        let answer = decide(call, policy);
        // Memory was read by pid: the answer stands only if that process still waits.
        if !matches!(answer, Answer::Socket { .. }) && !self.still_waiting(call.id) {
            return Ok(());
        }
        self.answer(call.id, answer)
    }
}

fn ioctl<T>(fd: &OwnedFd, request: libc::Ioctl, arg: &mut T) -> io::Result<i32> {
    // SAFETY: each seccomp ioctl takes a pointer to the struct of its type, given here.
    let ret = unsafe { libc::ioctl(fd.as_raw_fd(), request, arg as *mut T) };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// The answer to `call`.
fn decide(call: &Notification, policy: &Policy) -> Answer {
    let int = |i: usize| call.args[i] as i32;
    match call.nr {
        libc::SYS_socket => make_socket(int(0), int(1), int(2)),
        libc::SYS_bind => check_bind(call, policy),
        libc::SYS_setsockopt => {
            // Only SO_RCVTIMEO comes here: witnessed, then made as asked.
            super::receive_timeouts::witness();
            Answer::Continue
        }
        libc::SYS_sendmsg => check_messages(call.pid, call.args[1], 1, policy),
        libc::SYS_sendmmsg => {
            // The kernel sends at most UIO_MAXIOV of them.
            let count = (call.args[2] as u32).min(1024);
            check_messages(call.pid, call.args[1], count, policy)
        }
        _ => Answer::Continue,
    }
}

/// A socket of `domain` made by the guard, bound to the loopback device, for the program.
fn make_socket(domain: i32, kind: i32, protocol: i32) -> Answer {
    let flags = libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    let base = kind & !flags;
    let plain = matches!(
        (base, protocol),
        (libc::SOCK_STREAM, 0 | libc::IPPROTO_TCP) | (libc::SOCK_DGRAM, 0 | libc::IPPROTO_UDP)
    );
    if !plain {
        // Raw sockets need a privilege the program has not; others (SCTP, ICMP) it may
        // not have: they would not be bound to the loopback.
        return Answer::Error(if base == libc::SOCK_RAW {
            libc::EPERM
        } else {
            libc::EPROTONOSUPPORT
        });
    }
    let made = (|| -> io::Result<OwnedFd> {
        let socket = socket2::Socket::new(
            socket2::Domain::from(domain),
            socket2::Type::from(base),
            Some(socket2::Protocol::from(protocol)),
        )?;
        socket.bind_device(Some(b"lo"))?;
        socket.set_reuse_port(true)?;
        if base == libc::SOCK_STREAM {
            socket.set_reuse_address(true)?;
        }
        socket.set_nonblocking(kind & libc::SOCK_NONBLOCK != 0)?;
        Ok(socket.into())
    })();
    match made {
        Ok(socket) => Answer::Socket {
            socket,
            cloexec: kind & libc::SOCK_CLOEXEC != 0,
        },
        Err(e) => Answer::Error(e.raw_os_error().unwrap_or(libc::EINVAL)),
    }
}

/// A bind to an Internet port is the program's to make only on its own ports (or 0).
fn check_bind(call: &Notification, policy: &Policy) -> Answer {
    let len = (call.args[2] as usize).min(128);
    if len < 4 {
        return Answer::Continue; // the kernel refuses it
    }
    let Ok(addr) = read_memory(call.pid, call.args[1], len) else {
        return Answer::Error(libc::EFAULT);
    };
    let family = i32::from(u16::from_ne_bytes([addr[0], addr[1]]));
    // AF_UNSPEC binds an Internet socket as AF_INET does (an old compatibility).
    if ![libc::AF_INET, libc::AF_INET6, libc::AF_UNSPEC].contains(&family) {
        return Answer::Continue;
    }
    let port = u16::from_be_bytes([addr[2], addr[3]]);
    let others = policy.others.contains(&port) || crate::sandbox::ports::given_to_runs(port);
    if port == 0 || policy.ports.contains(&port) || !others {
        Answer::Continue
    } else {
        Answer::Error(libc::EACCES)
    }
}

/// `struct msghdr` (x86_64): where its control data is, and how long it is.
const MSGHDR: usize = 56;
const MSG_CONTROL_AT: usize = 32;
const MSG_CONTROLLEN_AT: usize = 40;
/// `struct mmsghdr`: a msghdr and the length sent, padded.
const MMSGHDR: u64 = 64;
/// The most control data looked through; a message with more is refused.
const CONTROL_MAX: usize = 4096;

/// Messages whose control data sends past the loopback (IP_PKTINFO naming another
/// interface) are refused.
fn check_messages(pid: u32, at: u64, count: u32, policy: &Policy) -> Answer {
    for i in 0..u64::from(count) {
        let Ok(header) = read_memory(pid, at + i * MMSGHDR, MSGHDR) else {
            return Answer::Error(libc::EFAULT);
        };
        let word = |at: usize| u64::from_ne_bytes(header[at..at + 8].try_into().expect("8"));
        let (control, len) = (word(MSG_CONTROL_AT), word(MSG_CONTROLLEN_AT) as usize);
        if len == 0 || control == 0 {
            continue;
        }
        if len > CONTROL_MAX {
            return Answer::Error(libc::EINVAL);
        }
        let Ok(control) = read_memory(pid, control, len) else {
            return Answer::Error(libc::EFAULT);
        };
        if leaves_the_loopback(&control, policy.loopback) {
            return Answer::Error(libc::EPERM);
        }
    }
    Answer::Continue
}

/// Whether control data holds an IP_PKTINFO naming an interface other than the loopback.
fn leaves_the_loopback(mut control: &[u8], loopback: u32) -> bool {
    // cmsghdr: length (8 bytes), level, type; then the data, each aligned to 8.
    while control.len() >= 16 {
        let len = u64::from_ne_bytes(control[..8].try_into().expect("8")) as usize;
        let level = i32::from_ne_bytes(control[8..12].try_into().expect("4"));
        let kind = i32::from_ne_bytes(control[12..16].try_into().expect("4"));
        if len < 16 {
            return false; // the kernel refuses it
        }
        if level == libc::IPPROTO_IP && kind == libc::IP_PKTINFO && control.len() >= 20 {
            let index = u32::from_ne_bytes(control[16..20].try_into().expect("4"));
            if index != 0 && index != loopback {
                return true;
            }
        }
        control = &control[((len + 7) & !7).min(control.len())..];
    }
    false
}

/// `len` bytes of process `pid`'s memory at `at`, through /proc/PID/mem, which checks the
/// reader's filesystem uid (the guard's effective one: the program's) where
/// process_vm_readv would check its real one (not the program's).
fn read_memory(pid: u32, at: u64, len: usize) -> io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0u8; len];
    std::fs::File::open(format!("/proc/{pid}/mem"))?.read_exact_at(&mut buf, at)?;
    Ok(buf)
}

/// Sends `fd` over the unix socket `over` (SCM_RIGHTS), with raw system calls only: for a
/// child forked from a threaded process.
pub fn send_fd(over: RawFd, fd: RawFd) -> io::Result<()> {
    // SAFETY: a msghdr over stack buffers sized for one descriptor; sendmsg copies them.
    unsafe {
        let mut byte = [1u8];
        let mut iov = libc::iovec {
            iov_base: byte.as_mut_ptr().cast(),
            iov_len: 1,
        };
        let mut space = [0u64; 4];
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = space.as_mut_ptr().cast();
        msg.msg_controllen = libc::CMSG_SPACE(4) as usize;
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(4) as usize;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<RawFd>(), fd);
        if libc::sendmsg(over, &msg, 0) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Receives a descriptor sent with [`send_fd`].
pub fn receive_fd(over: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: as in send_fd; the descriptor received is new and owned here.
    unsafe {
        let mut byte = [0u8];
        let mut iov = libc::iovec {
            iov_base: byte.as_mut_ptr().cast(),
            iov_len: 1,
        };
        let mut space = [0u64; 4];
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = space.as_mut_ptr().cast();
        msg.msg_controllen = libc::CMSG_SPACE(4) as usize;
        if libc::recvmsg(over, &mut msg, libc::MSG_CMSG_CLOEXEC) <= 0 {
            let e = io::Error::last_os_error();
            return Err(if e.raw_os_error() == Some(0) {
                io::Error::other("the other side ended first")
            } else {
                e
            });
        }
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        if cmsg.is_null() || (*cmsg).cmsg_type != libc::SCM_RIGHTS {
            return Err(io::Error::other("no descriptor came"));
        }
        let fd = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<RawFd>());
        Ok(OwnedFd::from_raw_fd(fd))
    }
}

//! The guard keeps a program at the uid level off the network and off other runs' ports,
//! where socklab has no network namespace to put it in and no CAP_NET_ADMIN to filter it
//! (Docker's default confinement). The program runs under a seccomp filter ([`filter`])
//! whose socket calls wait for the guard, a process of the run's own user and the program's
//! parent, to decide on them ([`notify`]):
//!
//! - every socket of an Internet family the program gets is made by the guard, bound to the
//!   loopback device: nothing it sends leaves the machine, and it cannot undo that;
//! - it binds no Internet port but its run's own (and 0, any free one), so it cannot take
//!   a port another run was given or waits for;
//! - its TCP sockets carry SO_REUSEADDR and all of them SO_REUSEPORT, so that nothing it
//!   leaves in TIME_WAIT keeps the port from the next run, and the placeholders that hold a
//!   run's port for it ([`crate::sandbox::ports`]) let its own program in, and no one else.
//!
//! The guard is the program's parent and a subreaper, so every process the program starts
//! stays below it, where it may read their memory (Yama's rule for ptrace access). It runs
//! as the program's user and may be killed by it: then the program's socket calls fail
//! (ENOSYS), which hurts only the program. It cannot be traced or read by it (it is not
//! dumpable). What it needs, Docker's default seccomp profile allows: seccomp(2) and its
//! ioctls (Linux 5.9 or later), process_vm_readv; [`available`] tries it all once.

pub mod filter;
mod notify;
pub mod receive_timeouts;
mod run;

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use nix::unistd::ForkResult;

use notify::{Listener, Policy};

use super::account;

/// What the guard lets a run's program do, passed to init as `--guard PORT[,PORT...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardSpec {
    /// The Internet ports it may bind (besides 0).
    pub ports: Vec<u16>,
    /// Ports other runs may need (every lab's fixed port; those socklab gives runs are
    /// refused as well): not its to bind. Any other port it may bind, as anywhere else, so
    /// that a program on the wrong port is told so as it would be in a namespace.
    pub others: Vec<u16>,
}

impl GuardSpec {
    /// `OWN,...;OTHER,...`
    pub fn to_arg(&self) -> String {
        let list = |ports: &[u16]| {
            let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
            ports.join(",")
        };
        format!("{};{}", list(&self.ports), list(&self.others))
    }

    pub fn parse(arg: &str) -> Result<GuardSpec, String> {
        let list = |text: &str| {
            text.split(',')
                .filter(|p| !p.is_empty())
                .map(|p| p.parse().map_err(|_| format!("'{p}' is not a port")))
                .collect::<Result<Vec<u16>, _>>()
        };
        let (ports, others) = arg.split_once(';').unwrap_or((arg, ""));
        Ok(GuardSpec {
            ports: list(ports)?,
            others: list(others)?,
        })
    }

    fn policy(&self) -> Policy {
        Policy {
            ports: self.ports.clone(),
            others: self.others.clone(),
            loopback: nix::net::if_::if_nametoindex("lo").unwrap_or(1),
        }
    }
}

/// Whether the guard works here: a child under the filter gets a socket bound to the
/// loopback and is refused a port not its own. Tried once per process; `Err` says why not.
pub fn available() -> Result<(), String> {
    static TRIED: OnceLock<Result<(), String>> = OnceLock::new();
    TRIED.get_or_init(try_it).clone()
}

/// In the program's process (init's child, still root, before it becomes `user`): forks.
/// The parent becomes the guard and never returns; the child, the program to be, puts
/// itself under the filter, hands the guard its listener, and returns once the guard has
/// it.
pub fn split(spec: &GuardSpec, user: (u32, u32)) -> io::Result<()> {
    let (mut guard_end, program_end) = UnixStream::pair()?;
    let mut program_end = UnixStream::from(out_of_the_way(program_end.into())?);
    let handoff = program_end.as_raw_fd();
    let filters = [filter::program(handoff), filter::after_handoff(handoff)];
    // SAFETY: init is single-threaded; both sides carry on as ordinary processes.
    match unsafe { nix::unistd::fork() }? {
        ForkResult::Child => {
            drop(guard_end);
            // SAFETY: prctl with plain integers (the filter needs it, or CAP_SYS_ADMIN).
            if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
                return Err(io::Error::last_os_error());
            }
            let listener = install_with_listener(&filters[0])?;
            notify::send_fd(handoff, listener.as_raw_fd())?;
            drop(listener);
            install(&filters[1], 0)?;
            let mut ready = [0u8];
            program_end.read_exact(&mut ready)?;
            Ok(())
        }
        ForkResult::Parent { child } => {
            drop(program_end);
            if become_the_guard(user).is_err() {
                std::process::exit(127);
            }
            match notify::receive_fd(guard_end.as_raw_fd()) {
                Ok(listener) if guard_end.write_all(b"1").is_ok() => {
                    drop(guard_end);
                    run::run(listener, child, spec.policy())
                }
                // The program hears no word and does not start: init says why.
                _ => std::process::exit(127),
            }
        }
    }
}

/// Makes the calling process (root) the guard over `user`'s program: effective (and
/// filesystem) ids the program's, so that it may read the program's memory and its sockets
/// are the program's; real and saved ids of the guard's own ([`account::guard_ids`]), so
/// that the program may not signal it; no capabilities (no id is root's any more).
fn become_the_guard((uid, gid): (u32, u32)) -> io::Result<()> {
    let (own_uid, own_gid) = (account::guard_ids(uid), account::guard_ids(gid));
    let check = |ret: libc::c_long| {
        if ret == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    };
    // SAFETY: the set*id calls take plain integers; made raw so that they change this
    // process alone.
    unsafe {
        check(libc::syscall(libc::SYS_setgroups, 0, std::ptr::null::<libc::gid_t>()))?;
        check(libc::syscall(libc::SYS_setresgid, own_gid, gid, own_gid))?;
        check(libc::syscall(libc::SYS_setresuid, own_uid, uid, own_uid))?;
    }
    Ok(())
}

/// The descriptor the listener leaves by, moved high (where a program's own descriptors
/// seldom are: sendmsg on this number stays refused to it).
fn out_of_the_way(fd: OwnedFd) -> io::Result<OwnedFd> {
    const HIGH: i32 = 1000;
    // SAFETY: F_DUPFD_CLOEXEC makes a new descriptor, owned below.
    let high = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, HIGH) };
    if high < 0 {
        return Ok(fd); // fewer descriptors allowed: it stays where it is
    }
    // SAFETY: a new descriptor nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(high) })
}

/// Puts the calling process (and all it starts) under `filter`, with a listener for the
/// guard. Async-signal-safe: raw system calls on memory made beforehand.
fn install_with_listener(filter: &[libc::sock_filter]) -> io::Result<OwnedFd> {
    // Once the guard has a call, only a fatal signal interrupts the wait (Linux 5.19);
    // without it, a signal makes the call start over.
    let listener = libc::SECCOMP_FILTER_FLAG_NEW_LISTENER;
    let fd = match install(filter, listener | libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) {
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => install(filter, listener)?,
        other => other?,
    };
    // SAFETY: a new descriptor nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// seccomp(SECCOMP_SET_MODE_FILTER) with `flags`: what it returns.
fn install(filter: &[libc::sock_filter], flags: libc::c_ulong) -> io::Result<i32> {
    let program = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr().cast_mut(),
    };
    // SAFETY: a filter program that outlives the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            flags,
            &program as *const libc::sock_fprog,
        )
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(ret as i32)
}

/// Tries the guard's whole way once: a child under the filter asks for a UDP socket, checks
/// it is bound to the loopback, binds port 0 (allowed) and port 1 (refused: not its port).
fn try_it() -> Result<(), String> {
    if !cfg!(target_arch = "x86_64") {
        return Err("the guard knows x86_64's system calls only".into());
    }
    let (ours, theirs) = UnixStream::pair().map_err(|e| e.to_string())?;
    let theirs = out_of_the_way(theirs.into()).map_err(|e| e.to_string())?;
    let handoff = theirs.as_raw_fd();
    let filters = [filter::program(handoff), filter::after_handoff(handoff)];
    // SAFETY: the child makes raw system calls only (no allocation), then _exit.
    let child = match unsafe { nix::unistd::fork() }.map_err(|e| e.to_string())? {
        ForkResult::Child => unsafe { libc::_exit(try_as_child(&filters, handoff)) },
        ForkResult::Parent { child } => child,
    };
    drop(theirs);
    let answered = answer_the_child(&ours);
    if answered.is_err() {
        let _ = nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL);
    }
    // The child's own word on how far it got comes first.
    match nix::sys::wait::waitpid(child, None).map_err(|e| e.to_string())? {
        nix::sys::wait::WaitStatus::Exited(_, 0) => answered,
        nix::sys::wait::WaitStatus::Exited(_, code) => Err(match code {
            2 | 3 => "seccomp user notification is refused (Linux 5.9 or later is needed)",
            4 => "a socket of the guard's making could not be handed over",
            5 => "the socket was not bound to the loopback",
            7 => "the program's memory cannot be read (ptrace is restricted here)",
            _ => "the guard's trial failed",
        }
        .to_string()),
        other => Err(format!("the guard's trial ended: {other:?}")),
    }
}

/// Answers the trial child's calls until it has made them all (a few seconds at most).
fn answer_the_child(ours: &UnixStream) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let wait = |fd: &dyn std::os::fd::AsFd| -> Result<(), String> {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut fds = [nix::poll::PollFd::new(fd.as_fd(), nix::poll::PollFlags::POLLIN)];
        let ms = nix::poll::PollTimeout::from(left.as_millis().min(5000) as u16);
        match nix::poll::poll(&mut fds, ms) {
            Ok(n) if n > 0 => Ok(()),
            _ => Err("the guard's trial timed out".into()),
        }
    };
    wait(ours)?;
    let listener = Listener(notify::receive_fd(ours.as_raw_fd()).map_err(|e| e.to_string())?);
    // The child tries port 1, another run's here.
    let policy = GuardSpec {
        ports: Vec::new(),
        others: vec![1],
    }
    .policy();
    // The socket, the allowed bind, the refused one.
    for _ in 0..3 {
        wait(&listener.0)?;
        let call = listener.receive().map_err(|e| e.to_string())?;
        listener.handle(&call, &policy).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The trial child's side; its exit code says how far it got.
fn try_as_child(filters: &[Vec<libc::sock_filter>; 2], over: i32) -> i32 {
    // SAFETY: raw system calls on stack memory and memory made before the fork.
    unsafe {
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        let Ok(listener) = install_with_listener(&filters[0]) else {
            return 2;
        };
        if notify::send_fd(over, listener.as_raw_fd()).is_err() {
            return 3;
        }
        drop(listener);
        if install(&filters[1], 0).is_err() {
            return 3;
        }
        let sock = libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0);
        if sock < 0 {
            return 4;
        }
        let mut device = [0u8; 16];
        let mut len = device.len() as libc::socklen_t;
        if libc::getsockopt(
            sock,
            libc::SOL_SOCKET,
            libc::SO_BINDTODEVICE,
            device.as_mut_ptr().cast(),
            &mut len,
        ) != 0
            || !device.starts_with(b"lo\0")
        {
            return 5;
        }
        let mut addr: libc::sockaddr_in = std::mem::zeroed();
        addr.sin_family = libc::AF_INET as libc::sa_family_t;
        addr.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
        let size = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        let at = (&addr as *const libc::sockaddr_in).cast();
        if libc::bind(sock, at, size) != 0 {
            return 6;
        }
        addr.sin_port = 1u16.to_be();
        let at = (&addr as *const libc::sockaddr_in).cast();
        match (libc::bind(sock, at, size), *libc::__errno_location()) {
            (-1, libc::EACCES) => 0,
            _ => 7,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The trial passes on the machines the tests run on (Linux 5.9 or later).
    #[test]
    fn works_here() {
        assert_eq!(available(), Ok(()));
    }

    #[test]
    fn spec_round_trip() {
        let spec = GuardSpec {
            ports: vec![8000, 15001],
            others: vec![8000, 9000],
        };
        assert_eq!(GuardSpec::parse(&spec.to_arg()), Ok(spec));
        assert!(GuardSpec::parse("8000,x").is_err());
    }
}

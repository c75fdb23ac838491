//! The guard process: the program's parent, as the run's user, answering its socket calls
//! until it exits, then exiting as it did (init takes the guard's end for the program's).

use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigHandler, SigSet, Signal, signal};
use nix::sys::signalfd::SignalFd;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use super::notify::{Listener, Policy};

/// Guards `program` until it ends, then ends as it did. Never returns.
pub fn run(listener: OwnedFd, program: Pid, policy: Policy) -> ! {
    let listener = Listener(keep_only(listener));
    let _ = nix::sys::prctl::set_child_subreaper(true);
    // Not to be traced or read by the program, which runs as the same user.
    let _ = nix::sys::prctl::set_dumpable(false);
    let _ = nix::sys::prctl::set_name(c"socklab-guard");
    // The program's signals are its own (Ctrl-C, init's SIGTERM); the guard lasts as long
    // as it does.
    for s in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP, Signal::SIGQUIT, Signal::SIGPIPE] {
        // SAFETY: ignoring a signal installs no handler.
        unsafe {
            let _ = signal(s, SigHandler::SigIgn);
        }
    }
    let mut children = SigSet::empty();
    children.add(Signal::SIGCHLD);
    let _ = children.thread_block();
    let Ok(ended) = SignalFd::new(&children) else {
        std::process::exit(127);
    };
    let mut listening = true;
    loop {
        let mut fds = vec![PollFd::new(ended.as_fd(), PollFlags::POLLIN)];
        if listening {
            fds.push(PollFd::new(listener.0.as_fd(), PollFlags::POLLIN));
        }
        if poll(&mut fds, PollTimeout::NONE).is_err() {
            continue;
        }
        let call = fds.get(1).and_then(PollFd::revents);
        let child = fds[0].revents().is_some_and(|r| !r.is_empty());
        if let Some(call) = call {
            if call.contains(PollFlags::POLLIN) {
                if let Ok(notification) = listener.receive() {
                    let _ = listener.handle(&notification, &policy);
                }
            } else if !call.is_empty() {
                // No process under the filter is left to ask anything.
                listening = false;
            }
        }
        if child {
            let _ = ended.read_signal();
            reap(program);
        }
    }
}

/// Reaps every child that has ended (orphans of the program come to the guard); once the
/// program itself has, ends as it did.
fn reap(program: Pid) {
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) if pid == program => std::process::exit(code),
            Ok(WaitStatus::Signaled(pid, sig, _)) if pid == program => end_by(sig),
            Ok(WaitStatus::StillAlive) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// Ends the guard by `sig`, as the program ended.
fn end_by(sig: Signal) -> ! {
    // SAFETY: the default action, then the signal unblocked and sent to this process.
    unsafe {
        let _ = signal(sig, SigHandler::SigDfl);
    }
    let mut set = SigSet::empty();
    set.add(sig);
    let _ = set.thread_unblock();
    let _ = nix::sys::signal::raise(sig);
    std::process::exit(128 + sig as i32)
}

/// Closes everything the guard inherited but the listener (the terminal, init's pipes,
/// socklab's descriptors): the program's screen and init's messages must not wait for it.
/// Returns the listener, now descriptor 3.
fn keep_only(listener: OwnedFd) -> OwnedFd {
    const LISTENER: i32 = 3;
    // SAFETY: plain descriptor calls on descriptors this process owns; the listener moves
    // to 3 before everything from 4 on is closed.
    unsafe {
        if let Ok(null) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null") {
            for fd in 0..3 {
                libc::dup2(null.as_raw_fd(), fd);
            }
        }
        if listener.as_raw_fd() != LISTENER {
            libc::dup2(listener.as_raw_fd(), LISTENER);
        } else {
            libc::fcntl(LISTENER, libc::F_SETFD, libc::FD_CLOEXEC);
        }
        std::mem::forget(listener);
        if libc::syscall(libc::SYS_close_range, 4u32, u32::MAX, 0u32) != 0 {
            // Init's pipes above all: init waits for their end.
            let open: Vec<i32> = std::fs::read_dir("/proc/self/fd")
                .map(|dir| dir.flatten().filter_map(|e| e.file_name().to_str()?.parse().ok()).collect())
                .unwrap_or_default();
            for fd in open.into_iter().filter(|&fd| fd > LISTENER) {
                libc::close(fd);
            }
        }
        std::os::fd::FromRawFd::from_raw_fd(LISTENER)
    }
}

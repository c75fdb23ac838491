//! The init that runs the student's program: started by the harness as
//! `socklab __init [--subreaper] -- PROGRAM ARGS...` with the pty as stdin and stdout and a
//! status pipe on fd 3.
//!
//! It makes the program a session leader with the pty as its controlling terminal (so ^C and
//! ^D work as at a keyboard), writes one line when the program ends (`exit N` or
//! `signal N`), and then kills everything the program left behind, even processes that
//! called setsid: as PID 1 of the run's PID namespace with `kill(-1)`, or, where there is no
//! namespace, as a child subreaper that hunts down every descendant.
//!
//! Signals from the harness: SIGTERM is passed on to every process of the program; SIGUSR1
//! (also sent by the kernel if the harness dies) kills them all and ends init.

use std::io::Write;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{SigHandler, SigSet, Signal, kill, signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

pub const SUBCOMMAND: &str = "__init";
pub const STATUS_FD: i32 = 3;

pub struct InitArgs {
    /// No PID namespace: find descendants as a subreaper instead of `kill(-1)`.
    pub subreaper: bool,
    /// Set up the program's mount namespace (see [`crate::confine`]); only with a PID
    /// namespace of its own.
    pub confinement: Option<crate::confine::Confinement>,
    pub program: PathBuf,
    pub args: Vec<String>,
}

extern "C" fn ignore(_: libc::c_int) {}

/// Runs the program to its end and cleans up; returns init's own exit code.
pub fn run(init: InitArgs) -> i32 {
    // SAFETY: fd 3 was set up by the harness for us alone.
    let status_pipe = unsafe { OwnedFd::from_raw_fd(STATUS_FD) };
    let _ = nix::fcntl::fcntl(
        &status_pipe,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    );
    let mut status_pipe = std::fs::File::from(status_pipe);

    let mut waited = SigSet::empty();
    for s in [Signal::SIGCHLD, Signal::SIGTERM, Signal::SIGUSR1] {
        waited.add(s);
        // As PID 1, signals without a handler are dropped; a handler makes them count.
        // SAFETY: the handler does nothing.
        unsafe {
            let _ = signal(s, SigHandler::Handler(ignore));
        }
    }
    let _ = waited.thread_block();
    // kill(-1) is only safe where -1 means "everyone in our namespace": as its PID 1.
    let subreaper = init.subreaper || std::process::id() != 1;
    let sweeper = Sweeper { subreaper };
    if subreaper {
        let _ = nix::sys::prctl::set_child_subreaper(true);
    }

    if let Some(confinement) = init.confinement.as_ref().filter(|_| !subreaper)
        && let Err(e) = crate::confine::enter(confinement)
    {
        let _ = writeln!(
            status_pipe,
            "note the program could not be fully confined ({e})"
        );
    }

    let mut cmd = Command::new(&init.program);
    cmd.args(&init.args);
    // SAFETY: init is single-threaded; these calls are async-signal-safe anyway.
    unsafe {
        cmd.pre_exec(|| {
            let _ = SigSet::empty().thread_set_mask();
            // The program needs no privilege; without any it cannot undo its confinement.
            crate::confine::drop_privileges()?;
            nix::unistd::setsid()?;
            if libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            let _ = writeln!(status_pipe, "error {e}");
            return 127;
        }
    };
    let program = Pid::from_raw(child.id() as i32);
    // From now on only the program holds the terminal: when it is gone the harness sees the
    // screen close.
    if let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        let _ = nix::unistd::dup2_stdin(&null);
        let _ = nix::unistd::dup2_stdout(&null);
        let _ = nix::unistd::dup2_stderr(&null);
    }

    let mut report = |status: WaitStatus| {
        let line = match status {
            WaitStatus::Exited(_, code) => format!("exit {code}"),
            WaitStatus::Signaled(_, sig, _) => format!("signal {}", sig as i32),
            _ => return,
        };
        let _ = writeln!(status_pipe, "{line}");
    };
    loop {
        match waited.wait() {
            Ok(Signal::SIGCHLD) => {
                if let Some(status) = sweeper.reap_finding(program) {
                    report(status);
                    sweeper.kill_all(Signal::SIGKILL, program, &mut report);
                    return 0;
                }
            }
            Ok(Signal::SIGTERM) => sweeper.signal_all(Signal::SIGTERM),
            Ok(Signal::SIGUSR1) => {
                sweeper.kill_all(Signal::SIGKILL, program, &mut report);
                return 0;
            }
            _ => {}
        }
    }
}

struct Sweeper {
    subreaper: bool,
}

impl Sweeper {
    /// Reaps every child that has ended; returns the program's status if it was among them.
    fn reap_finding(&self, program: Pid) -> Option<WaitStatus> {
        let mut found = None;
        loop {
            match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(_) => return found,
                Ok(status) => {
                    if status.pid() == Some(program)
                        && matches!(status, WaitStatus::Exited(..) | WaitStatus::Signaled(..))
                    {
                        found = Some(status);
                    }
                }
            }
        }
    }

    fn signal_all(&self, sig: Signal) {
        if self.subreaper {
            for pid in descendants() {
                let _ = kill(pid, sig);
            }
        } else {
            // In our own PID namespace, -1 is every process but init.
            let _ = kill(Pid::from_raw(-1), sig);
        }
    }

    /// Kills every remaining process and reaps them all, reporting the program's status if
    /// it is among them. Bounded in time: a process stuck in the kernel must not hang init.
    fn kill_all(&self, sig: Signal, program: Pid, report: &mut impl FnMut(WaitStatus)) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            self.signal_all(sig);
            match waitpid(None, None) {
                Err(Errno::ECHILD) => return,
                Ok(status) if status.pid() == Some(program) => report(status),
                _ => {}
            }
            if Instant::now() > deadline {
                return;
            }
        }
    }
}

/// Every process below this one, found through /proc's children lists. As a subreaper,
/// orphans of the program become our children, so repeated sweeps catch them all.
fn descendants() -> Vec<Pid> {
    let mut found = Vec::new();
    let mut queue = vec![std::process::id() as i32];
    while let Some(pid) = queue.pop() {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let Ok(children) = std::fs::read_to_string(task.path().join("children")) else {
                continue;
            };
            for child in children.split_whitespace().filter_map(|c| c.parse().ok()) {
                found.push(Pid::from_raw(child));
                queue.push(child);
            }
        }
    }
    found
}

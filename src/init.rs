//! The init that runs the student's program: started by the harness (from its own binary,
//! `/proc/self/exe`) as `socklab __init [--subreaper] [--uid U --gid G] [--rlimit R=N]...
//! -- PROGRAM ARGS...` with the pty as stdin and stdout and a status pipe on fd 3.
//!
//! It makes the program a session leader with the pty as its controlling terminal (so ^C and
//! ^D work as at a keyboard), with its limits set and, under uid isolation, as the run's
//! sandbox user; writes one line when the program ends (`exit N` or `signal N`); and then
//! kills everything the program left behind, even processes that called setsid: as PID 1 of
//! the run's PID namespace with `kill(-1)`; as the sandbox user's every process; or, as an
//! ordinary user on the host, as a child subreaper that hunts down every descendant.
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
    /// The program runs as this uid and gid (uid isolation), and everything of that user is
    /// killed at the end.
    pub user: Option<(u32, u32)>,
    /// Limits to set on the program (see [`crate::limits`]).
    pub rlimits: Vec<crate::limits::Rlimit>,
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
    // `ps` shows the binary's name as "exe" (it was started as /proc/self/exe).
    let _ = nix::sys::prctl::set_name(c"socklab-init");
    // kill(-1) is only safe where -1 means "everyone in our namespace": as its PID 1.
    let subreaper = init.subreaper || std::process::id() != 1;
    let sweeper = match init.user {
        Some((uid, _)) => Sweeper::User(uid),
        None if subreaper => Sweeper::Descendants,
        None => Sweeper::Namespace,
    };
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
    let (user, rlimits) = (init.user, init.rlimits.clone());
    // SAFETY: init is single-threaded; these calls are async-signal-safe anyway.
    unsafe {
        cmd.pre_exec(move || {
            let _ = SigSet::empty().thread_set_mask();
            // The program needs no privilege; without any it cannot undo its confinement.
            match user {
                Some((uid, gid)) => crate::confine::become_user(uid, gid)?,
                None => crate::confine::drop_privileges()?,
            }
            // After the switch of user: RLIMIT_NPROC counts the processes of the new one.
            for limit in &rlimits {
                limit.apply()?;
            }
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
        let swept = match waited.wait() {
            Ok(Signal::SIGCHLD) => match sweeper.reap_finding(program) {
                Some(status) => {
                    report(status);
                    sweeper.kill_all(Signal::SIGKILL, program, &mut report)
                }
                None => continue,
            },
            Ok(Signal::SIGTERM) => {
                sweeper.signal_all(Signal::SIGTERM);
                continue;
            }
            Ok(Signal::SIGUSR1) => sweeper.kill_all(Signal::SIGKILL, program, &mut report),
            _ => continue,
        };
        // How many of the program's processes were still there at its end: where no
        // control group counts them, the evidence that it ran into its process limit.
        let _ = writeln!(status_pipe, "swept {swept}");
        return 0;
    }
}

/// How init finds every process of the program.
enum Sweeper {
    /// PID 1 of the run's namespace: -1 is everyone but init.
    Namespace,
    /// A subreaper on the host: orphans become its children, so its descendants are all.
    Descendants,
    /// The sandbox user: every process of that uid is the program's.
    User(u32),
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
        match self {
            Sweeper::Namespace => {
                let _ = kill(Pid::from_raw(-1), sig);
            }
            Sweeper::Descendants => {
                for pid in crate::sandbox::procs::descendants(std::process::id() as i32) {
                    let _ = kill(Pid::from_raw(pid), sig);
                }
            }
            Sweeper::User(uid) => {
                let _ = if sig == Signal::SIGKILL {
                    crate::sandbox::account::kill_all(*uid)
                } else {
                    crate::sandbox::account::signal_all(*uid, sig as i32)
                };
            }
        }
    }

    /// Kills every remaining process and reaps them all, reporting the program's status if
    /// it is among them; returns how many others there were. Bounded in time: a process
    /// stuck in the kernel must not hang init.
    fn kill_all(&self, sig: Signal, program: Pid, report: &mut impl FnMut(WaitStatus)) -> usize {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut others = 0;
        loop {
            self.signal_all(sig);
            match waitpid(None, None) {
                Err(Errno::ECHILD) => return others,
                Ok(status) if status.pid() == Some(program) => report(status),
                Ok(_) => others += 1,
                Err(_) => {}
            }
            if Instant::now() > deadline {
                return others;
            }
        }
    }
}

//! The init that runs the student's program: started by the harness (from its own binary,
//! `/proc/self/exe`) as `socklab __init [--subreaper] [--uid U --gid G] [--rlimit R=N]...
//! -- PROGRAM ARGS...` with the pty as stdin and stdout, stderr on a pipe, a status pipe on
//! fd 3, and exactly the environment the program is to have.
//!
//! It starts the program ([`start`]) as a session leader with the pty as its controlling
//! terminal (so ^C and ^D work as at a keyboard), with its limits set, no privileges, a
//! session keyring of its own, and as the run's sandbox user where socklab is root (in
//! namespaces, after setting up their mounts); tells the harness, in the typed messages of
//! [`protocol`], that it started (or at which stage it could not), how it ended, and then kills
//! everything the program left behind, even processes that called setsid: as PID 1 of the
//! run's PID namespace with `kill(-1)`; as the sandbox user's every process; or, as an
//! ordinary user on the host, as a child subreaper that hunts down every descendant.
//!
//! The harness's requests ([`protocol::Request`], a signal each): stop, passed on to every
//! process of the program; kill them all and end (also sent by the kernel if the harness
//! dies); and look at what the program's threads are blocked in, where the harness may not
//! look ([`look`]).

pub mod look;
pub mod start;
pub mod protocol;

use std::ffi::OsString;
use std::io::Write;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{SigHandler, SigSet, Signal, kill, signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::limits::Rlimit;
use crate::sandbox::guard::GuardSpec;
use protocol::{Exit, Request, Stage, Status};

pub const SUBCOMMAND: &str = "__init";
pub const STATUS_FD: i32 = 3;

/// How init is to run the program: what the harness starts it with, encoded as its command
/// line by [`InitArgs::to_args`] and decoded by [`InitCommand`], both here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitArgs {
    /// No PID namespace: find descendants as a subreaper instead of `kill(-1)`.
    pub subreaper: bool,
    /// The program runs as this uid and gid (the run's sandbox user); without a PID
    /// namespace, everything of that user is killed at the end.
    pub user: Option<(u32, u32)>,
    /// Limits to set on the program (see [`crate::limits`]).
    pub rlimits: Vec<crate::limits::Rlimit>,
    /// Run the program under the guard (uid isolation; see [`crate::sandbox::guard`]).
    pub guard: Option<crate::sandbox::guard::GuardSpec>,
    /// Set up the program's IPC and mount namespaces (see [`crate::confine`]).
    pub confinement: Option<crate::confine::Confinement>,
    pub program: PathBuf,
    pub args: Vec<String>,
}

impl InitArgs {
    /// Init's command line, after `socklab __init`.
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        let mut flag = |name: &str, value: Option<OsString>| {
            args.push(format!("--{name}").into());
            args.extend(value);
        };
        if self.subreaper {
            flag("subreaper", None);
        }
        if let Some((uid, gid)) = self.user {
            flag("uid", Some(uid.to_string().into()));
            flag("gid", Some(gid.to_string().into()));
        }
        for limit in &self.rlimits {
            flag("rlimit", Some(limit.to_arg().into()));
        }
        if let Some(guard) = &self.guard {
            flag("guard", Some(guard.to_arg().into()));
        }
        if let Some(confinement) = &self.confinement {
            flag("confine", None);
            for path in &confinement.hide {
                flag("hide", Some(path.into()));
            }
            for path in &confinement.show {
                flag("show", Some(path.into()));
            }
            for path in &confinement.writable {
                flag("writable", Some(path.into()));
            }
        }
        args.push("--".into());
        args.push(self.program.clone().into());
        args.extend(self.args.iter().map(OsString::from));
        args
    }
}

/// Init's command line as the harness wrote it ([`InitArgs::to_args`]), read back.
#[derive(Debug, clap::Args)]
pub struct InitCommand {
    #[arg(long)]
    subreaper: bool,
    #[arg(long)]
    confine: bool,
    #[arg(long, requires = "gid")]
    uid: Option<u32>,
    #[arg(long, requires = "uid")]
    gid: Option<u32>,
    #[arg(long, value_parser = parse_rlimit)]
    rlimit: Vec<Rlimit>,
    /// The program runs under the guard, binding only these ports (see sandbox::guard).
    #[arg(long, value_parser = GuardSpec::parse)]
    guard: Option<GuardSpec>,
    #[arg(long)]
    hide: Vec<PathBuf>,
    #[arg(long)]
    show: Vec<PathBuf>,
    #[arg(long)]
    writable: Vec<PathBuf>,
    #[arg(last = true, required = true)]
    program: Vec<String>,
}

impl InitCommand {
    pub fn decode(self) -> InitArgs {
        InitArgs {
            subreaper: self.subreaper,
            user: self.uid.zip(self.gid),
            rlimits: self.rlimit,
            guard: self.guard,
            confinement: self.confine.then_some(crate::confine::Confinement {
                hide: self.hide,
                show: self.show,
                writable: self.writable,
            }),
            program: self.program[0].clone().into(),
            args: self.program[1..].to_vec(),
        }
    }
}

fn parse_rlimit(text: &str) -> std::result::Result<Rlimit, String> {
    Rlimit::parse(text).ok_or_else(|| format!("'{text}' is not a limit"))
}

extern "C" fn ignore(_: libc::c_int) {}

/// Closes every descriptor above the status pipe: whatever socklab's own parent left open
/// without close-on-exec (a root-owned file, a socket) must not reach the program.
fn close_inherited() {
    let first = (STATUS_FD + 1) as libc::c_uint;
    // SAFETY: close_range(2) on descriptors init does not use.
    if unsafe { libc::syscall(libc::SYS_close_range, first, libc::c_uint::MAX, 0) } == 0 {
        return;
    }
    // Before Linux 5.9: one by one, from the list of what is open.
    let open: Vec<i32> = std::fs::read_dir("/proc/self/fd")
        .map(|dir| {
            dir.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    for fd in open.into_iter().filter(|&fd| fd > STATUS_FD) {
        // SAFETY: closing a descriptor nothing in init holds.
        unsafe { libc::close(fd) };
    }
}

/// Runs the program to its end and cleans up; returns init's own exit code.
pub fn run(init: InitArgs) -> i32 {
    close_inherited();
    let status_pipe = status_pipe();
    // Shared: the exit report below and the loop both speak.
    let say = |status: Status| {
        let _ = (&status_pipe).write_all(status.encode().as_bytes());
    };
    let waited = take_signals();
    // `ps` shows the binary's name as "exe" (it was started as /proc/self/exe).
    let _ = nix::sys::prctl::set_name(c"socklab-init");
    let sweeper = Sweeper::for_init(&init);

    // A program that cannot be confined as asked must not run at all.
    if let Some(confinement) = &init.confinement
        && let Err(e) = crate::confine::enter(confinement)
    {
        say(Status::CannotStart {
            stage: Stage::Confinement,
            error: e.to_string(),
        });
        return 127;
    }

    // Under the guard, whether the program ever sets a receive timeout is witnessed on a
    // page shared with init (mapped before the program's process is forked).
    let guarded = init.guard.is_some();
    if guarded {
        crate::sandbox::guard::receive_timeouts::prepare();
    }
    let started = start::Prepared::new(&init.program, &init.args, init.user, init.rlimits, init.guard)
        .map_err(|e| (Stage::Exec, e.to_string()))
        .and_then(|p| {
            start::start(&p).map_err(|(stage, e)| (stage, start::explain(stage, e, &init.program)))
        });
    let program = match started {
        Ok(pid) => pid,
        Err((stage, error)) => {
            say(Status::CannotStart { stage, error });
            return 127;
        }
    };
    say(Status::Started);
    leave_terminal();
    let swept = serve(&waited, &sweeper, program, guarded, init.user, &say);
    // How many of the program's processes were still there at its end: where no
    // control group counts them, the evidence that it ran into its process limit.
    say(Status::Swept(swept));
    0
}

/// The pipe init reports on (fd 3, set up by the harness for init alone), closed on exec.
fn status_pipe() -> std::fs::File {
    // SAFETY: fd 3 was set up by the harness for us alone.
    let status_pipe = unsafe { OwnedFd::from_raw_fd(STATUS_FD) };
    let _ = nix::fcntl::fcntl(
        &status_pipe,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    );
    std::fs::File::from(status_pipe)
}

/// Blocks the signals init waits for (a child's end, the harness's requests) and returns
/// them, to be taken one at a time.
fn take_signals() -> SigSet {
    let mut waited = SigSet::empty();
    let requests = Request::ALL.map(Request::signal);
    for s in std::iter::once(Signal::SIGCHLD).chain(requests) {
        waited.add(s);
        // As PID 1, signals without a handler are dropped; a handler makes them count.
        // SAFETY: the handler does nothing.
        unsafe {
            let _ = signal(s, SigHandler::Handler(ignore));
        }
    }
    let _ = waited.thread_block();
    waited
}

/// From now on only the program holds the terminal: when it is gone the harness sees the
/// screen close.
fn leave_terminal() {
    if let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        let _ = nix::unistd::dup2_stdin(&null);
        let _ = nix::unistd::dup2_stdout(&null);
        let _ = nix::unistd::dup2_stderr(&null);
    }
}

/// Init's life while the program runs: reports its end, answers the harness's requests,
/// and once the program has ended, sweeps what is left of it; returns how many processes
/// it swept.
fn serve(
    waited: &SigSet,
    sweeper: &Sweeper,
    program: Pid,
    guarded: bool,
    user: Option<(u32, u32)>,
    say: &impl Fn(Status),
) -> usize {
    let report = |status: WaitStatus| {
        let exit = match status {
            WaitStatus::Exited(_, code) => Exit::Code(code),
            WaitStatus::Signaled(_, sig, _) => Exit::Signal(sig as i32),
            _ => return,
        };
        say(Status::Exited(exit));
    };
    loop {
        let Ok(signal) = waited.wait() else {
            continue;
        };
        match (signal, Request::carried_by(signal)) {
            (Signal::SIGCHLD, _) => {
                if let Some(status) = sweeper.reap_finding(program) {
                    report(status);
                    return sweeper.kill_all(Signal::SIGKILL, program, &report);
                }
            }
            (_, Some(Request::Stop)) => sweeper.signal_all(Signal::SIGTERM),
            (_, Some(Request::KillAll)) => return sweeper.kill_all(Signal::SIGKILL, program, &report),
            (_, Some(Request::Look)) => {
                let known = guarded && crate::sandbox::guard::receive_timeouts::none_set();
                crate::stuck::know_no_receive_timeouts(known);
                say(Status::Looked(look::look_at(&sweeper.processes(), user)));
            }
            (_, None) => {}
        }
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
    /// How this init finds the program's processes: as PID 1 of the run's namespace,
    /// everyone; elsewhere, as a subreaper, the sandbox user's or its own descendants.
    fn for_init(init: &InitArgs) -> Sweeper {
        // kill(-1) is only safe where -1 means "everyone in our namespace": as its PID 1.
        let subreaper = init.subreaper || std::process::id() != 1;
        if subreaper {
            let _ = nix::sys::prctl::set_child_subreaper(true);
        }
        match init.user {
            _ if !subreaper => Sweeper::Namespace,
            Some((uid, _)) => Sweeper::User(uid),
            None => Sweeper::Descendants,
        }
    }

    /// Every process of the program, init left out.
    fn processes(&self) -> Vec<i32> {
        let me = std::process::id() as i32;
        match self {
            Sweeper::Namespace => crate::sandbox::procs::all()
                .into_iter()
                .filter(|&pid| pid != me)
                .collect(),
            Sweeper::Descendants => crate::sandbox::procs::descendants(me),
            Sweeper::User(uid) => crate::sandbox::procs::of_user(*uid),
        }
    }

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
    fn kill_all(&self, sig: Signal, program: Pid, report: &impl Fn(WaitStatus)) -> usize {
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Line {
        #[command(flatten)]
        init: InitCommand,
    }

    /// What the harness encodes is what init decodes.
    #[test]
    fn the_command_line_round_trip() {
        let sent = InitArgs {
            subreaper: true,
            user: Some((61003, 61003)),
            rlimits: vec![Rlimit::parse("nproc=64").unwrap()],
            guard: Some(GuardSpec::parse("8000").unwrap()),
            confinement: Some(crate::confine::Confinement {
                hide: vec!["/home".into()],
                show: vec!["/home/a".into()],
                writable: vec![],
            }),
            program: "/usr/bin/python3".into(),
            args: vec!["serv.py".into(), "--".into(), "-x".into()],
        };
        let line = std::iter::once(OsString::from("init")).chain(sent.to_args());
        assert_eq!(Line::parse_from(line).init.decode(), sent);
        let bare = InitArgs {
            subreaper: false,
            user: None,
            rlimits: vec![],
            guard: None,
            confinement: None,
            program: "/bin/nc".into(),
            args: vec![],
        };
        let line = std::iter::once(OsString::from("init")).chain(bare.to_args());
        assert_eq!(Line::parse_from(line).init.decode(), bare);
    }
}

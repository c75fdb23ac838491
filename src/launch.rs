//! Finds the student's program and starts it under [`crate::init`] on a pty, with stderr
//! captured apart and its exit reported on a pipe.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use crate::confine::Confinement;
use crate::init::InitArgs;
use crate::limits::RunLimits;
use crate::program::Program;
use crate::sandbox::place::Place;
use crate::terminal::{self, Terminal};

/// A started program: the harness's ends of its terminal, stderr and exit report.
pub struct Launched {
    /// The process the harness started: [`crate::init`], whose child is the program.
    pub init: Child,
    /// The pty master: the program's screen to read, its keyboard to write.
    pub screen: OwnedFd,
    pub stderr: OwnedFd,
    /// Init's messages (see [`crate::init::protocol`]), then end of file when it ends.
    pub status: OwnedFd,
}

/// How init starts the program and keeps it in: what the sandbox decided for the run.
#[derive(Debug)]
pub struct Enclosure {
    /// Init is PID 1 of a PID namespace of its own, made for it (and may clean up with
    /// `kill(-1)`); otherwise it finds the program's processes as a subreaper, or by user.
    /// Once per thread: a thread's PID namespace is for good.
    pub pid_namespace: bool,
    /// Run the program as this uid and gid: the run's sandbox user.
    pub user: Option<(u32, u32)>,
    /// Limits init sets on the program.
    pub rlimits: Vec<crate::limits::Rlimit>,
    /// The program runs under the guard (uid isolation; see [`crate::sandbox::guard`]).
    pub guard: Option<crate::sandbox::guard::GuardSpec>,
    /// `cgroup.procs` files init joins before it starts (see [`crate::limits`]).
    pub cgroups: Vec<RawFd>,
    /// What it sees, set up by init in mount and IPC namespaces of its own (namespaces
    /// only; see [`crate::confine`]).
    pub confinement: Option<Confinement>,
    /// Its home: the run's own folder.
    pub home: PathBuf,
    /// Its working folder: the run's own folder, never socklab's.
    pub cwd: PathBuf,
    /// What its environment has besides [`ENVIRONMENT`] and HOME.
    pub env: Vec<(String, String)>,
}

impl Enclosure {
    /// The program's enclosure in `place`, within `limits`.
    pub fn in_place(place: &Place, limits: &RunLimits) -> Enclosure {
        let on_host = place.isolation.on_host();
        Enclosure {
            pid_namespace: !on_host,
            user: place.user,
            rlimits: limits.rlimits(),
            guard: place.guard.clone(),
            cgroups: limits.join_fds(),
            confinement: (!on_host).then(|| place.confinement.clone()),
            home: place.workdir.clone(),
            cwd: place.workdir.clone(),
            env: Vec::new(),
        }
    }
}

/// The program's environment, the same at every level and never socklab's own: a new user's
/// PATH, a UTF-8 locale, and a terminal that claims no abilities. HOME is its work folder.
pub const ENVIRONMENT: [(&str, &str); 3] = [
    ("PATH", "/usr/local/bin:/usr/bin:/bin"),
    ("LANG", "C.UTF-8"),
    ("TERM", "dumb"),
];

/// socklab's own binary, as the kernel holds it: a rebuilt or reinstalled socklab on disk
/// cannot break a run that has begun.
const OWN_BINARY: &str = "/proc/self/exe";

/// Starts `program` under init on a fresh pty, enclosed as `enclosure` says.
pub fn launch(program: &Program, args: &[String], enclosure: &Enclosure) -> io::Result<Launched> {
    let Terminal { master, slave } = terminal::open()?;
    let (stderr_r, stderr_w) = io::pipe()?;
    let (status_r, status_w) = io::pipe()?;

    let init = InitArgs {
        subreaper: !enclosure.pid_namespace,
        user: enclosure.user,
        rlimits: enclosure.rlimits.clone(),
        guard: enclosure.guard.clone(),
        confinement: enclosure.confinement.clone(),
        program: program.path.clone(),
        args: args.to_vec(),
    };
    let mut cmd = Command::new(OWN_BINARY);
    cmd.arg0("socklab")
        .arg(crate::init::SUBCOMMAND)
        .args(init.to_args());
    // Init passes its environment on to the program whole: exactly this one.
    cmd.env_clear()
        .envs(ENVIRONMENT)
        .env("HOME", &enclosure.home)
        .envs(enclosure.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&enclosure.cwd);
    cmd.stdin(Stdio::from(slave.try_clone()?))
        .stdout(Stdio::from(slave))
        .stderr(Stdio::from(stderr_w));
    let status_fd = status_w.as_raw_fd();
    let kill_all = crate::init::protocol::Request::KillAll.signal() as libc::c_ulong;
    let cgroups = enclosure.cgroups.clone();
    // SAFETY: only async-signal-safe calls (dup2, fcntl, prctl, write) between fork and
    // exec.
    unsafe {
        cmd.pre_exec(move || {
            if status_fd == crate::init::STATUS_FD {
                libc::fcntl(status_fd, libc::F_SETFD, 0);
            } else if libc::dup2(status_fd, crate::init::STATUS_FD) < 0 {
                return Err(io::Error::last_os_error());
            }
            // Into the run's control groups, before init starts anything ("0" is "me").
            for fd in &cgroups {
                if libc::write(*fd, b"0".as_ptr().cast(), 1) != 1 {
                    return Err(io::Error::last_os_error());
                }
            }
            // If the grading thread dies, init sweeps the program away.
            libc::prctl(libc::PR_SET_PDEATHSIG, kill_all);
            Ok(())
        });
    }
    if enclosure.pid_namespace {
        // Init, the next child of this thread, is PID 1 there.
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWPID)?;
    }
    let init = cmd.spawn()?;
    drop(status_w);
    terminal::set_nonblocking(&stderr_r)?;
    terminal::set_nonblocking(&status_r)?;
    Ok(Launched {
        init,
        screen: master,
        stderr: stderr_r.into(),
        status: status_r.into(),
    })
}

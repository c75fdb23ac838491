//! Starting the program from init. Init forks; the child sets up everything the program
//! needs before exec (its own user or no privileges, its own session keyring, its limits, a
//! session with the pty as its controlling terminal), and a failure at any stage goes back
//! to init as the stage and its errno over a close-on-exec pipe, whose end of file means
//! exec succeeded. Init is single-threaded, so the child may do anything; it still keeps to
//! plain system calls.

use std::ffi::{CString, OsString};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStringExt;
use std::path::Path;

use nix::errno::Errno;
use nix::sys::signal::SigSet;
use nix::unistd::{ForkResult, Pid};

use super::protocol::Stage;
use crate::limits::Rlimit;
use crate::sandbox::guard::GuardSpec;

/// The program, ready to exec: everything allocated before the fork.
pub struct Prepared {
    path: CString,
    argv: Vec<CString>,
    envp: Vec<CString>,
    user: Option<(u32, u32)>,
    rlimits: Vec<Rlimit>,
    guard: Option<GuardSpec>,
}

impl Prepared {
    /// The program at `path` with `args`, init's own environment (the harness gave init
    /// exactly the program's), as `user` if given, with `rlimits`.
    pub fn new(
        path: &Path,
        args: &[String],
        user: Option<(u32, u32)>,
        rlimits: Vec<Rlimit>,
        guard: Option<GuardSpec>,
    ) -> Result<Prepared, String> {
        let c = |bytes: Vec<u8>| CString::new(bytes).map_err(|_| "an argument holds a NUL byte");
        let path = c(path.as_os_str().as_encoded_bytes().to_vec())?;
        let mut argv = vec![path.clone()];
        for arg in args {
            argv.push(c(arg.clone().into_bytes())?);
        }
        let envp = std::env::vars_os()
            .map(|(k, v)| {
                let mut pair: OsString = k;
                pair.push("=");
                pair.push(v);
                c(pair.into_vec())
            })
            .collect::<Result<_, _>>()?;
        Ok(Prepared {
            path,
            argv,
            envp,
            user,
            rlimits,
            guard,
        })
    }
}

/// Forks and execs the program; returns its pid once it runs, or the stage that failed.
pub fn start(prepared: &Prepared) -> Result<Pid, (Stage, Errno)> {
    let (report_r, report_w) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| (Stage::Fork, e))?;
    // SAFETY: init is single-threaded; the child makes system calls only, then execs or
    // exits.
    match unsafe { nix::unistd::fork() }.map_err(|e| (Stage::Fork, e))? {
        ForkResult::Child => {
            drop(report_r);
            let Err((stage, errno)) = set_up_and_exec(prepared);
            let mut message = [0u8; 5];
            message[0] = stage as u8;
            message[1..].copy_from_slice(&(errno as i32).to_ne_bytes());
            let _ = nix::unistd::write(&report_w, &message);
            // SAFETY: the child ends here without running init's destructors.
            unsafe { libc::_exit(127) }
        }
        ForkResult::Parent { child } => {
            drop(report_w);
            read_report(&report_r).map(|()| child)
        }
    }
}

/// The child's side: every step, then exec. Returns only on failure.
fn set_up_and_exec(p: &Prepared) -> Result<std::convert::Infallible, (Stage, Errno)> {
    let at = |stage: Stage| move |e: std::io::Error| (stage, Errno::from_raw(e.raw_os_error().unwrap_or(0)));
    let _ = SigSet::empty().thread_set_mask();
    // From here on, this process is the guard, and the program its child.
    if let (Some(guard), Some(user)) = (&p.guard, p.user) {
        crate::sandbox::guard::split(guard, user).map_err(at(Stage::Fork))?;
    }
    // The program needs no privilege; without any it cannot undo its confinement.
    match p.user {
        Some((uid, gid)) => {
            // Its terminal is its own: the user it becomes may open it again by name.
            // SAFETY: fchown on stdin, the pty slave the harness gave init.
            if unsafe { libc::fchown(0, uid, gid) } < 0 {
                return Err((Stage::Terminal, Errno::last()));
            }
            crate::confine::become_user(uid, gid)
        }
        None => crate::confine::drop_privileges(),
    }
    .and_then(|()| crate::confine::own_keyring(p.user.is_some()))
    .map_err(at(Stage::Privileges))?;
    // After the switch of user: RLIMIT_NPROC counts the processes of the new one.
    for limit in &p.rlimits {
        limit.apply().map_err(at(Stage::Limits))?;
    }

    nix::unistd::setsid().map_err(|e| (Stage::Terminal, e))?;
    // SAFETY: TIOCSCTTY on stdin, the pty slave the harness gave init.
    if unsafe { libc::ioctl(0, libc::TIOCSCTTY, 0) } < 0 {
        return Err((Stage::Terminal, Errno::last()));
    }
    nix::unistd::execve(&p.path, &p.argv, &p.envp).map_err(|e| (Stage::Exec, e))
}

/// Init's side: end of file means exec happened; five bytes are the stage and errno.
fn read_report(report: &OwnedFd) -> Result<(), (Stage, Errno)> {
    let mut message = [0u8; 5];
    let mut got = 0;
    while got < message.len() {
        match nix::unistd::read(report, &mut message[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(Errno::EINTR) => {}
            Err(e) => return Err((Stage::Fork, e)),
        }
    }
    match got {
        0 => Ok(()),
        5 => {
            let stage = [
                Stage::Confinement,
                Stage::Fork,
                Stage::Privileges,
                Stage::Limits,
                Stage::Terminal,
                Stage::Exec,
            ]
            .into_iter()
            .find(|s| *s as u8 == message[0])
            .unwrap_or(Stage::Fork);
            let errno = i32::from_ne_bytes(message[1..].try_into().expect("four bytes"));
            Err((stage, Errno::from_raw(errno)))
        }
        _ => Err((Stage::Fork, Errno::EPIPE)),
    }
}

/// A failed stage's errno in words, with what it usually means for a program's exec.
pub fn explain(stage: Stage, errno: Errno, program: &Path) -> String {
    let what = errno.desc();
    match (stage, errno) {
        (Stage::Exec, Errno::ENOENT) if program.exists() => {
            format!("{what} (the interpreter its #! line names is not on this machine)")
        }
        (Stage::Exec, Errno::ENOEXEC) => {
            format!("{what} (not a program this machine can run: a script needs a #! line)")
        }
        _ => what.to_string(),
    }
}

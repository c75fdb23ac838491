//! What keeps a student's program in its run. Its PID namespace already hides socklab's
//! processes (it cannot signal what it cannot name) and its network namespace has loopback
//! only. Here, for the rest:
//!
//! - [`enter`] (run by init before the program starts, as PID 1 of the run's namespaces;
//!   or before a compiler starts, as a subreaper in the run's network namespace):
//!   an IPC namespace of the run's own (no host's System V objects, none left behind) and a
//!   private mount namespace, laid out by [`view`]: the whole filesystem read-only; `/proc`
//!   showing only the run's own processes; `/run` (host daemons' sockets) empty; its own
//!   empty `/tmp`, `/var/tmp` and `/dev/shm`, the only places besides its work folder where
//!   it may write, gone with the run; a `/dev` with the few devices a program needs and its
//!   own terminal ([`devices`]); the paths to hide (other submissions, results, `--hide`)
//!   covered, folders by an empty folder and files by an empty file, except the paths to
//!   show under them (the submission's own folder, and the way to what the program needs).
//! - [`privileges`] (in the program, just before exec): the run's own user where socklab is
//!   root (a uid nothing else uses, see [`crate::sandbox::account`]), so that what only root
//!   may open (its files, sockets, terminals, disks, shared memory) stays closed to the
//!   program by ordinary permissions; no capabilities and no way to gain any, so it cannot
//!   undo the mounts; and a session keyring of its own.
//!
//! Without namespaces there is no mount namespace to lean on: the run's own user and the
//! permissions it leaves it are all there is (chmod for `--hide`).

pub mod devices;
mod mounts;
pub mod privileges;
pub mod view;

use std::io;
use std::path::{Path, PathBuf};

pub use privileges::{become_user, drop_privileges, own_keyring, set_capabilities};

/// What the program sees besides the standard layout (see [`view`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Confinement {
    /// Folders and files to hide: other submissions, results, `--hide`.
    pub hide: Vec<PathBuf>,
    /// Paths under hidden ones, or under the run's private folders, to show: the
    /// submission's own folder, and the way to what the program needs.
    pub show: Vec<PathBuf>,
    /// Folders bound back writable: the run's work folder.
    pub writable: Vec<PathBuf>,
}

/// Folders a compiler needs (and that hold the system's headers); every other folder at the
/// top of the filesystem is hidden from it, besides the run's own /tmp, /dev and /proc.
const COMPILER_SYSTEM: &[&str] = &[
    "usr", "lib", "lib32", "lib64", "libx32", "bin", "sbin", "etc", "proc", "dev", "tmp",
];

impl Confinement {
    /// The view of a compiler of this run: the same, and every folder at the top of the
    /// filesystem hidden but the system's and those `keep` lie in (the compiler's own).
    pub fn for_compiler(&self, keep: &[&Path]) -> Confinement {
        let kept = |name: &str| {
            COMPILER_SYSTEM.contains(&name)
                || keep
                    .iter()
                    .any(|path| path.components().nth(1).is_some_and(|c| c.as_os_str() == name))
        };
        let mut compiler = self.clone();
        let top = std::fs::read_dir("/").into_iter().flatten().flatten();
        for entry in top {
            let name = entry.file_name().to_string_lossy().into_owned();
            // A link at the top (/bin -> usr/bin) leads into folders kept or hidden already.
            let folder = entry.file_type().is_ok_and(|t| t.is_dir());
            if folder && !kept(&name) {
                compiler.hide.push(entry.path());
            }
        }
        compiler
    }
}

/// Sets up the calling process's (init's) own IPC and mount namespaces as `confinement`
/// says. Errors say which step failed; the program must not run then.
pub fn enter(confinement: &Confinement) -> io::Result<()> {
    let cwd = std::env::current_dir()?;
    // Folders made for the view must be open to the program's user, whatever umask socklab
    // was started with.
    // SAFETY: umask only sets the process's file creation mask.
    unsafe { libc::umask(0o022) };
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS | nix::sched::CloneFlags::CLONE_NEWIPC)?;
    mounts::make_private()?;
    let writable = view::apply(&view::View::of(confinement))?;
    // A /proc of the run's own PID namespace: socklab and the host's processes vanish. Not
    // PID 1 of one (a compiler's init), where it may: one showing each user their own alone.
    if std::process::id() == 1 {
        mounts::proc("")?;
    } else {
        let _ = mounts::proc("hidepid=invisible");
    }
    mounts::set_read_only(Path::new("/"), true, true)?;
    for path in writable {
        mounts::set_read_only(&path, false, false)?;
    }
    // The working folder may lie under a covered path: look it up again through the new
    // mounts (a hidden one ends on an empty folder, or at /).
    if std::env::set_current_dir(&cwd).is_err() {
        std::env::set_current_dir("/")?;
    }
    Ok(())
}

//! A user of its own for each run graded as root without namespaces (Gradescope's Docker
//! containers refuse them), as the IOI's isolate gives each box one: a uid and gid from a
//! range nothing else uses, held by one run at a time, and a different one for each run in
//! turn. Running as that user with no way back (no_new_privs, no capabilities), the program
//! cannot signal or trace socklab, write root's files or the results, or read what is
//! hidden from it; and since nothing else runs as that user, "every process of that user"
//! is exactly the program and all it started, however it detached. When the run ends they
//! are killed and what the user left (files where anyone may write, System V IPC objects)
//! is removed ([`super::sweep`]), so that no later run reads it.
//!
//! Work as that user is done by a forked child that switches to it with raw system calls
//! (safe between fork and exec in a threaded process) and does one thing: signal every
//! process it may (`kill(-1)`, which for an unprivileged user means its own), or test
//! whether it may reach a path.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};

use super::users::{FIRST_UID, SLOTS, as_user, kill_all};
use super::{locks, procs, sweep};


/// The real uid (and gid) of the guard over the program of sandbox user `uid` (see
/// [`super::guard`]): from a range of its own, so that the program may not signal it.
pub fn guard_ids(uid: u32) -> u32 {
    uid + SLOTS
}

/// A sandbox user, held by one run. When it is let go, every process of that user is
/// killed and everything it left is removed ([`sweep`]).
#[derive(Debug)]
pub struct SandboxAccount {
    pub uid: u32,
    pub gid: u32,
    reach: Reach,
    _lock: locks::Held,
}

/// Where a run's program may leave things behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// The host's folders anyone may write, and its IPC objects (the `uid` level): what it
    /// left there is swept before the uid is taken and when it is let go.
    Host,
    /// Only its own namespaces' /tmp, /var/tmp, /dev/shm and IPC, gone with them, and its
    /// work folder: nothing to sweep (the `namespaces` level, as root).
    OwnNamespaces,
}

/// The sandbox users this process's runs hold now.
static LIVE: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// Kills the processes of every sandbox user this process's runs hold: for a socklab about
/// to exit on a signal.
pub fn kill_every_run() {
    for uid in LIVE.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        let _ = kill_all(*uid);
    }
}

/// Where the next run's search for a sandbox user begins: past the last one taken, so that
/// each run gets a uid that the runs before it did not have (until all have had their turn).
const NEXT: &str = "uid-next";

impl SandboxAccount {
    /// Takes a sandbox uid that no other run holds, no account in /etc/passwd or /etc/group
    /// names, no process runs as, and nothing is left of: the next one after the uid the
    /// last run took, whose leftovers (of a socklab that was killed, say) are removed
    /// first.
    pub fn take() -> Result<SandboxAccount> {
        SandboxAccount::take_for(Reach::Host)
    }

    /// As [`SandboxAccount::take`], for a program that reaches only what `reach` says.
    pub fn take_for(reach: Reach) -> Result<SandboxAccount> {
        let what = || Error::io("taking a sandbox user");
        let named = named_ids();
        // One run at a time moves the starting point on.
        let _turn = locks::wait_for("uid-next.lock").map_err(what())?;
        let next = locks::folder().map_err(what())?.join(NEXT);
        let start = std::fs::read_to_string(&next)
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok())
            .filter(|uid| (FIRST_UID..FIRST_UID + SLOTS).contains(uid))
            .unwrap_or(FIRST_UID);
        for offset in 0..SLOTS {
            let uid = FIRST_UID + (start - FIRST_UID + offset) % SLOTS;
            if named.contains(&uid) {
                continue;
            }
            let Some(lock) = locks::try_take(&format!("uid-{uid}.lock")).map_err(what())? else {
                continue;
            };
            let swept = |uid| reach == Reach::OwnNamespaces || sweep::sweep(uid).is_ok();
            if !procs::of_user(uid).is_empty() || !swept(uid) {
                continue;
            }
            let after = FIRST_UID + (uid + 1 - FIRST_UID) % SLOTS;
            std::fs::write(&next, after.to_string()).map_err(what())?;
            LIVE.lock().unwrap_or_else(|e| e.into_inner()).push(uid);
            return Ok(SandboxAccount {
                uid,
                gid: uid,
                reach,
                _lock: lock,
            });
        }
        Err(Error::Internal(format!(
            "all {SLOTS} sandbox users (uids {FIRST_UID}-{}) are in use",
            FIRST_UID + SLOTS - 1
        )))
    }
}

impl Drop for SandboxAccount {
    /// The run is over: nothing of its user may outlive it. (What cannot be removed now is
    /// tried again before the uid is next taken.)
    fn drop(&mut self) {
        let _ = kill_all(self.uid);
        if self.reach == Reach::Host {
            let _ = sweep::sweep(self.uid);
        }
        LIVE.lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|uid| *uid != self.uid);
    }
}

/// Ids that /etc/passwd or /etc/group give to someone.
fn named_ids() -> Vec<u32> {
    ["/etc/passwd", "/etc/group"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .flat_map(|text| {
            text.lines()
                .filter_map(|l| l.split(':').nth(2)?.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// How a path must be reachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Run,
    /// A folder to work in or pass through.
    Enter,
}

impl Access {
    fn mode(self) -> i32 {
        match self {
            Access::Read => libc::R_OK,
            Access::Run | Access::Enter => libc::X_OK,
        }
    }
}

/// The first of `paths` that `uid`:`gid` may not reach as asked, if any.
pub fn first_unreachable(
    uid: u32,
    gid: u32,
    paths: &[(PathBuf, Access)],
) -> Result<Option<&(PathBuf, Access)>> {
    let c_paths: Vec<(CString, i32)> = paths
        .iter()
        .map(|(p, a)| {
            CString::new(p.as_os_str().as_bytes())
                .map(|c| (c, a.mode()))
                .map_err(|_| Error::Usage(format!("{} has a NUL byte", p.display())))
        })
        .collect::<Result<_>>()?;
    // The child's exit code is 0, or 1 + the index of the first path it could not reach.
    let code = as_user(uid, gid, &|| {
        for (i, (path, mode)) in c_paths.iter().enumerate() {
            // SAFETY: access is async-signal-safe; the path is a valid C string.
            if unsafe { libc::access(path.as_ptr(), *mode) } != 0 {
                return (i + 1).min(125) as i32;
            }
        }
        0
    })
    .map_err(Error::io("checking what the sandbox user can reach"))?;
    Ok((code > 0).then(|| &paths[code as usize - 1]))
}

/// Why `uid` cannot reach `path`: the first folder on the way it may not enter, or the
/// path's own mode.
pub fn why_unreachable(uid: u32, gid: u32, path: &Path, access: Access) -> String {
    // From the root down: the first folder refused is the one in the way.
    let mut folders: Vec<(PathBuf, Access)> = path
        .ancestors()
        .skip(1)
        .map(|p| (p.to_path_buf(), Access::Enter))
        .collect();
    folders.reverse();
    let mode = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| format!("mode {:04o}", m.permissions().mode() & 0o7777))
            .unwrap_or_else(|e| e.to_string())
    };
    match first_unreachable(uid, gid, &folders) {
        Ok(Some((folder, _))) => format!(
            "{} is closed to other users ({})",
            folder.display(),
            mode(folder)
        ),
        _ => {
            let what = match access {
                Access::Read => "readable",
                Access::Run => "runnable",
                Access::Enter => "open",
            };
            format!(
                "{} is not {what} by other users ({})",
                path.display(),
                mode(path)
            )
        }
    }
}

/// A private folder for one run's program: its home, where it may write, and where the
/// folders it must see (its submission) are copied, since in place they lie under a folder
/// hidden from it (the class). Owned by the sandbox user, mode 0700: no other run's user
/// may look in. Removed with everything in it when dropped.
#[derive(Debug)]
pub struct WorkDir {
    dir: tempfile::TempDir,
}

/// The most a copied folder may hold.
const COPY_LIMIT: u64 = 64 << 20;

impl WorkDir {
    pub fn create(uid: u32, gid: u32) -> Result<WorkDir> {
        let what = || Error::io("making the program's private folder");
        let dir = tempfile::Builder::new()
            .prefix("socklab-run-")
            .tempdir()
            .map_err(what())?;
        std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).map_err(what())?;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
            .map_err(what())?;
        Ok(WorkDir { dir })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Copies the folder `from` into this one, owned by the sandbox user; returns where the
    /// copy is. Symbolic links are copied as links, never followed: root must not read,
    /// on the program's behalf, what the link points to.
    pub fn copy_in(&self, from: &Path, uid: u32, gid: u32) -> Result<PathBuf> {
        let name = from.file_name().unwrap_or(from.as_os_str());
        let to = self.dir.path().join(name);
        let mut budget = COPY_LIMIT;
        copy_tree(from, &to, uid, gid, &mut budget)
            .map_err(|e| Error::io(format!("copying {} for the program", from.display()))(e))?;
        Ok(to)
    }
}

fn copy_tree(from: &Path, to: &Path, uid: u32, gid: u32, budget: &mut u64) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(from)?;
    if meta.file_type().is_symlink() {
        std::os::unix::fs::symlink(std::fs::read_link(from)?, to)?;
    } else if meta.is_dir() {
        std::fs::create_dir(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            copy_tree(&entry.path(), &to.join(entry.file_name()), uid, gid, budget)?;
        }
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(meta.mode() & 0o755))?;
    } else if meta.is_file() {
        *budget = budget.checked_sub(meta.len()).ok_or_else(|| {
            io::Error::other(format!("more than {} MiB to copy", COPY_LIMIT >> 20))
        })?;
        std::fs::copy(from, to)?;
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(meta.mode() & 0o755))?;
    } else {
        return Ok(()); // sockets, fifos, devices: nothing a program of the lesson needs
    }
    std::os::unix::fs::lchown(to, Some(uid), Some(gid))
}

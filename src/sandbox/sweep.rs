//! What a sandbox user leaves behind, removed when its run ends so that no later run reads
//! it: its files in every folder a user of its own may write to (the temporary folders,
//! /dev/shm, POSIX message queues in /dev/mqueue, /run/lock, `$TMPDIR`), and its System V
//! shared memory segments, semaphore sets and message queues.
//!
//! Files are found by root, walking each folder through descriptors and never following a
//! symbolic link, so that nothing another run moves meanwhile can lead it elsewhere; a
//! folder the user owns goes whole, elsewhere only what it owns. Folders others may not
//! enter are passed over: the user could not have put anything there. System V objects are
//! removed by the user itself, which may remove what it made (Docker leaves root no
//! CAP_SYS_ADMIN to remove another user's).

use std::ffi::{CStr, CString};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use nix::dir::Dir;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{FileStat, Mode, SFlag, fstatat};
use nix::unistd::{UnlinkatFlags, unlinkat};

/// How deep a walk goes: deeper than this, what is left is said to be left.
const MAX_DEPTH: usize = 64;

/// The folders a user of its own may write to, whichever of them exist here.
fn writable_folders() -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = [
        "/tmp",
        "/var/tmp",
        "/dev/shm",
        "/dev/mqueue",
        "/run/lock",
        "/var/lock",
    ]
    .into_iter()
    .map(PathBuf::from)
    .chain(std::env::var_os("TMPDIR").map(PathBuf::from))
    .filter_map(|p| std::fs::canonicalize(p).ok())
    .filter(|p| p.is_dir())
    .collect();
    folders.sort();
    folders.dedup();
    folders
}

/// Removes every file and System V IPC object of `uid`, whose processes are all gone.
/// `Err` says what could not be removed.
pub fn sweep(uid: u32) -> Result<(), String> {
    let mut left = Vec::new();
    for folder in writable_folders() {
        match Dir::open(
            &folder,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        ) {
            Ok(dir) => {
                let mut walk = Walk {
                    uid,
                    device: nix::sys::stat::fstat(&dir).map_or(0, |s| s.st_dev),
                    left: &mut left,
                };
                walk_folder(&mut walk, dir, &folder, false, 0);
            }
            Err(e) => left.push(format!("{}: {e}", folder.display())),
        }
    }
    if let Err(e) = remove_ipc_objects(uid) {
        left.push(e);
    }
    if left.is_empty() {
        Ok(())
    } else {
        Err(left.join("; "))
    }
}

/// What a walk looks for and where it writes down what it could not remove.
struct Walk<'a> {
    uid: u32,
    /// The walk stays on the filesystem of its folder (never into a mount below it).
    device: u64,
    left: &'a mut Vec<String>,
}

/// Removes what `uid` owns in `dir` (at `path`, for messages); with `all`, everything in
/// it (the folder is the user's).
fn walk_folder(walk: &mut Walk, mut dir: Dir, path: &Path, all: bool, depth: usize) {
    let names: Vec<CString> = dir
        .iter()
        .flatten()
        .map(|e| e.file_name().to_owned())
        .filter(|n| n.as_bytes() != b"." && n.as_bytes() != b"..")
        .collect();
    for name in names {
        let shown = || path.join(String::from_utf8_lossy(name.as_bytes()).as_ref());
        let Ok(stat) = fstatat(dir.as_fd(), name.as_c_str(), AtFlags::AT_SYMLINK_NOFOLLOW) else {
            continue; // gone meanwhile
        };
        let is_dir = SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR;
        let owned = all || stat.st_uid == walk.uid;
        if is_dir && (owned || enterable_by_others(&stat)) {
            if stat.st_dev != walk.device || depth >= MAX_DEPTH {
                if owned {
                    walk.left.push(format!("{} (too deep, or a mount)", shown().display()));
                }
                continue;
            }
            let Ok(child) = Dir::openat(
                dir.as_fd(),
                name.as_c_str(),
                OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                Mode::empty(),
            ) else {
                continue;
            };
            walk_folder(walk, child, &shown(), owned, depth + 1);
            if owned {
                remove(walk, &dir, &name, UnlinkatFlags::RemoveDir, &shown());
            }
        } else if owned {
            remove(walk, &dir, &name, UnlinkatFlags::NoRemoveDir, &shown());
        }
    }
}

fn remove(walk: &mut Walk, dir: &Dir, name: &CStr, how: UnlinkatFlags, shown: &Path) {
    if let Err(e) = unlinkat(dir.as_fd(), name, how)
        && e != nix::errno::Errno::ENOENT
    {
        walk.left.push(format!("{}: {e}", shown.display()));
    }
}

/// A folder whose "other users" may pass through it (and so may have left files inside).
fn enterable_by_others(stat: &FileStat) -> bool {
    stat.st_mode & 0o001 != 0
}

/// The System V IPC objects of `uid` (as owner or creator), read from /proc/sysvipc.
fn ipc_objects(uid: u32) -> Vec<(IpcKind, i32)> {
    let mut found = Vec::new();
    for (kind, file, id_column, uid_columns) in [
        // key shmid perms size cpid lpid nattch uid gid cuid ...
        (IpcKind::SharedMemory, "shm", 1, [7, 9]),
        // key semid perms nsems uid gid cuid ...
        (IpcKind::Semaphores, "sem", 1, [4, 6]),
        // key msqid perms cbytes qnum lspid lrpid uid gid cuid ...
        (IpcKind::MessageQueue, "msg", 1, [7, 9]),
    ] {
        let Ok(table) = std::fs::read_to_string(format!("/proc/sysvipc/{file}")) else {
            continue;
        };
        for line in table.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let ours = uid_columns
                .iter()
                .any(|&c| fields.get(c).and_then(|f| f.parse::<u32>().ok()) == Some(uid));
            if ours && let Some(id) = fields.get(id_column).and_then(|f| f.parse().ok()) {
                found.push((kind, id));
            }
        }
    }
    found
}

#[derive(Debug, Clone, Copy)]
enum IpcKind {
    SharedMemory,
    Semaphores,
    MessageQueue,
}

/// Removes the System V IPC objects of `uid`, as `uid`.
fn remove_ipc_objects(uid: u32) -> Result<(), String> {
    let objects = ipc_objects(uid);
    if objects.is_empty() {
        return Ok(());
    }
    let failed = super::users::as_user(uid, uid, &|| {
        let mut failed = 0;
        for (kind, id) in &objects {
            // SAFETY: IPC_RMID takes no buffer; these calls are async-signal-safe.
            let done = unsafe {
                match kind {
                    IpcKind::SharedMemory => libc::shmctl(*id, libc::IPC_RMID, std::ptr::null_mut()),
                    IpcKind::Semaphores => libc::semctl(*id, 0, libc::IPC_RMID),
                    IpcKind::MessageQueue => libc::msgctl(*id, libc::IPC_RMID, std::ptr::null_mut()),
                }
            };
            if done != 0 && nix::errno::Errno::last() != nix::errno::Errno::EINVAL {
                failed += 1;
            }
        }
        failed.min(125)
    })
    .map_err(|e| format!("System V IPC objects: {e}"))?;
    if failed > 0 {
        return Err(format!("{failed} System V IPC objects could not be removed"));
    }
    Ok(())
}

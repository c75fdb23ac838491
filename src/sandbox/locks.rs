//! Locks that every socklab process of one user shares: files in a private folder of the
//! temporary directory, held with `flock` for as long as a run needs what they stand for
//! (a sandbox user, a fixed port). The kernel drops a lock when its holder dies, so a
//! killed socklab leaves nothing locked.
//!
//! A port on the host's loopback is the whole machine's, not one user's: runs of several
//! users (an instructor grading as root, a student checking as themselves) also queue on a
//! lock in a folder every user shares ([`wait_for_shared`]). Anyone may hold such a lock, so
//! it is waited for a bounded time only, and a shared folder that is not usable is no
//! reason to refuse: the private lock and the port's own check still stand.
//!
//! A lock file is write-only, even to its owner (mode 0200), and `flock` needs the file
//! open: so a program that runs with socklab's own uid on a read-only filesystem (without
//! the capability to override permissions) cannot open one, and cannot hold a lock to make
//! other runs wait.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A held lock; dropping it releases it.
#[derive(Debug)]
pub struct Held {
    _file: File,
}

/// How many folders to try before giving up: `socklab-UID`, then `socklab-UID-1`, ...
const FOLDER_TRIES: u32 = 8;

/// `$TMPDIR/socklab-UID`, named by the user socklab is on the host (not the root it may be
/// in a user namespace of its own) and private to it (mode 0700). A folder of that name
/// that is not this user's (another user's, or one others may write to, whose locks anyone
/// could hold) is passed over for `socklab-UID-1`, and so on: the same names in the same
/// order for every socklab process of this user, so that they still share their locks.
pub fn folder() -> io::Result<PathBuf> {
    let (uid, _) = super::real_ids();
    let mut refused = Vec::new();
    for attempt in 0..FOLDER_TRIES {
        let name = match attempt {
            0 => format!("socklab-{uid}"),
            n => format!("socklab-{uid}-{n}"),
        };
        let dir = std::env::temp_dir().join(name);
        match private_folder(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) => refused.push(format!("{} ({e})", dir.display())),
        }
    }
    Err(io::Error::other(format!(
        "no folder of socklab's own for this user could be made in {}: {}",
        std::env::temp_dir().display(),
        refused.join(", ")
    )))
}

/// Makes `dir` (mode 0700) unless it exists; then it must be this user's alone, and usable:
/// in a user namespace with no mapping, every owner looks alike, so only trying tells.
fn private_folder(dir: &Path) -> io::Result<()> {
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let meta = std::fs::symlink_metadata(dir)?;
    let euid = nix::unistd::geteuid().as_raw();
    if !meta.is_dir() || meta.uid() != euid || meta.mode() & 0o077 != 0 {
        return Err(io::Error::other("not a private folder of this user"));
    }
    nix::unistd::access(dir, nix::unistd::AccessFlags::W_OK | nix::unistd::AccessFlags::X_OK)
        .map_err(io::Error::from)
}

/// Write-only, even to the owner: see the module's doc.
const LOCK_MODE: u32 = 0o200;

fn open(name: &str) -> io::Result<File> {
    let path = folder()?.join(name);
    let said = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(LOCK_MODE)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(&path)
        .map_err(said)?;
    // A file an older socklab made readable is made write-only now.
    if file.metadata().map_err(said)?.mode() & 0o777 != LOCK_MODE {
        file.set_permissions(std::fs::Permissions::from_mode(LOCK_MODE))
            .map_err(said)?;
    }
    Ok(file)
}

/// Waits for the lock called `name` (as long as another run holds it), then holds it.
pub fn wait_for(name: &str) -> io::Result<Held> {
    lock(open(name)?, libc::LOCK_EX)
}

/// Holds the lock called `name` together with anyone else who holds it shared (waiting
/// while someone holds it alone).
pub fn share(name: &str) -> io::Result<Held> {
    lock(open(name)?, libc::LOCK_SH)
}

fn lock(file: File, how: libc::c_int) -> io::Result<Held> {
    loop {
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(file.as_raw_fd(), how) } == 0 {
            return Ok(Held { _file: file });
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// `$TMPDIR/socklab-shared`: every user's socklab may make files there, none remove
/// another's (sticky, as /tmp). `None` if it cannot be made or is not such a folder.
fn shared_folder() -> Option<PathBuf> {
    let dir = std::env::temp_dir().join("socklab-shared");
    match std::fs::DirBuilder::new().create(&dir) {
        Ok(()) => {
            // The umask is no business of a folder meant for everyone.
            let everyone = std::fs::Permissions::from_mode(0o1777);
            std::fs::set_permissions(&dir, everyone).ok()?;
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(_) => return None,
    }
    let meta = std::fs::symlink_metadata(&dir).ok()?;
    (meta.is_dir() && meta.mode() & 0o1777 == 0o1777).then_some(dir)
}

/// Waits up to `patience` for the lock called `name` that every user's socklab shares, then
/// holds it. `None` when it cannot be had: the folder or the file is not usable, or the
/// lock was held all that time (by a run of another user, or by anyone who opened it).
pub fn wait_for_shared(name: &str, patience: Duration) -> Option<Held> {
    let path = shared_folder()?.join(name);
    // Read-only is enough for flock; no-follow and non-blocking, since anyone may have put
    // something else under that name.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .create(true)
        .append(true)
        .mode(0o644)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(&path)
        .or_else(|_| {
            std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_NONBLOCK)
                .open(&path)
        })
        .ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let deadline = Instant::now() + patience;
    let mut pause = Duration::from_millis(1);
    loop {
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Some(Held { _file: file });
        }
        let now = Instant::now();
        if now >= deadline
            || io::Error::last_os_error().raw_os_error() != Some(libc::EWOULDBLOCK)
            || held_by_a_sandbox_user(&file)
        {
            return None;
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Whether a program socklab runs as a sandbox user holds the lock on `file`: not a run to
/// wait for but a program trying to delay the others (found in /proc/locks).
fn held_by_a_sandbox_user(file: &File) -> bool {
    let Ok(ino) = file.metadata().map(|m| m.ino()) else {
        return false;
    };
    let sandbox = super::users::FIRST_UID..super::users::FIRST_UID + super::users::SLOTS;
    let locks = std::fs::read_to_string("/proc/locks").unwrap_or_default();
    locks
        .lines()
        .filter_map(|line| {
            // `1: FLOCK  ADVISORY  WRITE 1234 00:2e:5678 0 EOF`; waiters' lines have `->`.
            let fields: Vec<&str> = line.split_whitespace().collect();
            (fields.get(1) == Some(&"FLOCK")).then_some(())?;
            let lock_ino: u64 = fields.get(5)?.rsplit(':').next()?.parse().ok()?;
            (lock_ino == ino).then(|| fields.get(4)?.parse::<u32>().ok())?
        })
        .any(|pid| {
            std::fs::metadata(format!("/proc/{pid}")).is_ok_and(|m| sandbox.contains(&m.uid()))
        })
}

/// Holds the lock called `name` if no one else does.
pub fn try_take(name: &str) -> io::Result<Option<Held>> {
    match lock(open(name)?, libc::LOCK_EX | libc::LOCK_NB) {
        Ok(held) => Ok(Some(held)),
        Err(e) if e.raw_os_error() == Some(libc::EWOULDBLOCK) => Ok(None),
        Err(e) => Err(e),
    }
}

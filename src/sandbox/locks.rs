//! Locks that every socklab process of one user shares: files in a private folder of the
//! temporary directory, held with `flock` for as long as a run needs what they stand for
//! (a sandbox user, a fixed port). The kernel drops a lock when its holder dies, so a
//! killed socklab leaves nothing locked.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::PathBuf;

/// A held lock; dropping it releases it.
#[derive(Debug)]
pub struct Held {
    _file: File,
}

/// `$TMPDIR/socklab-EUID`, made private to this user (mode 0700). A folder of that name
/// that someone else owns, or others may write to, is refused: its locks could be held by
/// anyone.
fn folder() -> io::Result<PathBuf> {
    let euid = nix::unistd::geteuid().as_raw();
    let dir = std::env::temp_dir().join(format!("socklab-{euid}"));
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let meta = std::fs::symlink_metadata(&dir)?;
    if !meta.is_dir() || meta.uid() != euid || meta.mode() & 0o022 != 0 {
        return Err(io::Error::other(format!(
            "{} is not a private folder of this user (remove it)",
            dir.display()
        )));
    }
    Ok(dir)
}

fn open(name: &str) -> io::Result<File> {
    let path = folder()?.join(name);
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(&path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

/// Waits for the lock called `name` (as long as another run holds it), then holds it.
pub fn wait_for(name: &str) -> io::Result<Held> {
    let file = open(name)?;
    loop {
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
            return Ok(Held { _file: file });
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Holds the lock called `name` if no one else does.
pub fn try_take(name: &str) -> io::Result<Option<Held>> {
    let file = open(name)?;
    // SAFETY: flock on a descriptor we own.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        return Ok(Some(Held { _file: file }));
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(None)
    } else {
        Err(e)
    }
}

//! `--hide` where no mount can cover a path (the uid level): the path is made unreachable to
//! the program's user by taking the permissions of "other users" away (`chmod o-rwx`; the
//! sandbox user is neither its owner nor in its group), and they are given back when no run
//! needs it hidden any more: when the last run that hid it ends, when socklab is stopped by
//! a signal ([`give_back_all`]), or, if socklab was killed outright, by the next socklab
//! run at the uid level ([`tidy`]).
//!
//! The runs of a class, and socklabs running at once, hide the same paths. Each socklab
//! holds a shared lock on a path's lock file while any of its runs needs the path hidden;
//! the first to hide it writes down its mode, and whoever can then take the lock alone
//! (nobody else holds it) gives the permissions back. All of it happens under one lock, so
//! that no run hides a path while another gives it back.

use std::collections::HashMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};

use super::account::{self, Access};
use super::locks;

/// Held while hiding or giving back, by every socklab of this user.
const EVERY_PATH: &str = "hide.lock";

/// What this process holds hidden: per path, its runs that need it so, and the shared lock
/// that tells other socklabs.
static HELD: Mutex<Option<HashMap<PathBuf, Holding>>> = Mutex::new(None);

struct Holding {
    runs: usize,
    _shared: locks::Held,
}

/// A path hidden for one run; dropped when the run is over.
#[derive(Debug)]
pub struct Hidden {
    path: PathBuf,
}

/// The lock file and the record of a path's mode, named by a hash of the path.
fn names(path: &Path) -> (String, String) {
    // FNV-1a: the same name in every socklab, whatever its version.
    let hash = path
        .as_os_str()
        .as_encoded_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        });
    (format!("hide-{hash:016x}.lock"), format!("hide-{hash:016x}.mode"))
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::io(format!("hiding {}", path.display()))(e)
}

/// Makes `path` unreachable to `uid`:`gid` for one run. Returns the hold (none if the path
/// does not exist or was never reachable) and, when this call changed the path's mode, a
/// notice saying so; an error if the path stays reachable (an ACL, say).
pub fn hide(uid: u32, gid: u32, path: &Path) -> Result<(Option<Hidden>, Option<String>)> {
    let _all = locks::wait_for(EVERY_PATH).map_err(io_error(path))?;
    let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
    let held = held.get_or_insert_with(HashMap::new);
    if let Some(holding) = held.get_mut(path) {
        holding.runs += 1;
        let hidden = Hidden {
            path: path.to_path_buf(),
        };
        return Ok((Some(hidden), take_away(uid, gid, path)?));
    }
    let (lock, record) = names(path);
    let record = locks::folder().map_err(io_error(path))?.join(record);
    // Another socklab hides it already (and wrote its mode down), or nobody does.
    if !record.exists() {
        if !path.exists() || !reachable(uid, gid, path)? {
            return Ok((None, None));
        }
        let mode = std::fs::metadata(path).map_err(io_error(path))?.mode() & 0o7777;
        std::fs::write(&record, format!("{mode:o}\n{}\n", path.display()))
            .map_err(io_error(path))?;
    }
    let shared = locks::share(&lock).map_err(io_error(path))?;
    held.insert(
        path.to_path_buf(),
        Holding {
            runs: 1,
            _shared: shared,
        },
    );
    let hidden = Hidden {
        path: path.to_path_buf(),
    };
    Ok((Some(hidden), take_away(uid, gid, path)?))
}

impl Drop for Hidden {
    fn drop(&mut self) {
        let Ok(_all) = locks::wait_for(EVERY_PATH) else {
            return;
        };
        let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
        let Some(holding) = held.as_mut().and_then(|h| h.get_mut(&self.path)) else {
            return;
        };
        holding.runs -= 1;
        if holding.runs == 0 {
            held.as_mut().map(|h| h.remove(&self.path));
            give_back(&self.path);
        }
    }
}

/// Gives back everything this process hides, whatever its runs are doing: for a socklab
/// about to exit on a signal (its programs are killed first).
pub fn give_back_all() {
    let Ok(_all) = locks::wait_for(EVERY_PATH) else {
        return;
    };
    let held = HELD.lock().unwrap_or_else(|e| e.into_inner()).take();
    for path in held.into_iter().flat_map(HashMap::into_keys) {
        give_back(&path);
    }
}

/// Gives back what socklabs that were killed left hidden: the paths whose records nobody
/// holds any more.
pub fn tidy() {
    if let Ok(_all) = locks::wait_for(EVERY_PATH) {
        give_back_abandoned();
    }
}

fn give_back_abandoned() {
    let Ok(entries) = locks::folder().and_then(std::fs::read_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name.to_str().is_some_and(|n| n.starts_with("hide-") && n.ends_with(".mode"))
            && let Some(path) = std::fs::read_to_string(entry.path())
                .ok()
                .and_then(|text| text.lines().nth(1).map(PathBuf::from))
        {
            give_back(&path);
        }
    }
}

/// Gives `path` its "other users" permissions back if nobody holds it hidden, as its
/// record says they were; the record and lock go. Called under [`EVERY_PATH`].
fn give_back(path: &Path) {
    let (lock, record) = names(path);
    let Ok(Some(_alone)) = locks::try_take(&lock) else {
        return;
    };
    let Ok(folder) = locks::folder() else {
        return;
    };
    let record = folder.join(record);
    let before = std::fs::read_to_string(&record)
        .ok()
        .and_then(|text| u32::from_str_radix(text.lines().next()?, 8).ok());
    if let (Some(before), Ok(meta)) = (before, std::fs::symlink_metadata(path)) {
        let now = meta.mode() & 0o7777;
        // Someone who changed the mode since (the path's owner) is not overruled.
        if now & 0o007 == 0 {
            let _ = std::fs::set_permissions(
                path,
                std::fs::Permissions::from_mode(now | (before & 0o007)),
            );
        }
    }
    let _ = std::fs::remove_file(&record);
    let _ = std::fs::remove_file(folder.join(lock));
}

/// Takes "other users" permissions away from `path` if `uid` can still reach it; the
/// notice says what changed.
fn take_away(uid: u32, gid: u32, path: &Path) -> Result<Option<String>> {
    if !path.exists() || !reachable(uid, gid, path)? {
        return Ok(None);
    }
    let before = std::fs::metadata(path).map_err(io_error(path))?.mode() & 0o7777;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(before & !0o007))
        .map_err(io_error(path))?;
    if reachable(uid, gid, path)? {
        return Err(Error::Usage(format!(
            "cannot hide {} from the program's user (uid {uid}): it stays readable after chmod o-rwx",
            path.display()
        )));
    }
    Ok(Some(format!(
        "{} made unreadable to other users (mode {before:04o} → {:04o}) while the program runs, since it runs as another user",
        path.display(),
        before & !0o007
    )))
}

/// Whether `uid` may read `path` or, for a folder, enter it (a folder others may enter but
/// not list still gives away every file whose name is known).
fn reachable(uid: u32, gid: u32, path: &Path) -> Result<bool> {
    let ways = [
        (path.to_path_buf(), Access::Read),
        (path.to_path_buf(), Access::Enter),
    ];
    let ways = if path.is_dir() { &ways[..] } else { &ways[..1] };
    for way in ways {
        if account::first_unreachable(uid, gid, std::slice::from_ref(way))?.is_none() {
            return Ok(true);
        }
    }
    Ok(false)
}

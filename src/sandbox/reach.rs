//! What a program needs to reach (its executable or C source, the files and folders its
//! arguments name), and making sure the user it runs as can, so that a program it cannot
//! reach is socklab's clear error (exit 2), not the student's failed grade. In namespaces
//! the way to each is opened in the program's view ([`open_ways`]); on the host the sandbox
//! user's own permissions must allow it ([`check`]).

use std::path::{Path, PathBuf};

use crate::confine::Confinement;
use crate::confine::view::permits;
use crate::error::{Error, Result};
use crate::program::Program;

use super::account::{self, Access};

/// What `program` needs to reach, and how: paths all absolute (see [`Program::absolute`]).
fn needs(program: &Program) -> Vec<(PathBuf, Access)> {
    let mut needed = Vec::new();
    match &program.source {
        // The compiler works in the source's folder.
        Some(source) => {
            needed.push((source.file.clone(), Access::Read));
            if let Some(folder) = source.file.parent() {
                needed.push((folder.to_path_buf(), Access::Enter));
            }
        }
        None => needed.push((program.path.clone(), Access::Run)),
    }
    for arg in program.argv.iter().skip(1) {
        let path = Path::new(arg);
        if !path.is_absolute() || !path.exists() {
            continue;
        }
        let access = if path.is_dir() {
            Access::Enter
        } else {
            Access::Read
        };
        needed.push((path.to_path_buf(), access));
    }
    needed
}

/// The permission bit `access` needs (4 read, 1 run or enter).
fn bit(access: Access) -> u32 {
    match access {
        Access::Read => 4,
        Access::Run | Access::Enter => 1,
    }
}

/// Why `path` itself is closed to a user who is neither its owner nor in its group.
fn closed_to_others(path: &Path, access: Access) -> String {
    use std::os::unix::fs::PermissionsExt;
    let what = match access {
        Access::Read => "readable",
        Access::Run => "runnable",
        Access::Enter => "open",
    };
    let mode = std::fs::metadata(path).map_or(0, |m| m.permissions().mode() & 0o7777);
    format!("{} is not {what} by other users (mode {mode:04o})", path.display())
}

/// Opens, in the view `confinement` gives the program in namespaces, the way to everything
/// it needs (under the run's private /tmp, or under folders closed to `user`), leaving out
/// what is hidden on purpose; then `user`, the program's own user if it is not socklab's,
/// must be allowed by each one's own permissions.
pub fn open_ways(
    confinement: &mut Confinement,
    program: &Program,
    user: Option<(u32, u32)>,
) -> Result<()> {
    let given = confinement.clone();
    for (path, access) in needs(program) {
        if given.hides(&path) {
            continue;
        }
        // The way to it as named, and to where its links lead.
        let real = std::fs::canonicalize(&path).unwrap_or(path.clone());
        for way in [&path, &real] {
            let folder = if way.is_dir() {
                way.as_path()
            } else {
                way.parent().unwrap_or(Path::new("/"))
            };
            confinement.open_way(folder, user);
        }
        if let Some((uid, gid)) = user
            && !permits(&real, uid, gid, bit(access))
        {
            return Err(Error::SandboxCannotReach {
                uid,
                why: closed_to_others(&real, access),
                path,
            });
        }
    }
    Ok(())
}

/// Checks that the sandbox user `uid`:`gid` may run the program and reach what it names on
/// the host (those not hidden from it on purpose: `hidden`).
pub fn check(uid: u32, gid: u32, program: &Program, hidden: &[PathBuf]) -> Result<()> {
    let needed: Vec<(PathBuf, Access)> = needs(program)
        .into_iter()
        .filter(|(path, _)| !hidden.iter().any(|h| path.starts_with(h)))
        .collect();
    if let Some((path, access)) = account::first_unreachable(uid, gid, &needed)? {
        return Err(Error::SandboxCannotReach {
            uid,
            path: path.clone(),
            why: account::why_unreachable(uid, gid, path, *access),
        });
    }
    Ok(())
}

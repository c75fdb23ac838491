//! The program's view of the filesystem as a list of rules, each saying what one path
//! becomes: shown as the host has it, hidden, a private folder of the run's own, or the
//! run's few devices. A path is what the deepest rule above it (or on it) says; at equal
//! depth a cover wins over a show. The host side builds the rules (what to hide, and the
//! way to what the program needs); init applies them, shallowest first, in its own mount
//! namespace.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

use super::devices::Devices;
use super::{Confinement, mounts};

/// What a path becomes in the program's view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cover {
    /// The host's own, bound back where a cover above hid it (read-only, as everything).
    Shown,
    /// The host's own, bound back writable: the run's work folder.
    Writable,
    /// Empty: a folder becomes an empty one, a file an empty file.
    Hidden,
    /// An empty folder the run may write to, gone with the run.
    Private,
    /// The few devices a program needs (see [`super::devices`]).
    Devices,
}

impl Cover {
    /// Whether the host's own is gone from under it.
    fn covers(self) -> bool {
        self >= Cover::Hidden
    }
}

/// Rules every run in namespaces has: its own temporary folders and devices, and no /run
/// (where host daemons keep their sockets).
const STANDARD: &[(&str, Cover)] = &[
    ("/tmp", Cover::Private),
    ("/var/tmp", Cover::Private),
    ("/dev", Cover::Devices),
    ("/dev/shm", Cover::Private),
    ("/run", Cover::Hidden),
];

/// How large each private folder may grow (its pages count against the run's memory too).
const PRIVATE_SIZE: &str = "64m";
/// How many entries of a folder closed to the program's user are bound back one by one.
const MOST_ENTRIES: usize = 1024;

/// The rules of one view.
#[derive(Debug, Clone, Default)]
pub struct View {
    rules: Vec<(PathBuf, Cover)>,
}

fn depth(path: &Path) -> usize {
    path.components().count()
}

impl View {
    /// The view `confinement` asks for: its rules over the standard ones.
    pub fn of(confinement: &Confinement) -> View {
        let mut rules: Vec<(PathBuf, Cover)> = STANDARD
            .iter()
            .map(|(path, cover)| (PathBuf::from(path), *cover))
            .collect();
        rules.extend(confinement.hide.iter().map(|p| (p.clone(), Cover::Hidden)));
        rules.extend(confinement.show.iter().map(|p| (p.clone(), Cover::Shown)));
        rules.extend(
            confinement
                .writable
                .iter()
                .map(|p| (p.clone(), Cover::Writable)),
        );
        View { rules }
    }

    /// The rule that decides `path`: the deepest on or above it, a cover first at equal
    /// depth.
    fn deciding(&self, path: &Path) -> Option<Cover> {
        self.rules
            .iter()
            .filter(|(p, _)| path.starts_with(p))
            .max_by_key(|(p, cover)| (depth(p), *cover))
            .map(|(_, cover)| *cover)
    }

    /// Whether the host's own `path` is gone from the view (something covers it).
    pub fn covers(&self, path: &Path) -> bool {
        self.deciding(path).is_some_and(Cover::covers)
    }

    /// The rules in the order they are applied: shallowest first, a show before a cover
    /// at equal depth (so that the cover wins).
    fn in_order(&self) -> Vec<(PathBuf, Cover)> {
        let mut rules = self.rules.clone();
        rules.sort_by_key(|(p, cover)| (depth(p), *cover));
        rules.dedup();
        rules
    }
}

/// Whether `uid`:`gid` (no supplementary groups) may pass through the folder `dir` on the
/// host, by its mode bits. A path that is not there is no obstacle of the view's.
pub fn enterable(dir: &Path, uid: u32, gid: u32) -> bool {
    permits(dir, uid, gid, 0o1)
}

/// Whether the mode bits of `path` give `uid`:`gid` the permission `bit` (4 read, 2 write,
/// 1 run or enter), as its owner, its group or another user.
pub fn permits(path: &Path, uid: u32, gid: u32, bit: u32) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return true;
    };
    let shift = if meta.uid() == uid {
        6
    } else if meta.gid() == gid {
        3
    } else {
        0
    };
    meta.mode() >> shift & bit != 0
}

impl Confinement {
    /// Whether `path` is hidden on purpose: the deepest of the given hides and shows above
    /// it is a hide.
    pub fn hides(&self, path: &Path) -> bool {
        let given = View {
            rules: self
                .hide
                .iter()
                .map(|p| (p.clone(), Cover::Hidden))
                .chain(self.show.iter().map(|p| (p.clone(), Cover::Shown)))
                .collect(),
        };
        given.covers(path)
    }

    /// Opens the way to the folder `folder` in the program's view, for `user` (the program's
    /// own user, when it is not socklab's): each folder on the way that a cover hides, or
    /// that `user` may not pass through on the host, is covered and the next one on the way
    /// shown, so that exactly the way opens; `folder` itself, if closed to `user`, is
    /// covered and what is in it shown, each entry with its own permissions.
    pub fn open_way(&mut self, folder: &Path, user: Option<(u32, u32)>) {
        let closed = |dir: &Path| user.is_some_and(|(uid, gid)| !enterable(dir, uid, gid));
        let mut here = PathBuf::from("/");
        for part in folder.components().filter(|c| matches!(c, Component::Normal(_))) {
            let next = here.join(part);
            if closed(&here) && !View::of(self).covers(&here) {
                self.hide.push(here.clone());
            }
            if View::of(self).covers(&here) {
                self.show.push(next.clone());
            }
            here = next;
        }
        if closed(&here) && here.is_dir() {
            self.hide.push(here.clone());
            let entries = std::fs::read_dir(&here).into_iter().flatten().flatten();
            self.show
                .extend(entries.take(MOST_ENTRIES).map(|entry| entry.path()));
        }
    }
}

/// What a shown path is bound from: opened before anything covers it.
enum Source {
    Opened(File),
    /// A symbolic link is made again, never followed: it resolves in the view.
    Link(PathBuf),
}

impl Source {
    fn of(path: &Path) -> Option<Source> {
        let meta = std::fs::symlink_metadata(path).ok()?;
        if meta.file_type().is_symlink() {
            return std::fs::read_link(path).ok().map(Source::Link);
        }
        // The run's devices are its /dev's alone.
        let kind = meta.file_type();
        if kind.is_block_device() || kind.is_char_device() {
            return None;
        }
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)
            .ok()
            .map(Source::Opened)
    }

    /// Makes it appear at `target`, creating what it is mounted on.
    fn place(&self, target: &Path) -> io::Result<()> {
        if let Some(parent) = target.parent() {
            make_folder(parent)?;
        }
        match self {
            Source::Link(to) => match std::os::unix::fs::symlink(to, target) {
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
                made => made,
            },
            Source::Opened(file) => {
                if file.metadata()?.is_dir() {
                    make_folder(target)?;
                } else if std::fs::symlink_metadata(target).is_err() {
                    File::create(target)?;
                }
                mounts::bind(file.as_fd(), target)
            }
        }
    }
}

/// A folder and those above it, as every user may pass through (mode 0755).
fn make_folder(path: &Path) -> io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(path)
}

/// Applies `view` in the calling process's own mount namespace; returns the mount points
/// to make writable again once everything else is read-only.
pub fn apply(view: &View) -> io::Result<Vec<PathBuf>> {
    let rules = view.in_order();
    let sources: HashMap<&Path, Source> = rules
        .iter()
        .filter(|(_, cover)| matches!(cover, Cover::Shown | Cover::Writable))
        .filter_map(|(path, _)| Some((path.as_path(), Source::of(path)?)))
        .collect();
    let on_host: Vec<&Path> = rules
        .iter()
        .filter(|(path, _)| path.is_dir())
        .map(|(path, _)| path.as_path())
        .collect();
    let devices = Devices::open()?;
    let mut applied = View::default();
    let mut writable = Vec::new();
    for (path, cover) in &rules {
        match cover {
            Cover::Shown | Cover::Writable => {
                let covered = applied.covers(path);
                if let Some(source) = sources.get(path.as_path())
                    && (covered || *cover == Cover::Writable)
                {
                    source.place(path)?;
                    if *cover == Cover::Writable {
                        writable.push(path.clone());
                    }
                }
            }
            Cover::Hidden => match std::fs::symlink_metadata(path) {
                Ok(meta) if meta.is_dir() => mounts::tmpfs(path, "size=1m,mode=755")?,
                Ok(_) => mounts::bind(devices.null(), path)?,
                Err(_) => {}
            },
            Cover::Private if on_host.contains(&path.as_path()) => {
                make_folder(path)?;
                mounts::tmpfs(path, &format!("size={PRIVATE_SIZE},mode=1777"))?;
                writable.push(path.clone());
            }
            Cover::Private => {}
            Cover::Devices => devices.populate(path)?,
        }
        applied.rules.push((path.clone(), *cover));
    }
    Ok(writable)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn confinement(hide: &[&str], show: &[&str]) -> Confinement {
        Confinement {
            hide: hide.iter().map(PathBuf::from).collect(),
            show: show.iter().map(PathBuf::from).collect(),
            writable: Vec::new(),
        }
    }

    /// The deepest rule decides; at equal depth a hide wins over a show.
    #[test]
    fn the_deepest_rule_decides() {
        let c = confinement(&["/class", "/class/bob/notes"], &["/class/bob", "/class"]);
        let view = View::of(&c);
        assert!(view.covers(Path::new("/class/ann/serv.py")));
        assert!(!view.covers(Path::new("/class/bob/serv.py")));
        assert!(view.covers(Path::new("/class/bob/notes/a")));
        assert!(view.covers(Path::new("/tmp/x")));
        assert!(!view.covers(Path::new("/usr/bin")));
        assert!(c.hides(Path::new("/class/ann")));
        assert!(!c.hides(Path::new("/tmp/x")), "private, not hidden on purpose");
    }

    /// The way to a folder under a private /tmp is shown one folder at a time.
    #[test]
    fn the_way_through_a_cover_is_shown() {
        let mut c = confinement(&[], &[]);
        c.open_way(Path::new("/tmp/run/a/b"), None);
        assert_eq!(c.show, [PathBuf::from("/tmp/run")]);
        assert!(!View::of(&c).covers(Path::new("/tmp/run/a/b/file")));
    }
}

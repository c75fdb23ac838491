//! Control groups of a run's own (cgroup v2, or v1 as on hybrid systems): made, joined,
//! read for the count of hits, and removed.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Which cgroup version a group belongs to (their files differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Version {
    V1,
    V2,
}

#[derive(Debug)]
pub(super) struct Group {
    pub(super) dir: PathBuf,
    pub(super) version: Version,
}

/// Removes `groups` once the last of their processes is gone (they may take a moment to
/// exit after the kill; a group that stays busy is left behind, empty later).
pub(super) fn remove(groups: impl Iterator<Item = Group>) {
    let deadline = Instant::now() + Duration::from_secs(2);
    for group in groups {
        let mut pause = Duration::from_millis(1);
        while fs::remove_dir(&group.dir).is_err() && group.dir.exists() && Instant::now() < deadline
        {
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }
}

impl Group {
    pub(super) fn write(&self, file: &str, value: &str) -> bool {
        write_to(&self.dir.join(file), value)
    }

    /// The number after `key` in a flat-keyed file (`max 3`), or the file's only number
    /// when `key` is empty.
    pub(super) fn counter(&self, file: &str, key: &str) -> Option<u64> {
        let text = fs::read_to_string(self.dir.join(file)).ok()?;
        if key.is_empty() {
            return text.trim().parse().ok();
        }
        text.lines().find_map(|l| {
            let (k, v) = l.split_once(' ')?;
            (k == key).then(|| v.trim().parse().ok())?
        })
    }
}

/// Where the cgroup hierarchies are mounted.
pub(super) struct Mounts {
    /// The v2 hierarchy, if it has controllers to give.
    v2: Option<PathBuf>,
    /// v1 hierarchies by controller.
    v1: Vec<(String, PathBuf)>,
}

impl Mounts {
    pub(super) fn read() -> Mounts {
        let mut mounts = Mounts {
            v2: None,
            v1: Vec::new(),
        };
        let Ok(table) = fs::read_to_string("/proc/self/mounts") else {
            return mounts;
        };
        for line in table.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [_, dir, kind, options, ..] = fields[..] else {
                continue;
            };
            match kind {
                "cgroup2" => mounts.v2 = Some(PathBuf::from(dir)),
                "cgroup" => {
                    for option in options.split(',') {
                        mounts.v1.push((option.to_string(), PathBuf::from(dir)));
                    }
                }
                _ => {}
            }
        }
        mounts
    }

    /// A new group called `name` under `socklab/` with `controller` in it, if one can be
    /// made: in the v2 hierarchy when it offers the controller, else in the controller's
    /// v1 hierarchy.
    pub(super) fn group(&self, controller: &str, name: &str) -> Option<Group> {
        if let Some(root) = &self.v2
            && fs::read_to_string(root.join("cgroup.controllers"))
                .is_ok_and(|c| c.split_whitespace().any(|c| c == controller))
        {
            let parent = root.join("socklab");
            let enable = format!("+{controller}");
            let made = make_dir(&parent)
                && write_to(&root.join("cgroup.subtree_control"), &enable)
                && write_to(&parent.join("cgroup.subtree_control"), &enable);
            let dir = parent.join(name);
            if made && (make_dir(&dir)) {
                return Some(Group {
                    dir,
                    version: Version::V2,
                });
            }
        }
        let (_, root) = self.v1.iter().find(|(c, _)| c == controller)?;
        let dir = root.join("socklab").join(name);
        fs::create_dir_all(&dir).ok()?;
        Some(Group {
            dir,
            version: Version::V1,
        })
    }
}

fn make_dir(dir: &Path) -> bool {
    fs::create_dir(dir).is_ok() || dir.is_dir()
}

/// Writes `value` to a control file (one write, as the kernel wants it).
fn write_to(file: &Path, value: &str) -> bool {
    fs::OpenOptions::new()
        .write(true)
        .open(file)
        .and_then(|mut f| f.write_all(value.as_bytes()))
        .is_ok()
}

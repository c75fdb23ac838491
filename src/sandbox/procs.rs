//! Finding a run's processes in /proc.

use std::os::unix::fs::MetadataExt;

/// Every process below `root` (not `root` itself), found through /proc's children lists.
/// Where `root` is a subreaper, orphans of its descendants become its children, so the
/// whole tree is found however deep or detached (setsid) it is.
pub fn descendants(root: i32) -> Vec<i32> {
    let mut found = Vec::new();
    let mut queue = vec![root];
    while let Some(pid) = queue.pop() {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let Ok(children) = std::fs::read_to_string(task.path().join("children")) else {
                continue;
            };
            for child in children.split_whitespace().filter_map(|c| c.parse().ok()) {
                found.push(child);
                queue.push(child);
            }
        }
    }
    found
}

/// The processes of user `uid`: owned by it (their /proc entry's owner, the effective uid)
/// with it as their real uid too. The guard over a program has the program's effective uid
/// but a real uid of its own (see `sandbox::guard`): it is not one of the program's.
pub fn of_user(uid: u32) -> Vec<i32> {
    matching(|e| e.metadata().is_ok_and(|m| m.uid() == uid) && real_uid(&e.path()) == Some(uid))
}

/// The real uid of the process whose /proc entry is `proc`, from its `status`.
fn real_uid(proc: &std::path::Path) -> Option<u32> {
    let status = std::fs::read_to_string(proc.join("status")).ok()?;
    let ids = status.lines().find_map(|l| l.strip_prefix("Uid:"))?;
    ids.split_whitespace().next()?.parse().ok()
}

/// Every process this /proc shows (in a PID namespace of its own, the namespace's).
pub fn all() -> Vec<i32> {
    matching(|_| true)
}

fn matching(keep: impl Fn(&std::fs::DirEntry) -> bool) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let pid: i32 = e.file_name().to_str()?.parse().ok()?;
            keep(&e).then_some(pid)
        })
        .collect()
}

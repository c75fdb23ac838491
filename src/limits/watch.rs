//! The memory limit for a run as a whole where no control group keeps it (socklab as root in
//! a container whose cgroups are read-only): the run's user, which nothing else runs as, is
//! measured every few milliseconds (all its processes' own memory, what its sockets hold in
//! the kernel, its System V shared memory, its files in /dev/shm) and every process of it
//! is killed as soon as the sum passes the limit. A resource limit alone (RLIMIT_AS) binds
//! each process apart, and not the kernel's socket buffers at all.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::sandbox::{procs, users};

use super::sockets;

/// How often the user is measured: a program cannot take much more than this many
/// milliseconds of allocation past the limit.
const EVERY: Duration = Duration::from_millis(20);

/// A user's memory, watched until dropped.
#[derive(Debug)]
pub struct MemoryWatch {
    exceeded: Arc<AtomicBool>,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl MemoryWatch {
    /// Watches `uid`, killing all its processes once they use more than `limit` bytes.
    pub fn start(uid: u32, limit: u64) -> MemoryWatch {
        let exceeded = Arc::new(AtomicBool::new(false));
        let (stop, stopped) = mpsc::channel::<()>();
        let flag = exceeded.clone();
        let thread = std::thread::Builder::new()
            .name(format!("memory-{uid}"))
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
                    if used_by(uid) > limit {
                        flag.store(true, Ordering::SeqCst);
                        let _ = users::kill_all(uid);
                        return;
                    }
                }
            })
            .ok();
        MemoryWatch {
            exceeded,
            stop: Some(stop),
            thread,
        }
    }

    /// Whether the user went past the limit (and was killed for it).
    pub fn exceeded(&self) -> bool {
        self.exceeded.load(Ordering::SeqCst)
    }
}

impl Drop for MemoryWatch {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Bytes `uid` holds: its processes' private memory, its sockets' queues, its System V
/// shared memory segments and its files in /dev/shm (which live in memory).
pub fn used_by(uid: u32) -> u64 {
    let processes: u64 = procs::of_user(uid)
        .into_iter()
        .filter_map(private_memory)
        .sum();
    processes
        + sockets::memory_of(uid).unwrap_or(0)
        + shared_memory_segments(uid)
        + files_in(Path::new("/dev/shm"), uid, 4)
}

/// A process's resident private memory (RssAnon in /proc/PID/status, which every user may
/// read).
fn private_memory(pid: i32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib << 10)
}

/// The resident size of the System V shared memory segments `uid` owns or made.
fn shared_memory_segments(uid: u32) -> u64 {
    // key shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime rss swap
    let Ok(table) = std::fs::read_to_string("/proc/sysvipc/shm") else {
        return 0;
    };
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let ours = [7, 9]
                .iter()
                .any(|&c| fields.get(c).and_then(|f| f.parse::<u32>().ok()) == Some(uid));
            ours.then(|| fields.get(14)?.parse::<u64>().ok())?
        })
        .sum()
}

/// The space `uid`'s files take in `dir` and below (`depth` folders down).
fn files_in(dir: &Path, uid: u32, depth: usize) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter_map(|e| Some((e.path(), std::fs::symlink_metadata(e.path()).ok()?)))
        .map(|(path, meta)| {
            let own = if meta.uid() == uid {
                meta.blocks() * 512
            } else {
                0
            };
            let below = if meta.is_dir() && depth > 0 {
                files_in(&path, uid, depth - 1)
            } else {
                0
            };
            own + below
        })
        .sum()
}

//! Limits on what one run's program may use: processes, memory, CPU time and file size, so
//! that a fork bomb or a memory hog fails its check, named, instead of taking the machine.
//!
//! Processes and memory are capped by a control group of the run's own where socklab may
//! make one (cgroup v2, or v1 as on hybrid systems); it also counts exactly when a cap was
//! hit. Where it may not (Docker mounts /sys/fs/cgroup read-only; an ordinary user owns no
//! cgroup), resource limits stand in: RLIMIT_AS for memory, and RLIMIT_NPROC for processes,
//! which binds only a program running as a user of its own (uid isolation) — for the root
//! of a namespace, or the student's own user, it would count the wrong processes. A user
//! of its own is also measured as a whole ([`watch`]), control group or not (a v1 group
//! leaves socket buffers out): its processes together, and its sockets' buffers in the
//! kernel, are held to the memory limit. CPU time and file size are
//! always resource limits (the kernel then ends the program with SIGXCPU or SIGXFSZ, which
//! says which limit it was).
//!
//! A control group counts when its cap was hit. A resource limit does not: then the
//! evidence is as many processes seen at once as the limit allows (counted now and then,
//! when a check fails, and by init at the end), or the program's own words for a refused
//! start (fork's "Resource temporarily unavailable" with the call, "can't start new
//! thread"), or, for memory, its words for a refused allocation (MemoryError, ENOMEM).

use std::fs;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::report::ProgramExit;

mod cgroup;
mod sockets;
pub mod watch;

use cgroup::{Group, Mounts, Version};
use watch::MemoryWatch;

/// What a run's program may use in all (every process it starts included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub processes: u32,
    /// Bytes.
    pub memory: u64,
    /// CPU time of each process.
    pub cpu: Duration,
    /// Bytes, per file written.
    pub file_size: u64,
}

impl Default for Limits {
    /// Sized for the lesson: its programs are one process (two with a thread) of a few
    /// MiB that use milliseconds of CPU and write no file.
    fn default() -> Self {
        Limits {
            processes: 64,
            memory: 512 << 20,
            cpu: Duration::from_secs(60),
            file_size: 64 << 20,
        }
    }
}

/// A resource limit for init to set on the program, as `--rlimit NAME=VALUE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rlimit {
    Processes(u64),
    AddressSpace(u64),
    CpuSeconds(u64),
    FileSize(u64),
}

impl Rlimit {
    pub fn to_arg(self) -> String {
        match self {
            Rlimit::Processes(n) => format!("nproc={n}"),
            Rlimit::AddressSpace(n) => format!("as={n}"),
            Rlimit::CpuSeconds(n) => format!("cpu={n}"),
            Rlimit::FileSize(n) => format!("fsize={n}"),
        }
    }

    pub fn parse(arg: &str) -> Option<Rlimit> {
        let (name, value) = arg.split_once('=')?;
        let value = value.parse().ok()?;
        Some(match name {
            "nproc" => Rlimit::Processes(value),
            "as" => Rlimit::AddressSpace(value),
            "cpu" => Rlimit::CpuSeconds(value),
            "fsize" => Rlimit::FileSize(value),
            _ => return None,
        })
    }

    /// Sets the limit on the calling process (between fork and exec: setrlimit is
    /// async-signal-safe). CPU time gets a second of grace past the soft limit, which
    /// sends SIGXCPU, before the hard one kills.
    pub fn apply(self) -> std::io::Result<()> {
        let (resource, soft, hard) = match self {
            Rlimit::Processes(n) => (libc::RLIMIT_NPROC, n, n),
            Rlimit::AddressSpace(n) => (libc::RLIMIT_AS, n, n),
            Rlimit::CpuSeconds(n) => (libc::RLIMIT_CPU, n, n + 1),
            Rlimit::FileSize(n) => (libc::RLIMIT_FSIZE, n, n),
        };
        let limit = libc::rlimit {
            rlim_cur: soft,
            rlim_max: hard,
        };
        // SAFETY: a valid rlimit struct.
        if unsafe { libc::setrlimit(resource, &limit) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }
}

/// How a limit is kept for one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enforced {
    /// By the run's control group, which also counts when it was hit.
    Cgroup,
    /// By a resource limit on the program's processes.
    Rlimit,
    /// Not at all (no control group, and no resource limit that would bind).
    Not,
}



/// The limits of one run, set up: the control groups made for it (removed on drop), the
/// files through which the program's init joins them, and what to watch for hits.
#[derive(Debug)]
pub struct RunLimits {
    pub limits: Limits,
    pub processes: Enforced,
    pub memory: Enforced,
    pids: Option<Group>,
    mem: Option<Group>,
    /// `cgroup.procs` of each group, open for writing: init's process writes "0" there
    /// before it starts, and so does everything it starts.
    join: Vec<OwnedFd>,
    /// The most processes seen at once, when only a resource limit counts them.
    peak_processes: usize,
    next_sample: Instant,
    /// The program's user measured as a whole, where no control group keeps its memory.
    watch: Option<MemoryWatch>,
}

/// How often processes are counted when no control group counts them.
const SAMPLE_EVERY: Duration = Duration::from_millis(50);

impl RunLimits {
    /// Sets `limits` up for a run. `own_user` is the user of its own the program runs as,
    /// if any (so RLIMIT_NPROC binds, and the user can be measured as a whole), `helpers`
    /// how many processes of init's own must still fit in the group once the program has
    /// used all of its share.
    pub fn set_up(limits: Limits, own_user: Option<u32>, helpers: u32) -> RunLimits {
        static SEQUENCE: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "run-{}-{}",
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        );
        let mounts = Mounts::read();
        let pids = mounts.group("pids", &name).filter(|g| {
            g.write(
                "pids.max",
                &(u64::from(limits.processes) + 1 + u64::from(helpers)).to_string(),
            )
        });
        let mem = mounts.group("memory", &name).filter(|g| match g.version {
            Version::V2 => {
                g.write("memory.max", &limits.memory.to_string())
                    && (!g.dir.join("memory.swap.max").exists() || g.write("memory.swap.max", "0"))
            }
            Version::V1 => {
                g.write("memory.limit_in_bytes", &limits.memory.to_string())
                    && (!g.dir.join("memory.memsw.limit_in_bytes").exists()
                        || g.write("memory.memsw.limit_in_bytes", &limits.memory.to_string()))
            }
        });
        let mut join = Vec::new();
        for group in [&pids, &mem].into_iter().flatten() {
            // v1 groups live in separate hierarchies, each joined on its own; a v2 group
            // is one, joined once.
            if (join.is_empty() || group.version == Version::V1)
                && let Ok(file) = fs::OpenOptions::new()
                    .write(true)
                    .open(group.dir.join("cgroup.procs"))
            {
                join.push(file.into());
            }
        }
        // A user of its own is capped by RLIMIT_NPROC, exactly at the limit; its group, if
        // any, leaves room above that for init's helpers.
        let processes = match (own_user, &pids) {
            (Some(_), _) => Enforced::Rlimit,
            (None, Some(_)) => Enforced::Cgroup,
            (None, None) => Enforced::Not,
        };
        let memory = if mem.is_some() {
            Enforced::Cgroup
        } else {
            Enforced::Rlimit
        };
        // Watched even with a control group: a v1 group leaves socket buffers out.
        let watch = own_user.map(|uid| MemoryWatch::start(uid, limits.memory));
        RunLimits {
            limits,
            processes,
            memory,
            pids,
            mem,
            join,
            peak_processes: 0,
            next_sample: Instant::now(),
            watch,
        }
    }

    /// Descriptors to write "0" to, between fork and exec, to join the run's groups.
    pub fn join_fds(&self) -> Vec<RawFd> {
        self.join.iter().map(AsRawFd::as_raw_fd).collect()
    }

    /// The resource limits init sets on the program.
    pub fn rlimits(&self) -> Vec<Rlimit> {
        let mut set = vec![
            Rlimit::CpuSeconds(self.limits.cpu.as_secs().max(1)),
            Rlimit::FileSize(self.limits.file_size),
        ];
        if self.processes == Enforced::Rlimit {
            set.push(Rlimit::Processes(u64::from(self.limits.processes)));
        }
        if self.memory == Enforced::Rlimit {
            set.push(Rlimit::AddressSpace(self.limits.memory));
        }
        set
    }

    /// What the report should say about these limits: only a limit that is not kept.
    pub fn notice(&self) -> Option<String> {
        (self.processes == Enforced::Not).then(|| {
            "the number of processes is not limited here (no control group could be made)"
                .to_string()
        })
    }

    /// Counts the program's processes now and then, where only a resource limit caps them
    /// (`count` is called at most every 50 ms).
    pub fn sample(&mut self, count: impl FnOnce() -> usize) {
        if self.processes != Enforced::Rlimit || Instant::now() < self.next_sample {
            return;
        }
        self.next_sample = Instant::now() + SAMPLE_EVERY;
        self.peak_processes = self.peak_processes.max(count());
    }

    /// Which limit the program ran into, if any, in the student's terms. `stderr`, `exit`
    /// and the processes it has `now` are the evidence where no control group counts.
    pub fn hit(&self, stderr: &[u8], exit: Option<ProgramExit>, now: usize) -> Option<String> {
        let peak_processes = self.peak_processes.max(now);
        let text = String::from_utf8_lossy(stderr);
        let says = |words: &[&str]| words.iter().any(|w| text.contains(w));
        let limits = &self.limits;
        let processes = match self.processes {
            Enforced::Cgroup => self
                .pids
                .as_ref()
                .and_then(|g| g.counter("pids.events", "max"))
                .is_some_and(|n| n > 0),
            // With no counter, the evidence: as many processes seen at once as the limit
            // allows, or a start refused (fork's EAGAIN, said with the call that failed).
            Enforced::Rlimit => {
                let refused = says(&["Resource temporarily unavailable", "BlockingIOError"])
                    && (says(&["fork", "spawn", "Popen", "clone"])
                        || peak_processes * 2 >= limits.processes as usize);
                peak_processes + 1 >= limits.processes as usize
                    || refused
                    || says(&["can't start new thread", "Cannot fork"])
            }
            Enforced::Not => false,
        };
        if processes {
            return Some(format!(
                "the program tried to start more than {} processes (process limit)",
                limits.processes
            ));
        }
        let watched = self.watch.as_ref().is_some_and(MemoryWatch::exceeded);
        let capped = match self.memory {
            Enforced::Cgroup => self.mem.as_ref().is_some_and(|g| {
                let (file, key) = match g.version {
                    Version::V2 => ("memory.events", "oom_kill"),
                    Version::V1 => ("memory.oom_control", "oom_kill"),
                };
                g.counter(file, key).is_some_and(|n| n > 0)
                    || (g.version == Version::V1
                        && g.counter("memory.failcnt", "").is_some_and(|n| n > 0)
                        && exit == Some(ProgramExit::Signaled(libc::SIGKILL)))
            }),
            // Only this limit refuses memory on a machine with gigabytes to spare.
            Enforced::Rlimit => says(&[
                "MemoryError",
                "Cannot allocate memory",
                "out of memory",
                "bad_alloc",
            ]),
            Enforced::Not => false,
        };
        if watched || capped {
            return Some(format!(
                "the program used more than {} MiB of memory (memory limit)",
                limits.memory >> 20
            ));
        }
        match exit {
            Some(ProgramExit::Signaled(libc::SIGXCPU)) => Some(format!(
                "the program used more than {} s of CPU time (CPU time limit)",
                limits.cpu.as_secs()
            )),
            Some(ProgramExit::Signaled(libc::SIGXFSZ)) => Some(format!(
                "the program wrote a file larger than {} MiB (file size limit)",
                limits.file_size >> 20
            )),
            _ => None,
        }
    }
}

impl Drop for RunLimits {
    /// Removes the run's groups once the last of its processes is gone (they may take a
    /// moment to exit after the kill; a group that stays busy is left behind, empty later).
    fn drop(&mut self) {
        self.join.clear();
        cgroup::remove([self.pids.take(), self.mem.take()].into_iter().flatten());
    }
}


//! Whether a program can still act on its own, read from the kernel: for every thread of
//! every process of the run, its state (`/proc/PID/task/TID/stat`), the system call it is
//! in and its arguments (`.../syscall`), and how often it has been switched out
//! (`.../status`). When every thread sleeps in a wait that only socklab can end — reading
//! the keyboard or a socket, accepting, select/poll/epoll or a futex with no timeout,
//! waiting for a child or a signal — nothing will happen until socklab acts: a step that
//! waits for the program has failed, now, rather than at its deadline.
//!
//! Exact rather than clever: anything else counts as "may still act" — a thread running or
//! runnable, in a timed wait (a sleep, select with a timeout, a socket with SO_RCVTIMEO), a
//! process holding a timer or catching a timer's signal, a system call this module does not
//! know, a /proc file it may not read. (Docker's root may not look into another user's
//! processes: there the program's init looks for it, see [`crate::init::look`].) And one
//! look is not enough: [`confirmed`] wants two, apart in time, that agree
//! with no thread switched in or out between them.
//!
//! System call numbers are x86_64's (the only architecture socklab is built for).

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a blocked thread waits on, in the student's terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Waiting {
    /// `read` on the terminal: `input()`, `sys.stdin.readline()`, `fgets(stdin)`.
    Keyboard,
    /// `recv`, `recvfrom`, `read` on a socket.
    Socket,
    /// `accept` on a listening socket.
    Accept,
    /// `select`, `poll` or `epoll` with no timeout.
    Select(Multiplexer),
    /// `read` on a pipe or another file that only its other end can fill.
    Pipe,
    /// A lock, a condition or a thread's join: waiting for another thread.
    OtherThread,
    /// `wait`/`waitpid`: waiting for a child process to end.
    Child,
    /// `pause`, `sigsuspend`, `sigwait`: waiting for a signal.
    Signal,
}

impl fmt::Display for Waiting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Waiting::Keyboard => f.write_str("blocked reading the keyboard with nothing typed"),
            Waiting::Socket => f.write_str("blocked in recv() on its socket"),
            Waiting::Accept => f.write_str("blocked in accept()"),
            Waiting::Select(call) => write!(f, "waiting in {call}() with nothing to read"),
            Waiting::Pipe => f.write_str("blocked reading a pipe"),
            Waiting::OtherThread => {
                f.write_str("waiting on a lock or another thread, and every thread is blocked")
            }
            Waiting::Child => f.write_str("waiting for a child process that is blocked itself"),
            Waiting::Signal => f.write_str("waiting for a signal"),
        }
    }
}

/// The call a program waits for several descriptors at once in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Multiplexer {
    Select,
    Poll,
    EpollWait,
}

impl fmt::Display for Multiplexer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Multiplexer::Select => "select",
            Multiplexer::Poll => "poll",
            Multiplexer::EpollWait => "epoll_wait",
        })
    }
}

impl Waiting {
    /// What would end the wait, as the end of a sentence ("can do nothing until ...").
    pub fn until(&self) -> &'static str {
        match self {
            Waiting::Keyboard => "until a line is typed",
            Waiting::Socket => "until something is sent to it",
            Waiting::Accept => "until someone connects",
            Waiting::Select(_) => "until something comes",
            Waiting::Pipe => "until something is written to it",
            Waiting::OtherThread => "until one of them moves",
            Waiting::Child => "until the child ends",
            Waiting::Signal => "until a signal comes",
        }
    }
}

/// One thread as one look saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Thread {
    tid: i32,
    /// The system call line, as the kernel wrote it.
    syscall: String,
    /// Voluntary and involuntary context switches so far.
    switches: (u64, u64),
}

/// One look at every thread of a run (plain data: init takes it where socklab may not,
/// and sends it over its status pipe).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Look {
    threads: Vec<Thread>,
    /// What the main thread of the first process waits on: the one the report names.
    waiting: Waiting,
}

impl Look {
    pub fn waiting(&self) -> &Waiting {
        &self.waiting
    }
}

/// Looks at every thread of `pids` once: `Some` when every one of them is blocked in a
/// wait only socklab can end, `None` when any may still act (or cannot be looked at).
pub fn look(pids: &[i32]) -> Option<Look> {
    if pids.is_empty() {
        return None;
    }
    let mut threads = Vec::new();
    let mut first = None;
    for &pid in pids {
        if holds_a_timer(pid) {
            return None;
        }
        let mut tids: Vec<i32> = std::fs::read_dir(format!("/proc/{pid}/task"))
            .ok()?
            .flatten()
            .filter_map(|t| t.file_name().to_str()?.parse().ok())
            .collect();
        tids.sort();
        for tid in tids {
            let dir = format!("/proc/{pid}/task/{tid}");
            match state(&dir)? {
                'S' => {}
                // A dead thread waits for nothing.
                'Z' | 'X' => continue,
                // Running, runnable, in the disk's wait, stopped, traced: not provably stuck.
                _ => return None,
            }
            let syscall = std::fs::read_to_string(format!("{dir}/syscall")).ok()?;
            let waiting = blocked_forever(pid, syscall.trim())?;
            first.get_or_insert(waiting);
            threads.push(Thread {
                tid,
                syscall: syscall.trim().to_string(),
                switches: switches(&dir)?,
            });
        }
    }
    Some(Look {
        threads,
        waiting: first?,
    })
}

/// Two looks, the second taken some time after the first, confirm that the run is stuck if
/// both saw every thread blocked forever, the same threads in the same calls, and no thread
/// was switched in or out in between (a wake-up, even one that went back to sleep, counts).
pub fn confirmed(first: &Look, second: &Look) -> bool {
    first == second
}

/// The one-letter state of a thread (`S` sleeping, `R` running, ...).
fn state(dir: &str) -> Option<char> {
    let stat = std::fs::read_to_string(format!("{dir}/stat")).ok()?;
    // The command name is in parentheses and may hold anything: the state follows the last.
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .next()?
        .chars()
        .next()
}

fn switches(dir: &str) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("{dir}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
    };
    Some((
        field("voluntary_ctxt_switches:")?,
        field("nonvoluntary_ctxt_switches:")?,
    ))
}

/// A process that may be woken by a timer: it holds a timerfd, has POSIX timers, or
/// catches the signal of an interval timer (an `alarm` it set would come by itself).
fn holds_a_timer(pid: i32) -> bool {
    let timer_signals = (1u64 << (libc::SIGALRM - 1))
        | (1u64 << (libc::SIGVTALRM - 1))
        | (1u64 << (libc::SIGPROF - 1));
    let catches = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("SigCgt:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        });
    if catches.is_none_or(|mask| mask & timer_signals != 0) {
        return true;
    }
    if std::fs::read_to_string(format!("/proc/{pid}/timers")).is_ok_and(|t| !t.trim().is_empty()) {
        return true;
    }
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return true;
    };
    fds.flatten().any(|fd| {
        std::fs::read_link(fd.path()).is_ok_and(|link| {
            let link = link.to_string_lossy();
            link.contains("timerfd") || link.contains("inotify") || link.contains("fanotify")
        })
    })
}

/// What an open file of `pid` is, for a read that blocks on it.
fn kind_of_fd(pid: i32, fd: u64) -> Option<Waiting> {
    let link = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok()?;
    let link = link.to_string_lossy();
    if link.starts_with("socket:") {
        Some(Waiting::Socket)
    } else if link.starts_with("/dev/pts/") || link == "/dev/tty" || link.starts_with("/dev/tty") {
        Some(Waiting::Keyboard)
    } else if link.starts_with("pipe:") || link.contains("eventfd") || link.contains("signalfd") {
        Some(Waiting::Pipe)
    } else {
        // A regular file does not block; anything else is not known well enough.
        None
    }
}

/// Set where it is known that the program gave no socket a receive timeout (see
/// [`crate::sandbox::guard::receive_timeouts`]): a socket that cannot be asked has none.
static NO_RECEIVE_TIMEOUTS: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Says whether the program is known to have set no receive timeout (for the looks that
/// follow, in this process).
pub fn know_no_receive_timeouts(known: bool) {
    NO_RECEIVE_TIMEOUTS.store(known, std::sync::atomic::Ordering::SeqCst);
}

/// Whether a socket of `pid` has a receive timeout (SO_RCVTIMEO), which would end a blocked
/// `recv` or `accept` by itself. Looked at through a duplicate of the descriptor
/// (`pidfd_getfd`); if that cannot be had, the socket is taken to have one, unless the
/// program is known to have set none.
fn socket_has_timeout(pid: i32, fd: u64) -> bool {
    let unknown = !NO_RECEIVE_TIMEOUTS.load(std::sync::atomic::Ordering::SeqCst);
    asked_timeout(pid, fd).unwrap_or(unknown)
}

/// The socket's own answer, if it can be asked.
fn asked_timeout(pid: i32, fd: u64) -> Option<bool> {
    use std::os::fd::{FromRawFd, OwnedFd};
    // SAFETY: plain system calls; every descriptor made is owned at once.
    unsafe {
        let pidfd = libc::syscall(libc::SYS_pidfd_open, pid, 0);
        if pidfd < 0 {
            return None;
        }
        let pidfd = OwnedFd::from_raw_fd(pidfd as i32);
        let sock = libc::syscall(
            libc::SYS_pidfd_getfd,
            std::os::fd::AsRawFd::as_raw_fd(&pidfd),
            fd as i32,
            0,
        );
        if sock < 0 {
            return None;
        }
        let sock = OwnedFd::from_raw_fd(sock as i32);
        let mut timeout: libc::timeval = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::timeval>() as libc::socklen_t;
        let got = libc::getsockopt(
            std::os::fd::AsRawFd::as_raw_fd(&sock),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&mut timeout as *mut libc::timeval).cast(),
            &mut len,
        );
        Some(got != 0 || timeout.tv_sec != 0 || timeout.tv_usec != 0)
    }
}

/// What a thread in `syscall` (the kernel's line: number, six arguments, stack and
/// instruction pointers) waits for, if only socklab can end that wait.
fn blocked_forever(pid: i32, syscall: &str) -> Option<Waiting> {
    let mut fields = syscall.split_whitespace();
    let number: i64 = fields.next()?.parse().ok()?;
    let args: Vec<u64> = fields
        .take(6)
        .map(|a| u64::from_str_radix(a.trim_start_matches("0x"), 16).ok())
        .collect::<Option<_>>()?;
    if args.len() < 6 {
        return None; // "running", or blocked outside a system call
    }
    // An int argument of -1, however the register's upper half looks.
    let forever = |arg: u64| (arg as u32 as i32) < 0;
    let on_socket = |fd: u64, then: Waiting| {
        (kind_of_fd(pid, fd) == Some(Waiting::Socket) && !socket_has_timeout(pid, fd))
            .then_some(then)
    };
    match number {
        // read, pread64, readv, preadv, preadv2
        0 | 17 | 19 | 295 | 327 => match kind_of_fd(pid, args[0])? {
            Waiting::Socket => on_socket(args[0], Waiting::Socket),
            other => Some(other),
        },
        // recvfrom, recvmsg
        45 | 47 => on_socket(args[0], Waiting::Socket),
        // recvmmsg: its own timeout in the fifth argument
        299 if args[4] == 0 => on_socket(args[0], Waiting::Socket),
        // accept, accept4
        43 | 288 => on_socket(args[0], Waiting::Accept),
        // select, pselect6: no timeout when the pointer is NULL
        23 | 270 if args[4] == 0 => Some(Waiting::Select(Multiplexer::Select)),
        // poll: a negative timeout; ppoll: a NULL one
        7 if forever(args[2]) => Some(Waiting::Select(Multiplexer::Poll)),
        271 if args[2] == 0 => Some(Waiting::Select(Multiplexer::Poll)),
        // epoll_wait, epoll_pwait: a negative timeout; epoll_pwait2: a NULL one
        232 | 281 if forever(args[3]) => Some(Waiting::Select(Multiplexer::EpollWait)),
        441 if args[3] == 0 => Some(Waiting::Select(Multiplexer::EpollWait)),
        // futex: WAIT, LOCK_PI, WAIT_BITSET, WAIT_REQUEUE_PI, LOCK_PI2 without a timeout
        // (flags such as FUTEX_PRIVATE_FLAG masked off)
        202 if matches!(args[1] & 0x7f, 0 | 6 | 9 | 11 | 13) && args[3] == 0 => {
            Some(Waiting::OtherThread)
        }
        // futex_waitv without a timeout
        449 if args[3] == 0 => Some(Waiting::OtherThread),
        // wait4, waitid: the child is one of the run's processes, looked at too
        61 | 247 => Some(Waiting::Child),
        // pause, rt_sigsuspend; rt_sigtimedwait without a timeout
        34 | 130 => Some(Waiting::Signal),
        128 if args[2] == 0 => Some(Waiting::Signal),
        _ => None,
    }
}

/// Whether the files a look needs can be read for `pid` here (they cannot for another
/// user's process without CAP_SYS_PTRACE, as in Docker).
pub fn can_look_at(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/syscall")).is_ok()
}

//! The probe that tells a program that can no longer act (every thread waiting for what
//! only socklab could give it) from one that may still act, on small real programs.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use socklab::stuck::{self, Multiplexer, Waiting};

/// A Python program started with its stdin a pipe we hold, once it has printed "ready".
struct Program {
    child: Child,
    _stdin: std::process::ChildStdin,
}

impl Program {
    fn start(code: &str) -> Program {
        let mut child = Command::new("python3")
            .args(["-c", code])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line, "ready\n");
        Program {
            child,
            _stdin: stdin,
        }
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Waits (5 s at most) until every thread of the program is in one of `calls`, and each
    /// of `calls` has a thread in it, so that what a look says is about the state the test
    /// means. A futex counts only without a timeout. (On its way to its `recv`, a Python
    /// thread passes through the interpreter lock: its timed wait, or its mutex's untimed
    /// one, while the main thread already waits in `join`.)
    fn settle_in(&self, calls: &[i64]) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let tasks: Vec<(i64, Option<String>)> =
                std::fs::read_dir(format!("/proc/{}/task", self.pid()))
                    .unwrap()
                    .flatten()
                    .filter_map(|t| {
                        let line = std::fs::read_to_string(t.path().join("syscall")).ok()?;
                        let mut fields = line.split_whitespace();
                        let call = fields.next()?.parse().ok()?;
                        Some((call, fields.nth(3).map(str::to_string)))
                    })
                    .collect();
            let settled = |(call, timeout): &(i64, Option<String>)| {
                calls.contains(call) && (*call != FUTEX || timeout.as_deref() == Some("0x0"))
            };
            let each_taken = calls.iter().all(|c| tasks.iter().any(|(t, _)| t == c));
            if each_taken && tasks.iter().all(settled) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "never settled in {calls:?}: {tasks:?}"
            );
            std::thread::yield_now();
        }
    }

    /// Two looks 50 ms apart, as the engine takes them.
    fn stuck(&self) -> Option<Waiting> {
        let first = stuck::look(&[self.pid()])?;
        let until = Instant::now() + Duration::from_millis(50);
        while Instant::now() < until {
            std::thread::yield_now();
        }
        let second = stuck::look(&[self.pid()])?;
        stuck::confirmed(&first, &second).then(|| second.waiting().clone())
    }

    /// Looks again and again, as the engine's waits do, until the program is stuck (5 s at
    /// most): on the way to blocking for good a program may pass through moments that can
    /// still act, such as a Python thread waiting on a timer for the interpreter's lock.
    fn becomes_stuck(&self) -> Option<Waiting> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let stuck = self.stuck();
            if stuck.is_some() || Instant::now() >= deadline {
                return stuck;
            }
        }
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const READ: i64 = 0;
const SELECT: i64 = 270;
const POLL: i64 = 7;
const RECVFROM: i64 = 45;
const FUTEX: i64 = 202;
const SLEEP: i64 = 230;

#[test]
fn blocked_reading_a_pipe_is_stuck() {
    let p = Program::start("import sys; print('ready', flush=True); sys.stdin.read()");
    p.settle_in(&[READ]);
    assert_eq!(p.stuck(), Some(Waiting::Pipe));
}

#[test]
fn asleep_on_a_timer_may_still_act() {
    let p = Program::start("import time; print('ready', flush=True); time.sleep(100)");
    p.settle_in(&[SLEEP]);
    assert_eq!(p.stuck(), None);
}

#[test]
fn select_without_a_timeout_is_stuck() {
    let p = Program::start(
        "import select, sys; print('ready', flush=True); select.select([sys.stdin], [], [])",
    );
    p.settle_in(&[SELECT]);
    assert_eq!(p.stuck(), Some(Waiting::Select(Multiplexer::Select)));
}

#[test]
fn select_with_a_timeout_may_still_act() {
    let p = Program::start(
        "import select, sys\nprint('ready', flush=True)\nwhile True: select.select([sys.stdin], [], [], 0.2)",
    );
    p.settle_in(&[SELECT]);
    assert_eq!(p.stuck(), None);
}

#[test]
fn poll_with_a_timeout_may_still_act() {
    let p = Program::start(
        "import select, sys\np = select.poll(); p.register(sys.stdin)\nprint('ready', flush=True)\nwhile True: p.poll(200)",
    );
    p.settle_in(&[POLL]);
    assert_eq!(p.stuck(), None);
}

#[test]
fn threads_all_blocked_are_stuck() {
    let p = Program::start(
        "import socket, threading\n\
         a, b = socket.socketpair()\n\
         t = threading.Thread(target=lambda: a.recv(10)); t.start()\n\
         print('ready', flush=True); t.join()",
    );
    p.settle_in(&[RECVFROM, FUTEX]);
    assert!(p.becomes_stuck().is_some());
}

#[test]
fn one_thread_on_a_timer_may_still_act() {
    let p = Program::start(
        "import socket, threading, time\n\
         a, b = socket.socketpair()\n\
         threading.Thread(target=lambda: time.sleep(100), daemon=True).start()\n\
         print('ready', flush=True); a.recv(10)",
    );
    p.settle_in(&[RECVFROM, SLEEP]);
    assert_eq!(p.stuck(), None);
}

#[test]
fn socket_with_a_receive_timeout_may_still_act() {
    let p = Program::start(
        "import socket, struct\n\
         a, b = socket.socketpair()\n\
         a.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack('ll', 100, 0))\n\
         print('ready', flush=True); a.recv(10)",
    );
    p.settle_in(&[RECVFROM]);
    assert_eq!(p.stuck(), None);
}

#[test]
fn blocked_socket_without_timeout_is_stuck() {
    let p = Program::start(
        "import socket\na, b = socket.socketpair()\nprint('ready', flush=True); a.recv(10)",
    );
    p.settle_in(&[RECVFROM]);
    assert_eq!(p.stuck(), Some(Waiting::Socket));
}

#[test]
fn catching_an_alarm_may_still_act() {
    let p = Program::start(
        "import signal, sys\nsignal.signal(signal.SIGALRM, lambda *a: None); signal.alarm(100)\nprint('ready', flush=True); sys.stdin.read()",
    );
    p.settle_in(&[READ]);
    assert_eq!(p.stuck(), None);
}

#[test]
fn a_busy_loop_may_still_act() {
    let p = Program::start("print('ready', flush=True)\nwhile True: pass");
    assert_eq!(p.stuck(), None);
    assert!(
        std::fs::read_to_string(format!("/proc/{}/syscall", p.pid()))
            .unwrap()
            .starts_with("running")
            || stuck::look(&[p.pid()]).is_none()
    );
}

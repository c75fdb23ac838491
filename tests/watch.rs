//! `socklab check LAB FILE --watch`: each save of the file brings a new verdict, whether the
//! editor writes the file in place or renames a new one over it; the screen is cleared
//! between verdicts on a terminal, never on a pipe. Every wait ends on a line of output or
//! a deadline.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rstest::rstest;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// Far beyond a grading's second or two, for a loaded machine.
const DEADLINE: Duration = Duration::from_secs(90);
const CLEAR: &str = "\x1b[2J";

/// socklab's output, a line at a time, as it comes.
struct Lines {
    rx: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Lines {
    fn of(child: &mut Child) -> Lines {
        let mut stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut pending = Vec::new();
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                pending.extend_from_slice(&buf[..n]);
                while let Some(nl) = pending.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=nl).collect();
                    let line = String::from_utf8_lossy(&line).replace(['\r', '\n'], "");
                    if tx.send(line).is_err() {
                        return;
                    }
                }
            }
        });
        Lines {
            rx,
            seen: Vec::new(),
        }
    }

    /// The lines up to and including the first that starts with `start`.
    fn until(&mut self, start: &str) -> Vec<String> {
        let deadline = Instant::now() + DEADLINE;
        let mut lines = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.rx.recv_timeout(left).unwrap_or_else(|e| {
                panic!(
                    "no line starting {start:?} ({e}); output so far:\n{}",
                    self.seen.join("\n")
                )
            });
            self.seen.push(line.clone());
            lines.push(line.clone());
            // A cleared screen starts the line it comes with.
            let shown = line
                .trim_start_matches("\x1b[H")
                .trim_start_matches(CLEAR)
                .trim_start_matches("\x1b[3J");
            if shown.starts_with(start) {
                return lines;
            }
        }
    }
}

/// The watching socklab (or the `script` around it, whose end hangs socklab up), killed
/// however the test ends: a watch never ends by itself.
struct Watching(Child);

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The lesson's program, then a version that never prints what it receives.
fn lesson() -> String {
    std::fs::read_to_string(Path::new(ROOT).join("fixtures/serv_tcp/pass/lesson_serv_tcp.py"))
        .unwrap()
}

fn never_prints() -> String {
    std::fs::read_to_string(Path::new(ROOT).join("fixtures/serv_tcp/fail/never_prints.py")).unwrap()
}

/// Saving the file grades it again, with no restart: the lesson's program gets full marks;
/// saved over (by rename, as vim does) with a broken one, it loses marks; written back in
/// place, full marks again. Only a terminal gets its screen cleared between them.
#[rstest]
fn each_save_brings_a_new_verdict(#[values(false, true)] terminal: bool) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("serv_tcp.py");
    std::fs::write(&file, lesson()).unwrap();
    let socklab = assert_cmd::cargo::cargo_bin("socklab");
    let mut command = if terminal {
        // `script` gives socklab a terminal for stdout and copies what it shows.
        let mut c = Command::new("script");
        c.arg("-qfec")
            .arg(format!("{} check serv_tcp.py --watch", socklab.display()))
            .arg("/dev/null");
        c
    } else {
        let mut c = Command::new(&socklab);
        c.args(["check", "serv_tcp.py", "--watch"]);
        c
    };
    let mut child = Watching(
        command
            .current_dir(dir.path())
            .env_remove("PYTHONUNBUFFERED")
            // Colour would split `10/10` on a terminal; the clearing does not depend on it.
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut lines = Lines::of(&mut child.0);

    let first = lines.until("score: ");
    assert!(first.last().unwrap().contains("score: 10/10"), "{first:?}");
    lines.until("socklab: watching serv_tcp.py");

    let swap = dir.path().join(".serv_tcp.py.swp");
    std::fs::write(&swap, never_prints()).unwrap();
    std::fs::rename(&swap, &file).unwrap();
    let second = lines.until("score: ");
    let verdict = second.last().unwrap();
    assert!(
        verdict.contains("score: ") && !verdict.contains("10/10"),
        "{second:?}"
    );
    assert!(
        second.iter().any(|l| l.contains("FAIL  prints_messages")),
        "{second:?}"
    );
    assert_eq!(
        second.iter().any(|l| l.contains(CLEAR)),
        terminal,
        "screen cleared only on a terminal: {second:?}"
    );
    lines.until("socklab: watching");

    std::fs::write(&file, lesson()).unwrap();
    let third = lines.until("score: ");
    assert!(third.last().unwrap().contains("score: 10/10"), "{third:?}");

    drop(child);
    if !terminal {
        assert!(
            lines.seen.iter().all(|l| !l.contains('\x1b')),
            "escape sequences on a pipe: {:?}",
            lines.seen
        );
    }
}

/// Told to stop after its stderr is gone (the terminal hung up, as when `script` or an SSH
/// session ends), a watching socklab still stops, exit 2: it never lives on deaf to every
/// later signal (its one word on stderr could not be written, and that must not matter).
#[test]
fn a_watch_stops_when_told_even_with_its_stderr_gone() {
    use nix::sys::signal::{Signal, kill};
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("serv_tcp.py"), lesson()).unwrap();
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("socklab"))
        .args(["check", "serv_tcp.py", "--watch"])
        .current_dir(dir.path())
        .env_remove("PYTHONUNBUFFERED")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let mut lines = Lines::of(&mut child);
    drop(child.stderr.take());
    // Waited for on a thread of its own, so that the wait ends at a deadline too.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait().map(|s| s.code()));
    });
    let stop = |why: &str| -> ! {
        let _ = kill(pid, Signal::SIGKILL);
        panic!("{why}")
    };
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        lines.until("socklab: watching serv_tcp.py")
    }))
    .is_err()
    {
        stop("socklab never watched");
    }
    kill(pid, Signal::SIGHUP).unwrap();
    let code = rx
        .recv_timeout(DEADLINE)
        .unwrap_or_else(|_| stop("socklab still running after SIGHUP"));
    assert_eq!(code.unwrap(), Some(2));
}

//! `cargo bench --bench netcat`: 1 GiB from `head -c 1G /dev/zero` over loopback TCP, from a
//! connecting netcat to a listening one writing to /dev/null, timed from the start of `head`
//! to the exit of both netcats. OpenBSD nc and socklab nc run in the same process, in turns,
//! so that both see the same machine. The floors are `head` alone, into /dev/null and into a
//! pipe that is read and thrown away. Figures only: nothing here asserts on time.
//!
//! SOCKLAB_BENCH_BYTES (default 1073741824) and SOCKLAB_BENCH_RUNS (default 5) change the
//! amount and the number of runs of each.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::fd::AsFd;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A transfer that takes longer than this has hung; its processes are killed.
const DEADLINE: Duration = Duration::from_secs(120);

#[derive(Clone, Copy, PartialEq)]
enum Nc {
    OpenBsd,
    Socklab,
}

struct Netcats {
    openbsd: String,
    socklab: String,
}

impl Netcats {
    fn listen(&self, nc: Nc, port: u16) -> Command {
        let mut cmd = match nc {
            Nc::OpenBsd => Command::new(&self.openbsd),
            Nc::Socklab => {
                let mut cmd = Command::new(&self.socklab);
                cmd.arg("nc");
                cmd
            }
        };
        // -v: the "Listening on" line says when to start the clock.
        cmd.args(["-lnv", &port.to_string()]);
        cmd
    }

    fn connect(&self, nc: Nc, port: u16) -> Command {
        let mut cmd = match nc {
            // -N: shut down sending at end of stdin, which socklab nc always does.
            Nc::OpenBsd => {
                let mut cmd = Command::new(&self.openbsd);
                cmd.arg("-N");
                cmd
            }
            Nc::Socklab => {
                let mut cmd = Command::new(&self.socklab);
                cmd.arg("nc");
                cmd
            }
        };
        cmd.args(["-n", "127.0.0.1", &port.to_string()]);
        cmd
    }
}

fn name(nc: Nc) -> &'static str {
    match nc {
        Nc::OpenBsd => "OpenBSD nc",
        Nc::Socklab => "socklab nc",
    }
}

fn openbsd_nc() -> String {
    for candidate in ["/bin/nc.openbsd", "/usr/bin/nc.openbsd", "nc"] {
        let help = Command::new(candidate).arg("-h").output();
        if let Ok(out) = help
            && String::from_utf8_lossy(&out.stderr).contains("OpenBSD netcat")
        {
            return candidate.to_string();
        }
    }
    panic!("OpenBSD netcat not found (apt-get install netcat-openbsd; .ci/run does)");
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name}={v}: not a number"))
        })
        .unwrap_or(default)
}

fn head(bytes: u64, stdout: Stdio) -> Child {
    Command::new("head")
        .args(["-c", &bytes.to_string(), "/dev/zero"])
        .stdout(stdout)
        .spawn()
        .expect("run head")
}

/// Kills `pids` (ours) unless `done` says the run finished before the deadline.
fn watchdog(pids: Vec<u32>) -> mpsc::Sender<()> {
    let (done, finished) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(DEADLINE) {
            for pid in pids {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid as i32),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    });
    done
}

fn check(what: &str, status: ExitStatus) {
    assert!(status.success(), "{what} failed: {status}");
}

/// A floor: `head` alone, into /dev/null, or into a pipe that this process drains with
/// reads into a buffer it throws away (as socklab nc reads its stdin pipe).
fn floor(bytes: u64, through_pipe: bool) -> Duration {
    let null = File::create("/dev/null").unwrap();
    let start = Instant::now();
    let mut head = head(
        bytes,
        if through_pipe {
            Stdio::piped()
        } else {
            Stdio::from(null.try_clone().unwrap())
        },
    );
    let done = watchdog(vec![head.id()]);
    if through_pipe {
        let out = head.stdout.take().unwrap();
        let moved = socklab::netcat::pump::copy(out.as_fd(), null.as_fd()).expect("drain head");
        assert_eq!(moved, bytes, "head wrote less than asked");
    }
    check("head", head.wait().unwrap());
    let _ = done.send(());
    start.elapsed()
}

/// One transfer from `sender` to `receiver`: the time from the start of `head` until both
/// netcats have exited, each with status 0, and `head` wrote everything (no SIGPIPE).
fn transfer(ncs: &Netcats, sender: Nc, receiver: Nc, bytes: u64) -> Duration {
    let port = portpicker::pick_unused_port().expect("a free port");
    let mut listener = ncs
        .listen(receiver, port)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the listener");
    let mut messages = BufReader::new(listener.stderr.take().unwrap());
    let (said, heard) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        while messages.read_line(&mut line).unwrap_or(0) > 0 {
            let _ = said.send(std::mem::take(&mut line));
        }
    });
    let first = heard.recv_timeout(Duration::from_secs(10));
    assert!(
        first
            .as_deref()
            .is_ok_and(|l| l.starts_with("Listening on")),
        "{} -l said {first:?}",
        name(receiver)
    );

    let start = Instant::now();
    let mut head = head(bytes, Stdio::piped());
    let mut client = ncs
        .connect(sender, port)
        .stdin(Stdio::from(head.stdout.take().unwrap()))
        .stdout(Stdio::null())
        .spawn()
        .expect("start the client");
    let done = watchdog(vec![head.id(), client.id(), listener.id()]);
    let client_status = client.wait().unwrap();
    let listener_status = listener.wait().unwrap();
    let elapsed = start.elapsed();
    let _ = done.send(());
    check("head", head.wait().unwrap());
    check(name(sender), client_status);
    check(&format!("{} -l", name(receiver)), listener_status);
    elapsed
}

struct Row {
    label: String,
    times: Vec<Duration>,
}

impl Row {
    fn median(&self) -> Duration {
        let mut sorted = self.times.clone();
        sorted.sort();
        sorted[sorted.len() / 2]
    }
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

fn main() {
    let bytes = env_number("SOCKLAB_BENCH_BYTES", 1 << 30);
    let runs = env_number("SOCKLAB_BENCH_RUNS", 5).max(1) as usize;
    let ncs = Netcats {
        openbsd: openbsd_nc(),
        socklab: env!("CARGO_BIN_EXE_socklab").to_string(),
    };
    let load = || std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "socklab nc vs OpenBSD nc ({}): {bytes} bytes over loopback TCP, {runs} runs each, in turns",
        ncs.openbsd
    );
    println!("load average before: {}", load().trim());

    let pairs = [
        (Nc::OpenBsd, Nc::OpenBsd),
        (Nc::Socklab, Nc::Socklab),
        (Nc::Socklab, Nc::OpenBsd),
        (Nc::OpenBsd, Nc::Socklab),
    ];
    let amount = if bytes == 1 << 30 {
        "1G".to_string()
    } else {
        bytes.to_string()
    };
    let mut floors = [
        Row {
            label: format!("floor: head -c {amount} /dev/zero >/dev/null"),
            times: Vec::new(),
        },
        Row {
            label: format!("floor: head -c {amount} /dev/zero | read"),
            times: Vec::new(),
        },
    ];
    let mut rows: Vec<Row> = pairs
        .iter()
        .map(|&(s, r)| Row {
            label: format!("{} -> {} -l", name(s), name(r)),
            times: Vec::new(),
        })
        .collect();
    for _ in 0..runs {
        floors[0].times.push(floor(bytes, false));
        floors[1].times.push(floor(bytes, true));
        for (row, &(sender, receiver)) in rows.iter_mut().zip(&pairs) {
            row.times.push(transfer(&ncs, sender, receiver, bytes));
        }
    }
    println!("load average after:  {}", load().trim());

    let baseline = rows[0].median();
    println!();
    println!(
        "| {:<40} | {:>8} | {:>8} | {:>8} | {:>6} | {:>10} |",
        "transfer", "median", "min", "max", "GB/s", "vs OpenBSD"
    );
    println!(
        "|{:-<42}|{:->10}|{:->10}|{:->10}|{:->8}|{:->12}|",
        "", "", "", "", "", ""
    );
    for (i, row) in floors.iter().chain(&rows).enumerate() {
        let median = row.median();
        let ratio = if i < floors.len() {
            "-".to_string()
        } else {
            format!("{:.2}x", baseline.as_secs_f64() / median.as_secs_f64())
        };
        println!(
            "| {:<40} | {:>8} | {:>8} | {:>8} | {:>6.2} | {:>10} |",
            row.label,
            secs(median),
            secs(*row.times.iter().min().unwrap()),
            secs(*row.times.iter().max().unwrap()),
            bytes as f64 / median.as_secs_f64() / 1e9,
            ratio
        );
    }
    let speedup = baseline.as_secs_f64() / rows[1].median().as_secs_f64();
    println!();
    println!(
        "GB/s counts 10^9 bytes; vs OpenBSD: OpenBSD nc -> OpenBSD nc's median time over the row's \
         (above 1: faster). Floors: head alone, into /dev/null, and into a pipe read \
         and thrown away (what socklab nc does with its stdin before sending)."
    );
    println!(
        "goal (socklab nc 1.5x faster than OpenBSD nc, never slower): {} ({speedup:.2}x)",
        if speedup >= 1.5 {
            "met"
        } else if speedup >= 1.0 {
            "NOT met, though not slower"
        } else {
            "NOT met: slower"
        }
    );
}

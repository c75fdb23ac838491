//! Under load: with both cores kept busy by spinning threads, every lab's verdict on its
//! reference and on the lesson's programs is what it is on an idle machine, run after run.
//! Waits end on events, and deadlines are generous, so a slow machine changes only times.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{grade_json, not_passed};

/// Spins one thread per core until dropped (and at most two minutes, whatever happens).
struct BusyCores {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl BusyCores {
    fn start() -> BusyCores {
        let stop = Arc::new(AtomicBool::new(false));
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let threads = (0..cores)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let until = Instant::now() + Duration::from_secs(120);
                    let mut x = 0u64;
                    while !stop.load(Ordering::Relaxed) && Instant::now() < until {
                        x = std::hint::black_box(
                            x.wrapping_mul(6364136223846793005).wrapping_add(1),
                        );
                    }
                })
            })
            .collect();
        BusyCores { stop, threads }
    }
}

impl Drop for BusyCores {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[test]
fn verdicts_hold_with_every_core_busy() {
    let socklab = assert_cmd::cargo::cargo_bin("socklab")
        .display()
        .to_string();
    let programs: Vec<(&str, Vec<String>)> = vec![
        (
            "serv_simple",
            vec![
                "python3".into(),
                "fixtures/serv_simple/pass/lesson_serv_simple.py".into(),
            ],
        ),
        (
            "conn_simple",
            vec![
                "python3".into(),
                "fixtures/conn_simple/pass/lesson_conn_simple.py".into(),
            ],
        ),
        (
            "serv_tcp",
            vec![
                "python3".into(),
                "fixtures/serv_tcp/pass/lesson_serv_tcp.py".into(),
            ],
        ),
        (
            "serv_tcp",
            vec![
                "python3".into(),
                "fixtures/serv_tcp/fail/lockstep_recv_first.py".into(),
            ],
        ),
        (
            "udp_serv",
            vec![socklab.clone(), "ref".into(), "udp_serv".into()],
        ),
        (
            "serv_simple",
            vec![socklab.clone(), "ref".into(), "serv_simple".into()],
        ),
        ("netcat", vec!["nc.openbsd".into()]),
    ];
    let idle: Vec<Vec<String>> = programs
        .iter()
        .map(|(lab, argv)| not_passed(&grade_json(lab, argv).1))
        .collect();
    let _busy = BusyCores::start();
    for round in 1..=2 {
        for ((lab, argv), expected) in programs.iter().zip(&idle) {
            let (_, report) = grade_json(lab, argv);
            assert_eq!(
                &not_passed(&report),
                expected,
                "round {round}, {lab} {argv:?} under load:\n{report:#}"
            );
        }
    }
}

/// socklab never ends by a signal: the fixtures that block reading the keyboard (where a
/// signal death was once seen, on a fresh machine under load), graded twelve times, four at
/// once, with every core busy. Each run must exit 1 with the fixture's own verdict; a death
/// by signal is named, with socklab's stderr (see `common::exit_code`).
#[test]
fn no_signal_deaths_under_load() {
    let fixtures: [&'static str; 4] = [
        "fixtures/serv_simple/fail/input_before_recv.py",
        "fixtures/conn_simple/fail/waits_for_enter.py",
        "fixtures/serv_tcp/fail/lockstep_input_first.py",
        "fixtures/udp_serv/fail/lockstep_input_first.py",
    ];
    let _busy = BusyCores::start();
    for round in 1..=3 {
        let runs: Vec<_> = fixtures
            .iter()
            .map(|&fixture| {
                std::thread::spawn(move || {
                    let path = std::path::Path::new(fixture);
                    let output = common::socklab()
                        .args(["check", &common::lab_of(path), "--timeout", "1"])
                        .args(["--format", "json", "--", "python3", fixture])
                        .output()
                        .unwrap();
                    (fixture, output)
                })
            })
            .collect();
        for run in runs {
            let (fixture, output) = run.join().unwrap();
            let code = common::exit_code(&output);
            let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
            assert_eq!(
                (code, not_passed(&report)),
                (1, common::expected_failures(std::path::Path::new(fixture))),
                "round {round}, {fixture}:\n{report:#}"
            );
        }
    }
}

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

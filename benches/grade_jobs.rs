//! Speed of grading a class: `cargo bench --bench grade_jobs`.
//!
//! Builds a class of N submissions (N = $SOCKLAB_BENCH_CLASS, default 15) from the Python
//! pass fixtures of serv_simple, all with the lesson's port 8000 written in them, and times
//! `socklab grade` with `--jobs 1` and `--jobs 2`, three times each, asserting full marks
//! every time. Prints the median of each and their ratio; the goal (on 2 cores) is that
//! `--jobs 2` takes clearly less time than `--jobs 1`. A missed goal is reported, not
//! failed: these are figures.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use serde_json::Value;

const SOCKLAB: &str = env!("CARGO_BIN_EXE_socklab");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const FIXTURES: [&str; 2] = ["lesson_serv_simple.py", "with_socket_readline.py"];
const RUNS: usize = 3;

fn class_size() -> usize {
    std::env::var("SOCKLAB_BENCH_CLASS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(15)
}

fn build_class(dir: &Path, size: usize) {
    for i in 0..size {
        let folder = dir.join(format!("student{i:03}"));
        std::fs::create_dir_all(&folder).unwrap();
        let fixture = Path::new(ROOT)
            .join("fixtures/serv_simple/pass")
            .join(FIXTURES[i % FIXTURES.len()]);
        std::fs::copy(fixture, folder.join("serv_simple.py")).unwrap();
    }
}

/// Seconds one `socklab grade --jobs JOBS` of the class takes.
fn grade(class: &Path, jobs: usize, size: usize) -> f64 {
    let started = Instant::now();
    let output = Command::new(SOCKLAB)
        .args(["grade", "serv_simple"])
        .arg(class)
        .args(["--format", "json", "--jobs", &jobs.to_string()])
        .args(["--", "python3", "{dir}/serv_simple.py"])
        .env_remove("PYTHONUNBUFFERED")
        .output()
        .unwrap();
    let took = started.elapsed().as_secs_f64();
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {}", String::from_utf8_lossy(&output.stderr)));
    assert_eq!(
        report["summary"]["full_marks"], size,
        "every submission should get full marks: {report:#}"
    );
    took
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    // `cargo bench` passes --bench; nothing else to parse.
    let size = class_size();
    let dir = tempfile::tempdir().unwrap();
    build_class(dir.path(), size);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("grade_jobs: a class of {size} serv_simple submissions, {cores} cores");
    let mut medians = Vec::new();
    for jobs in [1, 2] {
        let times: Vec<f64> = (0..RUNS).map(|_| grade(dir.path(), jobs, size)).collect();
        let m = median(times.clone());
        println!(
            "  --jobs {jobs}: median {m:.2} s ({:.0} ms a submission)  runs: {}",
            m * 1000.0 / size as f64,
            times
                .iter()
                .map(|t| format!("{t:.2}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        medians.push(m);
    }
    let ratio = medians[1] / medians[0];
    let verdict = if ratio < 0.8 { "met" } else { "MISSED" };
    println!("  --jobs 2 / --jobs 1 = {ratio:.2} (goal: clearly below 1, say < 0.8: {verdict})");
}

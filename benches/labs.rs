//! Speed of grading: `cargo bench --bench labs`.
//!
//! For each TCP lab, grades the Rust reference program (`socklab ref LAB {port}`) and the
//! lesson's Python program (`python3 fixtures/LAB/pass/lesson_LAB.py`) N times each
//! (N = $SOCKLAB_BENCH_RUNS, default 20), asserts full marks every time, and prints
//! min / median / max wall time, the bare cost of starting the program, and the harness's
//! overhead over it. Goals from the issue: each lab against its reference ≤ 30 ms, the
//! three together < 0.3 s. A missed goal is reported, not failed: these are figures.
//!
//! Std only (plus serde_json, already a dependency, to check `score == max_score`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

const SOCKLAB: &str = env!("CARGO_BIN_EXE_socklab");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const REF_GOAL_MS: f64 = 30.0;
const TOTAL_GOAL_MS: f64 = 300.0;

/// Timings of N runs of one command, in milliseconds.
struct Figures {
    ms: Vec<f64>,
}

impl Figures {
    fn new(mut ms: Vec<f64>) -> Figures {
        ms.sort_by(f64::total_cmp);
        Figures { ms }
    }
    fn min(&self) -> f64 {
        self.ms[0]
    }
    fn max(&self) -> f64 {
        self.ms[self.ms.len() - 1]
    }
    fn median(&self) -> f64 {
        let n = self.ms.len();
        if n % 2 == 1 {
            self.ms[n / 2]
        } else {
            (self.ms[n / 2 - 1] + self.ms[n / 2]) / 2.0
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn die(message: &str) -> ! {
    eprintln!("\nbench labs: {message}");
    std::process::exit(1);
}

fn runs() -> usize {
    match std::env::var("SOCKLAB_BENCH_RUNS") {
        Err(_) => 20,
        Ok(text) => match text.trim().parse::<usize>() {
            Ok(n) if n >= 1 => n,
            _ => die(&format!(
                "SOCKLAB_BENCH_RUNS={text:?} is not a whole number of runs ≥ 1"
            )),
        },
    }
}

/// One graded run: its wall time and its JSON report.
struct Graded {
    ms: f64,
    report: Value,
}

/// `socklab check LAB --format json -- PROGRAM…`, once; aborts unless full marks.
fn check_once(lab: &str, program: &[String]) -> Graded {
    let mut cmd = Command::new(SOCKLAB);
    cmd.args(["check", lab, "--format", "json", "--"])
        .args(program)
        .env_remove("PYTHONUNBUFFERED")
        .current_dir(ROOT)
        .stdin(Stdio::null());
    let start = Instant::now();
    let out = cmd
        .output()
        .unwrap_or_else(|e| die(&format!("cannot run {SOCKLAB}: {e}")));
    let elapsed = start.elapsed();
    let shown = format!("socklab check {lab} --format json -- {}", program.join(" "));
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.code() != Some(0) {
        die(&format!(
            "`{shown}` did not give full marks: {}\n--- stdout ---\n{stdout}\n--- stderr ---\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        die(&format!(
            "`{shown}` exited 0 but its JSON does not parse ({e}):\n{stdout}"
        ))
    });
    let (score, max) = (&report["score"], &report["max_score"]);
    if score.as_u64().is_none() || score != max {
        die(&format!(
            "`{shown}` exited 0 but scored {score} of {max}:\n{stdout}"
        ));
    }
    Graded {
        ms: ms(elapsed),
        report,
    }
}

/// N graded runs after one untimed warm-up; returns the figures and the median run's report.
fn check_n(n: usize, lab: &str, program: &[String]) -> (Figures, Value) {
    check_once(lab, program);
    let mut graded: Vec<Graded> = (0..n).map(|_| check_once(lab, program)).collect();
    graded.sort_by(|a, b| a.ms.total_cmp(&b.ms));
    let figures = Figures::new(graded.iter().map(|g| g.ms).collect());
    let median_report = graded.swap_remove(n / 2).report;
    (figures, median_report)
}

/// N timed runs of a plain command (stdout and stdin to /dev/null), after one warm-up;
/// aborts if it fails.
fn bare_n(n: usize, program: &str, args: &[&str]) -> Figures {
    let once = || {
        let start = Instant::now();
        let status = Command::new(program)
            .args(args)
            .env_remove("PYTHONUNBUFFERED")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .unwrap_or_else(|e| die(&format!("cannot run {program}: {e}")));
        let elapsed = start.elapsed();
        if !status.success() {
            die(&format!("`{program} {}` failed: {status}", args.join(" ")));
        }
        ms(elapsed)
    };
    once();
    Figures::new((0..n).map(|_| once()).collect())
}

/// `which python3`, std only.
fn which(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// "shell script (#!/usr/bin/env bash)", "ELF binary", or what else the file starts with.
fn kind_of(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    if bytes.starts_with(b"\x7fELF") {
        return "ELF binary".to_string();
    }
    if bytes.starts_with(b"#!") {
        let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
        let line = String::from_utf8_lossy(line).into_owned();
        let shell = ["sh", "bash", "dash", "zsh"]
            .iter()
            .any(|s| line.ends_with(&format!("/{s}")) || line.ends_with(&format!(" {s}")));
        return if shell {
            format!("a SHELL SCRIPT ({line})")
        } else {
            format!("a script ({line})")
        };
    }
    "not a script".to_string()
}

/// Where the time of one graded run went, from its transcript's timestamps `t` (seconds).
fn where_time_went(report: &Value) -> String {
    let entries: Vec<(f64, String)> = report["transcript"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| {
                    let t = e["t"].as_f64()?;
                    let who = e["who"].as_str().unwrap_or("?");
                    let mut text = e["text"].as_str().unwrap_or("").to_string();
                    if text.chars().count() > 48 {
                        text = text.chars().take(45).collect::<String>() + "...";
                    }
                    Some((t, format!("{who}: {text}")))
                })
                .collect()
        })
        .unwrap_or_default();
    let duration = report["duration_s"].as_f64().unwrap_or(f64::NAN) * 1000.0;
    let Some(first) = entries.first() else {
        return format!("graded in {duration:.1} ms, empty transcript");
    };
    // The program's start: the harness's "starts …" line; the next event is the first sign
    // that it runs (a connection accepted or made, output).
    let started = entries
        .iter()
        .position(|(_, what)| what.starts_with("harness: starts"));
    let last = entries.last().map(|(t, _)| t * 1000.0).unwrap_or(0.0);
    let mut s = format!(
        "graded in {duration:.1} ms (report's duration_s); first event at t={:.1} ms, \
         last at t={last:.1} ms",
        first.0 * 1000.0
    );
    if let Some(i) = started
        && let Some((t, what)) = entries.get(i + 1)
    {
        s += &format!(
            "\n      program start → next event: {:.1} ms ({what})",
            (t - entries[i].0) * 1000.0
        );
    }
    let gap = entries
        .windows(2)
        .enumerate()
        .filter(|(i, _)| Some(*i) != started)
        .map(|(_, w)| ((w[1].0 - w[0].0) * 1000.0, &w[0].1, &w[1].1))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    if let Some((g, before, after)) = gap {
        s += &format!("\n      longest other gap: {g:.1} ms between [{before}] and [{after}]");
    }
    s += &format!(
        "\n      after last event until report: {:.1} ms",
        duration - last
    );
    s
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}

struct Row {
    lab: String,
    program: &'static str,
    figures: Figures,
    bare: f64,
    goal: Option<f64>,
    report: Value,
}

fn main() {
    let n = runs();
    let root = Path::new(ROOT);
    println!("socklab bench: {n} timed runs per figure (after one untimed warm-up each)");
    println!("socklab binary: {SOCKLAB}");

    // What python3 is.
    let python = which("python3").unwrap_or_else(|| die("python3 is not on PATH"));
    let out = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .unwrap_or_else(|e| die(&format!("cannot run python3: {e}")));
    let real = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || real.is_empty() {
        die("python3 -c 'import sys; print(sys.executable)' failed");
    }
    println!("which python3: {} — {}", python.display(), kind_of(&python));
    println!(
        "real interpreter (sys.executable): {real} — {}",
        kind_of(Path::new(&real))
    );

    // Bare starts.
    let bare_socklab = bare_n(n, SOCKLAB, &["labs"]);
    let bare_python = bare_n(n, "python3", &["-c", "pass"]);
    let bare_real = bare_n(n, &real, &["-c", "pass"]);
    println!();
    println!("Bare start (no harness), min / median / max ms:");
    for (what, f) in [
        ("socklab labs >/dev/null", &bare_socklab),
        ("python3 -c pass", &bare_python),
        (&*format!("{real} -c pass"), &bare_real),
    ] {
        println!(
            "  {what:<48} {:>7.1} {:>7.1} {:>7.1}",
            f.min(),
            f.median(),
            f.max()
        );
    }

    // Graded runs: the TCP labs with references (from the one list of labs).
    let tcp_labs = common::labs(true);
    let mut rows = Vec::new();
    for lab in &tcp_labs {
        let lab = lab.as_str();
        let reference: Vec<String> = [SOCKLAB, "ref", lab, "{port}"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (figures, report) = check_n(n, lab, &reference);
        rows.push(Row {
            lab: lab.to_string(),
            program: "reference (socklab ref)",
            figures,
            bare: bare_socklab.median(),
            goal: Some(REF_GOAL_MS),
            report,
        });

        let lesson = root.join(format!("fixtures/{lab}/pass/lesson_{lab}.py"));
        if !lesson.is_file() {
            die(&format!("missing fixture {}", lesson.display()));
        }
        let lesson = lesson.to_string_lossy().into_owned();
        let (figures, report) = check_n(n, lab, &["python3".to_string(), lesson.clone()]);
        rows.push(Row {
            lab: lab.to_string(),
            program: "lesson .py via python3",
            figures,
            bare: bare_python.median(),
            goal: None,
            report,
        });
        let (figures, report) = check_n(n, lab, &[real.clone(), lesson]);
        rows.push(Row {
            lab: lab.to_string(),
            program: "lesson .py via real interp.",
            figures,
            bare: bare_real.median(),
            goal: None,
            report,
        });
    }

    // The three reference checks back to back.
    let refs: Vec<Vec<String>> = tcp_labs
        .iter()
        .map(|lab| {
            [SOCKLAB, "ref", lab, "{port}"]
                .iter()
                .map(|s| s.to_string())
                .collect()
        })
        .collect();
    let together = || {
        let start = Instant::now();
        for (lab, program) in tcp_labs.iter().zip(&refs) {
            check_once(lab, program);
        }
        ms(start.elapsed())
    };
    together();
    let total = Figures::new((0..n).map(|_| together()).collect());

    // The table.
    println!();
    let header = [
        "lab",
        "program",
        "min",
        "median",
        "max",
        "bare",
        "overhead",
        "goal (median)",
    ];
    println!(
        "{:<12} {:<28} {:>7} {:>7} {:>7} {:>7} {:>9}  {}",
        header[0], header[1], header[2], header[3], header[4], header[5], header[6], header[7]
    );
    println!("{}", "-".repeat(104));
    for row in &rows {
        let f = &row.figures;
        let goal = match row.goal {
            Some(g) => format!("≤ {g:.0} ms: {}", verdict(f.median() <= g)),
            None => "-".to_string(),
        };
        println!(
            "{:<12} {:<28} {:>7.1} {:>7.1} {:>7.1} {:>7.1} {:>9.1}  {goal}",
            row.lab,
            row.program,
            f.min(),
            f.median(),
            f.max(),
            row.bare,
            f.median() - row.bare
        );
    }
    println!("{}", "-".repeat(104));
    println!(
        "{:<12} {:<28} {:>7.1} {:>7.1} {:>7.1} {:>7} {:>9}  < {TOTAL_GOAL_MS:.0} ms: {}",
        "all three",
        "references back to back",
        total.min(),
        total.median(),
        total.max(),
        "",
        "",
        verdict(total.median() < TOTAL_GOAL_MS)
    );
    println!(
        "times in ms; bare = median bare start of the program (socklab labs / python3 -c pass \
         / {real} -c pass);\noverhead ≈ median(check) − median(bare start)"
    );

    println!();
    println!("Where the time goes (the median run's JSON transcript):");
    for row in &rows {
        println!("  {} / {}:", row.lab, row.program);
        println!("      {}", where_time_went(&row.report));
    }

    // Failing programs: what a wrong answer costs, at the default deadline.
    println!();
    println!("Failing programs (fixtures/LAB/fail, graded once each at the default timeout):");
    let build = tempfile::tempdir().unwrap_or_else(|e| die(&format!("a temporary folder: {e}")));
    for lab in &common::labs(false) {
        let runs = common::grade_failing(lab, "3", build.path());
        let total: f64 = runs.iter().map(|r| r.seconds).sum();
        let slowest = runs
            .iter()
            .max_by(|a, b| a.seconds.total_cmp(&b.seconds))
            .map(|r| format!("{} {:.2} s", r.name, r.seconds))
            .unwrap_or_default();
        let may_act = runs.iter().filter(|r| r.kept_a_deadline).count();
        println!(
            "  {lab:<12} {} programs in {total:.2} s; slowest {slowest}; {may_act} kept a deadline (they could still act)",
            runs.len()
        );
    }
}

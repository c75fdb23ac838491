//! Shared by the benches: grading the failing fixtures of a lab and timing each.

#![allow(dead_code)]

#[path = "../../tests/common/programs.rs"]
mod programs;

pub use programs::command_for;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

pub const SOCKLAB: &str = env!("CARGO_BIN_EXE_socklab");
pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// One failing fixture graded: its file name, how long it took, and its verdict (the checks
/// it did not pass, sorted).
pub struct FailingRun {
    pub name: String,
    pub seconds: f64,
    pub not_passed: Vec<String>,
    /// Some wait ended at its deadline: the program could still act (it spun, or a timer
    /// woke it), so socklab could not fail it sooner.
    pub kept_a_deadline: bool,
}

/// The failing fixtures of `lab`, in order of name.
pub fn failing_fixtures(lab: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> =
        std::fs::read_dir(Path::new(ROOT).join("fixtures").join(lab).join("fail"))
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
    found.sort();
    found
}

/// Grades every failing fixture of `lab` once with `--timeout SECONDS`.
pub fn grade_failing(lab: &str, timeout: &str, build: &Path) -> Vec<FailingRun> {
    failing_fixtures(lab)
        .iter()
        .map(|fixture| {
            let program = command_for(fixture, build);
            let start = Instant::now();
            let out = Command::new(SOCKLAB)
                .args(["check", lab, "--timeout", timeout, "--format", "json", "--"])
                .args(&program)
                .env_remove("PYTHONUNBUFFERED")
                .current_dir(ROOT)
                .stdin(Stdio::null())
                .output()
                .expect("run socklab");
            let seconds = start.elapsed().as_secs_f64();
            let report: serde_json::Value =
                serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
            let mut not_passed: Vec<String> = report["checks"]
                .as_array()
                .map(|checks| {
                    checks
                        .iter()
                        .filter(|c| c["passed"] != true)
                        .filter_map(|c| c["name"].as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            not_passed.sort();
            let kept_a_deadline = report["checks"].as_array().is_some_and(|checks| {
                checks.iter().any(|c| {
                    c["message"]
                        .as_str()
                        .is_some_and(|m| m.contains(" within ") || m.ends_with(" s each)"))
                })
            });
            FailingRun {
                name: fixture.file_name().unwrap().to_string_lossy().into_owned(),
                seconds,
                not_passed,
                kept_a_deadline,
            }
        })
        .collect()
}

/// The labs the benches time, from the one list of labs: those whose programs are the
/// student's (not a netcat of the system's), with failing fixtures to grade, in `socklab
/// labs`'s order; `tcp` keeps only the TCP ones.
pub fn labs(tcp: bool) -> Vec<String> {
    socklab::labs::Labs::built_in()
        .all()
        .into_iter()
        .filter(|lab| lab.default_program.is_none())
        .filter(|lab| !tcp || lab.proto == socklab::script::Proto::Tcp)
        .filter(|lab| !failing_fixtures(&lab.name).is_empty())
        .map(|lab| lab.name)
        .collect()
}

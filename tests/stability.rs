//! One program, one verdict: every fixture of every lab (the example labs of grading/labs
//! included) is handed in several times over as a class and graded with `socklab grade`,
//! every lab's class at once, several submissions of each at a time, on a machine that is
//! kept busy by all those gradings. Each program must get one score and one set of failed
//! checks, every time, and the one its fixture folder and header say.
//!
//! Three copies of each run with `cargo test`; ten with
//! `cargo test --test stability -- --ignored`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::{example_labs, exit_code, expected_failures, lab_of, shared_python, socklab};

/// Every fixture program, by lab, in name order.
fn fixtures_by_lab() -> BTreeMap<String, Vec<PathBuf>> {
    let mut by_lab: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for lab in std::fs::read_dir("fixtures").unwrap().flatten() {
        for kind in ["pass", "fail"] {
            let Ok(files) = std::fs::read_dir(lab.path().join(kind)) else {
                continue;
            };
            for file in files.flatten() {
                by_lab
                    .entry(lab_of(&file.path()))
                    .or_default()
                    .push(file.path());
            }
        }
    }
    for files in by_lab.values_mut() {
        files.sort();
    }
    by_lab
}

/// Whether `fixture` is a file of commands (Activity 1's `activity1.sh`), handed in as it is
/// rather than run.
fn is_commands_file(fixture: &Path) -> bool {
    fixture.extension().is_some_and(|e| e == "sh")
}

/// A submission folder holding `fixture`: a file of commands as `activity1.sh`; a program as
/// an executable `run`, the compiled program or a script that runs the Python one with a
/// Python every user may run.
fn hand_in(fixture: &Path, folder: &Path, build: &Path) {
    std::fs::create_dir_all(folder).unwrap();
    if is_commands_file(fixture) {
        std::fs::copy(fixture, folder.join("activity1.sh")).unwrap();
        return;
    }
    let run = folder.join("run");
    if fixture.extension().is_some_and(|e| e == "c") {
        let binary = build.join(fixture.file_stem().unwrap());
        if !binary.exists() {
            common::command_for(fixture, build);
        }
        std::fs::copy(&binary, &run).unwrap();
    } else {
        std::fs::copy(fixture, folder.join("prog.py")).unwrap();
        std::fs::write(
            &run,
            format!(
                "#!/bin/sh\nexec {} \"$(dirname \"$0\")/prog.py\" \"$@\"\n",
                shared_python()
            ),
        )
        .unwrap();
    }
    std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The verdict of one graded submission: its score and the checks it did not pass.
type Verdict = (u64, BTreeSet<String>);

/// Grades `copies` copies of every fixture of `lab`: the files of commands as one class, the
/// programs as another (a class is graded with one command); returns each fixture's
/// verdicts, one per copy.
fn grade_lab(
    lab: &str,
    fixtures: &[PathBuf],
    copies: usize,
    dir: &Path,
) -> BTreeMap<PathBuf, Vec<Verdict>> {
    let (files, programs): (Vec<PathBuf>, Vec<PathBuf>) =
        fixtures.iter().cloned().partition(|f| is_commands_file(f));
    let mut verdicts = BTreeMap::new();
    for (fixtures, form) in [(files, "files"), (programs, "programs")] {
        if !fixtures.is_empty() {
            verdicts.extend(grade_class(lab, form, &fixtures, copies, dir));
        }
    }
    verdicts
}

/// Grades `copies` copies of every fixture of `lab` (all of one `form`) as one class.
fn grade_class(
    lab: &str,
    form: &str,
    fixtures: &[PathBuf],
    copies: usize,
    dir: &Path,
) -> BTreeMap<PathBuf, Vec<Verdict>> {
    let class = dir.join(format!("{lab}-{form}"));
    let build = dir.join(format!("{lab}-build"));
    std::fs::create_dir_all(&build).unwrap();
    let mut whose = BTreeMap::new();
    for (n, fixture) in fixtures.iter().enumerate() {
        for copy in 0..copies {
            let id = format!("{n:02}-{copy:02}");
            hand_in(fixture, &class.join(&id), &build);
            whose.insert(id, fixture.clone());
        }
    }
    let output = socklab()
        .args(["grade", lab])
        .arg(&class)
        .args([
            "--labs-dir",
            &example_labs(),
            "--jobs",
            "2",
            "--format",
            "json",
        ])
        .args(if is_commands_file(&fixtures[0]) {
            &["activity1.sh"][..]
        } else {
            &["--", "{dir}/run"][..]
        })
        .output()
        .unwrap();
    let code = exit_code(&output);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{lab}: no JSON ({e}), exit {code}: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let mut verdicts: BTreeMap<PathBuf, Vec<Verdict>> = BTreeMap::new();
    for submission in report["submissions"].as_array().unwrap() {
        // An empty file is not graded: the student's zero, with every check failed.
        assert!(
            ["graded", "no_program"].contains(&submission["status"].as_str().unwrap_or("")),
            "{submission:#}"
        );
        let fixture = &whose[submission["id"].as_str().unwrap()];
        let failed = submission["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["passed"] != true)
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect();
        verdicts
            .entry(fixture.clone())
            .or_default()
            .push((submission["score"].as_u64().unwrap(), failed));
    }
    verdicts
}

/// Every lab's class graded at once, `copies` copies of each fixture: one verdict per
/// program, and the expected one.
fn every_fixture_one_verdict(copies: usize) {
    let dir = tempfile::tempdir().unwrap();
    let by_lab = fixtures_by_lab();
    let graded: Vec<BTreeMap<PathBuf, Vec<Verdict>>> = std::thread::scope(|scope| {
        let classes: Vec<_> = by_lab
            .iter()
            .map(|(lab, fixtures)| {
                let dir = dir.path();
                scope.spawn(move || grade_lab(lab, fixtures, copies, dir))
            })
            .collect();
        classes.into_iter().map(|c| c.join().unwrap()).collect()
    });
    let mut unstable = Vec::new();
    for (fixture, verdicts) in graded.iter().flatten() {
        assert_eq!(verdicts.len(), copies, "{}", fixture.display());
        let distinct: BTreeSet<&Verdict> = verdicts.iter().collect();
        let expected: BTreeSet<String> = if fixture.parent().unwrap().ends_with("pass") {
            BTreeSet::new()
        } else {
            expected_failures(fixture).into_iter().collect()
        };
        if distinct.len() != 1 || verdicts[0].1 != expected {
            unstable.push(format!("{}: {distinct:?}", fixture.display()));
        }
    }
    assert!(
        unstable.is_empty(),
        "programs with another verdict than their one expected:\n{}",
        unstable.join("\n")
    );
}

/// Three copies of every fixture: what `cargo test` runs.
#[test]
fn every_fixture_gets_one_verdict_three_times_over() {
    every_fixture_one_verdict(3);
}

/// Ten copies of every fixture.
#[test]
#[ignore = "ten copies of every fixture take several minutes; run with --ignored"]
fn every_fixture_gets_one_verdict_ten_times_over() {
    every_fixture_one_verdict(10);
}

//! GitHub Classroom as students see it: grading/github-classroom/classroom.yml parsed as
//! YAML, its lab steps run with bash on a student's repository as the runner would, and
//! their results read by the rules of Classroom's own reporter (`classroom_reporter`, with
//! the real one too when `SOCKLAB_CLASSROOM_REPORTER_JS` names its bundle).

mod classroom_reporter;
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use common::lab_checks;
use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn socklab_bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("socklab")
}

fn yaml_str<'a>(v: &'a serde_norway::Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key} in {v:?}"))
}

/// The environment a mapping of the workflow gives its steps (`env:`), as pairs.
fn env_of(v: &serde_norway::Value) -> Vec<(String, String)> {
    v["env"]
        .as_mapping()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.as_str().unwrap().into(), v.as_str().unwrap().into()))
                .collect()
        })
        .unwrap_or_default()
}

/// A folder of links to every program on PATH but the netcats: a runner without one, where
/// socklab cannot grade the netcat lab.
fn path_without_netcat(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir(&bin).unwrap();
    for folder in std::env::split_paths(&std::env::var_os("PATH").unwrap()) {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let netcat = name == "nc" || name == "ncat" || name.starts_with("nc.");
            if !netcat && !name.starts_with("netcat") {
                // The first on PATH wins, as for the shell.
                let _ = std::os::unix::fs::symlink(entry.path(), bin.join(&name));
            }
        }
    }
    bin
}

/// What one lab step left behind.
struct StepRun {
    /// Its stdout and stderr, as the Actions log shows them.
    log: String,
    /// `result=` from $GITHUB_OUTPUT, base64.
    result: String,
    /// What it added to $GITHUB_STEP_SUMMARY.
    summary: String,
}

/// Runs the workflow step with id `lab` as the runner would: bash -e, the workflow's and the
/// step's environment, in the student's repository.
fn run_step(step: &serde_norway::Value, env: &[(String, String)], repo: &Path) -> StepRun {
    let id = yaml_str(step, "id");
    let output_file = repo.join(format!("{id}.output"));
    let summary_file = repo.join(format!("{id}.summary"));
    let output = Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c"])
        .arg(yaml_str(step, "run"))
        .current_dir(repo)
        .env_remove("PYTHONUNBUFFERED")
        .env_remove("NO_COLOR")
        .env_remove("FORCE_COLOR")
        .envs(env.iter().cloned())
        .envs(env_of(step))
        .env("GITHUB_OUTPUT", &output_file)
        .env("GITHUB_STEP_SUMMARY", &summary_file)
        .env("RUNNER_TEMP", repo)
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the {id} step failed:\n{log}");
    let written = std::fs::read_to_string(&output_file).unwrap();
    let result = written
        .strip_prefix("result=")
        .and_then(|r| r.strip_suffix('\n'))
        .unwrap_or_else(|| panic!("{id}: $GITHUB_OUTPUT holds {written:?}"))
        .to_string();
    StepRun {
        log,
        result,
        summary: std::fs::read_to_string(&summary_file).unwrap_or_default(),
    }
}

/// `text` without ANSI colour.
fn plain(text: &str) -> String {
    anstream::adapter::strip_str(text).to_string()
}

/// The score socklab's human report gives, from its last line (`score: 7/10  (...)`).
fn human_score(log: &str) -> (u32, u32) {
    let line = plain(log)
        .lines()
        .find_map(|l| l.strip_prefix("score: ").map(str::to_string))
        .unwrap_or_else(|| panic!("no score line in {log}"));
    let (score, rest) = line.split_once('/').unwrap();
    let max: String = rest.chars().take_while(char::is_ascii_digit).collect();
    (score.parse().unwrap(), max.parse().unwrap())
}

/// The workflow is YAML GitHub can read: triggered on push, allowed to write checks, one
/// step per lab (id = lab) and the reporter reading each step's `result` as `<ID>_RESULTS`.
///
/// Its lab steps, run with bash on a student's repository (serv_simple right, conn_simple
/// without the newline, serv_tcp and udp_serv never printing) on a runner without netcat,
/// so that socklab cannot grade the netcat lab: each step's log is socklab's report in
/// colour, with expected and got for a lost check; the summary gets its Markdown; and the
/// reporter, reading the results, prints no `line undefined` and no NaN, each lab's total as
/// socklab scored it, the netcat lab's reason, and `Points X/Y` with Y every lab's maximum.
#[test]
fn classroom_workflow_reports_each_lab() {
    let path = Path::new(ROOT).join("grading/github-classroom/classroom.yml");
    let workflow: serde_norway::Value =
        serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(yaml_str(&workflow, "name"), "Autograding Tests");
    let on: Vec<&str> = workflow["on"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(on.contains(&"push"), "{on:?}");
    assert_eq!(yaml_str(&workflow["permissions"], "checks"), "write");
    let jobs = workflow["jobs"].as_mapping().unwrap();
    assert_eq!(jobs.len(), 1);
    let job = jobs.values().next().unwrap();
    assert_eq!(yaml_str(job, "name"), "Autograding Tests");
    let steps = job["steps"].as_sequence().unwrap();

    let labs: Vec<String> = socklab::labs::all()
        .iter()
        .map(|l| l.name.to_string())
        .collect();
    let reporter = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("classroom-resources/autograding-grading-reporter@"))
        })
        .expect("a reporter step");
    let runners: Vec<String> = yaml_str(&reporter["with"], "runners")
        .split(',')
        .map(|r| r.trim().to_string())
        .collect();
    assert_eq!(runners, labs);

    let repo = tempfile::tempdir().unwrap();
    for (fixture, name) in [
        (
            "fixtures/serv_simple/pass/lesson_serv_simple.py",
            "serv_simple.py",
        ),
        ("fixtures/conn_simple/fail/no_newline.py", "conn_simple.py"),
        ("fixtures/serv_tcp/fail/never_prints.py", "serv_tcp.py"),
        ("fixtures/udp_serv/fail/never_prints.py", "udp_serv.py"),
    ] {
        std::fs::copy(Path::new(ROOT).join(fixture), repo.path().join(name)).unwrap();
    }
    let tools = tempfile::tempdir().unwrap();
    let path_var = format!(
        "{}:{}",
        socklab_bin().parent().unwrap().display(),
        path_without_netcat(tools.path()).display()
    );
    let mut env = env_of(&workflow);
    env.extend(env_of(job));
    env.push(("PATH".into(), path_var));

    // Each lab's step, and the result the reporter gets from it as `<RUNNER>_RESULTS`.
    let mut ran = Vec::new();
    let mut results = Vec::new();
    for runner in &runners {
        let expression = yaml_str(
            &reporter["env"],
            &format!("{}_RESULTS", runner.to_uppercase()),
        );
        let id = expression
            .strip_prefix("${{ steps.")
            .and_then(|e| e.strip_suffix(".outputs.result }}"))
            .unwrap_or_else(|| panic!("{runner}: {expression}"));
        let step = steps
            .iter()
            .find(|s| s["id"].as_str() == Some(id))
            .unwrap_or_else(|| panic!("no step with id {id}"));
        let run = run_step(step, &env, repo.path());
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(&run.result)
            .unwrap();
        let result: Value = serde_json::from_slice(&decoded).unwrap();
        results.push((runner.clone(), result));
        ran.push(run);
    }

    let reported = classroom_reporter::report(&results);
    let mut by_node = None;
    if let Ok(js) = std::env::var("SOCKLAB_CLASSROOM_REPORTER_JS") {
        let encoded: Vec<(String, String)> = runners
            .iter()
            .cloned()
            .zip(ran.iter().map(|r| r.result.clone()))
            .collect();
        by_node = Some(classroom_reporter::report_with_node(&js, &encoded));
    }

    let all_max: u32 = labs
        .iter()
        .flat_map(|lab| lab_checks(lab))
        .map(|(_, max)| max)
        .sum();
    let mut all_score = 0;
    for ((lab, result), run) in results.iter().zip(&ran) {
        let max: u32 = lab_checks(lab).iter().map(|(_, m)| m).sum();
        assert_eq!(result["max_score"], max, "{lab}: {result:#}");
        if lab == "netcat" {
            assert_eq!(result["status"], "error", "{result:#}");
            assert!(run.log.contains("program not found: nc"), "{}", run.log);
            assert!(run.summary.contains("not graded"), "{}", run.summary);
            for reported in std::iter::once(&reported).chain(&by_node) {
                let log = plain(&reported.log);
                let reason = "Error: socklab could not grade netcat: program not found: nc";
                assert!(log.contains(reason), "{log}");
                assert!(log.contains(&format!("Total points for netcat: 0.00/{max}")));
            }
            continue;
        }
        assert!(run.log.contains('\x1b'), "{lab}: no colour in the log");
        let (score, shown_max) = human_score(&run.log);
        assert_eq!(shown_max, max, "{lab}");
        all_score += score;
        let heading = format!(
            "### {} {}: {score}/{max}",
            if score == max { "✅" } else { "❌" },
            lab.replace('_', "\\_")
        );
        assert!(run.summary.starts_with(&heading), "{lab}: {}", run.summary);
        for reported in std::iter::once(&reported).chain(&by_node) {
            let log = plain(&reported.log);
            let total = format!("Total points for {lab}: {score}.00/{max}");
            assert!(log.contains(&total), "{total} not in\n{log}");
        }
    }
    // The lost check's evidence: in the lab step's log, and under its ❌ in the reporter's.
    let conn = plain(&ran[runners.iter().position(|r| r == "conn_simple").unwrap()].log);
    for part in [
        "FAIL  sends_hello",
        "expected: ",
        "got: ",
        "why: ",
        "transcript:",
    ] {
        assert!(conn.contains(part), "{part} not in\n{conn}");
    }
    for reported in std::iter::once(&reported).chain(&by_node) {
        let log = plain(&reported.log);
        assert!(
            !log.contains("line undefined") && !log.contains(" - line "),
            "{log}"
        );
        assert!(!log.contains("NaN"), "{log}");
        let lost = log
            .split("❌ conn_simple: sends_hello")
            .nth(1)
            .unwrap_or_else(|| panic!("no ❌ for sends_hello in\n{log}"));
        assert!(
            lost.contains("expected: ") && lost.contains("got: "),
            "{log}"
        );
        assert_eq!(
            reported.points.as_deref(),
            Some(format!("Points {all_score}/{all_max}").as_str()),
            "{log}"
        );
        assert!(reported.failed);
    }
}

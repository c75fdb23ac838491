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
use rstest::rstest;
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
/// step's environment, in the student's repository. It must succeed.
fn run_step(step: &serde_norway::Value, env: &[(String, String)], repo: &Path) -> StepRun {
    let (log, success) = try_step(step, env, repo);
    let id = yaml_str(step, "id");
    assert!(success, "the {id} step failed:\n{log}");
    let written = std::fs::read_to_string(repo.join(format!("{id}.output"))).unwrap();
    let result = written
        .strip_prefix("result=")
        .and_then(|r| r.strip_suffix('\n'))
        .unwrap_or_else(|| panic!("{id}: $GITHUB_OUTPUT holds {written:?}"))
        .to_string();
    StepRun {
        log,
        result,
        summary: std::fs::read_to_string(repo.join(format!("{id}.summary"))).unwrap_or_default(),
    }
}

/// Runs a step as [`run_step`] does; returns its log and whether it succeeded.
fn try_step(step: &serde_norway::Value, env: &[(String, String)], repo: &Path) -> (String, bool) {
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
    (log, output.status.success())
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

/// The committed workflow, parsed.
fn workflow() -> serde_norway::Value {
    let path = Path::new(ROOT).join("grading/github-classroom/classroom.yml");
    serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The workflow's one job.
fn job(workflow: &serde_norway::Value) -> &serde_norway::Value {
    let jobs = workflow["jobs"].as_mapping().unwrap();
    assert_eq!(jobs.len(), 1);
    jobs.values().next().unwrap()
}

/// The reporter's step.
fn reporter_step(job: &serde_norway::Value) -> &serde_norway::Value {
    job["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("classroom-resources/autograding-grading-reporter@"))
        })
        .expect("a reporter step")
}

/// The runners the reporter reads, in its order.
fn runners_of(reporter: &serde_norway::Value) -> Vec<String> {
    yaml_str(&reporter["with"], "runners")
        .split(',')
        .map(|r| r.trim().to_string())
        .collect()
}

/// What the workflow's lab steps and its reporter did on a student's repository.
struct Graded {
    /// Each runner and the result the reporter decoded from its step.
    results: Vec<(String, Value)>,
    /// Each runner's step.
    ran: Vec<StepRun>,
    /// The reporter's verdict by the rules re-done here, and by the real one under node
    /// when `SOCKLAB_CLASSROOM_REPORTER_JS` names its bundle.
    reported: Vec<classroom_reporter::Reported>,
}

/// Runs every lab step of the workflow on `repo` with `path` as PATH, as the runner would,
/// then the reporter over their results.
fn grade_repository(workflow: &serde_norway::Value, repo: &Path, path: String) -> Graded {
    let job = job(workflow);
    let steps = job["steps"].as_sequence().unwrap();
    let reporter = reporter_step(job);
    let mut env = env_of(workflow);
    env.extend(env_of(job));
    env.push(("PATH".into(), path));
    // Each lab's step, and the result the reporter gets from it as `<RUNNER>_RESULTS`.
    let (mut ran, mut results) = (Vec::new(), Vec::new());
    for runner in runners_of(reporter) {
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
        let run = run_step(step, &env, repo);
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(&run.result)
            .unwrap();
        results.push((runner, serde_json::from_slice(&decoded).unwrap()));
        ran.push(run);
    }
    let mut reported = vec![classroom_reporter::report(&results)];
    if let Ok(js) = std::env::var("SOCKLAB_CLASSROOM_REPORTER_JS") {
        let encoded: Vec<(String, String)> = results
            .iter()
            .map(|(runner, _)| runner.clone())
            .zip(ran.iter().map(|r| r.result.clone()))
            .collect();
        reported.push(classroom_reporter::report_with_node(&js, &encoded));
    }
    Graded {
        results,
        ran,
        reported,
    }
}

/// PATH with this build's socklab first.
fn path_with_socklab(rest: &str) -> String {
    format!("{}:{rest}", socklab_bin().parent().unwrap().display())
}

/// Every lab's points.
fn all_labs_max() -> u32 {
    socklab::labs::Labs::built_in()
        .all()
        .iter()
        .flat_map(|lab| lab_checks(&lab.name))
        .map(|(_, max)| max)
        .sum()
}

/// The workflow is YAML GitHub can read: triggered on push, allowed to write checks, one
/// step per lab (id = lab) and the reporter reading each step's `result` as `<ID>_RESULTS`.
///
/// Its lab steps, run with bash on a student's repository (serv_simple right, conn_simple
/// without the newline, serv_tcp and udp_serv never printing, the lesson's activity1.sh):
/// each step's log is socklab's report in colour, with expected and got for a lost check;
/// the summary gets its Markdown; and the reporter, reading the results, prints no `line
/// undefined` and no NaN, each lab's total as socklab scored it, and `Points X/Y` with Y
/// every lab's maximum.
#[test]
fn classroom_workflow_reports_each_lab() {
    let workflow = workflow();
    assert_eq!(yaml_str(&workflow, "name"), "Autograding Tests");
    let on: Vec<&str> = workflow["on"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(on.contains(&"push"), "{on:?}");
    assert_eq!(yaml_str(&workflow["permissions"], "checks"), "write");
    assert_eq!(yaml_str(job(&workflow), "name"), "Autograding Tests");
    let labs: Vec<String> = socklab::labs::Labs::built_in()
        .all()
        .iter()
        .map(|l| l.name.to_string())
        .collect();
    assert_eq!(runners_of(reporter_step(job(&workflow))), labs);

    let repo = tempfile::tempdir().unwrap();
    for (fixture, name) in [
        (
            "fixtures/serv_simple/pass/lesson_serv_simple.py",
            "serv_simple.py",
        ),
        ("fixtures/conn_simple/fail/no_newline.py", "conn_simple.py"),
        ("fixtures/serv_tcp/fail/never_prints.py", "serv_tcp.py"),
        ("fixtures/udp_serv/fail/never_prints.py", "udp_serv.py"),
        ("fixtures/netcat/pass/lesson.sh", "activity1.sh"),
    ] {
        std::fs::copy(Path::new(ROOT).join(fixture), repo.path().join(name)).unwrap();
    }
    let path = path_with_socklab(&std::env::var("PATH").unwrap());
    let Graded {
        results,
        ran,
        reported,
    } = grade_repository(&workflow, repo.path(), path);

    let mut all_score = 0;
    for ((lab, result), run) in results.iter().zip(&ran) {
        let max: u32 = lab_checks(lab).iter().map(|(_, m)| m).sum();
        assert_eq!(result["max_score"], max, "{lab}: {result:#}");
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
        for reported in &reported {
            let log = plain(&reported.log);
            let total = format!("Total points for {lab}: {score}.00/{max}");
            assert!(log.contains(&total), "{total} not in\n{log}");
        }
    }
    // The lost check's evidence: in the lab step's log, and under its ❌ in the reporter's.
    let conn = plain(&ran[labs.iter().position(|r| r == "conn_simple").unwrap()].log);
    for part in [
        "FAIL  sends_hello",
        "expected: ",
        "got: ",
        "why: ",
        "transcript:",
    ] {
        assert!(conn.contains(part), "{part} not in\n{conn}");
    }
    for reported in &reported {
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
            Some(format!("Points {all_score}/{}", all_labs_max()).as_str()),
            "{log}"
        );
        assert!(reported.failed);
    }
}

/// On a runner where socklab cannot grade a lab (here, no netcat to run activity1.sh's
/// commands with: the runner's trouble, not the student's), that lab's step fails with the
/// reason, as an error annotation, and the job stops there: the reporter never runs, so
/// Classroom is given no points, never a zero the student did not earn.
#[test]
fn a_lab_socklab_cannot_grade_fails_the_workflow_with_no_points() {
    let workflow = workflow();
    let repo = tempfile::tempdir().unwrap();
    std::fs::copy(
        Path::new(ROOT).join("fixtures/netcat/pass/lesson.sh"),
        repo.path().join("activity1.sh"),
    )
    .unwrap();
    let tools = tempfile::tempdir().unwrap();
    let path = path_with_socklab(&path_without_netcat(tools.path()).display().to_string());
    let job = job(&workflow);
    let mut env = env_of(&workflow);
    env.extend(env_of(job));
    env.push(("PATH".into(), path));
    let steps = job["steps"].as_sequence().unwrap();
    let netcat = steps
        .iter()
        .position(|s| s["id"].as_str() == Some("netcat"))
        .unwrap();
    let (log, success) = try_step(&steps[netcat], &env, repo.path());
    assert!(!success, "{log}");
    assert!(
        log.contains("::error title=netcat::socklab could not grade netcat (see above), so no points are given"),
        "{log}"
    );
    assert!(log.contains("program not found: nc"), "{log}");
    // No `if: always()` or the like: after a failed step, GitHub runs no later step.
    let reporter = steps
        .iter()
        .position(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.contains("grading-reporter"))
        })
        .unwrap();
    assert!(reporter > netcat);
    assert!(steps[reporter].get("if").is_none(), "{:?}", steps[reporter]);
}

/// GitHub Classroom on the template repository as handed out, its files empty (nothing, or
/// comments only), and on one without the files: no lab is graded, and the student reads
/// why in each step's log, on the summary page and under each lab's ❌ in the reporter's
/// log; every lab 0 of its points, `Points 0/Y` with Y every lab's maximum.
#[rstest]
#[case::empty_files(true)]
#[case::no_files(false)]
fn classroom_on_the_template_gives_zero(#[case] files: bool) {
    let repo = tempfile::tempdir().unwrap();
    // actions/checkout leaves a checkout: the repository.
    std::fs::create_dir(repo.path().join(".git")).unwrap();
    let template = [
        ("serv_simple", "serv_simple.py", ""),
        (
            "conn_simple",
            "conn_simple.py",
            "#!/usr/bin/python3\n# conn_simple.py\n",
        ),
        (
            "serv_tcp",
            "serv_tcp.py",
            "# serv_tcp.py: your select() chat server\n\n",
        ),
        ("udp_serv", "udp_serv.py", "\n"),
        (
            "netcat",
            "activity1.sh",
            "#!/bin/sh\n# Activity 1: the four nc commands, one a line\n",
        ),
    ];
    for (_, file, text) in template.iter().filter(|_| files) {
        std::fs::write(repo.path().join(file), text).unwrap();
    }
    let path = path_with_socklab(&std::env::var("PATH").unwrap());
    let Graded {
        results,
        ran,
        reported,
    } = grade_repository(&workflow(), repo.path(), path);

    assert_eq!(results.len(), template.len());
    for (((lab, result), run), (labbed, file, _)) in results.iter().zip(&ran).zip(&template) {
        assert_eq!(lab, labbed);
        let reason = if files {
            format!("{file} is empty")
        } else {
            format!("no {file} in the repository")
        };
        let max: u32 = lab_checks(lab).iter().map(|(_, m)| m).sum();
        assert_eq!(
            (&result["status"], &result["max_score"]),
            (&"fail".into(), &max.into())
        );
        assert!(
            result["tests"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t["score"] == 0),
            "{result:#}"
        );
        assert_eq!(human_score(&run.log), (0, max), "{}", run.log);
        let note = format!("{reason}, so {lab} was not graded");
        assert!(plain(&run.log).contains(&note), "{}", run.log);
        assert!(run.summary.contains("not graded"), "{}", run.summary);
        for reported in &reported {
            let log = plain(&reported.log);
            let lab_log = log
                .split(&format!("🔄 Processing: {lab}"))
                .nth(1)
                .unwrap_or_else(|| panic!("{lab} not in\n{log}"));
            assert!(lab_log.contains(&format!("not reached: {reason}")), "{log}");
            assert!(
                lab_log.contains(&format!("Total points for {lab}: 0.00/{max}")),
                "{log}"
            );
        }
    }
    for reported in &reported {
        assert_eq!(
            reported.points.as_deref(),
            Some(format!("Points 0/{}", all_labs_max()).as_str()),
            "{}",
            reported.log
        );
        assert!(reported.failed);
    }
}

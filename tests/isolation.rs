//! Every run gets its own network and PID namespace: the lesson's hard-coded port is free
//! every time (even right after a run left it in TIME_WAIT, even in parallel runs), and
//! nothing the program started outlives the run.

mod common;

use std::thread;

use assert_cmd::assert::OutputAssertExt;
use common::{grade_json, not_passed, processes_with, socklab};

fn lesson(lab: &str) -> Vec<String> {
    vec![
        "python3".into(),
        format!("fixtures/{lab}/pass/lesson_{lab}.py"),
    ]
}

/// The lesson's serv_simple closes first and sets no SO_REUSEADDR, so on the host a second
/// run at once fails with "Address already in use"; graded twice in a row, both get full
/// marks.
#[test]
fn lesson_program_grades_twice_in_a_row() {
    for run in 1..=2 {
        let (code, report) = grade_json("serv_simple", &lesson("serv_simple"));
        assert_eq!(code, 0, "run {run}: {report:#}");
        assert_eq!(report["isolation"], "namespaces");
    }
}

/// The three TCP labs, twice each, all with port 8000 written in them, graded at once.
#[test]
fn tcp_labs_with_hard_coded_ports_grade_in_parallel() {
    let runs: Vec<_> = ["serv_simple", "conn_simple", "serv_tcp"]
        .iter()
        .flat_map(|lab| [lab, lab])
        .map(|lab| thread::spawn(move || (lab, grade_json(lab, &lesson(lab)))))
        .collect();
    for run in runs {
        let (lab, (code, report)) = run.join().unwrap();
        assert_eq!(
            (code, not_passed(&report)),
            (0, vec![]),
            "{lab}: {report:#}"
        );
    }
}

/// A program that starts a child in a session of its own (escaping its process group),
/// and one that ignores SIGTERM, SIGINT and SIGHUP: after the run nothing of either runs.
#[test]
fn nothing_the_program_started_outlives_the_run() {
    let token = format!("socklab-escapee-{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("escapes.py");
    std::fs::write(
        &script,
        format!(
            "import signal, subprocess, time\n\
             subprocess.Popen(['sleep', '1000', '{token}'], start_new_session=True)\n\
             for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):\n    signal.signal(s, signal.SIG_IGN)\n\
             print('never listening'); time.sleep(1000)\n"
        ),
    )
    .unwrap();
    let output = socklab()
        .args([
            "check",
            "serv_simple",
            "--timeout",
            "1",
            "--format",
            "json",
            "--",
            "python3",
        ])
        .arg(&script)
        .arg(&token)
        .output()
        .unwrap();
    assert_eq!(common::exit_code(&output), 1);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["stopped_by_harness"], true);
    assert_eq!(processes_with(&token), Vec::<String>::new(), "left running");
}

/// With its stdout on a terminal, a C program using printf without fflush is graded as on a
/// laptop; PYTHONUNBUFFERED set by the grader's shell does not reach the program.
#[test]
fn program_sees_a_terminal_not_the_graders_environment() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("env.py");
    std::fs::write(
        &script,
        "import os, sys, socket\n\
         s = socket.socket(); s.bind(('0.0.0.0', 8000)); s.listen()\n\
         c, a = s.accept()\n\
         print('connection from', a, os.isatty(0), os.isatty(1), os.environ.get('PYTHONUNBUFFERED'))\n",
    )
    .unwrap();
    let output = socklab()
        .env("PYTHONUNBUFFERED", "1")
        .args([
            "check",
            "serv_simple",
            "--timeout",
            "1",
            "--format",
            "json",
            "--",
            "python3",
        ])
        .arg(&script)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let screen: String = report["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["who"] == "screen")
        .map(|e| e["text"].as_str().unwrap().to_string())
        .collect();
    assert!(screen.contains("True True None"), "screen: {screen}");
}

/// Without root, socklab enters a user namespace first and still gives the program a
/// network namespace of its own (run as `nobody` when the tests run as root).
#[test]
fn unprivileged_user_still_gets_a_namespace() {
    use std::os::unix::fs::PermissionsExt;
    // The checkout may lie where `nobody` cannot go (under /root): give it copies it can.
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = dir.path().join("socklab");
    std::fs::copy(assert_cmd::cargo::cargo_bin("socklab"), &bin).unwrap();
    let fixture = dir.path().join("serv_simple.py");
    std::fs::copy("fixtures/serv_simple/pass/lesson_serv_simple.py", &fixture).unwrap();
    std::fs::set_permissions(&fixture, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut cmd = if nix::unistd::geteuid().is_root() {
        let mut cmd = std::process::Command::new("runuser");
        cmd.args(["-u", "nobody", "--"]).arg(&bin);
        cmd
    } else {
        std::process::Command::new(&bin)
    };
    let output = cmd
        .env_remove("PYTHONUNBUFFERED")
        .args(["check", "serv_simple", "--format", "json", "--", "python3"])
        .arg(&fixture)
        .current_dir("/")
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    assert_eq!(report["isolation"], "namespaces", "{report:#}");
    assert_eq!(common::exit_code(&output), 0, "{report:#}");
}

/// The host fallback: a one-line notice on stderr, and grading still works on a port
/// socklab chose.
#[test]
fn host_fallback_says_so_and_still_grades() {
    // The program runs as a user of its own: a copy it can reach wherever the checkout is.
    let dir = tempfile::tempdir().unwrap();
    common::open_to_all(dir.path());
    let copy = dir.path().join("socklab");
    std::fs::copy(assert_cmd::cargo::cargo_bin("socklab"), &copy).unwrap();
    let bin = copy.display().to_string();
    let output = socklab()
        .env("SOCKLAB_ISOLATION", "host")
        .args([
            "check", "serv_tcp", "--format", "json", "--", &bin, "ref", "serv_tcp", "{port}",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(common::exit_code(&output), 0, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one notice line: {stderr}");
    assert!(stderr.contains("host's loopback"), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["isolation"], common::Place::Host.isolation());
}

/// On the host, the lesson's port in use by something else is a clear exit-2 error naming
/// the port, not a failed grade.
#[test]
fn host_fallback_with_lesson_port_taken_exits_2() {
    // Whoever holds 8000 on the host (this listener or another program), socklab must say so.
    let _holder = std::net::TcpListener::bind(("0.0.0.0", 8000));
    socklab()
        .env("SOCKLAB_ISOLATION", "host")
        .args([
            "check",
            "serv_simple",
            "--",
            "python3",
            "fixtures/serv_simple/pass/lesson_serv_simple.py",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("port 8000 is already in use"));
}

/// As root the program runs as a user of its own in namespaces too: a folder of root's on
/// the way to its file is opened in its view, but a file only root may read is socklab's
/// clear error naming it, not the student's failed grade.
#[test]
fn a_file_only_root_may_read_is_a_clear_error() {
    use std::os::unix::fs::PermissionsExt;
    assert!(
        nix::unistd::geteuid().is_root(),
        "this test grades as root: run it as root"
    );
    let dir = tempfile::tempdir().unwrap();
    let program = dir.path().join("serv_simple.py");
    std::fs::copy("fixtures/serv_simple/pass/lesson_serv_simple.py", &program).unwrap();
    let grade = || {
        socklab()
            .args(["check", "serv_simple", "--format", "json"])
            .arg(&program)
            .output()
            .unwrap()
    };
    // The folder is root's alone (mode 0700): the program still gets full marks.
    let opened = grade();
    assert_eq!(
        common::exit_code(&opened),
        0,
        "{}",
        String::from_utf8_lossy(&opened.stdout)
    );
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o600)).unwrap();
    common::assert_cannot_grade(
        &grade(),
        &format!(
            "cannot reach {}: {} is not readable by other users (mode 0600)",
            program.display(),
            program.display()
        ),
    );
}

//! Programs hostile by accident: whatever they do, socklab gives a verdict, keeps its own
//! memory small, and leaves nothing of theirs running.

mod common;

use common::{grade_json, not_passed, processes_with, socklab};

fn fixture(name: &str) -> String {
    format!("fixtures/hostile/{name}")
}

/// Runs socklab to its end and returns (exit code, JSON report, peak RSS in KiB of socklab
/// and everything it waited for).
fn grade_measured(lab: &str, args: &[&str]) -> (i32, serde_json::Value, i64) {
    let (code, out, peak_kib) = common::run_measured(
        socklab()
            .args(["check", lab, "--timeout", "1", "--format", "json", "--"])
            .args(args),
    );
    let report = serde_json::from_slice(&out).expect("a JSON report");
    (code, report, peak_kib)
}

/// A program printing hundreds of MB: a failing verdict, the output kept capped (the rest
/// counted), and socklab's peak memory far below the flood.
#[test]
fn endless_output_is_capped() {
    let (code, report, peak_kib) =
        grade_measured("serv_simple", &["python3", &fixture("flood.py")]);
    assert_eq!(code, 1);
    assert!(
        report["transcript_omitted_bytes"].as_u64().unwrap() > 1 << 20,
        "{}",
        report["transcript_omitted_bytes"]
    );
    let exits = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "exits_cleanly")
        .unwrap();
    assert!(
        exits["message"]
            .as_str()
            .unwrap()
            .contains("b'x' over and over, but never exited"),
        "{exits}"
    );
    // Python's own RSS is in this figure too; an unbounded buffer would be hundreds of MB.
    assert!(peak_kib < 64 * 1024, "peak RSS {peak_kib} KiB");
}

/// 300 children in sessions of their own, and a parent ignoring SIGTERM: after the run none
/// of them runs, and the next run of the lesson's program is unaffected.
#[test]
fn hundreds_of_escaped_children_are_gone_after_the_run() {
    let token = format!("socklab-hostile-{}", std::process::id());
    let (code, _, _) = grade_measured(
        "serv_simple",
        &["python3", &fixture("setsid_children.py"), &token],
    );
    assert_eq!(code, 1);
    let left = processes_with(&token);
    assert!(left.is_empty(), "{} processes left running", left.len());
    let (code, report) = grade_json(
        "serv_simple",
        &[
            "python3".into(),
            "fixtures/serv_simple/pass/lesson_serv_simple.py".into(),
        ],
    );
    assert_eq!(code, 0, "{report:#}");
}

/// A program that exits at once fails every check (most not reached) without waiting out
/// deadlines for a listener that will never come.
#[test]
fn program_that_exits_at_once_gets_a_clear_verdict() {
    let (code, report, _) = grade_measured("serv_tcp", &["python3", &fixture("exits_at_once.py")]);
    assert_eq!(code, 1);
    let accepts = &report["checks"][0];
    assert_eq!(accepts["status"], "failed");
    assert!(
        accepts["message"]
            .as_str()
            .unwrap()
            .contains("exited with status 0"),
        "{accepts}"
    );
}

/// Closing its own terminal is reported as such, and what can still be checked is.
#[test]
fn program_that_closes_its_terminal_is_told_so() {
    let (code, report, _) =
        grade_measured("serv_simple", &["python3", &fixture("closes_terminal.py")]);
    assert_eq!(code, 1);
    let client = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "prints_client")
        .unwrap();
    assert!(
        client["message"]
            .as_str()
            .unwrap()
            .contains("closed its terminal"),
        "{client}"
    );
    assert!(!not_passed(&report).contains(&"accepts".to_string()));
}

/// Megabytes sent to the harness's peer after the typed line: the check that typed it fails
/// on the first wrong bytes and answers for them all (the close after them is the
/// program's own), and the report stays small.
#[test]
fn megabytes_to_the_peer_fail_one_check() {
    let (code, report, peak_kib) =
        grade_measured("serv_simple", &["python3", &fixture("floods_peer.py")]);
    assert_eq!(code, 1);
    assert_eq!(not_passed(&report), ["sends_typed_line"]);
    assert!(peak_kib < 64 * 1024, "peak RSS {peak_kib} KiB");
    assert!(
        report.to_string().len() < 1 << 20,
        "report of {} bytes",
        report.to_string().len()
    );
}

/// In a class, submissions that flood their screen, scatter hundreds of escaped children or
/// exit at once, graded two at a time beside correct ones, leave the correct ones' verdicts
/// untouched and nothing running afterwards.
#[test]
fn misbehaving_submissions_do_not_disturb_the_class() {
    let token = format!("socklab-class-{}", std::process::id());
    let class = tempfile::tempdir().unwrap();
    for (id, fixture) in [
        ("ann", "fixtures/serv_simple/pass/lesson_serv_simple.py"),
        ("bob", "fixtures/hostile/flood.py"),
        ("cid", "fixtures/hostile/setsid_children.py"),
        ("dee", "fixtures/serv_simple/pass/with_socket_readline.py"),
        ("eli", "fixtures/hostile/exits_at_once.py"),
    ] {
        std::fs::create_dir_all(class.path().join(id)).unwrap();
        std::fs::copy(fixture, class.path().join(id).join("serv_simple.py")).unwrap();
    }
    let output = socklab()
        .args(["grade", "serv_simple"])
        .arg(class.path())
        .args([
            "--jobs",
            "2",
            "--timeout",
            "1",
            "--format",
            "json",
            "--",
            "python3",
            "{dir}/serv_simple.py",
            &token,
        ])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    let scores = common::class_scores(&report);
    let full: Vec<&str> = scores
        .iter()
        .filter(|(_, s)| *s == 10)
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(full, ["ann", "dee"], "{scores:?}");
    assert_eq!(
        processes_with(&token),
        Vec::<String>::new(),
        "processes left running"
    );
}

//! The command-line contract: exit codes 0/1/2, one plain error line for what cannot be
//! graded, the JSON report's shape, and output that never passes a program's bytes raw.

mod common;

use std::os::unix::fs::PermissionsExt;

use assert_cmd::assert::OutputAssertExt;
use common::{assert_cannot_grade, grade_json, socklab};
use predicates::prelude::*;
use rstest::rstest;

fn reference(lab: &str) -> Vec<String> {
    vec![
        assert_cmd::cargo::cargo_bin("socklab")
            .display()
            .to_string(),
        "ref".into(),
        lab.into(),
        "{port}".into(),
    ]
}

/// `socklab labs` names every lab of the lesson's TCP part with its port.
#[test]
fn labs_lists_the_tcp_labs() {
    socklab()
        .arg("labs")
        .assert()
        .success()
        .stdout(
            predicate::str::contains("serv_simple").and(predicate::str::contains("conn_simple")),
        )
        .stdout(predicate::str::contains("serv_tcp").and(predicate::str::contains("8000")));
}

/// Each Rust reference program gets full marks from its own lab, on a port socklab chose.
#[rstest]
fn reference_program_gets_full_marks(
    #[values("serv_simple", "conn_simple", "serv_tcp", "udp_serv")] lab: &str,
) {
    let (code, report) = grade_json(lab, &reference(lab));
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["score"], report["max_score"]);
    assert_ne!(
        report["port"], 8000,
        "{{port}} should be a port socklab chose"
    );
}

/// The JSON report carries the fields scripts rely on, and a failure says what was expected
/// and what came, with the program's bytes escaped as Python shows them.
#[test]
fn json_report_has_the_promised_fields() {
    let (code, report) = grade_json(
        "conn_simple",
        &[
            "python3".into(),
            "fixtures/conn_simple/fail/no_newline.py".into(),
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(report["lab"], "conn_simple");
    assert!(report["score"].as_u64().unwrap() < report["max_score"].as_u64().unwrap());
    assert!(
        report["transcript"]
            .as_array()
            .is_some_and(|t| !t.is_empty())
    );
    let checks = report["checks"].as_array().unwrap();
    for check in checks {
        for field in ["name", "points", "max", "passed"] {
            assert!(!check[field].is_null(), "check without {field}: {check}");
        }
    }
    let hello = checks.iter().find(|c| c["name"] == "sends_hello").unwrap();
    assert_eq!(hello["passed"], false);
    assert_eq!(hello["expected"], r"b'Hello!\n'");
    assert_eq!(hello["got"], "b'Hello!'");
}

/// Lost marks exit 1 and the human report says which check failed and why.
#[test]
fn lost_marks_exit_1_with_expected_and_got() {
    socklab()
        .args([
            "check",
            "serv_simple",
            "--",
            "python3",
            "fixtures/serv_simple/fail/sends_crlf.py",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("FAIL  sends_typed_line"))
        .stdout(predicate::str::contains(r"got:      b'hello back\r\n'"));
}

/// What cannot be graded is one plain line on stderr and exit 2, never a panic.
#[rstest]
#[case::unknown_lab(&["check", "nosuchlab", "--", "true"], "unknown lab 'nosuchlab'")]
#[case::missing_program(&["check", "serv_simple", "--", "./no/such/program.py"], "program not found")]
#[case::missing_command(&["check", "serv_simple", "--", "no-such-command-xyz"], "program not found")]
#[case::no_program(&["check", "serv_simple"], "no program given")]
#[case::bad_timeout(&["check", "serv_simple", "--timeout", "soon", "--", "true"], "not a number")]
#[case::unknown_reference(&["ref", "nosuchlab", "8000"], "unknown lab")]
fn cannot_grade_exits_2_with_one_line(#[case] args: &[&str], #[case] says: &str) {
    assert_cannot_grade(&socklab().args(args).output().unwrap(), says);
}

/// A script without its run bit is named in the error, with the way out.
#[test]
fn script_without_run_bit_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("serv.py");
    std::fs::write(&script, "#!/usr/bin/env python3\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
    socklab()
        .args(["check", "serv_simple", "--"])
        .arg(&script)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("is not executable").and(predicate::str::contains("python3")),
        );
}

/// Escape sequences, NUL and invalid UTF-8 printed by a program reach neither a redirected
/// report raw nor the JSON unescaped.
#[test]
fn program_control_bytes_are_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("noisy.py");
    std::fs::write(
        &script,
        "import sys, socket\n\
         s = socket.socket(); s.bind(('0.0.0.0', 8000)); s.listen()\n\
         c, a = s.accept()\n\
         sys.stdout.buffer.write(b'\\x1b[31mred\\x00\\xff\\n'); sys.stdout.flush()\n\
         sys.stdin.readline()\n",
    )
    .unwrap();
    let output = socklab()
        .args(["check", "serv_simple", "--timeout", "1", "--", "python3"])
        .arg(&script)
        .output()
        .unwrap();
    assert_eq!(common::exit_code(&output), 1);
    let stdout = output.stdout;
    assert!(!stdout.contains(&0x1b), "raw ESC in the report");
    assert!(!stdout.contains(&0), "raw NUL in the report");
    assert!(
        std::str::from_utf8(&stdout).is_ok(),
        "invalid UTF-8 in the report"
    );
    assert!(String::from_utf8_lossy(&stdout).contains(r"\x1b[31mred\x00\xff"));
}

/// What socklab prints for a person (`labs`, `labs --show`, `export`) to a reader that stops
/// reading (`| head -1`) ends socklab quietly with exit 0: never a panic, never SIGPIPE.
#[rstest]
fn a_reader_that_goes_away_is_no_error(
    #[values(&["labs"][..], &["labs", "--show", "serv_tcp"][..], &["export", "classroom"][..])]
    args: &[&str],
) {
    use std::io::Read;
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("socklab"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before socklab writes a byte.
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{args:?}: {status:?}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
}

//! The formats autograders read: Gradescope's results.json and GitHub Classroom's result
//! object validated field by field, JUnit XML parsed back, each for a program that prints
//! escape sequences, NUL, invalid UTF-8 and `]]>`; `--output FILE` and `--also`; and human
//! output's colour rule. (Rubrics reaching the formats: `rubric.rs`.)

mod common;
mod reports;

use std::collections::BTreeSet;

use common::{assert_no_raw_controls, lab_checks, lesson, noisy_program, run};
use reports::*;
use rstest::rstest;
use serde_json::Value;

/// Gradescope: the top level and every test carry exactly the spec's fields, one test per
/// check in the lab's order, statuses `passed`/`failed` (not reached is failed, with its
/// reason), scores that add up to `score`, and the program's bytes escaped.
#[test]
fn gradescope_results_field_by_field() {
    let r: Value = serde_json::from_str(&noisy_report("gradescope", &[])).unwrap();
    assert_eq!(
        keys(&r),
        set(&[
            "score",
            "execution_time",
            "output",
            "output_format",
            "visibility",
            "stdout_visibility",
            "tests"
        ])
    );
    assert_eq!(
        (&r["visibility"], &r["stdout_visibility"]),
        (&"visible".into(), &"hidden".into())
    );
    assert!(r["execution_time"].is_u64(), "{}", r["execution_time"]);
    assert!(
        r["output"]
            .as_str()
            .unwrap()
            .starts_with("serv_simple: 4/10 (the program exited with status 3"),
        "{}",
        r["output"]
    );
    let tests = r["tests"].as_array().unwrap();
    let checks = lab_checks("serv_simple");
    assert_eq!(tests.len(), checks.len());
    let mut sum = 0;
    for (t, (id, max)) in tests.iter().zip(&checks) {
        assert_eq!(
            keys(t),
            set(&[
                "name",
                "tags",
                "score",
                "max_score",
                "status",
                "output",
                "output_format",
                "visibility"
            ]),
            "{t}"
        );
        assert_eq!(t["name"], format!("serv_simple: {id}"));
        assert_eq!(t["tags"], serde_json::json!(["serv_simple"]));
        assert_eq!(t["max_score"], *max, "{t}");
        assert_eq!(t["visibility"], "visible");
        let output = t["output"].as_str().unwrap();
        match assert_status(t, id, *max, ["passed", "failed"]) {
            "passed" => assert!(!output.contains("expected:"), "{output}"),
            "failed" => {
                for part in ["expected: ", "got: ", "why: "] {
                    assert!(output.contains(part), "{id} lacks {part:?}: {output}");
                }
            }
            _ => assert!(
                output.contains("not reached: the program exited"),
                "{output}"
            ),
        }
        sum += t["score"].as_u64().unwrap();
    }
    assert_eq!(r["score"], sum);
    let printed = named(&r["tests"], "prints_message")["output"]
        .as_str()
        .unwrap();
    assert!(printed.contains(NOISY_SHOWN), "{printed}");
    assert!(printed.contains("transcript:"), "{printed}");
}

/// GitHub Classroom: `version` 1, `status`, `max_score`, on one line, and a test per point
/// of each check (`name`, `status` `pass`/`fail`, `score` 1 or 0, `message`, `test_code`,
/// `filename`, `line_no` 0, `duration`), so that the reporter's passed tests / tests ×
/// `max_score` is the score; the check's evidence on its first test only.
#[test]
fn classroom_result_field_by_field() {
    let text = noisy_report("classroom", &[]);
    assert_eq!(text.lines().count(), 1, "one line: {text}");
    let r: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(keys(&r), set(&["version", "status", "max_score", "tests"]));
    assert_eq!(r["version"], 1);
    assert_eq!(r["status"], "fail");
    let checks = lab_checks("serv_simple");
    let max: u32 = checks.iter().map(|(_, m)| m).sum();
    assert_eq!(r["max_score"], max);
    let mut tests = r["tests"].as_array().unwrap().iter();
    let mut passed = 0;
    for (id, points) in &checks {
        for n in 1..=*points {
            let t = tests
                .next()
                .unwrap_or_else(|| panic!("no test {n} of {id}"));
            assert_eq!(
                keys(t),
                set(&[
                    "name",
                    "status",
                    "score",
                    "message",
                    "test_code",
                    "filename",
                    "line_no",
                    "duration"
                ])
            );
            let name = match points {
                1 => format!("serv_simple: {id}"),
                _ => format!("serv_simple: {id} (point {n} of {points})"),
            };
            assert_eq!(t["name"], name);
            assert_eq!(t["line_no"], 0);
            assert!(
                t["filename"].as_str().unwrap().ends_with("/noisy.py"),
                "{t}"
            );
            assert!(t["duration"].is_u64(), "{t}");
            let outcome = assert_status(t, id, 1, ["pass", "fail"]);
            passed += usize::from(outcome == "passed");
            let message = t["message"].as_str().unwrap();
            let code = t["test_code"].as_str().unwrap();
            if n > 1 {
                assert_eq!((message, code), ("", ""), "{t}");
                continue;
            }
            match outcome {
                "passed" => assert_eq!(message, ""),
                "failed" => {
                    assert!(message.starts_with("expected: "), "{message}");
                    assert!(code.contains("\nexpected: "), "{code}");
                    assert!(!code.contains("transcript"), "{code}");
                }
                _ => assert!(message.starts_with("not reached: "), "{message}"),
            }
        }
    }
    assert!(tests.next().is_none(), "a test per point and no more");
    assert_eq!(
        passed, 4,
        "the reporter's passed tests / tests × max_score is the score"
    );
    let printed = r["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "serv_simple: prints_message (point 1 of 2)")
        .unwrap();
    assert!(printed["message"].as_str().unwrap().contains(NOISY_SHOWN));
}

/// A lab socklab cannot grade (no netcat to grade) still gives GitHub Classroom a result:
/// `status` `error`, the lab's whole `max_score`, one test of `status` `error` saying why;
/// exit 2 with the reason on stderr, as ever.
#[test]
fn classroom_result_when_socklab_cannot_grade() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("result.json");
    let output = common::socklab()
        .args(["check", "netcat", "--format", "classroom", "--output"])
        .arg(&file)
        .env("PATH", dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(err.trim(), "socklab: program not found: nc");
    let r: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let max: u32 = lab_checks("netcat").iter().map(|(_, m)| m).sum();
    assert_eq!(
        (&r["status"], &r["max_score"]),
        (&"error".into(), &max.into())
    );
    let tests = r["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 1, "{r:#}");
    assert_eq!(
        (
            &tests[0]["status"],
            &tests[0]["score"],
            &tests[0]["line_no"]
        ),
        (&"error".into(), &0.into(), &0.into())
    );
    assert_eq!(
        tests[0]["message"],
        "socklab could not grade netcat: program not found: nc"
    );
}

/// JUnit: well-formed XML even though the program printed ESC, NUL, invalid UTF-8 and
/// `]]>`; a testsuite for the lab, a testcase per check named with its points
/// (`prints_message (0/2)`), classname the lab, `file` the program; a `<failure>` for every
/// check that lost points, one not reached included, and no `<skipped>`; each failure's
/// body expected, got, why and the transcript, which the testcase has nowhere else; the
/// run's transcript and stderr in the testsuite's system-out and system-err; the program's
/// bytes escaped throughout.
#[test]
fn junit_parses_back_with_the_programs_bytes_escaped() {
    let xml = noisy_report("junit", &[]);
    assert!(!xml.contains("]]>"), "]]> must be escaped in XML text");
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = children(root, "testsuite").collect();
    assert_eq!(suites.len(), 1);
    let suite = suites[0];
    assert_eq!(suite.attribute("name"), Some("serv_simple"));
    let count = lab_checks("serv_simple").len().to_string();
    assert_eq!(suite.attribute("tests"), Some(count.as_str()));
    assert_eq!(suite.attribute("failures"), Some("4"));
    assert_eq!(suite.attribute("skipped"), Some("0"));

    let cases: Vec<_> = children(suite, "testcase").collect();
    let checks = lab_checks("serv_simple");
    assert_eq!(cases.len(), checks.len());
    for (case, (id, max)) in cases.iter().zip(&checks) {
        let outcome = noisy_outcome(id);
        let points = if outcome == "passed" { *max } else { 0 };
        assert_eq!(
            case.attribute("name"),
            Some(format!("{id} ({points}/{max})").as_str())
        );
        assert_eq!(case.attribute("classname"), Some("serv_simple"));
        assert!(
            case.attribute("file").unwrap().ends_with("/noisy.py"),
            "{id}"
        );
        assert!(children(*case, "skipped").next().is_none(), "{id}");
        assert!(children(*case, "system-out").next().is_none(), "{id}");
        let failure = children(*case, "failure").next();
        let (message, body) = match (outcome, failure) {
            ("passed", None) => continue,
            (_, Some(f)) => (
                f.attribute("message").unwrap(),
                f.text().unwrap_or_default(),
            ),
            (_, None) => panic!("{id} has no <failure>"),
        };
        if outcome == "failed" {
            assert!(
                message.starts_with("the program exited with status 3"),
                "{message}"
            );
            assert!(
                body.contains("expected: ") && body.contains("got: "),
                "{body}"
            );
        } else {
            assert!(
                message.starts_with("not reached: the program exited"),
                "{message}"
            );
        }
    }
    let message_case = cases
        .iter()
        .find(|c| c.attribute("name") == Some("prints_message (0/2)"))
        .unwrap();
    let body = children(*message_case, "failure")
        .next()
        .unwrap()
        .text()
        .unwrap();
    assert!(body.contains(NOISY_SHOWN), "{body}");
    assert_eq!(body.matches("transcript:").count(), 1, "{body}");
    let system_out = text_of(suite, "system-out");
    assert!(system_out.contains(NOISY_SHOWN), "{system_out}");
    assert!(system_out.contains("alice → program"), "{system_out}");
    let system_err = text_of(suite, "system-err");
    assert!(
        system_err.contains(r"oops \x1b[31mred\x00\xff]]><x>&"),
        "{system_err}"
    );
    assert!(
        system_err.contains(r"\u{ffff}"),
        "U+FFFF is no XML character: {system_err}"
    );
}

/// JUnit of a program that crashes right after accepting: one `<failure>` per check it
/// lost (the fixture's header names them), whether it failed or was not reached, each named
/// with its points; nothing `<skipped>`.
#[test]
fn junit_crash_after_accept_fails_every_lost_check() {
    let fixture = "fixtures/serv_simple/fail/crash_after_accept.py";
    let (code, out, err) = run(
        &[
            "check",
            "serv_simple",
            "--format",
            "junit",
            "--timeout",
            "1",
        ],
        &["python3".into(), fixture.into()],
    );
    assert_eq!(code, 1, "{err}");
    let xml = String::from_utf8(out).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let suite = children(doc.root_element(), "testsuite").next().unwrap();
    assert_eq!(suite.attribute("skipped"), Some("0"), "{xml}");
    let mut failed: Vec<String> = Vec::new();
    for case in children(suite, "testcase") {
        assert!(children(case, "skipped").next().is_none(), "{xml}");
        let failures = children(case, "failure").count();
        let name = case.attribute("name").unwrap();
        let (id, points) = name.split_once(' ').unwrap();
        let max = lab_checks("serv_simple")
            .into_iter()
            .find(|(c, _)| c == id)
            .unwrap()
            .1;
        let want = if failures == 1 {
            format!("(0/{max})")
        } else {
            format!("({max}/{max})")
        };
        assert_eq!(points, want, "{name}");
        assert!(failures <= 1, "{name}");
        if failures == 1 {
            failed.push(id.to_string());
        }
    }
    failed.sort();
    assert_eq!(
        failed,
        common::expected_failures(std::path::Path::new(fixture))
    );
    assert_eq!(
        suite.attribute("failures"),
        Some(failed.len().to_string().as_str())
    );
}

/// The lesson's program gets full marks in every autograder format, exit 0.
#[rstest]
fn full_marks_in_every_format(#[values("gradescope", "classroom", "junit")] format: &str) {
    let (code, out, err) = run(
        &["check", "serv_simple", "--format", format],
        &lesson("serv_simple"),
    );
    assert_eq!(code, 0, "{err}");
    let max: u32 = lab_checks("serv_simple").iter().map(|(_, m)| m).sum();
    let statuses = |r: &Value| -> BTreeSet<String> {
        r["tests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["status"].as_str().unwrap().to_string())
            .collect()
    };
    match format {
        "gradescope" => {
            let r: Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(r["score"], max);
            assert_eq!(statuses(&r), BTreeSet::from(["passed".to_string()]));
        }
        "classroom" => {
            let r: Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(
                (&r["status"], &r["max_score"]),
                (&"pass".into(), &max.into())
            );
            assert_eq!(statuses(&r), BTreeSet::from(["pass".to_string()]));
        }
        _ => {
            let xml = String::from_utf8(out).unwrap();
            let doc = roxmltree::Document::parse(&xml).unwrap();
            let suite = children(doc.root_element(), "testsuite").next().unwrap();
            assert_eq!(suite.attribute("failures"), Some("0"));
            assert_eq!(suite.attribute("skipped"), Some("0"));
        }
    }
}

/// `--output FILE` puts the report in the file and nothing on stdout; a human report there
/// has no colour and the program's bytes escaped.
#[rstest]
fn output_file_gets_the_report(#[values("human", "gradescope")] format: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.out");
    let (code, out, err) = run(
        &[
            "check",
            "serv_simple",
            "--format",
            format,
            "--timeout",
            "1",
            "--output",
            file.to_str().unwrap(),
        ],
        &noisy_program(dir.path()),
    );
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty(), "stdout: {}", String::from_utf8_lossy(&out));
    let report = std::fs::read(&file).unwrap();
    assert_no_raw_controls(&report, "report file");
    let text = String::from_utf8(report).unwrap();
    let shown = match format {
        "human" => {
            assert!(text.contains("FAIL  prints_message"), "{text}");
            text
        }
        _ => {
            let r: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(r["score"], 4);
            named(&r["tests"], "prints_message")["output"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    assert!(shown.contains(NOISY_SHOWN), "{shown}");
}

/// The human report is in colour on a terminal (`TERM` set), or in a log that is not one
/// when `CLICOLOR_FORCE` or `FORCE_COLOR` asks for it (GitHub Actions shows ANSI colour);
/// never with `NO_COLOR`, nor in a file (`--also human=FILE`). Either way the program's own
/// escape sequence arrives escaped, never raw.
#[rstest]
#[case::terminal(true, &[], true)]
#[case::terminal_no_color(true, &[("NO_COLOR", "1")], false)]
#[case::log(false, &[], false)]
#[case::log_clicolor_force(false, &[("CLICOLOR_FORCE", "1")], true)]
#[case::log_force_color(false, &[("FORCE_COLOR", "1")], true)]
#[case::log_force_color_0(false, &[("FORCE_COLOR", "0")], false)]
#[case::log_forced_but_no_color(false, &[("FORCE_COLOR", "1"), ("NO_COLOR", "1")], false)]
fn colour_where_a_person_sees_it(
    #[case] terminal: bool,
    #[case] env: &[(&str, &str)],
    #[case] colour: bool,
) {
    let dir = tempfile::tempdir().unwrap();
    let program = noisy_program(dir.path());
    let also = dir.path().join("human.txt");
    let socklab = assert_cmd::cargo::cargo_bin("socklab");
    let args = [
        "check",
        "serv_simple",
        "--timeout",
        "1",
        "--also",
        &format!("human={}", also.display()),
        "--",
        &program[0],
        &program[1],
    ];
    let mut cmd = if terminal {
        // `script` gives socklab a terminal for stdout and copies what it shows to ours.
        let mut cmd = std::process::Command::new("script");
        let command = format!("{} {}", socklab.display(), args.join(" "));
        cmd.args(["-qec", &command, "/dev/null"]);
        cmd
    } else {
        let mut cmd = std::process::Command::new(&socklab);
        cmd.args(args);
        cmd
    };
    for name in [
        "NO_COLOR",
        "CLICOLOR",
        "CLICOLOR_FORCE",
        "FORCE_COLOR",
        "CI",
    ] {
        cmd.env_remove(name);
    }
    let output = cmd
        .env_remove("PYTHONUNBUFFERED")
        .env("TERM", "xterm-256color")
        .envs(env.iter().copied())
        .output()
        .expect("run socklab");
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(shown.contains("prints_message"), "{shown}");
    assert_eq!(shown.contains('\x1b'), colour, "{shown:?}");
    let in_file = std::fs::read_to_string(&also).unwrap();
    assert!(
        in_file.contains("prints_message") && !in_file.contains('\x1b'),
        "{in_file:?}"
    );
    for text in [&*shown, &in_file] {
        assert!(
            !text.contains("\x1b[31mred"),
            "raw escape from the program: {text:?}"
        );
        assert!(text.contains(NOISY_SHOWN), "{text}");
    }
}

/// Every format says how isolated the run was: JSON's `isolation`, the human report's first
/// line, a JUnit property, and for Gradescope the staff's account on stderr (which
/// run_autograder's stdout gathers for staff), never the output students read; in
/// namespaces here, `uid` in a Docker-like container.
#[rstest]
fn every_format_says_how_isolated(
    #[values(common::Place::Namespaces, common::Place::Docker)] place: common::Place,
) {
    let dir = tempfile::tempdir().unwrap();
    let argv = place.command_for(
        std::path::Path::new("fixtures/serv_simple/pass/lesson_serv_simple.py"),
        dir.path(),
    );
    let level = place.isolation();
    let report_and_stderr = |format: &str| {
        let output = place
            .socklab()
            .args(["check", "serv_simple", "--format", format, "--"])
            .args(&argv)
            .output()
            .unwrap();
        assert_eq!(common::exit_code(&output), 0);
        (
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
        )
    };
    let report = |format: &str| report_and_stderr(format).0;
    let json: serde_json::Value = serde_json::from_str(&report("json")).unwrap();
    assert_eq!(json["isolation"], level);
    let human = report("human");
    assert!(
        human
            .lines()
            .next()
            .unwrap()
            .contains(&format!("isolation: {level}")),
        "{human}"
    );
    let (gradescope, staff) = report_and_stderr("gradescope");
    let gradescope: serde_json::Value = serde_json::from_str(&gradescope).unwrap();
    let output = gradescope["output"].as_str().unwrap();
    assert!(!output.contains("isolation"), "{output}");
    assert!(staff.contains(&format!("; isolation: {level})")), "{staff}");
    let junit = report("junit");
    let xml = roxmltree::Document::parse(&junit).unwrap();
    let property = xml
        .descendants()
        .find(|n| n.has_tag_name("property") && n.attribute("name") == Some("isolation"))
        .unwrap_or_else(|| panic!("no isolation property: {junit}"));
    assert_eq!(property.attribute("value"), Some(level));
}

//! The formats autograders read: Gradescope's results.json and GitHub Classroom's result
//! object validated field by field, JUnit XML parsed back, each for a program that prints
//! escape sequences, NUL, invalid UTF-8 and `]]>`; `--output FILE`; human output's colour
//! rule; and points from a rubric reaching every format.

mod common;

use std::collections::BTreeSet;

use common::{assert_no_raw_controls, lab_checks, lesson, noisy_program, run};
use rstest::rstest;
use serde_json::Value;

/// What `noisy_program` does to each check of serv_simple.
fn noisy_outcome(check: &str) -> &'static str {
    match check {
        "prints_message" | "exits_cleanly" => "failed",
        "sends_typed_line" => "not_reached",
        _ => "passed",
    }
}

/// The bytes the noisy program printed, as every report must show them: escaped.
const NOISY_SHOWN: &str = r"\x1b[31mred\x00\xff]]><x>&\xef\xbf\xbf";

/// The entry for check `id` in a report's list (`checks` or `tests`), whose `name` is the
/// check's id, or `lab: id`.
fn named<'a>(list: &'a Value, id: &str) -> &'a Value {
    list.as_array()
        .expect("a list")
        .iter()
        .find(|t| {
            let name = t["name"].as_str().unwrap_or_default();
            name == id || name.ends_with(&format!(": {id}"))
        })
        .unwrap_or_else(|| panic!("no {id} in {list:#}"))
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

fn set<'a>(names: &[&'a str]) -> BTreeSet<&'a str> {
    names.iter().copied().collect()
}

/// The noisy program's report in `format` (with `extra` arguments): exit 1, and no raw
/// control byte or invalid UTF-8 in it.
fn noisy_report(format: &str, extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["check", "serv_simple", "--format", format, "--timeout", "1"];
    args.extend(extra);
    let (code, out, err) = run(&args, &noisy_program(dir.path()));
    assert_eq!(code, 1, "{err}");
    assert_no_raw_controls(&out, format);
    String::from_utf8(out).unwrap()
}

/// Checks a test's status and score against what the noisy program does to check `id`,
/// with pass and fail spelt as the format spells them; returns the outcome.
fn assert_status(t: &Value, id: &str, max: u32, [pass, fail]: [&str; 2]) -> &'static str {
    let outcome = noisy_outcome(id);
    let (status, score) = if outcome == "passed" {
        (pass, max)
    } else {
        (fail, 0)
    };
    assert_eq!(
        (&t["status"], &t["score"]),
        (&status.into(), &score.into()),
        "{id}: {t}"
    );
    outcome
}

fn write_rubric(dir: &std::path::Path, text: &str) -> String {
    let path = dir.join("rubric.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

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
            "tests"
        ])
    );
    assert!(r["execution_time"].is_u64(), "{}", r["execution_time"]);
    assert!(
        r["output"]
            .as_str()
            .unwrap()
            .starts_with("serv_simple: 5/10 (the program exited with status 3"),
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

/// GitHub Classroom: `version` 1, `status`, `max_score` and a test per check with `name`,
/// `status` (`pass`/`fail`), `score`, `message`, `test_code`, on one line.
#[test]
fn classroom_result_field_by_field() {
    let text = noisy_report("classroom", &[]);
    assert_eq!(text.lines().count(), 1, "one line: {text}");
    let r: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(keys(&r), set(&["version", "status", "max_score", "tests"]));
    assert_eq!(r["version"], 1);
    assert_eq!(r["status"], "fail");
    let checks = lab_checks("serv_simple");
    assert_eq!(r["max_score"], checks.iter().map(|(_, m)| m).sum::<u32>());
    let tests = r["tests"].as_array().unwrap();
    assert_eq!(tests.len(), checks.len());
    let mut sum = 0;
    for (t, (id, max)) in tests.iter().zip(&checks) {
        assert_eq!(
            keys(t),
            set(&["name", "status", "score", "message", "test_code"])
        );
        assert_eq!(t["name"], format!("serv_simple: {id}"));
        let message = t["message"].as_str().unwrap();
        match assert_status(t, id, *max, ["pass", "fail"]) {
            "passed" => assert_eq!(message, ""),
            "failed" => assert!(message.starts_with("expected: "), "{message}"),
            _ => assert!(message.starts_with("not reached: "), "{message}"),
        }
        assert!(t["test_code"].as_str().is_some_and(|c| !c.is_empty()));
        sum += t["score"].as_u64().unwrap();
    }
    assert_eq!(sum, 5);
    assert!(
        named(&r["tests"], "prints_message")["message"]
            .as_str()
            .unwrap()
            .contains(NOISY_SHOWN)
    );
}

fn children<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
    tag: &'static str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> {
    node.children().filter(move |n| n.has_tag_name(tag))
}

fn text_of(node: roxmltree::Node, tag: &'static str) -> String {
    children(node, tag)
        .next()
        .and_then(|n| n.text())
        .unwrap_or_default()
        .to_string()
}

/// JUnit: well-formed XML even though the program printed ESC, NUL, invalid UTF-8 and
/// `]]>`; a testsuite for the lab, a testcase per check with classname = lab, a failure
/// with message and body for each failed check, skipped for a check not reached, and the
/// transcript in system-out, all showing the program's bytes escaped.
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
    assert_eq!(suite.attribute("failures"), Some("2"));
    assert_eq!(suite.attribute("skipped"), Some("1"));

    let cases: Vec<_> = children(suite, "testcase").collect();
    let checks = lab_checks("serv_simple");
    assert_eq!(cases.len(), checks.len());
    for (case, (id, _)) in cases.iter().zip(&checks) {
        assert_eq!(case.attribute("name"), Some(id.as_str()));
        assert_eq!(case.attribute("classname"), Some("serv_simple"));
        let failure = children(*case, "failure").next();
        let skipped = children(*case, "skipped").next();
        match noisy_outcome(id) {
            "passed" => assert!(failure.is_none() && skipped.is_none(), "{id}"),
            "failed" => {
                let failure = failure.unwrap_or_else(|| panic!("{id} has no <failure>"));
                assert!(
                    failure
                        .attribute("message")
                        .is_some_and(|m| m.starts_with("the program exited with status 3"))
                );
                let body = failure.text().unwrap_or_default();
                assert!(
                    body.contains("expected: ") && body.contains("got: "),
                    "{body}"
                );
            }
            _ => {
                let skipped = skipped.unwrap_or_else(|| panic!("{id} is not <skipped>"));
                assert!(
                    skipped
                        .attribute("message")
                        .is_some_and(|m| m.starts_with("not reached: "))
                );
            }
        }
    }
    let message_case = cases
        .iter()
        .find(|c| c.attribute("name") == Some("prints_message"))
        .unwrap();
    let failure = children(*message_case, "failure").next().unwrap();
    assert!(failure.text().unwrap().contains(NOISY_SHOWN));
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
            assert_eq!(r["score"], 5);
            named(&r["tests"], "prints_message")["output"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    assert!(shown.contains(NOISY_SHOWN), "{shown}");
}

/// On a terminal the human report is in colour unless NO_COLOR is set; either way the
/// program's own escape sequence arrives escaped, never raw.
#[rstest]
fn colour_only_on_a_terminal_without_no_color(#[values(false, true)] no_color: bool) {
    let dir = tempfile::tempdir().unwrap();
    let program = noisy_program(dir.path());
    let command = format!(
        "{} check serv_simple --timeout 1 -- {} {}",
        assert_cmd::cargo::cargo_bin("socklab").display(),
        program[0],
        program[1]
    );
    // `script` gives socklab a terminal for stdout and copies what it shows to ours.
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-qec", &command, "/dev/null"])
        .env_remove("PYTHONUNBUFFERED")
        .env_remove("NO_COLOR");
    if no_color {
        cmd.env("NO_COLOR", "1");
    }
    let output = cmd.output().expect("run script");
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(shown.contains("prints_message"), "{shown}");
    assert_eq!(shown.contains('\x1b'), !no_color, "{shown:?}");
    assert!(
        !shown.contains("\x1b[31mred"),
        "raw escape from the program: {shown:?}"
    );
    assert!(shown.contains(NOISY_SHOWN), "{shown}");
}

/// A rubric's points reach every format: a check given more points, and one set to 0 that
/// is still reported (max 0) but not scored.
#[test]
fn rubric_points_reach_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let rubric = write_rubric(
        dir.path(),
        "lab = \"serv_simple\"\n[points]\nprints_client = 5\nexits_cleanly = 0\n",
    );
    let grade = |format: &str| -> Value {
        serde_json::from_str(&noisy_report(format, &["--rubric", &rubric])).unwrap()
    };
    let json = grade("json");
    assert_eq!(
        (&json["score"], &json["max_score"]),
        (&8.into(), &12.into())
    );
    let exits = named(&json["checks"], "exits_cleanly");
    assert_eq!(
        (&exits["name"], &exits["max"], &exits["passed"]),
        (&"exits_cleanly".into(), &0.into(), &false.into())
    );

    let gradescope = grade("gradescope");
    assert_eq!(gradescope["score"], 8);
    let client = named(&gradescope["tests"], "prints_client");
    assert_eq!(
        (&client["score"], &client["max_score"]),
        (&5.into(), &5.into())
    );
    let exits = named(&gradescope["tests"], "exits_cleanly");
    assert_eq!(
        (&exits["max_score"], &exits["status"]),
        (&0.into(), &"failed".into())
    );
    assert!(
        exits["output"]
            .as_str()
            .unwrap()
            .contains("reported, not scored")
    );

    let classroom = grade("classroom");
    assert_eq!(classroom["max_score"], 12);
    let scores: u64 = classroom["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["score"].as_u64().unwrap())
        .sum();
    assert_eq!(scores, 8);
}

/// A check a rubric sets to 0 costs no marks: a program failing only that check gets exit
/// 0 and full marks, and the check is still reported as failed.
#[test]
fn zero_point_check_is_reported_not_scored() {
    let dir = tempfile::tempdir().unwrap();
    let rubric = write_rubric(dir.path(), "[points]\nexits_cleanly = 0\n");
    let program = vec![
        "python3".to_string(),
        "fixtures/serv_simple/fail/exit_status_1.py".to_string(),
    ];
    let (code, out, err) = run(
        &[
            "check",
            "serv_simple",
            "--format",
            "json",
            "--rubric",
            &rubric,
        ],
        &program,
    );
    assert_eq!(code, 0, "{err}");
    let r: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(r["score"], r["max_score"]);
    let exits = r["checks"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (&exits["name"], &exits["status"], &exits["max"]),
        (&"exits_cleanly".into(), &"failed".into(), &0.into())
    );
    // Without the rubric, the same program loses that mark.
    let (code, _, _) = run(&["check", "serv_simple", "--format", "json"], &program);
    assert_eq!(code, 1);
}

/// A rubric naming a check the lab does not have is exit 2 with one line listing the lab's
/// checks, for `check` and `grade` alike, before anything runs.
#[rstest]
fn rubric_with_unknown_check_exits_2(#[values("check", "grade")] mode: &str) {
    let dir = tempfile::tempdir().unwrap();
    let rubric = write_rubric(dir.path(), "[points]\nprints_clent = 3\n");
    std::fs::create_dir(dir.path().join("alice")).unwrap();
    let class = dir.path().display().to_string();
    let mut args = vec![mode, "serv_simple"];
    if mode == "grade" {
        args.push(&class);
    }
    args.extend(["--rubric", &rubric]);
    let (code, _, err) = run(&args, &["python3".into(), "{dir}/serv_simple.py".into()]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no check 'prints_clent'"), "{err}");
    for (id, _) in lab_checks("serv_simple") {
        assert!(err.contains(&id), "{err} lacks {id}");
    }
}

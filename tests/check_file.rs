//! What students and graders type: `socklab check serv_tcp.py`, `socklab check LAB FILE`
//! (python3, the file's `#!`, or cc first), a C file that does not compile in every report
//! format, `--only CHECK`, `socklab grade LAB DIR FILE`, and one line that shows the right
//! command for a usage mistake. Real programs on real sockets, from a folder of their own.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use common::{assert_cannot_grade, lab_checks, socklab};
use rstest::rstest;
use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A temporary folder holding `fixture` under the name `name`, as a student's folder.
fn folder_with(fixture: &str, name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(Path::new(ROOT).join(fixture), dir.path().join(name)).unwrap();
    dir
}

/// Runs socklab with `args` in `dir`.
fn socklab_in(dir: &Path, args: &[&str]) -> Output {
    socklab().current_dir(dir).args(args).output().unwrap()
}

/// `socklab check FILE --format FORMAT` in `dir`, which must exit 1 (the student's zero);
/// its report.
fn zero_in(dir: &Path, file: &str, format: &str) -> String {
    let output = socklab_in(dir, &["check", file, "--format", format]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{format}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The JSON report of an output, with its exit code.
fn json_of(output: &Output) -> (i32, Value) {
    let code = output.status.code().expect("socklab exited by a signal");
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}); exit {code}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (code, report)
}

fn check_names(report: &Value) -> Vec<&str> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect()
}

/// A program whose file is named after its lab gets full marks with the file alone, the lab
/// from its name (`serv_udp.py` is Activity 2's `udp_serv`), or with the lab before it; a
/// `.py` runs with python3, a `.c` is compiled first.
#[rstest]
#[case::py_alone("fixtures/serv_tcp/pass/lesson_serv_tcp.py", "serv_tcp.py", &[], "serv_tcp", &["python3", "serv_tcp.py"])]
#[case::serv_udp_alone("fixtures/udp_serv/pass/lesson_select.py", "serv_udp.py", &[], "udp_serv", &["python3", "serv_udp.py"])]
#[case::py_with_lab("fixtures/serv_tcp/pass/lesson_serv_tcp.py", "chat.py", &["serv_tcp"], "serv_tcp", &["python3", "chat.py"])]
#[case::c_with_lab("fixtures/serv_simple/pass/stdio_no_flush.c", "serv_simple.c", &["serv_simple"], "serv_simple", &["serv_simple.c"])]
#[case::c_alone("fixtures/conn_simple/pass/stdio_no_flush.c", "conn_simple.c", &[], "conn_simple", &["conn_simple.c"])]
fn a_students_file_gets_full_marks(
    #[case] fixture: &str,
    #[case] name: &str,
    #[case] lab: &[&str],
    #[case] graded_as: &str,
    #[case] run_as: &[&str],
) {
    let dir = folder_with(fixture, name);
    let mut args = vec!["check"];
    args.extend(lab);
    args.extend([name, "--format", "json"]);
    let (code, report) = json_of(&socklab_in(dir.path(), &args));
    assert_eq!(report["lab"], graded_as);
    assert_eq!(report["score"], report["max_score"], "{report:#}");
    assert_eq!(code, 0);
    assert_eq!(report["program"], serde_json::json!(run_as));
    // A C file is compiled in the run's own folder, not beside the student's file.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

/// A `.py` runs through its `#!` line only when it is executable; otherwise with python3,
/// whatever the line says.
#[rstest]
#[case::executable(0o755, "#!/usr/bin/env python3", &["./serv_tcp.py"])]
#[case::not_executable(0o644, "#!/no/such/python", &["python3", "serv_tcp.py"])]
fn a_py_file_runs_by_its_shebang_only_when_executable(
    #[case] mode: u32,
    #[case] shebang: &str,
    #[case] run_as: &[&str],
) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("serv_tcp.py");
    let lesson =
        std::fs::read_to_string(Path::new(ROOT).join("fixtures/serv_tcp/pass/lesson_serv_tcp.py"))
            .unwrap();
    let body = lesson
        .strip_prefix("#!")
        .map_or(lesson.as_str(), |rest| rest.split_once('\n').unwrap().1);
    std::fs::write(&file, format!("{shebang}\n{body}")).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
    let (code, report) = json_of(&socklab_in(
        dir.path(),
        &["check", "serv_tcp.py", "--format", "json"],
    ));
    assert_eq!(report["program"], serde_json::json!(run_as));
    assert_eq!(code, 0, "{report:#}");
}

/// A C file that does not compile is the student's mistake, not socklab's: exit 1, every
/// check lost, and the compiler's message in each format: a line at the top where the
/// format has one (human, JSON, Gradescope), the whole message in the first check (all).
#[test]
fn a_c_file_that_does_not_compile_loses_every_check_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("serv_simple.c"), "int main( {\n").unwrap();
    let checks = lab_checks("serv_simple");
    let run = |format: &str| zero_in(dir.path(), "serv_simple.c", format);
    let says_cc = |text: &str| text.contains("cc said:") && text.contains("int main( {");
    let top_line = "serv_simple.c did not compile: serv_simple.c:1:";

    let human = run("human");
    assert!(human.contains(&format!("note: {top_line}")), "{human}");
    assert!(says_cc(&human), "{human}");
    assert!(human.contains("score: 0/10"), "{human}");

    let json: Value = serde_json::from_str(&run("json")).unwrap();
    assert!(json["notices"][0].as_str().unwrap().starts_with(top_line));
    assert_eq!(json["score"], 0);
    let statuses: Vec<&str> = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    let mut want = vec!["not_reached"; checks.len()];
    want[0] = "failed";
    assert_eq!(statuses, want);
    assert!(says_cc(json["checks"][0]["message"].as_str().unwrap()));

    let gradescope: Value = serde_json::from_str(&run("gradescope")).unwrap();
    assert!(gradescope["output"].as_str().unwrap().contains(top_line));
    let tests = gradescope["tests"].as_array().unwrap();
    assert_eq!(tests.len(), checks.len());
    assert!(
        tests
            .iter()
            .all(|t| t["status"] == "failed" && t["score"] == 0)
    );
    assert!(says_cc(tests[0]["output"].as_str().unwrap()));

    let classroom: Value = serde_json::from_str(&run("classroom")).unwrap();
    let tests = classroom["tests"].as_array().unwrap();
    assert_eq!(classroom["status"], "fail");
    assert!(
        tests
            .iter()
            .all(|t| t["status"] == "fail" && t["score"] == 0)
    );
    assert!(says_cc(tests[0]["message"].as_str().unwrap()));

    let junit = run("junit");
    let xml = roxmltree::Document::parse(&junit).unwrap();
    let suite = xml
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    // Every lost check is a failure in JUnit, those not reached included.
    assert_eq!(
        suite.attribute("failures"),
        Some(checks.len().to_string().as_str()),
        "{junit}"
    );
    assert_eq!(suite.attribute("skipped"), Some("0"));
    let failure = xml
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert!(says_cc(failure.text().unwrap()), "{junit}");
}

/// A file missing or empty (nothing but comments and blank lines, as a template hands it
/// out) is not graded: nothing runs, exit 1 (the student's zero, not socklab's failure),
/// and every format says why in the student's words, every check lost. In a git checkout's
/// top folder (GitHub Classroom's), a missing file is missing from the repository.
#[rstest]
#[case::empty_py(
    "serv_simple.py",
    Some("#!/usr/bin/python3\n# serv_simple.py\n\n"),
    false,
    "serv_simple.py is empty"
)]
#[case::empty_c(
    "serv_simple.c",
    Some("// serv_simple.c\n/* your server */\n"),
    false,
    "serv_simple.c is empty"
)]
#[case::missing("serv_simple.py", None, false, "no serv_simple.py in this folder")]
#[case::missing_from_repository(
    "serv_simple.py",
    None,
    true,
    "no serv_simple.py in the repository"
)]
fn a_missing_or_empty_file_is_not_graded_in_every_format(
    #[case] name: &str,
    #[case] text: Option<&str>,
    #[case] repository: bool,
    #[case] reason: &str,
) {
    let dir = tempfile::tempdir().unwrap();
    if let Some(text) = text {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    if repository {
        std::fs::create_dir(dir.path().join(".git")).unwrap();
    }
    let checks = lab_checks("serv_simple");
    let run = |format: &str| zero_in(dir.path(), name, format);
    let top_line = format!("{reason}, so serv_simple was not graded");
    let not_reached = format!("not reached: {reason}");

    let human = run("human");
    assert!(human.contains(&format!("note: {top_line}")), "{human}");
    assert_eq!(human.matches(&not_reached).count(), checks.len(), "{human}");
    assert!(
        human.contains("score: 0/10  (the program did not run"),
        "{human}"
    );

    let json: Value = serde_json::from_str(&run("json")).unwrap();
    assert_eq!(json["notices"], serde_json::json!([top_line]));
    assert_eq!(
        (&json["score"], &json["isolation"]),
        (&0.into(), &Value::Null)
    );
    for check in json["checks"].as_array().unwrap() {
        assert_eq!(
            (&check["status"], &check["message"]),
            (&"not_reached".into(), &reason.into())
        );
    }

    let gradescope: Value = serde_json::from_str(&run("gradescope")).unwrap();
    assert!(gradescope["output"].as_str().unwrap().contains(&top_line));
    let tests = gradescope["tests"].as_array().unwrap();
    assert_eq!(tests.len(), checks.len());
    for test in tests {
        assert_eq!(
            (&test["status"], &test["score"]),
            (&"failed".into(), &0.into())
        );
        assert!(
            test["output"].as_str().unwrap().contains(&not_reached),
            "{test}"
        );
    }

    let classroom: Value = serde_json::from_str(&run("classroom")).unwrap();
    assert_eq!(
        (&classroom["status"], &classroom["max_score"]),
        (&"fail".into(), &10.into())
    );
    let tests = classroom["tests"].as_array().unwrap();
    assert!(
        tests
            .iter()
            .all(|t| t["status"] == "fail" && t["score"] == 0)
    );
    assert!(
        tests[0]["test_code"]
            .as_str()
            .unwrap()
            .contains(&not_reached),
        "{classroom:#}"
    );

    let markdown = run("markdown");
    assert!(
        markdown.starts_with("### ❌ serv\\_simple: 0/10"),
        "{markdown}"
    );
    assert!(markdown.contains("not reached"), "{markdown}");

    let junit = run("junit");
    let xml = roxmltree::Document::parse(&junit).unwrap();
    let failures: Vec<&str> = xml
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .map(|n| n.attribute("message").unwrap())
        .collect();
    assert_eq!(
        failures,
        vec![not_reached.as_str(); checks.len()],
        "{junit}"
    );
}

/// `--only CHECK` runs that check and what it builds on, reports only those, and scores
/// only those; a check that carries on a conversation brings the checks before it
/// (serv_simple's `exits_cleanly` needs no check, yet the lesson's program exits only after
/// its chat).
#[rstest]
#[case::passes("serv_tcp", "fixtures/serv_tcp/pass/lesson_serv_tcp.py", "prints_client", 0, &["accepts", "reachable", "prints_client"])]
#[case::fails("serv_tcp", "fixtures/serv_tcp/fail/lockstep_input_first.py", "prints_messages", 1, &["accepts", "reachable", "prints_client", "prints_messages"])]
#[case::after_the_chat("serv_simple", "fixtures/serv_simple/pass/lesson_serv_simple.py", "exits_cleanly", 0, &[])]
fn only_runs_the_check_and_what_it_builds_on(
    #[case] lab: &str,
    #[case] fixture: &str,
    #[case] only: &str,
    #[case] exit: i32,
    #[case] ran: &[&str],
) {
    let name = format!("{lab}.py");
    let dir = folder_with(fixture, &name);
    let (code, report) = json_of(&socklab_in(
        dir.path(),
        &["check", &name, "--only", only, "--format", "json"],
    ));
    let every: Vec<(String, u32)> = lab_checks(lab);
    let want: Vec<&str> = if ran.is_empty() {
        every.iter().map(|(id, _)| id.as_str()).collect()
    } else {
        ran.to_vec()
    };
    assert_eq!(check_names(&report), want, "{report:#}");
    let max: u32 = every
        .iter()
        .filter(|(id, _)| want.contains(&id.as_str()))
        .map(|(_, points)| points)
        .sum();
    assert_eq!(report["max_score"], max);
    assert!(
        report["notices"][0]
            .as_str()
            .unwrap()
            .starts_with(&format!("--only {only}: ran "))
    );
    assert_eq!(code, exit, "{report:#}");
    let passed = report["checks"][want.len() - 1]["passed"].as_bool();
    assert_eq!(passed, Some(exit == 0), "{report:#}");
}

/// `socklab grade LAB DIR FILE` runs each folder's file by the same rules: a Python file,
/// a C file compiled per submission, one that does not compile (a zero with the
/// compiler's first error), one missing, one empty (a zero, not graded); `{dir}/FILE` is
/// the same.
#[rstest]
fn grade_runs_each_submissions_file(#[values("serv_simple.c", "{dir}/serv_simple.c")] file: &str) {
    let class = tempfile::tempdir().unwrap();
    for (id, fixture) in [
        ("amy", Some("fixtures/serv_simple/pass/stdio_no_flush.c")),
        ("bo", Some("fixtures/serv_simple/fail/never_closes.c")),
        ("cy", None),
        ("di", None),
        ("ed", None),
    ] {
        let folder = class.path().join(id);
        std::fs::create_dir(&folder).unwrap();
        if let Some(fixture) = fixture {
            std::fs::copy(Path::new(ROOT).join(fixture), folder.join("serv_simple.c")).unwrap();
        }
    }
    std::fs::write(class.path().join("cy/serv_simple.c"), "int main( {\n").unwrap();
    std::fs::write(class.path().join("ed/serv_simple.c"), "// serv_simple.c\n").unwrap();
    let output = socklab()
        .args(["grade", "serv_simple"])
        .arg(class.path())
        .args([file, "--format", "json", "--timeout", "1"])
        .output()
        .unwrap();
    let (code, r) = json_of(&output);
    assert_eq!(code, 1, "{r:#}");
    let subs = r["submissions"].as_array().unwrap();
    let fields = |i: usize| {
        (
            subs[i]["id"].as_str().unwrap(),
            subs[i]["score"].as_u64().unwrap(),
            subs[i]["status"].as_str().unwrap(),
        )
    };
    assert_eq!(fields(0), ("amy", 10, "graded"));
    assert_eq!(fields(1).2, "graded");
    assert!(fields(1).1 < 10, "{r:#}");
    assert_eq!(fields(2), ("cy", 0, "no_program"));
    assert!(
        subs[2]["error"]
            .as_str()
            .unwrap()
            .contains("serv_simple.c did not compile: "),
        "{}",
        subs[2]
    );
    assert_eq!(subs[3]["error"], "di has no serv_simple.c");
    assert_eq!(fields(4), ("ed", 0, "no_program"));
    assert_eq!(subs[4]["error"], "ed's serv_simple.c is empty");
}

/// A usage mistake is one line on stderr, exit 2, that shows the command meant, rather
/// than clap's usage block.
#[rstest]
#[case::file_after_dashes(&["check", "serv_tcp", "--", "serv_tcp.py"], "run: socklab check serv_tcp serv_tcp.py")]
#[case::not_executable_after_dashes(&["check", "serv_tcp", "--", "./serv_tcp.py"], "socklab check serv_tcp ./serv_tcp.py")]
#[case::name_says_no_lab(&["check", "chat.py"], "the labs: serv_simple, conn_simple, serv_tcp, udp_serv, netcat")]
#[case::lab_without_program(&["check", "serv_tcp"], "e.g. socklab check serv_tcp serv_tcp.py")]
#[case::both_file_and_command(&["check", "serv_tcp", "serv_tcp.py", "--", "python3", "serv_tcp.py"], "not both")]
#[case::unknown_check(&["check", "serv_tcp.py", "--only", "accept"], "serv_tcp has no check 'accept'; its checks are: accepts, reachable,")]
#[case::watch_without_file(&["check", "serv_tcp", "--watch", "--", "python3", "serv_tcp.py"], "socklab check serv_tcp serv_tcp.py --watch")]
#[case::misspelt_option(&["check", "serv_tcp.py", "--formt", "json"], "(a similar argument exists: '--format'); e.g. socklab check serv_tcp serv_tcp.py")]
#[case::extra_word(&["check", "serv_tcp", "serv_tcp.py", "again"], "unexpected argument 'again' found; e.g. socklab check serv_tcp serv_tcp.py")]
#[case::grade_without_program(&["grade", "serv_tcp", "."], "socklab grade serv_tcp submissions/ serv_tcp.py")]
fn a_usage_mistake_is_one_line_with_the_right_command(#[case] args: &[&str], #[case] says: &str) {
    let dir = folder_with("fixtures/serv_tcp/pass/lesson_serv_tcp.py", "serv_tcp.py");
    std::fs::copy(dir.path().join("serv_tcp.py"), dir.path().join("chat.py")).unwrap();
    let output = socklab_in(dir.path(), args);
    assert_cannot_grade(&output, says);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!stderr.contains("Usage:"), "{stderr}");
}

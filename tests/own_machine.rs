//! A student's own machine: socklab run by an ordinary user (a spare uid, `env -i` with
//! PATH, HOME and LANG), in every state their system may leave user namespaces in (see
//! `common::student`). The fixtures are graded there by `tests/fixtures.rs`; here, what
//! else must hold: a failure of socklab's own to start the program is exit 2 with its
//! reason in every format, never the student's zero, and one user's state never stands in
//! another's way.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::student::{self, STUDENT_UID, Userns};
use common::{Place, exit_code, open_to_all, shared_python};
use rstest::rstest;

/// A serv_simple "program" whose exec the kernel refuses: executable, but its `#!` line names
/// an interpreter this machine does not have. Nothing the student wrote ever runs.
fn unstartable(dir: &Path) -> PathBuf {
    open_to_all(dir);
    let script = dir.join("serv_simple.py");
    std::fs::write(&script, "#!/nonexistent/python3\nprint('never runs')\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

const REASON: &str =
    "exec: No such file or directory (the interpreter its #! line names is not on this machine)";

/// A program that cannot be started is socklab's failure, at every level and in every
/// format: exit 2, the reason in one line on stderr, and no report that gives a score.
#[rstest]
fn a_program_that_cannot_start_is_not_graded_in_any_format(
    #[values(
        Place::Namespaces,
        Place::Docker,
        Place::Student(Userns::Allowed),
        Place::Student(Userns::Refused),
        Place::Student(Userns::Unmapped),
        Place::StudentHost
    )]
    place: Place,
    #[values("human", "json", "gradescope", "junit", "classroom")] format: &str,
) {
    let dir = tempfile::tempdir().unwrap();
    let script = unstartable(dir.path());
    let output = place
        .socklab()
        .args(["check", "serv_simple", "--format", format, "--"])
        .arg(&script)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(exit_code(&output), 2, "{stdout}\n{stderr}");
    let said = format!("cannot start {}: {REASON}", script.display());
    assert!(
        stderr.lines().any(|l| l == format!("socklab: {said}")),
        "one line with the reason: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    match format {
        "human" => assert!(!stdout.contains("/10"), "no score: {stdout}"),
        "json" => {
            let r: serde_json::Value = serde_json::from_str(&stdout).unwrap();
            assert_eq!(
                (&r["graded"], &r["score"]),
                (&false.into(), &().into()),
                "{r:#}"
            );
            assert_eq!(r["error"], said.as_str(), "{r:#}");
        }
        // Nothing Gradescope could take for a grade: without results it says the
        // autograder failed.
        "gradescope" => assert_eq!(stdout, "", "{stderr}"),
        "junit" => {
            assert!(
                stdout.contains("<error message=") && stdout.contains(REASON),
                "{stdout}"
            );
            assert!(!stdout.contains("<failure"), "not a failed check: {stdout}");
        }
        "classroom" => {
            let r: serde_json::Value = serde_json::from_str(&stdout).unwrap();
            assert_eq!(r["status"], "error", "{r:#}");
            assert!(
                r["tests"][0]["message"].as_str().unwrap().contains(REASON),
                "{r:#}"
            );
        }
        _ => unreachable!(),
    }
}

/// Under `socklab grade`, a submission socklab could not start is "not graded" with its
/// reason: no score in any format, left out of the class's mean, exit 2; its classmates
/// are graded as ever.
#[test]
fn a_submission_that_cannot_start_is_not_graded_in_a_class() {
    let dir = tempfile::tempdir().unwrap();
    let class = dir.path();
    let ann = class.join("ann");
    std::fs::create_dir(&ann).unwrap();
    std::fs::copy(
        "fixtures/serv_simple/pass/lesson_serv_simple.py",
        ann.join("serv_simple.py"),
    )
    .unwrap();
    let bob = class.join("bob");
    std::fs::create_dir(&bob).unwrap();
    unstartable(&bob);
    let grade = |format: &str| {
        let output = common::socklab()
            .args(["grade", "serv_simple"])
            .arg(class)
            .args(["serv_simple.py", "--format", format])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(exit_code(&output), 2, "{stderr}");
        assert!(
            stderr.contains("could not grade 1 of 2 submissions") && !stderr.contains("internal"),
            "{stderr}"
        );
        String::from_utf8(output.stdout).unwrap()
    };
    let r: serde_json::Value = serde_json::from_str(&grade("json")).unwrap();
    let bob = &r["submissions"][1];
    assert_eq!(
        (&bob["status"], &bob["score"]),
        (&"harness_error".into(), &().into()),
        "{bob:#}"
    );
    assert!(bob["error"].as_str().unwrap().contains(REASON), "{bob:#}");
    assert_eq!(
        (&r["summary"]["mean"], &r["summary"]["harness_errors"]),
        (&10.0.into(), &1.into()),
        "ann's 10 is the mean: bob is left out, not a zero"
    );
    let csv = grade("csv");
    let row = csv.lines().find(|l| l.starts_with("bob,")).unwrap();
    assert!(row.starts_with("bob,,10,,,,,,,,harness_error,"), "{row}");
    let human = grade("human");
    let line = human.lines().find(|l| l.contains("bob")).unwrap();
    assert!(
        line.contains("--/10") && line.contains("not graded"),
        "{line}"
    );
    assert!(
        human.contains("mean 10.00/10") && human.contains("1 socklab could not grade"),
        "{human}"
    );
}

/// A machine where root ran socklab before (an instructor's lab machine): root's own
/// folders of state are there, and a folder under the student's name that is not theirs
/// (left by another user). The student grades all the same, in every state, at full marks.
#[test]
fn a_student_grades_after_root_on_the_same_machine() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "this test runs socklab as root first, then as an ordinary user: run it as root"
    );
    // A temporary folder of this test's own, as /tmp is: anyone may write, sticky.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let program = tmp.path().join("serv_simple.py");
    std::fs::copy("fixtures/serv_simple/pass/lesson_serv_simple.py", &program).unwrap();
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o644)).unwrap();
    let check = |mut cmd: Command| {
        let output = cmd
            .env("TMPDIR", tmp.path())
            .args(["check", "serv_simple", "--format", "json", "--"])
            .arg(shared_python())
            .arg(&program)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let r: serde_json::Value =
            serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
        assert_eq!(
            (exit_code(&output), &r["score"]),
            (0, &10.into()),
            "{stderr}\n{r:#}"
        );
    };
    // Root first, on the host's loopback (its port locks) and in namespaces.
    for host in [true, false] {
        let mut root = common::socklab();
        if host {
            root.env("SOCKLAB_ISOLATION", "host");
        }
        check(root);
    }
    assert!(
        tmp.path().join("socklab-0").is_dir(),
        "root's state is there"
    );
    // Another user's folder under the student's name: passed over, not a reason to refuse.
    let squatted = tmp.path().join(format!("socklab-{STUDENT_UID}"));
    std::fs::create_dir(&squatted).unwrap();
    let cwd = student::Student::get().dir.path().to_path_buf();
    for state in [Userns::Allowed, Userns::Refused, Userns::Unmapped] {
        check(student::socklab_as_student(state, &cwd));
    }
    let mut on_host = student::socklab_as_student(Userns::Allowed, &cwd);
    on_host.env("SOCKLAB_ISOLATION", "host");
    check(on_host);
    let own = tmp.path().join(format!("socklab-{STUDENT_UID}-1"));
    assert_eq!(
        std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(&own).unwrap()),
        STUDENT_UID,
        "the student's state is in a folder of their own"
    );
}

//! Gradescope as students and staff see it: run_autograder as Gradescope runs it, in a
//! Docker-like container, with a check hidden from students; and an instructor's mistake,
//! which stops the autograder. (The zip itself, and C files: `grading.rs`.)

mod common;

use common::autograder::*;
use rstest::rstest;

/// run_autograder as Gradescope runs it: as root in a Docker-like container (no namespaces;
/// Docker's capabilities and seccomp profile), with Python from /usr/bin, a rubric hiding
/// serv_simple's `sends_typed_line`, and a serv_simple.py that fails exactly that check.
/// Every lab is graded in any order (serv_simple, which closes first, graded first here, so
/// that its port's TIME_WAIT would trip the others): the others at full marks. Students are
/// not told the hidden check exists, nor that it failed: not by a visible test, not by a
/// total in the output (8/8, not 8/10), not by a gap in the numbers; nor anything of how
/// socklab graded (isolation, why, the folders it hid). Staff read it all on stdout. The
/// instructor's files and the results were closed to other users while the labs ran, and are as they were after.
#[test]
fn run_autograder_in_a_container_as_on_gradescope() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    common::open_to_all(root);
    autograder_from_zip(root);
    std::fs::write(
        root.join("source/labs.conf"),
        "serv_simple serv_simple.py rubrics/hides.toml\nserv_tcp serv_tcp.py\nconn_simple conn_simple.py\nudp_serv udp_serv.py\nnetcat activity1.sh\n",
    )
    .unwrap();
    std::fs::write(
        root.join("source/rubrics/hides.toml"),
        "lab = \"serv_simple\"\n[visibility]\nsends_typed_line = \"hidden\"\n",
    )
    .unwrap();
    for (lab, fixture, file) in [
        // It fails sends_typed_line alone: the check hidden here.
        ("serv_simple", "fail/sends_crlf.py", "serv_simple.py"),
        ("serv_tcp", "pass/lesson_serv_tcp.py", "serv_tcp.py"),
        (
            "conn_simple",
            "pass/lesson_conn_simple.py",
            "conn_simple.py",
        ),
        ("udp_serv", "pass/lesson_select.py", "udp_serv.py"),
        // Activity 1: its four commands, run with the container's nc.
        ("netcat", "pass/lesson.sh", "activity1.sh"),
    ] {
        submit(root, &format!("fixtures/{lab}/{fixture}"), file);
    }
    common::open_to_all(&root.join("submission"));
    let mode_of = |folder: &str| std::fs::metadata(root.join(folder)).unwrap().mode();
    let source = mode_of("source");
    let (results, stdout) = run_autograder(root, true);
    // The hidden test last in its lab, so that the numbers students see have no gap.
    let mut want = expected_tests("serv_simple", &["sends_typed_line"], &[]);
    let hidden = want.remove(4);
    assert_eq!(hidden.0, "serv_simple: sends_typed_line");
    want.push(hidden);
    for lab in ["serv_tcp", "conn_simple", "udp_serv", "netcat"] {
        want.extend(expected_tests(lab, &[], &[]));
    }
    assert_eq!(tests_of(&results), want, "{results:#}");
    let tests = results["tests"].as_array().unwrap();
    let shown: Vec<&str> = tests
        .iter()
        .filter(|t| t["visibility"] == "visible")
        .map(|t| t["number"].as_str().unwrap())
        .filter(|n| n.starts_with("1."))
        .collect();
    assert_eq!(shown, ["1.1", "1.2", "1.3", "1.4", "1.5", "1.6"]);
    assert_eq!(tests[6]["visibility"], "hidden");
    assert_eq!(results["score"], 55);

    let read = students_read(&results);
    for hidden in [
        "serv_simple: sends_typed_line",
        "sends the line typed on its keyboard",
    ] {
        assert!(!read.contains(hidden), "{hidden}: {read}");
    }
    assert!(read.starts_with("serv_simple: 8/8 ("), "{read}");
    assert!(!read.contains("serv_simple: 8/10"), "{read}");
    assert_no_staff_words(&read, root);

    for says in [
        "socklab: 55/57 in all; the tests students are shown now add up to 55/55\n",
        "\nserv_simple: 8/10 (the program exited with status 0",
        "\nnot shown to students now: sends_typed_line 0/2 (hidden)\n",
        "note: cannot create a network namespace (EPERM",
        &format!(
            "note: {} made unreadable to other users",
            root.join("source").display()
        ),
    ] {
        assert!(
            stdout.contains(says),
            "staff should read {says:?}: {stdout}"
        );
    }
    assert_eq!(stdout.matches("; isolation: uid)").count(), 5, "{stdout}");
    // Closed to other users while the labs ran (said above), and given back after.
    assert_eq!(mode_of("source"), source);
    assert_ne!(
        mode_of("results") & 0o007,
        0,
        "results closed to others after the labs"
    );
}

/// An instructor's mistake in labs.conf or a rubric stops run_autograder in its
/// container: it fails, and leaves no results.json, so that Gradescope says the autograder
/// failed rather than give the student (whose file is fine) a zero; its output, which
/// staff read, names the line and what to write.
#[rstest]
#[case::unknown_lab(
    "serv_smple serv_simple.py\n",
    "",
    "labs.conf:1: `serv_smple serv_simple.py`: there is no lab serv_smple; did you mean serv_simple?"
)]
#[case::no_file(
    "# lab file\nserv_simple\n",
    "",
    "labs.conf:2: `serv_simple`: a lab needs the file students submit its program in: LAB FILE [RUBRIC], e.g. serv_simple serv_simple.py"
)]
#[case::rubric_not_there(
    "serv_simple serv_simple.py rubrics/serv_smple.toml\n",
    "",
    "/source/rubrics/serv_smple.toml: put it in the autograder's zip there"
)]
#[case::rubric_names_no_check(
    "serv_simple serv_simple.py rubrics/mine.toml\n",
    "[points]\nprints_clent = 3\n",
    "[points]: serv_simple has no check 'prints_clent'; its checks are: accepts, reachable, prints_client"
)]
#[case::rubric_shows_a_check_that_needs_a_hidden_one(
    "serv_simple serv_simple.py rubrics/mine.toml\n",
    "[visibility]\naccepts = \"hidden\"\n",
    "reachable (visible) needs accepts (hidden), so students would read that accepts did not pass; make reachable hidden too, or accepts visible"
)]
#[case::lab_twice(
    "serv_simple serv_simple.py\nserv_simple serv_simple.py\n",
    "",
    "labs.conf:2: `serv_simple serv_simple.py`: serv_simple is graded on line 1 already: one line a lab"
)]
fn an_instructors_mistake_stops_the_autograder(
    #[case] labs_conf: &str,
    #[case] rubric: &str,
    #[case] says: &str,
) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let output = autograder_without_zip(root, labs_conf, &[("rubrics/mine.toml", rubric)])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_ne!(common::exit_code(&output), 0, "{stdout}");
    assert!(
        !root.join("results/results.json").exists(),
        "a results.json that would grade the student: {stdout}"
    );
    assert!(stdout.contains(says), "should say {says:?}: {stdout}");
    assert!(
        stdout.contains("run_autograder: socklab wrote no results (exit 2)"),
        "{stdout}"
    );
}

/// Where a rubric shows run_autograder's stdout to students, socklab says nothing of its
/// own there, not even on stderr: the staff's account, with what socklab said meanwhile
/// (why there are no namespaces), is a hidden scoreless test instead.
#[test]
fn stdout_shown_to_students_holds_no_staff_words() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut cmd = autograder_without_zip(
        root,
        "serv_simple serv_simple.py shows.toml\n",
        &[("shows.toml", "stdout_visibility = \"visible\"\n")],
    );
    let stdout = succeed(&mut cmd);
    assert_eq!(stdout, "", "students read run_autograder's stdout");
    let text = std::fs::read_to_string(root.join("results/results.json")).unwrap();
    let results: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(results["stdout_visibility"], "visible");
    assert_no_staff_words(&students_read(&results), root);
    let staff = results["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "socklab: for staff")
        .unwrap_or_else(|| panic!("no staff test: {results:#}"));
    assert_eq!(
        (&staff["visibility"], staff.get("score")),
        (&"hidden".into(), None)
    );
    let account = staff["output"].as_str().unwrap();
    for says in [
        "serv_simple: 10/10 (the program exited with status 0",
        "; isolation: uid)",
        "socklab's messages while grading:\nsocklab: cannot create a network namespace (EPERM",
    ] {
        assert!(account.contains(says), "{says}: {account}");
    }
}

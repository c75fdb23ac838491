//! grading/: the Gradescope zip built, unpacked into a temporary /autograder, and its
//! run_autograder run on a correct, an incorrect and a missing submission (Python and C),
//! and one socklab cannot start, its results.json validated field by field; every example
//! rubric fits its lab; the files that follow from the labs are up to date. (Gradescope in
//! its container, hidden checks and an instructor's mistakes: `gradescope.rs`; the GitHub
//! Classroom workflow: `classroom.rs`.)

mod common;

use std::path::Path;
use std::process::Command;

use common::autograder::*;
use common::lab_checks;

/// The zip holds setup.sh, run_autograder, labs.conf, socklab and the rubrics at its root,
/// the scripts and binary executable. Its run_autograder, with the shipped labs.conf and a
/// changed rubric, grades a correct serv_simple.py, a conn_simple.py that forgets the
/// newline, a missing serv_tcp.py, an empty udp_serv.py (not graded, in the student's words)
/// and the lesson's activity1.sh into one results.json whose score is its tests' sum.
#[test]
fn gradescope_zip_grades_a_submission_into_results_json() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let entries = autograder_from_zip(root);
    for (name, executable) in [
        ("setup.sh", true),
        ("run_autograder", true),
        ("socklab", true),
        ("labs.conf", false),
        ("rubrics/serv_simple.toml", false),
    ] {
        let mode = entries
            .get(name)
            .unwrap_or_else(|| panic!("{name} not at the zip's root: {entries:?}"));
        assert_eq!(mode & 0o100 != 0, executable, "{name}: mode {mode:o}");
    }
    std::fs::write(
        root.join("source/rubrics/serv_simple.toml"),
        "lab = \"serv_simple\"\n[points]\nprints_client = 4\nexits_cleanly = 0\n",
    )
    .unwrap();
    submit(
        root,
        "fixtures/serv_simple/pass/lesson_serv_simple.py",
        "serv_simple.py",
    );
    submit(
        root,
        "fixtures/conn_simple/fail/no_newline.py",
        "conn_simple.py",
    );
    // As the template hands it out; serv_tcp.py is not there at all.
    std::fs::write(root.join("submission/udp_serv.py"), "# udp_serv.py\n\n").unwrap();
    submit(root, "fixtures/netcat/pass/lesson.sh", "activity1.sh");

    let (results, stdout) = run_autograder(root, false);
    let keys: Vec<&str> = results
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "score",
            "execution_time",
            "output",
            "output_format",
            "visibility",
            "stdout_visibility",
            "tests"
        ]
    );
    // In labs.conf's order: serv_simple, conn_simple, serv_tcp (missing), udp_serv (empty),
    // netcat (activity1.sh).
    let mut want = expected_tests(
        "serv_simple",
        &[],
        &[("prints_client", 4), ("exits_cleanly", 0)],
    );
    want.extend(expected_tests("conn_simple", &["sends_hello"], &[]));
    want.extend(expected_tests("serv_tcp", &["*"], &[]));
    want.extend(expected_tests("udp_serv", &["*"], &[]));
    want.extend(expected_tests("netcat", &[], &[]));
    assert_eq!(tests_of(&results), want, "{results:#}");
    let sum: u64 = want.iter().map(|t| t.1).sum();
    assert_eq!(results["score"], sum);
    assert!(results["execution_time"].is_u64());
    // A file not submitted is the student's zero for its lab, said in their words, with
    // what they did submit.
    let output = results["output"].as_str().unwrap();
    assert!(
        output.contains(
            "\n\nserv_tcp: 0/10\nnote: serv_tcp.py was not found in your submission (it has: activity1.sh, conn_simple.py, serv_simple.py, udp_serv.py)\n"
        ),
        "{output}"
    );
    assert!(
        output.contains("udp_serv.py is empty, so udp_serv was not graded"),
        "{output}"
    );
    let empty = results["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "udp_serv: is_udp");
    assert!(
        empty.is_some_and(|t| t["output"]
            .as_str()
            .unwrap()
            .contains("not reached: udp_serv.py is empty")),
        "{results:#}"
    );
    let max: u64 = want.iter().map(|t| t.2).sum();
    assert!(
        stdout.starts_with(&format!("socklab: {sum}/{max} in all\n")),
        "{stdout}"
    );
    // Merged by socklab itself: numbered by lab, tagged with it.
    for (i, t) in results["tests"].as_array().unwrap().iter().enumerate() {
        assert_eq!(t["visibility"], "visible");
        assert!(t["output"].is_string());
        let lab = t["name"].as_str().unwrap().split(':').next().unwrap();
        assert_eq!(t["tags"], serde_json::json!([lab]), "test {i}");
        assert!(
            t["number"].as_str().is_some_and(|n| n.contains('.')),
            "test {i}"
        );
    }
}

/// With a labs.conf naming C files: one that compiles is graded, one that does not gets
/// every check failed, a line at the top saying so, and the compiler's message in its
/// first check.
#[test]
fn gradescope_compiles_c_and_says_what_did_not_compile() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    autograder_from_zip(root);
    std::fs::write(
        root.join("source/labs.conf"),
        "# lab file\nconn_simple conn_simple.c\n\nserv_simple serv_simple.c\n",
    )
    .unwrap();
    submit(
        root,
        "fixtures/conn_simple/pass/stdio_no_flush.c",
        "conn_simple.c",
    );
    std::fs::write(root.join("submission/serv_simple.c"), "int main( {\n").unwrap();

    let (results, _) = run_autograder(root, false);
    let mut want = expected_tests("conn_simple", &[], &[]);
    want.extend(expected_tests("serv_simple", &["*"], &[]));
    assert_eq!(tests_of(&results), want, "{results:#}");
    let read = students_read(&results);
    assert_no_staff_words(&read, root);
    let output = results["output"].as_str().unwrap();
    assert!(
        output.contains("\nnote: serv_simple.c did not compile: serv_simple.c:1:"),
        "{output}"
    );
    let first = &results["tests"][lab_checks("conn_simple").len()];
    assert_eq!(first["name"], "serv_simple: accepts");
    let said = first["output"].as_str().unwrap();
    assert!(
        said.contains("cc said:") && said.contains("int main( {"),
        "the compiler's message: {said}"
    );
}

/// A program socklab cannot start (its `#!` names an interpreter the image lacks) is
/// socklab's trouble, not a mark the student lost: run_autograder fails and leaves no
/// results.json, so that Gradescope says the autograder failed rather than give a zero,
/// and its output (staff's) says why.
#[test]
fn a_lab_socklab_cannot_start_fails_the_autograder_not_the_student() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    autograder_from_zip(root);
    std::fs::write(
        root.join("source/labs.conf"),
        "conn_simple conn_simple.py\nudp_serv udp_serv\n",
    )
    .unwrap();
    submit(
        root,
        "fixtures/conn_simple/pass/lesson_conn_simple.py",
        "conn_simple.py",
    );
    std::fs::write(
        root.join("submission/udp_serv"),
        "#!/nonexistent/python3\nprint('hi')\n",
    )
    .unwrap();
    let output = run_autograder_command(root, false).output().unwrap();
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{said}");
    assert!(!root.join("results/results.json").exists(), "{said}");
    assert!(
        said.contains(
            "could not grade 1 of 2 labs (first, udp_serv: cannot start ./udp_serv: exec: "
        ),
        "{said}"
    );
}

/// grading/rubrics has an example for every lab; each names its own lab, every check of it
/// with the lab's own points, and nothing else.
#[test]
fn example_rubrics_fit_their_labs() {
    for lab in socklab::labs::Labs::built_in().all() {
        let path = Path::new(ROOT).join(format!("grading/rubrics/{}.toml", lab.name));
        let rubric = socklab::rubric::Rubric::load(&path).unwrap();
        let mut graded = socklab::labs::Labs::built_in().find(&lab.name).unwrap();
        rubric.apply(&mut graded).unwrap();
        let points = |l: &socklab::script::Lab| -> Vec<(String, u32)> {
            l.checks().map(|c| (c.id.to_string(), c.points)).collect()
        };
        assert_eq!(points(&graded), points(&lab), "{}", path.display());
        let text = std::fs::read_to_string(&path).unwrap();
        // Its commented visibility lines work once uncommented.
        let uncommented = text
            .replace("\n# default_visibility", "\ndefault_visibility")
            .replace("\n# stdout_visibility", "\nstdout_visibility")
            .replace("\n# [visibility]\n# ", "\n[visibility]\n");
        let visible = socklab::rubric::Rubric::parse(&uncommented, "uncommented").unwrap();
        assert_eq!(visible.visibility().checks.len(), 1, "{uncommented}");
        visible
            .apply(&mut socklab::labs::Labs::built_in().find(&lab.name).unwrap())
            .unwrap();
        for check in lab.checks() {
            assert!(
                text.contains(&format!("\n{} = ", check.id)),
                "{} does not name {}",
                path.display(),
                check.id
            );
        }
        let other = socklab::labs::Labs::built_in()
            .all()
            .into_iter()
            .find(|o| o.name != lab.name)
            .unwrap();
        let mut other = other;
        assert!(
            rubric.apply(&mut other).is_err(),
            "{} fits another lab",
            path.display()
        );
    }
}

/// The files that follow from the labs are what `socklab export` writes now: a new lab is
/// one lab file, then `socklab export ...` over these (the message says which).
#[test]
fn committed_files_follow_from_the_labs() {
    let export = |what: &[&str]| {
        let output = Command::new(socklab_bin())
            .arg("export")
            .args(what)
            .output()
            .unwrap();
        assert!(output.status.success(), "{what:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let mut files = vec![
        (
            "grading/github-classroom/classroom.yml".to_string(),
            export(&["classroom"]),
            "socklab export classroom".to_string(),
        ),
        (
            "grading/gradescope/labs.conf".to_string(),
            export(&["labs-conf"]),
            "socklab export labs-conf".to_string(),
        ),
    ];
    for lab in socklab::labs::Labs::built_in().all() {
        files.push((
            format!("grading/rubrics/{}.toml", lab.name),
            export(&["rubric", &lab.name]),
            format!("socklab export rubric {}", lab.name),
        ));
    }
    for (path, now, command) in files {
        let committed = std::fs::read_to_string(Path::new(ROOT).join(&path)).unwrap_or_default();
        assert!(
            committed == now,
            "{path} is out of date with the labs: run `{command} > {path}`"
        );
    }
}

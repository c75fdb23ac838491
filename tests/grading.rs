//! grading/: the Gradescope zip built, unpacked into a temporary /autograder, and its
//! run_autograder run on a correct, an incorrect and a missing submission (Python and C),
//! its results.json validated field by field; every example rubric fits its lab. (The
//! GitHub Classroom workflow is tested in `classroom.rs`.)

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::lab_checks;
use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn socklab_bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("socklab")
}

/// Runs `cmd`, which must succeed; returns its stdout.
fn succeed(cmd: &mut Command) -> String {
    let output = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        output.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn python(code: &str, args: &[&Path]) -> String {
    succeed(Command::new("python3").arg("-c").arg(code).args(args))
}

/// Builds the zip with this build's socklab and unpacks it as Gradescope does into
/// `root/source`; returns each entry of the zip with its Unix mode.
fn autograder_from_zip(root: &Path) -> BTreeMap<String, u32> {
    let zip = root.join("autograder.zip");
    succeed(
        Command::new(Path::new(ROOT).join("grading/gradescope/make_zip.sh"))
            .arg(&zip)
            .env("SOCKLAB_BIN", socklab_bin()),
    );
    let listing = python(
        "import json, sys, zipfile\n\
         z = zipfile.ZipFile(sys.argv[1])\n\
         print(json.dumps({i.filename: i.external_attr >> 16 for i in z.infolist()}))\n\
         z.extractall(sys.argv[2])",
        &[&zip, &root.join("source")],
    );
    // setup.sh's own chmod: zipfile does not restore modes when it extracts.
    for exe in ["socklab", "run_autograder"] {
        succeed(
            Command::new("chmod")
                .arg("+x")
                .arg(root.join("source").join(exe)),
        );
    }
    serde_json::from_str(&listing).unwrap()
}

/// Runs run_autograder from the unpacked zip with `root` as /autograder; returns
/// results/results.json.
fn run_autograder(root: &Path) -> Value {
    succeed(
        Command::new(root.join("source/run_autograder"))
            .env("AUTOGRADER_ROOT", root)
            .env_remove("SOCKLAB")
            .env_remove("PYTHONUNBUFFERED")
            .current_dir(root),
    );
    let text = std::fs::read_to_string(root.join("results/results.json")).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn submit(root: &Path, fixture: &str, name: &str) {
    std::fs::create_dir_all(root.join("submission")).unwrap();
    std::fs::copy(
        Path::new(ROOT).join(fixture),
        root.join("submission").join(name),
    )
    .unwrap();
}

/// What a test of results.json says: (name, score, max_score, status).
fn tests_of(results: &Value) -> Vec<(String, u64, u64, String)> {
    results["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_string(),
                t["score"].as_u64().unwrap(),
                t["max_score"].as_u64().unwrap(),
                t["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The tests a lab should have in results.json: every check, `failing` ones at 0, with
/// points changed by `points`.
fn expected_tests(
    lab: &str,
    failing: &[&str],
    points: &[(&str, u64)],
) -> Vec<(String, u64, u64, String)> {
    lab_checks(lab)
        .into_iter()
        .map(|(id, max)| {
            let max = points
                .iter()
                .find(|(p, _)| *p == id)
                .map_or(u64::from(max), |(_, p)| *p);
            let failed = failing.contains(&id.as_str()) || failing == ["*"];
            let (score, status) = if failed {
                (0, "failed")
            } else {
                (max, "passed")
            };
            (format!("{lab}: {id}"), score, max, status.to_string())
        })
        .collect()
}

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

    let results = run_autograder(root);
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
    let output = results["output"].as_str().unwrap();
    assert!(
        output.starts_with("serv_tcp: serv_tcp.py was not found in your submission"),
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

    let results = run_autograder(root);
    let mut want = expected_tests("conn_simple", &[], &[]);
    want.extend(expected_tests("serv_simple", &["*"], &[]));
    assert_eq!(tests_of(&results), want, "{results:#}");
    let output = results["output"].as_str().unwrap();
    assert!(
        output.contains("\nnote: serv_simple.c did not compile: serv_simple.c:1:"),
        "{output}"
    );
    let first = &results["tests"][want.len() - lab_checks("serv_simple").len()];
    assert_eq!(first["name"], "serv_simple: accepts");
    let said = first["output"].as_str().unwrap();
    assert!(
        said.contains("cc said:") && said.contains("int main( {"),
        "the compiler's message: {said}"
    );
}

/// grading/rubrics has an example for every lab; each names its own lab, every check of it
/// with the lab's own points, and nothing else.
#[test]
fn example_rubrics_fit_their_labs() {
    for lab in socklab::labs::all() {
        let path = Path::new(ROOT).join(format!("grading/rubrics/{}.toml", lab.name));
        let rubric = socklab::rubric::Rubric::load(&path).unwrap();
        let mut graded = socklab::labs::find(&lab.name).unwrap();
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
            .apply(&mut socklab::labs::find(&lab.name).unwrap())
            .unwrap();
        for check in lab.checks() {
            assert!(
                text.contains(&format!("\n{} = ", check.id)),
                "{} does not name {}",
                path.display(),
                check.id
            );
        }
        let other = socklab::labs::all()
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

/// run_autograder as Gradescope runs it: as root in a Docker-like container (no namespaces;
/// Docker's capabilities and seccomp profile), with Python from /usr/bin. Every lab of the
/// shipped labs.conf gets full marks with the lesson's programs (Activity 1: its four
/// commands in activity1.sh, run with the container's nc), in any order (serv_simple,
/// which closes first, graded first here, so that its port's TIME_WAIT would trip the
/// others); results.json is socklab's own and says the runs had uid isolation; the
/// instructor's files and the results were closed to other users.
#[test]
fn run_autograder_in_a_container_as_on_gradescope() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    common::open_to_all(root);
    autograder_from_zip(root);
    std::fs::write(
        root.join("source/labs.conf"),
        "serv_simple serv_simple.py\nserv_tcp serv_tcp.py\nconn_simple conn_simple.py\nudp_serv udp_serv.py\nnetcat activity1.sh\n",
    )
    .unwrap();
    for (lab, fixture, file) in [
        ("serv_simple", "lesson_serv_simple.py", "serv_simple.py"),
        ("serv_tcp", "lesson_serv_tcp.py", "serv_tcp.py"),
        ("conn_simple", "lesson_conn_simple.py", "conn_simple.py"),
        ("udp_serv", "lesson_select.py", "udp_serv.py"),
        ("netcat", "lesson.sh", "activity1.sh"),
    ] {
        submit(root, &format!("fixtures/{lab}/pass/{fixture}"), file);
    }
    common::open_to_all(&root.join("submission"));
    let mut cmd = Command::new(root.join("source/run_autograder"));
    cmd.env("AUTOGRADER_ROOT", root)
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .env_remove("SOCKLAB")
        .env_remove("PYTHONUNBUFFERED")
        .current_dir(root);
    succeed(common::docker::docker_like(&mut cmd));
    let text = std::fs::read_to_string(root.join("results/results.json")).unwrap();
    let results: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let mut want = Vec::new();
    for lab in [
        "serv_simple",
        "serv_tcp",
        "conn_simple",
        "udp_serv",
        "netcat",
    ] {
        want.extend(expected_tests(lab, &[], &[]));
    }
    assert_eq!(tests_of(&results), want, "{results:#}");
    let output = results["output"].as_str().unwrap();
    assert_eq!(output.matches("isolation: uid").count(), 5, "{output}");
    for folder in ["source", "results"] {
        let mode = std::fs::metadata(root.join(folder)).unwrap().mode();
        assert_eq!(mode & 0o007, 0, "{folder} still open to others: {mode:o}");
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
    for lab in socklab::labs::all() {
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

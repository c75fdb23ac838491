//! Where namespaces are refused: on the host's loopback (`SOCKLAB_ISOLATION=host`) and in a
//! Docker-like container, as Gradescope runs socklab. The lesson's fixed ports graded one
//! lab after another; a program that tries every way to forge its grade; fork bombs and
//! memory hogs; a floor on isolation; a program its sandbox user cannot reach. (Every
//! fixture's verdict at every place is in tests/fixtures.rs.)

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use common::{Place, exit_code, grade_json_at, not_passed, open_to_all, shared_python};
use rstest::rstest;

/// The lesson's programs, copied where a sandbox user can read them, run by a Python it can
/// run: (lab, argv) in the order serv_simple, serv_tcp, conn_simple, udp_serv.
fn lesson_programs(dir: &Path) -> Vec<(&'static str, Vec<String>)> {
    open_to_all(dir);
    [
        (
            "serv_simple",
            "fixtures/serv_simple/pass/lesson_serv_simple.py",
        ),
        ("serv_tcp", "fixtures/serv_tcp/pass/lesson_serv_tcp.py"),
        (
            "conn_simple",
            "fixtures/conn_simple/pass/lesson_conn_simple.py",
        ),
        ("udp_serv", "fixtures/udp_serv/pass/lesson_select.py"),
    ]
    .into_iter()
    .map(|(lab, file)| {
        let copy = dir.join(Path::new(file).file_name().unwrap());
        std::fs::copy(file, &copy).unwrap();
        (lab, vec![shared_python(), copy.display().to_string()])
    })
    .collect()
}

/// serv_simple closes first (its port 8000 would sit in TIME_WAIT for a minute) and binds
/// without SO_REUSEADDR, as does serv_tcp after it: on the host's one loopback, the four
/// lessons graded one after another on their fixed ports all get full marks, twice over.
#[test]
fn lesson_ports_one_lab_after_another_on_the_host() {
    let dir = tempfile::tempdir().unwrap();
    for round in 1..=2 {
        for (lab, argv) in lesson_programs(dir.path()) {
            let (code, report) = grade_json_at(Place::Host, lab, &argv);
            assert_eq!(
                (code, not_passed(&report)),
                (0, vec![]),
                "round {round}, {lab}: {report:#}"
            );
        }
    }
}

/// The same in one Docker-like container (one network namespace for all four runs, as
/// Gradescope's run_autograder grades every lab of a submission in one container).
#[test]
fn lesson_ports_one_lab_after_another_in_one_container() {
    let dir = tempfile::tempdir().unwrap();
    let socklab = assert_cmd::cargo::cargo_bin("socklab");
    let mut script = String::from("set -e\n");
    for (lab, argv) in lesson_programs(dir.path()) {
        script.push_str(&format!(
            "{} check {lab} --format json -- {} > {}/{lab}.json\n",
            socklab.display(),
            argv.join(" "),
            dir.path().display()
        ));
    }
    let mut cmd = Command::new("bash");
    cmd.args(["-c", &script]).env_remove("PYTHONUNBUFFERED");
    let output = common::docker::docker_like(&mut cmd).output().unwrap();
    assert_eq!(
        exit_code(&output),
        0,
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for lab in ["serv_simple", "serv_tcp", "conn_simple", "udp_serv"] {
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join(format!("{lab}.json"))).unwrap())
                .unwrap();
        assert_eq!(report["isolation"], "uid", "{lab}: {report:#}");
        assert_eq!(report["score"], report["max_score"], "{lab}: {report:#}");
    }
}

/// In a Docker-like container, a program that tries every way to forge its grade gets an
/// honest failing results.json and exit 1: it could not overwrite a root-owned file or the
/// results, read a hidden folder, or kill socklab, and the daemon it left to overwrite the
/// results afterwards is gone with everything else of its user.
#[test]
fn forger_in_a_container_cannot_touch_the_grade() {
    let dir = tempfile::tempdir().unwrap();
    open_to_all(dir.path());
    let program = dir.path().join("forger.py");
    std::fs::copy("fixtures/hostile/forger_daemon.py", &program).unwrap();
    let root_file = dir.path().join("instructor.txt");
    std::fs::write(&root_file, "the instructor's").unwrap();
    let results = dir.path().join("results");
    std::fs::create_dir(&results).unwrap();
    open_to_all(&results);
    let results_json = results.join("results.json");
    let hidden = dir.path().join("source");
    std::fs::create_dir(&hidden).unwrap();
    open_to_all(&hidden);
    let secret = hidden.join("solution.py");
    std::fs::write(&secret, "the solution").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();

    let output = Place::Docker
        .socklab()
        .args([
            "check",
            "serv_simple",
            "--timeout",
            "1",
            "--format",
            "gradescope",
        ])
        .arg("--output")
        .arg(&results_json)
        .arg("--hide")
        .arg(&hidden)
        .arg("--hide")
        .arg(&results)
        .arg("--")
        .arg(shared_python())
        .args([&program, &root_file, &secret, &results_json])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(exit_code(&output), 1, "{stderr}");
    let text = std::fs::read_to_string(&results_json).unwrap();
    let results: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!("results.json is not socklab's ({e}): {text}");
    });
    let score = results["score"].as_u64().unwrap();
    assert!(score < 10, "{results:#}");
    let tests = results["tests"].as_array().unwrap();
    assert_eq!(tests.len(), lab_of_checks("serv_simple"), "{results:#}");
    assert_eq!(
        std::fs::read_to_string(&root_file).unwrap(),
        "the instructor's"
    );
    let said = tests
        .iter()
        .map(|t| t["output"].as_str().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    for (attempt, outcome) in [
        ("WRITE", "WRITE-FAILED Permission denied"),
        ("READ", "READ-FAILED Permission denied"),
    ] {
        assert!(said.contains(outcome), "{attempt}: {said}");
    }
    // How it was graded is for staff, on stderr (which a run_autograder's stdout gathers):
    // uid isolation, and the hidden folder closed to others while the program ran.
    let output = results["output"].as_str().unwrap();
    assert!(!output.contains("isolation"), "{output}");
    for says in [
        "; isolation: uid)".to_string(),
        format!(
            "note: {} made unreadable to other users (mode 0755 → 0750) while the program runs",
            hidden.display()
        ),
    ] {
        assert!(stderr.contains(&says), "{says}: {stderr}");
    }
    // It is open again now.
    assert_eq!(std::fs::metadata(&hidden).unwrap().mode() & 0o007, 0o005);
    let left = common::processes_with(&program.display().to_string());
    assert_eq!(left, Vec::<String>::new(), "left running");
}

fn lab_of_checks(lab: &str) -> usize {
    common::lab_checks(lab).len()
}

/// A fork bomb and a memory hog lose their checks with the limit named, in namespaces
/// (cgroups) and in a Docker-like container (resource limits, cgroups being read-only),
/// and leave nothing running.
#[rstest]
fn limits_are_kept_and_named(
    #[values(Place::Namespaces, Place::Docker)] place: Place,
    #[values(
        ("fixtures/hostile/fork_bomb.py", "more than 64 processes (process limit)"),
        ("fixtures/hostile/memory_hog.py", "more than 512 MiB of memory (memory limit)")
    )]
    case: (&str, &str),
) {
    let (fixture, named) = case;
    let build = tempfile::tempdir().unwrap();
    let argv = place.command_for(Path::new(fixture), build.path());
    let (code, report) = grade_json_at(place, "serv_simple", &argv);
    assert_eq!(code, 1, "{report:#}");
    let messages: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "failed")
        .filter_map(|c| c["message"].as_str())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains(named)),
        "no failure names the limit ({named}): {report:#}"
    );
    let left = common::processes_with(&argv[1]);
    assert_eq!(left, Vec::<String>::new(), "left running");
}

/// Where cgroups are read-only (a Docker-like container), the memory limit still holds
/// for the run as a whole: memory spread over several processes, each under the limit, or
/// kept in the kernel's socket buffers, past 512 MiB together, fails with the limit named,
/// and leaves nothing running.
#[rstest]
fn memory_limit_holds_for_the_whole_run(
    #[values(
        "fixtures/hostile/memory_in_children.py",
        "fixtures/hostile/socket_buffers.py"
    )]
    fixture: &str,
) {
    let build = tempfile::tempdir().unwrap();
    let argv = Place::Docker.command_for(Path::new(fixture), build.path());
    let (code, report) = grade_json_at(Place::Docker, "serv_simple", &argv);
    assert_eq!(code, 1, "{report:#}");
    let named = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["message"].as_str())
        .any(|m| m.contains("more than 512 MiB of memory (memory limit)"));
    assert!(named, "no failure names the memory limit: {report:#}");
    let left = common::processes_with(&argv[1]);
    assert_eq!(left, Vec::<String>::new(), "left running");
}

/// `--isolation namespaces` refuses to grade where namespaces are refused: exit 2, one line
/// saying why; `--isolation uid` grades there.
#[test]
fn isolation_floor_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (_, argv) = lesson_programs(dir.path()).remove(0);
    let refused = Place::Docker
        .socklab()
        .args(["check", "serv_simple", "--isolation", "namespaces", "--"])
        .args(&argv)
        .output()
        .unwrap();
    common::assert_cannot_grade(
        &refused,
        "--isolation namespaces: namespaces are refused here",
    );
    assert_eq!(String::from_utf8_lossy(&refused.stderr).lines().count(), 1);
    let (code, report) = {
        let output = Place::Docker
            .socklab()
            .args([
                "check",
                "serv_simple",
                "--isolation",
                "uid",
                "--format",
                "json",
                "--",
            ])
            .args(&argv)
            .output()
            .unwrap();
        (
            exit_code(&output),
            serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap(),
        )
    };
    assert_eq!((code, report["isolation"].as_str()), (0, Some("uid")));
}

/// A program the sandbox user cannot reach (here, in a folder only root may enter, as pyenv's
/// Python is under /root) is socklab's clear error naming the folder, not a failed grade.
#[test]
fn unreachable_program_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let program = dir.path().join("serv_simple.py");
    std::fs::copy("fixtures/serv_simple/pass/lesson_serv_simple.py", &program).unwrap();
    let output = Place::Docker
        .socklab()
        .args(["check", "serv_simple", "--"])
        .arg(shared_python())
        .arg(&program)
        .output()
        .unwrap();
    common::assert_cannot_grade(
        &output,
        &format!(
            "cannot reach {}: {} is closed to other users (mode 0700)",
            program.display(),
            dir.path().display()
        ),
    );
}

/// `socklab grade` in a Docker-like container: each submission runs as a user of its own,
/// sees its own files (copied where it may read them) and not the class's, and the correct
/// ones get full marks.
#[test]
fn class_graded_in_a_container_keeps_submissions_apart() {
    let class = tempfile::tempdir().unwrap();
    open_to_all(class.path());
    for id in ["ada", "bob", "cy"] {
        let folder = class.path().join(id);
        std::fs::create_dir(&folder).unwrap();
        std::fs::copy(
            "fixtures/serv_simple/pass/lesson_serv_simple.py",
            folder.join("serv_simple.py"),
        )
        .unwrap();
    }
    // cy also tries to read ada's work; if it can, it gives up serving (and loses marks).
    let peek = format!(
        "import sys\ntry:\n    open('{}/ada/serv_simple.py').read()\n    sys.exit('read ada')\nexcept OSError:\n    pass\n",
        class.path().display()
    );
    let cy = class.path().join("cy/serv_simple.py");
    let lesson = std::fs::read_to_string(&cy).unwrap();
    std::fs::write(&cy, format!("{peek}{lesson}")).unwrap();

    let output = Place::Docker
        .socklab()
        .args(["grade", "serv_simple"])
        .arg(class.path())
        .args(["--jobs", "3", "--format", "json", "--"])
        .arg(shared_python())
        .arg("{dir}/serv_simple.py")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let graded: serde_json::Value =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    assert_eq!(exit_code(&output), 0, "{graded:#}");
    assert_eq!(graded["summary"]["full_marks"], 3, "{graded:#}");
}

//! `socklab grade`: a class folder of good and bad submissions graded at once and checked
//! per id in every format; submissions with the lesson's port written in them graded at the
//! same time; a folder without a program is a zero with the reason; what stops a whole
//! class is exit 2.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::{assert_cannot_grade, lab_checks, run, socklab};
use rstest::rstest;
use serde_json::Value;

fn put(class: &Path, id: &str, fixture: &str, name: &str) {
    let folder = class.join(id);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::copy(fixture, folder.join(name)).unwrap();
}

/// alice: the lesson's program; bob: never prints the message; carol: an empty folder;
/// dave: a correct variant. A plain file and a hidden folder beside them are not
/// submissions.
fn class() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let class = dir.path();
    put(
        class,
        "alice",
        "fixtures/serv_simple/pass/lesson_serv_simple.py",
        "serv_simple.py",
    );
    put(
        class,
        "bob",
        "fixtures/serv_simple/fail/no_print_message.py",
        "serv_simple.py",
    );
    std::fs::create_dir(class.join("carol")).unwrap();
    put(
        class,
        "dave",
        "fixtures/serv_simple/pass/with_socket_readline.py",
        "serv_simple.py",
    );
    put(
        class,
        ".git",
        "fixtures/serv_simple/pass/lesson_serv_simple.py",
        "serv_simple.py",
    );
    std::fs::write(class.join("notes.txt"), "not a submission").unwrap();
    dir
}

/// (id, score, status, error) each submission of [`class`] must get, in order of id.
const EXPECTED: [(&str, u64, &str, Option<&str>); 4] = [
    ("alice", 10, "graded", None),
    ("bob", 8, "graded", None),
    (
        "carol",
        0,
        "no_program",
        Some("carol has no serv_simple.py"),
    ),
    ("dave", 10, "graded", None),
];

fn grade_class(class: &Path, format: &str) -> (i32, Vec<u8>, String) {
    run(
        &[
            "grade",
            "serv_simple",
            class.to_str().unwrap(),
            "--format",
            format,
            "--timeout",
            "1",
        ],
        &["python3".into(), "{dir}/serv_simple.py".into()],
    )
}

/// `socklab grade serv_simple CLASS --format json EXTRA -- PROGRAM`: exit code and report.
fn grade_json(class: &Path, extra: &[&str], program: &[String]) -> (i32, Value) {
    let mut args = vec![
        "grade",
        "serv_simple",
        class.to_str().unwrap(),
        "--format",
        "json",
    ];
    args.extend(extra);
    let (code, out, err) = run(&args, program);
    let report = serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    (code, report)
}

/// JSON: every submission by id with its score, status, reason and checks; `{dir}` became
/// the folder's absolute path; the summary counts, averages and names the check failed most.
#[test]
fn class_in_json() {
    let class = class();
    let (code, out, err) = grade_class(class.path(), "json");
    assert_eq!(code, 1, "{err}");
    let r: Value = serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    assert_eq!(
        (&r["lab"], &r["max_score"]),
        (&"serv_simple".into(), &10.into())
    );
    let subs = r["submissions"].as_array().unwrap();
    let got: Vec<(&str, u64, &str, Option<&str>)> = subs
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap(),
                s["score"].as_u64().unwrap(),
                s["status"].as_str().unwrap(),
                s["error"].as_str(),
            )
        })
        .collect();
    assert_eq!(got, EXPECTED, "{r:#}");
    let checks = lab_checks("serv_simple");
    for s in subs {
        assert_eq!(s["max_score"], 10);
        let statuses: Vec<(&str, &str)> = s["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["name"].as_str().unwrap(), c["status"].as_str().unwrap()))
            .collect();
        let want: Vec<(&str, &str)> = checks
            .iter()
            .map(|(id, _)| {
                let status = match (s["id"].as_str().unwrap(), id.as_str()) {
                    ("bob", "prints_message") => "failed",
                    ("carol", _) => "not_reached",
                    _ => "passed",
                };
                (id.as_str(), status)
            })
            .collect();
        assert_eq!(statuses, want, "{}", s["id"]);
    }
    let alice_dir = class.path().canonicalize().unwrap().join("alice");
    assert_eq!(
        subs[0]["program"],
        serde_json::json!(["python3", alice_dir.join("serv_simple.py")])
    );
    assert_eq!(
        subs[2]["checks"][0]["message"],
        "carol has no serv_simple.py"
    );
    let summary = &r["summary"];
    assert_eq!(
        (
            &summary["count"],
            &summary["mean"],
            &summary["full_marks"],
            &summary["not_graded"]
        ),
        (&4.into(), &7.0.into(), &2.into(), &1.into())
    );
    assert_eq!(
        summary["most_failed"],
        serde_json::json!([{"check": "prints_message", "failed": 1}])
    );
}

/// CSV: a header of id, score, max_score, each check, status, error, isolation; then a row
/// per submission in order of id with the points of each check.
#[test]
fn class_in_csv() {
    let class = class();
    let (code, out, err) = grade_class(class.path(), "csv");
    assert_eq!(code, 1, "{err}");
    let mut rows = csv::Reader::from_reader(out.as_slice());
    let checks = lab_checks("serv_simple");
    let mut header = vec!["id", "score", "max_score"];
    header.extend(checks.iter().map(|(id, _)| id.as_str()));
    header.extend(["status", "error", "isolation"]);
    assert_eq!(rows.headers().unwrap(), header);
    let rows: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), EXPECTED.len());
    for (row, (id, score, status, error)) in rows.iter().zip(EXPECTED) {
        assert_eq!(&row[0], id);
        assert_eq!(row[1], score.to_string(), "{id}");
        assert_eq!(&row[2], "10");
        for (i, (check, max)) in checks.iter().enumerate() {
            let want = match (id, check.as_str()) {
                ("bob", "prints_message") | ("carol", _) => 0,
                _ => *max,
            };
            assert_eq!(row[3 + i], want.to_string(), "{id} {check}");
        }
        assert_eq!(&row[3 + checks.len()], status);
        assert_eq!(&row[4 + checks.len()], error.unwrap_or(""));
        let isolation = if status == "graded" { "namespaces" } else { "" };
        assert_eq!(&row[5 + checks.len()], isolation, "{id}");
    }
}

/// Human: a line per submission in order of id saying what it lost or why it was not
/// graded, then the summary; on stderr (not a terminal) a plain line per finished
/// submission.
#[test]
fn class_for_a_person() {
    let class = class();
    let (code, out, err) = grade_class(class.path(), "human");
    assert_eq!(code, 1, "{err}");
    let out = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("socklab grade serv_simple: 4 submissions"),
        "{out}"
    );
    let rows: Vec<Vec<&str>> = lines[1..5]
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0], ["alice", "10/10"], "{out}");
    assert_eq!(
        rows[1],
        ["bob", "8/10", "failed:", "prints_message"],
        "{out}"
    );
    assert_eq!(
        rows[2],
        [
            "carol",
            "0/10",
            "not",
            "graded:",
            "carol",
            "has",
            "no",
            "serv_simple.py"
        ],
        "{out}"
    );
    assert_eq!(rows[3], ["dave", "10/10"], "{out}");
    assert_eq!(
        &lines[5..],
        [
            "4 submissions: mean 7.00/10, 2 at full marks, 1 not graded",
            "failed most: prints_message (1)"
        ],
        "{out}"
    );
    assert!(!out.contains('\x1b'), "no colour when redirected: {out:?}");
    for (id, score, _, _) in EXPECTED {
        let progress: Vec<&str> = err
            .lines()
            .filter(|l| l.contains(&format!("] {id}: {score}/10")))
            .collect();
        assert_eq!(progress.len(), 1, "one progress line for {id}: {err}");
    }
}

/// Three submissions with port 8000 written in them, each waiting until all three have
/// started before it listens: they get full marks only if graded at the same time, each
/// with a port 8000 of its own. They meet through two FIFOs open to every user, which work
/// on the read-only filesystem a program sees: each says it started on one, then waits on
/// the other, which the test opens only once all three have started.
#[test]
fn hard_coded_ports_grade_in_parallel() {
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;

    let dir = tempfile::tempdir().unwrap();
    let class = dir.path().join("class");
    let started = dir.path().join("started");
    let go = dir.path().join("go");
    for fifo in [&started, &go] {
        nix::unistd::mkfifo(fifo, nix::sys::stat::Mode::from_bits_truncate(0o666)).unwrap();
        // Whatever the umask: the programs, as users of their own, write to them.
        std::fs::set_permissions(fifo, std::os::unix::fs::PermissionsExt::from_mode(0o666))
            .unwrap();
    }
    let lesson = std::fs::read_to_string("fixtures/serv_simple/pass/lesson_serv_simple.py")
        .unwrap()
        .replace("#!/usr/bin/python3", "");
    let program = format!(
        "import sys\n\
         open(sys.argv[1], 'w').write('x')\n\
         open(sys.argv[2], 'rb', buffering=0).read(1)\n\
         {lesson}"
    );
    for id in ["ann", "ben", "cat"] {
        std::fs::create_dir_all(class.join(id)).unwrap();
        std::fs::write(class.join(id).join("serv_simple.py"), &program).unwrap();
    }
    // Read-write opens of a FIFO never block, and keep it open for the programs.
    let fifo = |path: &std::path::Path| {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .unwrap()
    };
    let mut started_fifo = fifo(&started);
    let mut grading = socklab()
        .args(["grade", "serv_simple"])
        .arg(&class)
        .args([
            "--format",
            "json",
            "--jobs",
            "3",
            "--",
            "python3",
            "{dir}/serv_simple.py",
        ])
        .arg(&started)
        .arg(&go)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut count = 0;
    while count < 3 {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        assert!(
            !left.is_zero(),
            "only {count} of 3 programs started at once"
        );
        let mut pfd = libc::pollfd {
            fd: started_fifo.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut pfd, 1, left.as_millis() as i32) };
        let mut buf = [0u8; 8];
        if let Ok(n) = started_fifo.read(&mut buf) {
            count += n;
        }
    }
    let mut go_fifo = fifo(&go);
    go_fifo.write_all(b"xxx").unwrap();

    let mut out = Vec::new();
    grading
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    let code = common::status_code(grading.wait().unwrap(), "(not captured)");
    let r: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["jobs"], 3);
    assert_eq!(r["summary"]["full_marks"], 3, "{r:#}");
    drop(go_fifo);
}

/// With the program named by `{dir}` itself, a folder whose program is not executable or
/// missing gets a zero with the reason; the others are graded.
#[test]
fn folder_without_a_runnable_program_is_a_zero_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let class = dir.path();
    for (id, mode) in [("amy", 0o755), ("bo", 0o644)] {
        let folder = class.join(id);
        std::fs::create_dir(&folder).unwrap();
        // The program in the submission's folder, which the run is given, wherever the
        // checkout lies (a run's /tmp is its own).
        std::fs::copy(
            "fixtures/serv_simple/pass/lesson_serv_simple.py",
            folder.join("serv.py"),
        )
        .unwrap();
        let script = folder.join("run.sh");
        std::fs::write(
            &script,
            "#!/bin/sh\nexec python3 \"$(dirname \"$0\")/serv.py\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    std::fs::create_dir(class.join("cy")).unwrap();
    let (code, r) = grade_json(class, &[], &["{dir}/run.sh".into()]);
    assert_eq!(code, 1, "{r:#}");
    let subs = r["submissions"].as_array().unwrap();
    assert_eq!(
        (&subs[0]["id"], &subs[0]["score"]),
        (&"amy".into(), &10.into())
    );
    assert_eq!(
        (&subs[1]["id"], &subs[1]["status"]),
        (&"bo".into(), &"no_program".into())
    );
    assert!(
        subs[1]["error"]
            .as_str()
            .unwrap()
            .contains("is not executable"),
        "{}",
        subs[1]
    );
    assert_eq!(subs[2]["error"], "cy has no run.sh");
    assert_eq!(subs[1]["score"], 0);
}

/// What stops the whole class is one line and exit 2: no submission folders, no class
/// folder, no `{dir}` in the command, an unknown lab, `--jobs 0`.
#[rstest]
#[case::empty_class(&["grade", "serv_simple", "EMPTY"], "{dir}/serv_simple.py", "has no submission folders")]
#[case::missing_class(&["grade", "serv_simple", "EMPTY/nope"], "{dir}/serv_simple.py", "reading the class folder")]
#[case::no_dir_placeholder(&["grade", "serv_simple", "EMPTY"], "serv_simple.py", "{dir}")]
#[case::unknown_lab(&["grade", "nosuchlab", "EMPTY"], "{dir}/serv_simple.py", "unknown lab")]
#[case::zero_jobs(&["grade", "serv_simple", "EMPTY", "--jobs", "0"], "{dir}/serv_simple.py", "--jobs")]
fn class_errors_exit_2(#[case] args: &[&str], #[case] script: &str, #[case] says: &str) {
    let empty = tempfile::tempdir().unwrap();
    let empty = empty.path().to_str().unwrap().to_string();
    let args: Vec<String> = args.iter().map(|a| a.replace("EMPTY", &empty)).collect();
    let output = socklab()
        .args(&args)
        .args(["--", "python3", script])
        .output()
        .unwrap();
    assert_cannot_grade(&output, says);
}

/// On a terminal, progress is a bar on stderr, not a line per submission.
#[test]
fn progress_is_a_bar_on_a_terminal() {
    let class = class();
    let command = format!(
        "{} grade serv_simple {} --timeout 1 -- python3 '{{dir}}/serv_simple.py'",
        assert_cmd::cargo::cargo_bin("socklab").display(),
        class.path().display()
    );
    // `script` gives socklab a terminal for stdout and stderr and copies what it shows.
    let output = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("PYTHONUNBUFFERED")
        .output()
        .expect("run script");
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(shown.contains("grading "), "no bar: {shown:?}");
    assert!(
        !shown.contains("[1/4]"),
        "plain progress lines on a terminal: {shown:?}"
    );
    assert!(
        shown.contains("failed most: prints_message (1)"),
        "{shown:?}"
    );
}

/// socklab's own failure on a submission is not the student's zero: with the lesson's port
/// taken on the host and namespaces refused, every submission is a harness error, the
/// report still comes out, and the exit status is 2.
#[test]
fn harness_failure_is_exit_2_not_a_zero() {
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "alice",
        "fixtures/serv_simple/pass/lesson_serv_simple.py",
        "serv_simple.py",
    );
    // In a network namespace of its own, python takes port 8000, then runs socklab.
    let output = std::process::Command::new("unshare")
        .args(["-rn", "python3", "-c"])
        .arg(
            "import socket, subprocess, sys\n\
             s = socket.socket(); s.bind(('0.0.0.0', 8000)); s.listen()\n\
             sys.exit(subprocess.call(sys.argv[1:]))",
        )
        .arg(assert_cmd::cargo::cargo_bin("socklab"))
        .args(["grade", "serv_simple"])
        .arg(dir.path())
        .args(["--format", "json", "--", "python3", "{dir}/serv_simple.py"])
        .env("SOCKLAB_ISOLATION", "host")
        .env_remove("PYTHONUNBUFFERED")
        .output()
        .expect("run unshare");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(common::exit_code(&output), 2, "{stderr}");
    assert!(
        stderr.contains("could not grade 1 of 1 submissions"),
        "{stderr}"
    );
    let r: Value = serde_json::from_slice(&output.stdout).unwrap();
    let alice = &r["submissions"][0];
    assert_eq!(
        (&alice["id"], &alice["status"]),
        (&"alice".into(), &"harness_error".into())
    );
    assert!(
        alice["error"]
            .as_str()
            .unwrap()
            .contains("port 8000 is already in use"),
        "{alice}"
    );
}

/// A socklab rebuilt or reinstalled while a class is graded cannot break the runs still to
/// come: each starts its program's init from the running binary itself, not from its path.
/// Here the binary on disk is replaced (renamed over, as `cargo build` and `cp` do) once the
/// first of six submissions is done; all six are graded.
#[test]
fn replacing_the_binary_mid_class_breaks_nothing() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("socklab");
    std::fs::copy(assert_cmd::cargo::cargo_bin("socklab"), &bin).unwrap();
    let class = dir.path().join("class");
    for id in ["s1", "s2", "s3", "s4", "s5", "s6"] {
        put(
            &class,
            id,
            "fixtures/serv_simple/pass/lesson_serv_simple.py",
            "serv_simple.py",
        );
    }
    let mut grading = std::process::Command::new(&bin)
        .env_remove("PYTHONUNBUFFERED")
        .args(["grade", "serv_simple"])
        .arg(&class)
        .args(["--jobs", "1", "--format", "json", "--"])
        .args(["python3", "{dir}/serv_simple.py"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Progress lines on stderr, one per finished submission: replace after the first.
    let mut progress = BufReader::new(grading.stderr.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("s1: ") {
        assert!(progress.read_line(&mut seen).unwrap() > 0, "{seen}");
    }
    let new = dir.path().join("socklab.new");
    std::fs::write(&new, "#!/bin/sh\nexit 99\n").unwrap();
    std::fs::set_permissions(&new, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::rename(&new, &bin).unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut progress, &mut rest).unwrap();
    let output = grading.wait_with_output().unwrap();
    let code = common::status_code(output.status, &rest);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(code, 0, "{rest}\n{report:#}");
    assert_eq!(report["summary"]["full_marks"], 6, "{report:#}");
}

//! Shared by the integration tests: running the built socklab on a fixture file.

#![allow(dead_code)]

pub mod attempts;
pub mod autograder;
pub mod docker;
mod programs;
pub mod student;

pub use programs::command_for;

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::cargo_bin;

/// The socklab binary under test.
pub fn socklab() -> Command {
    let mut cmd = Command::new(cargo_bin("socklab"));
    // Grade as on a student's machine: nothing may depend on this being set.
    cmd.env_remove("PYTHONUNBUFFERED");
    cmd
}

/// The lab a fixture belongs to: fixtures/<lab>/<pass|fail>/<file>.
pub fn lab_of(fixture: &Path) -> String {
    fixture
        .parent()
        .and_then(Path::parent)
        .and_then(Path::file_name)
        .expect("fixtures/<lab>/<kind>/<file>")
        .to_string_lossy()
        .into_owned()
}

/// The checks a fail fixture names in its header (`# socklab-expect-fail: a b`), sorted.
pub fn expected_failures(fixture: &Path) -> Vec<String> {
    let source = std::fs::read_to_string(fixture).unwrap();
    let header = source
        .lines()
        .find_map(|line| line.split_once("socklab-expect-fail:").map(|(_, ids)| ids))
        .unwrap_or_else(|| panic!("{} has no socklab-expect-fail header", fixture.display()));
    let mut expected: Vec<String> = header.split_whitespace().map(String::from).collect();
    expected.sort();
    expected
}

/// Grades `argv` against `lab` with `--format json`; returns the exit code and the report.
pub fn grade_json(lab: &str, argv: &[String]) -> (i32, serde_json::Value) {
    grade_json_at(Place::Namespaces, lab, argv)
}

/// The checks a report did not pass, sorted.
pub fn not_passed(report: &serde_json::Value) -> Vec<String> {
    let mut names: Vec<String> = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["passed"] != true)
        .map(|c| c["name"].as_str().expect("name").to_string())
        .collect();
    names.sort();
    names
}

/// A serv_simple program that accepts, waits for the client's message, then prints (and
/// writes on stderr) an escape sequence, NUL, invalid UTF-8, `]]>`, markup and U+FFFF, and
/// exits 3: it passes `accepts`, `reachable` and `prints_client` (4 points), fails
/// `prints_message` and `exits_cleanly`, and never reaches `sends_typed_line`, nor
/// `closes_connection` (the kernel closed the connection as it crashed). (It waits so that
/// it is still running when `prints_message` begins, whatever the machine's load.)
pub fn noisy_program(dir: &Path) -> Vec<String> {
    let script = dir.join("noisy.py");
    std::fs::write(
        &script,
        "import sys, socket\n\
         s = socket.socket(); s.bind(('0.0.0.0', 8000)); s.listen()\n\
         c, a = s.accept()\n\
         print('connection from', a, flush=True)\n\
         c.recv(1024)\n\
         junk = b'\\x1b[31mred\\x00\\xff]]><x>&\\xef\\xbf\\xbf\\n'\n\
         sys.stdout.buffer.write(junk); sys.stdout.flush()\n\
         sys.stderr.buffer.write(b'oops ' + junk); sys.stderr.flush()\n\
         sys.exit(3)\n",
    )
    .unwrap();
    vec!["python3".into(), script.display().to_string()]
}

/// The lesson's own program for `lab`: full marks.
pub fn lesson(lab: &str) -> Vec<String> {
    vec![
        "python3".into(),
        format!("fixtures/{lab}/pass/lesson_{lab}.py"),
    ]
}

/// Runs socklab with `args`; returns its exit code, stdout and stderr.
pub fn run(args: &[&str], program: &[String]) -> (i32, Vec<u8>, String) {
    let output = socklab()
        .args(args)
        .arg("--")
        .args(program)
        .output()
        .expect("run socklab");
    (
        exit_code(&output),
        output.stdout,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Bytes a report must never carry raw: control characters other than newline and tab.
pub fn assert_no_raw_controls(report: &[u8], what: &str) {
    let bad: Vec<u8> = report
        .iter()
        .copied()
        .filter(|&b| (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f)
        .collect();
    assert!(bad.is_empty(), "{what}: raw control bytes {bad:?}");
    assert!(std::str::from_utf8(report).is_ok(), "{what}: invalid UTF-8");
}

/// `lab`'s checks in the lab's order, with their default points, from the library itself.
pub fn lab_checks(lab: &str) -> Vec<(String, u32)> {
    socklab::labs::Labs::built_in()
        .find(lab)
        .expect("lab")
        .checks()
        .map(|c| (c.id.to_string(), c.points))
        .collect()
}

/// socklab could not grade: exit 2, and stderr says `says`, without a panic.
pub fn assert_cannot_grade(output: &std::process::Output, says: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(exit_code(output), 2, "stderr: {stderr}");
    assert!(
        stderr.contains(says),
        "stderr should say {says:?}: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Processes on the host whose command line holds `token` (by pid): what a run left behind.
pub fn processes_with(token: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline"))
            && String::from_utf8_lossy(&cmdline).contains(token)
        {
            found.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    found
}

/// socklab's exit code; a death by signal fails the test naming the signal, with stderr, so
/// that nobody has to guess where it came from.
pub fn exit_code(output: &std::process::Output) -> i32 {
    status_code(output.status, &String::from_utf8_lossy(&output.stderr))
}

/// The code of an exit status, as [`exit_code`] does.
pub fn status_code(status: std::process::ExitStatus, stderr: &str) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => {
            let name = nix::sys::signal::Signal::try_from(signal)
                .map_or_else(|_| "unknown".to_string(), |s| s.as_str().to_string());
            panic!("socklab ended by signal {signal} ({name}); its stderr:\n{stderr}")
        }
        (None, None) => panic!("socklab ended neither by exit nor by signal: {status:?}"),
    }
}

/// Where a test runs socklab: on this machine, which allows namespaces; on the host's
/// loopback by choice (`SOCKLAB_ISOLATION=host`: uid isolation as root); in a Docker-like
/// container that refuses namespaces, as Gradescope's do (uid isolation); or as a student on
/// their own machine, an ordinary user in each state their system may leave user
/// namespaces in (see [`student`]), or with `SOCKLAB_ISOLATION=host`. Verdicts must be the
/// same in all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Namespaces,
    Host,
    Docker,
    Student(student::Userns),
    StudentHost,
}

impl Place {
    /// Every place, for tests that grade everywhere.
    pub const ALL: [Place; 7] = [
        Place::Namespaces,
        Place::Host,
        Place::Docker,
        Place::Student(student::Userns::Allowed),
        Place::Student(student::Userns::Refused),
        Place::Student(student::Userns::Unmapped),
        Place::StudentHost,
    ];

    /// socklab, to run here.
    pub fn socklab(self) -> Command {
        let student_dir = || student::Student::get().dir.path().to_path_buf();
        match self {
            Place::Namespaces => socklab(),
            Place::Host => {
                let mut cmd = socklab();
                cmd.env("SOCKLAB_ISOLATION", "host");
                cmd
            }
            Place::Docker => {
                assert!(
                    nix::unistd::geteuid().is_root(),
                    "the Docker-like tests run socklab as root, as Gradescope does: run them as root"
                );
                let mut cmd = socklab();
                docker::docker_like(&mut cmd);
                cmd
            }
            Place::Student(state) => student::socklab_as_student(state, &student_dir()),
            Place::StudentHost => {
                let mut cmd = student::socklab_as_student(student::Userns::Allowed, &student_dir());
                cmd.env("SOCKLAB_ISOLATION", "host");
                cmd
            }
        }
    }

    /// Whether runs here share the host's loopback (and its fixed ports) with each other.
    pub fn on_host_loopback(self) -> bool {
        !matches!(
            self,
            Place::Namespaces | Place::Docker | Place::Student(student::Userns::Allowed)
        )
    }

    /// The isolation a report made here names.
    pub fn isolation(self) -> &'static str {
        match self {
            Place::Namespaces | Place::Student(student::Userns::Allowed) => "namespaces",
            Place::Host if !nix::unistd::geteuid().is_root() => "none",
            Place::Host | Place::Docker => "uid",
            Place::Student(_) | Place::StudentHost => "none",
        }
    }

    /// The example labs (`grading/labs`), where socklab here can read them.
    pub fn labs_dir(self) -> String {
        match self {
            Place::Student(_) | Place::StudentHost => {
                student::Student::get().labs().display().to_string()
            }
            _ => example_labs(),
        }
    }

    /// The command that runs `fixture` here. Under uid isolation the program runs as a user
    /// of its own, and a student is a user of their own: either must be able to reach it
    /// wherever the checkout lies (a clone under /root, mode 0700), so the fixture is copied
    /// into `build` (made world-readable) and Python is one every user may run.
    pub fn command_for(self, fixture: &Path, build: &Path) -> Vec<String> {
        if self == Place::Namespaces {
            return command_for(fixture, build);
        }
        open_to_all(build);
        let copy = build.join(fixture.file_name().unwrap());
        std::fs::copy(fixture, &copy).unwrap();
        let mut argv = command_for(&copy, build);
        if argv[0] == "python3" {
            argv[0] = shared_python();
        }
        argv
    }
}

/// One grading at a time on the host's loopback, for this test process. socklab queues the
/// runs of one user for the lesson's fixed ports, but root's runs (`Host`) and the
/// student's (uid 4242) hold locks of their own, so a run of one waits for the other's
/// port only a bounded time: a stretch of the other's fixtures on the same port could
/// outlast it.
fn host_loopback_turn() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Makes `dir` readable and enterable by every user.
pub fn open_to_all(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A python3 that every user may run (not a pyenv shim under /root).
pub fn shared_python() -> String {
    ["/usr/bin/python3", "/usr/local/bin/python3"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("a python3 in /usr/bin or /usr/local/bin, which every user may run")
        .to_string()
}

/// The example labs an instructor would write (`grading/labs`), for `--labs-dir`.
pub fn example_labs() -> String {
    std::fs::canonicalize("grading/labs")
        .expect("grading/labs")
        .display()
        .to_string()
}

/// Grades `argv` against `lab` with `--format json` at `place` (the example labs known too).
pub fn grade_json_at(place: Place, lab: &str, argv: &[String]) -> (i32, serde_json::Value) {
    grade_json_with(place, lab, &[], argv)
}

/// As [`grade_json_at`], with more options for `socklab check` (`--timeout 30`).
pub fn grade_json_with(
    place: Place,
    lab: &str,
    options: &[&str],
    argv: &[String],
) -> (i32, serde_json::Value) {
    let mut args: Vec<String> = options.iter().map(|o| o.to_string()).collect();
    args.push("--".to_string());
    args.extend(argv.iter().cloned());
    check_json_with(place.socklab(), place, lab, &args)
}

/// Grades `fixture` at `place` as its lab's: a program by its command, a file of commands
/// (`.sh`, Activity 1's) as the file a student hands in, from where `place` can read it.
pub fn grade_fixture_at(place: Place, fixture: &Path, build: &Path) -> (i32, serde_json::Value) {
    let lab = lab_of(fixture);
    if fixture.extension().is_some_and(|e| e == "sh") {
        open_to_all(build);
        let copy = build.join(fixture.file_name().unwrap());
        std::fs::copy(fixture, &copy).unwrap();
        return check_json_at(place, &lab, &[copy.display().to_string()]);
    }
    grade_json_at(place, &lab, &place.command_for(fixture, build))
}

/// `socklab check LAB ARGS --format json` at `place` (the example labs known too).
pub fn check_json_at(place: Place, lab: &str, args: &[String]) -> (i32, serde_json::Value) {
    check_json_with(place.socklab(), place, lab, args)
}

/// [`check_json_at`] with `socklab`, a command from [`Place::socklab`] the caller added to.
pub fn check_json_with(
    mut socklab: Command,
    place: Place,
    lab: &str,
    args: &[String],
) -> (i32, serde_json::Value) {
    let _turn = place.on_host_loopback().then(host_loopback_turn);
    let output = socklab
        .args([
            "check",
            lab,
            "--labs-dir",
            &place.labs_dir(),
            "--format",
            "json",
        ])
        .args(args)
        .output()
        .expect("run socklab");
    let code = exit_code(&output);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "socklab printed no JSON report ({e}); exit {code}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    // A file not graded (empty) never ran, wherever it was: no isolation, no points.
    if report["isolation"].is_null() {
        assert_eq!(report["score"], 0, "{report:#}");
    } else {
        assert_eq!(report["isolation"], place.isolation(), "{report:#}");
    }
    (code, report)
}

/// A port free now and never handed out before by this test process. Tests of one binary
/// run at once: a port one test picked but has not bound yet (a netcat started later) must
/// not be picked by another meanwhile.
pub fn free_port() -> u16 {
    use std::collections::HashSet;
    use std::sync::Mutex;
    static GIVEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    let mut given = GIVEN.lock().unwrap();
    let given = given.get_or_insert_with(HashSet::new);
    loop {
        let port = portpicker::pick_unused_port().expect("a free port");
        if given.insert(port) {
            return port;
        }
    }
}

/// Each submission's id and score in a class's JSON report, in its order.
pub fn class_scores(report: &serde_json::Value) -> Vec<(String, u64)> {
    report["submissions"]
        .as_array()
        .expect("submissions")
        .iter()
        .map(|s| {
            (
                s["id"].as_str().expect("id").to_string(),
                s["score"].as_u64().expect("score"),
            )
        })
        .collect()
}

/// Runs `cmd` to its end; returns its exit code, its stdout, and the peak memory (RSS, KiB)
/// of it and everything it waited for, its programs included.
// The child is reaped with wait4 below, which also gives its peak memory.
#[allow(clippy::zombie_processes)]
pub fn run_measured(cmd: &mut Command) -> (i32, Vec<u8>, i64) {
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run socklab");
    let pid = child.id() as libc::pid_t;
    let mut stdout = child.stdout.expect("piped");
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut out).expect("stdout");
        out
    });
    let mut status = 0;
    // SAFETY: rusage is plain data filled in by wait4 for this child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for the child spawned above, which nothing else reaps.
    assert_eq!(unsafe { libc::wait4(pid, &mut status, 0, &mut usage) }, pid);
    let out = reader.join().expect("the reader");
    (libc::WEXITSTATUS(status), out, usage.ru_maxrss)
}

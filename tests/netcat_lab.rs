//! Activity 1 (the netcat lab) against the real netcats: the lesson's command lines, full
//! marks for every real netcat (netcat-traditional with a note on its -p form), and a clear
//! failing report, not a hang, for BusyBox's reduced nc and for programs that are no netcat.
//! And as a student hands it in: activity1.sh, its four lines run with the nc on PATH
//! (fixtures/netcat has more, graded in every place by `fixtures.rs`).

mod common;

use std::path::Path;

use common::student::Userns;
use common::{Place, grade_json, grade_json_at, not_passed, socklab};
use rstest::rstest;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// `socklab check ARGS --format json` in `dir` with PATH `path`: exit code and report.
fn check_in(dir: &Path, args: &[&str], path: Option<String>) -> (i32, serde_json::Value) {
    let mut cmd = socklab();
    cmd.current_dir(dir)
        .arg("check")
        .args(args)
        .args(["--format", "json"]);
    if let Some(path) = path {
        cmd.env("PATH", path);
    }
    let output = cmd.output().unwrap();
    let code = common::exit_code(&output);
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON ({e}), exit {code}: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (code, report)
}

/// A folder holding the netcat fixture `fixture` as `name`.
fn handed_in(fixture: &str, name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = Path::new(ROOT).join("fixtures/netcat").join(fixture);
    std::fs::copy(from, dir.path().join(name)).unwrap();
    dir
}

/// Each run's command as run.
fn run_commands(report: &serde_json::Value) -> Vec<String> {
    report["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let words: Vec<&str> = r["program"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            words.join(" ")
        })
        .collect()
}

fn notices(report: &serde_json::Value) -> String {
    report["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Graded with no program, activity1 runs the `nc` on PATH with the lesson's own commands.
#[test]
fn grades_the_nc_on_path_with_the_lessons_commands() {
    let (code, report) = grade_json("activity1", &[]);
    assert_eq!(code, 0, "{report:#}");
    let runs: Vec<String> = report["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["program"].as_array().unwrap()[1..]
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    assert_eq!(
        runs,
        [
            "-lnv 9000",
            "222.222.222.222 9000",
            "-ulnv 9000",
            "-u 222.222.222.222 9000"
        ]
    );
}

/// OpenBSD nc and ncat take the lesson's commands as they are, in namespaces, on the host's
/// loopback, in a Docker-like container, and on a student's own machine whatever it allows,
/// alike.
#[rstest]
fn real_netcat_gets_full_marks(
    #[values("nc.openbsd", "ncat")] netcat: &str,
    #[values(
        Place::Namespaces,
        Place::Host,
        Place::Docker,
        Place::Student(Userns::Allowed),
        Place::Student(Userns::Refused),
        Place::Student(Userns::Unmapped),
        Place::StudentHost
    )]
    place: Place,
) {
    let (code, report) = grade_json_at(place, "netcat", &[netcat.into()]);
    assert_eq!((code, not_passed(&report)), (0, vec![]), "{report:#}");
    // Without namespaces the report says why; nothing else.
    let notes: Vec<String> = notices(&report)
        .lines()
        .filter(|n| !n.contains("grading on the host's loopback"))
        .map(String::from)
        .collect();
    assert_eq!(
        notes,
        Vec::<String>::new(),
        "no note for a netcat that takes the lesson's form"
    );
}

/// netcat-traditional listens on a random port for `nc -lnv 9000`: the lab says so and
/// grades it again with -p, at full marks.
#[test]
fn traditional_netcat_gets_full_marks_with_a_note() {
    let (code, report) = grade_json("netcat", &["nc.traditional".into()]);
    assert_eq!((code, not_passed(&report)), (0, vec![]), "{report:#}");
    let notes = notices(&report);
    assert!(
        notes.contains("nc.traditional -lnv 9000` did not work"),
        "{notes}"
    );
    assert!(notes.contains("wants -p before the port"), "{notes}");
    assert!(
        notes.contains("graded as `nc.traditional -lnv -p 9000`"),
        "{notes}"
    );
}

/// BusyBox's nc has neither -n nor -u: the report names the commands it cannot run and
/// why, and grades the one it can.
#[test]
fn busybox_nc_is_told_which_commands_it_cannot_run() {
    let (code, report) = grade_json("netcat", &["busybox".into(), "nc".into()]);
    assert_eq!(code, 1);
    assert_eq!(
        not_passed(&report),
        [
            "tcp_listen",
            "tcp_listen_chat",
            "tcp_listen_verbose",
            "udp_connect",
            "udp_connect_chat",
            "udp_listen",
            "udp_listen_chat"
        ]
    );
    let notes = notices(&report);
    assert!(
        notes.contains("`busybox nc -lnv 9000` ended at once"),
        "{notes}"
    );
    assert!(notes.contains("invalid option -- 'u'"), "{notes}");
}

/// Programs that are no netcat fail every check with a plain reason.
#[rstest]
fn not_a_netcat_fails_plainly(#[values("cat", "true")] program: &str) {
    let (code, report) = grade_json("netcat", &[program.into()]);
    assert_eq!(code, 1);
    assert_eq!(report["score"], 0, "{report:#}");
    assert!(notices(&report).contains("ended at once"), "{report:#}");
}

/// socklab's own netcat takes the lesson's commands as they are, like OpenBSD nc.
#[test]
fn socklab_nc_gets_full_marks() {
    let bin = assert_cmd::cargo::cargo_bin("socklab")
        .display()
        .to_string();
    let (code, report) = grade_json("netcat", &[bin, "nc".into()]);
    assert_eq!((code, not_passed(&report)), (0, vec![]), "{report:#}");
    assert_eq!(notices(&report), "");
}

/// A student's activity1.sh, named so (the lab from its name) or given after the lab, is
/// graded by its own lines, each as the run its -l and -u say, whatever their order: the
/// runs are the student's commands, with Bob's address where they wrote 127.0.0.1 or
/// localhost for two terminals on one machine.
#[rstest]
#[case::file_alone(&["activity1.sh"])]
#[case::lab_then_file(&["activity1", "activity1.sh"])]
fn a_students_activity1_sh_is_graded_by_its_own_lines(#[case] args: &[&str]) {
    let dir = handed_in("pass/one_machine.sh", "activity1.sh");
    let (code, report) = check_in(dir.path(), args, None);
    assert_eq!((code, not_passed(&report)), (0, vec![]), "{report:#}");
    assert_eq!(
        (&report["lab"], &report["program"]),
        (&"netcat".into(), &serde_json::json!(["activity1.sh"]))
    );
    assert_eq!(
        run_commands(&report),
        [
            "nc -vnl 9000",
            "nc 222.222.222.222 9000",
            "nc -unvl 9000",
            "nc -u 222.222.222.222 9000"
        ]
    );
}

/// A line whose program this machine does not have loses its own run, with the reason; the
/// others are graded.
#[test]
fn a_line_whose_program_is_not_here_loses_its_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("activity1.sh"),
        "nc -lnv 9000\nnc 222.222.222.222 9000\nnc -ulnv 9000\nnetcatt -u 222.222.222.222 9000\n",
    )
    .unwrap();
    let (code, report) = check_in(dir.path(), &["activity1.sh"], None);
    assert_eq!(code, 1);
    assert_eq!(
        not_passed(&report),
        ["udp_connect", "udp_connect_chat"],
        "{report:#}"
    );
    let why = report["checks"][7]["message"].as_str().unwrap();
    assert!(
        why.starts_with("`netcatt` cannot be run on this machine"),
        "{why}"
    );
}

/// With netcat-traditional as `nc`, the lesson's commands in activity1.sh, in any order of
/// their option letters, get full marks as the nc on PATH does: graded again with -p, and
/// the report says so.
#[rstest]
fn activity1_sh_with_traditional_netcat_gets_full_marks_with_a_note(
    #[values("pass/lesson.sh", "pass/one_machine.sh")] fixture: &str,
) {
    let bin = tempfile::tempdir().unwrap();
    let traditional = which("nc.traditional");
    std::os::unix::fs::symlink(traditional, bin.path().join("nc")).unwrap();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap()
    );
    let dir = handed_in(fixture, "activity1.sh");
    let (code, report) = check_in(dir.path(), &["activity1.sh"], Some(path));
    assert_eq!((code, not_passed(&report)), (0, vec![]), "{report:#}");
    assert!(
        notices(&report).contains("wants -p before the port"),
        "{report:#}"
    );
}

/// Where `program` is on PATH.
fn which(program: &str) -> std::path::PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|dir| dir.join(program))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("{program} is not installed"))
}

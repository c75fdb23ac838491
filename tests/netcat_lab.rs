//! Activity 1 (the netcat lab) against the real netcats: the lesson's command lines, full
//! marks for every real netcat (netcat-traditional with a note on its -p form), and a clear
//! failing report, not a hang, for BusyBox's reduced nc and for programs that are no netcat.

mod common;

use common::student::Userns;
use common::{Place, grade_json, grade_json_at, not_passed};
use rstest::rstest;

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

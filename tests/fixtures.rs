//! Every file under fixtures/<lab>/pass and fixtures/<lab>/fail is a test case of its own:
//! dropping a student's program into one of those folders adds a case. Each is graded in
//! namespaces, on the host's loopback, in a Docker-like container (as on Gradescope), and as
//! a student on their own machine (an ordinary user, with user namespaces allowed, refused,
//! or left unmapped as Ubuntu's AppArmor does, and with `SOCKLAB_ISOLATION=host`), and must
//! get the same verdict in all seven places. The example labs of `grading/labs` (lab
//! files an instructor would write) are graded beside the built-in ones. A `.sh` fixture is
//! a file of commands (Activity 1's `activity1.sh`), graded as the file a student hands in.

mod common;

use std::path::PathBuf;

use common::student::Userns;
use common::{Place, expected_failures, grade_fixture_at, not_passed};
use rstest::rstest;

/// A correct program gets full marks and exit status 0, wherever it is graded.
#[rstest]
fn passing_program_gets_full_marks(
    #[files("fixtures/*/pass/*")] fixture: PathBuf,
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
    let build = tempfile::tempdir().unwrap();
    let (code, report) = grade_fixture_at(place, &fixture, build.path());
    assert_eq!(
        not_passed(&report),
        Vec::<String>::new(),
        "{} lost marks ({place:?}):\n{report:#}",
        fixture.display()
    );
    assert_eq!(report["score"], report["max_score"]);
    assert_eq!(code, 0);
}

/// A broken program fails exactly the checks its header names
/// (`# socklab-expect-fail: a b`), no more and no fewer, and exits 1, wherever it is graded.
#[rstest]
fn failing_program_fails_exactly_the_expected_checks(
    #[files("fixtures/*/fail/*")] fixture: PathBuf,
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
    let expected = expected_failures(&fixture);
    assert!(
        !expected.is_empty(),
        "{}: the header names no check",
        fixture.display()
    );

    let build = tempfile::tempdir().unwrap();
    let began = std::time::Instant::now();
    let (code, report) = grade_fixture_at(place, &fixture, build.path());
    // What a failing program costs (shown with `cargo test -- --nocapture`).
    eprintln!(
        "{} ({place:?}): graded in {:.2} s",
        fixture.display(),
        began.elapsed().as_secs_f64()
    );
    assert_eq!(
        not_passed(&report),
        expected,
        "{} ({place:?}):\n{report:#}",
        fixture.display()
    );
    assert_eq!(code, 1);
    for check in report["checks"].as_array().unwrap() {
        if check["status"] == "failed" {
            for field in ["expected", "got", "message"] {
                assert!(
                    check[field].as_str().is_some_and(|s| !s.is_empty()),
                    "{}: failed check {} has no {field}",
                    fixture.display(),
                    check["name"]
                );
            }
        }
    }
}

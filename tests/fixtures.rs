//! Every file under fixtures/<lab>/pass and fixtures/<lab>/fail is a test case of its own:
//! dropping a student's program into one of those folders adds a case.

mod common;

use std::path::PathBuf;

use common::{command_for, expected_failures, grade_json, lab_of, not_passed};
use rstest::rstest;

/// A correct program gets full marks and exit status 0.
#[rstest]
fn passing_program_gets_full_marks(#[files("fixtures/*/pass/*")] fixture: PathBuf) {
    let build = tempfile::tempdir().unwrap();
    let (code, report) = grade_json(&lab_of(&fixture), &command_for(&fixture, build.path()));
    assert_eq!(
        not_passed(&report),
        Vec::<String>::new(),
        "{} lost marks:\n{report:#}",
        fixture.display()
    );
    assert_eq!(report["score"], report["max_score"]);
    assert_eq!(code, 0);
}

/// A broken program fails exactly the checks its header names
/// (`# socklab-expect-fail: a b`), no more and no fewer, and exits 1.
#[rstest]
fn failing_program_fails_exactly_the_expected_checks(
    #[files("fixtures/*/fail/*")] fixture: PathBuf,
) {
    let expected = expected_failures(&fixture);
    assert!(
        !expected.is_empty(),
        "{}: the header names no check",
        fixture.display()
    );

    let build = tempfile::tempdir().unwrap();
    let (code, report) = grade_json(&lab_of(&fixture), &command_for(&fixture, build.path()));
    assert_eq!(
        not_passed(&report),
        expected,
        "{}:\n{report:#}",
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

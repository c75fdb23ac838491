//! The reason a check gives is the cause, and the same at every level: in namespaces and in
//! a Docker-like container (as on Gradescope). A program that died is told how it ended and
//! what its stderr said; a listener that never accepts is told so, with what it is blocked
//! in; a program that went on only by reading what it had left unread is told which bytes.

mod common;

use std::path::Path;

use common::{Place, grade_json_at, lab_of};
use rstest::rstest;

/// The message of check `check` when `fixture` is graded at `place`.
fn message(place: Place, fixture: &str, check: &str) -> String {
    let build = tempfile::tempdir().unwrap();
    let argv = place.command_for(Path::new(fixture), build.path());
    let (_, report) = grade_json_at(place, &lab_of(Path::new(fixture)), &argv);
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == check)
        .and_then(|c| c["message"].as_str())
        .unwrap_or_else(|| panic!("{check} has no message: {report:#}"))
        .to_string()
}

/// A message with what differs from run to run and place to place (ports, addresses, the
/// folder the program was copied to) left out.
fn gist(message: &str) -> String {
    message
        .split_whitespace()
        .filter(|w| !w.contains('/') && !w.chars().any(|c| c.is_ascii_digit()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[rstest]
#[case::str_send_dies_with_a_type_error(
    "fixtures/conn_simple/fail/send_str_not_bytes.py",
    "sends_hello",
    &["exited with status 1", "TypeError: a bytes-like object is required"],
    &["other bytes"]
)]
#[case::a_listener_that_never_accepts(
    "fixtures/serv_simple/fail/never_accepts.py",
    "accepts",
    &["never accepted", "blocked reading the keyboard"],
    &["did not exit within"]
)]
#[case::a_lockstep_client_goes_on_on_a_message_left_waiting(
    "fixtures/conn_tcp/fail/lockstep_client.py",
    "sends_typed_lines",
    &["went on only by reading b'are you there?\\n', which bob sent before this check"],
    &[]
)]
#[case::an_empty_program_ends_before_anything(
    "fixtures/conn_simple/fail/empty.py",
    "connects",
    &["the program exited with status 0"],
    &["within"]
)]
fn the_reason_is_the_cause_at_every_level(
    #[case] fixture: &str,
    #[case] check: &str,
    #[case] says: &[&str],
    #[case] never_says: &[&str],
) {
    let [namespaces, docker] =
        [Place::Namespaces, Place::Docker].map(|place| message(place, fixture, check));
    for (place, message) in [("namespaces", &namespaces), ("docker", &docker)] {
        for part in says {
            assert!(
                message.contains(part),
                "{place}: {message:?} lacks {part:?}"
            );
        }
        for part in never_says {
            assert!(!message.contains(part), "{place}: {message:?} has {part:?}");
        }
    }
    assert_eq!(gist(&namespaces), gist(&docker), "one program, one reason");
}

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

/// A check's words in both reports: its JSON message (and hint, should it get a field of
/// its own), and its block in the human report (from its line to the next check's).
fn reasons_in_both(fixture: &str) -> impl Fn(&str) -> [String; 2] {
    let human_file = tempfile::NamedTempFile::new().unwrap();
    let lab = lab_of(Path::new(fixture));
    let args = [
        "--also".to_string(),
        format!("human={}", human_file.path().display()),
        fixture.to_string(),
    ];
    let (_, report) = common::check_json_at(Place::Namespaces, &lab, &args);
    let human = std::fs::read_to_string(human_file.path()).unwrap();
    move |check: &str| {
        let json = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == check)
            .map(|c| {
                ["message", "hint"]
                    .iter()
                    .filter_map(|field| c[field].as_str())
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_else(|| panic!("no check {check}: {report:#}"));
        let is_check_line = |line: &str| {
            let words: Vec<&str> = line.split_whitespace().collect();
            matches!(words.first(), Some(&("PASS" | "FAIL" | "SKIP"))) && words.len() > 1
        };
        let block: Vec<&str> = human
            .lines()
            .skip_while(|line| {
                !(is_check_line(line) && line.split_whitespace().nth(1) == Some(check))
            })
            .enumerate()
            .take_while(|(i, line)| *i == 0 || !(is_check_line(line) || line.starts_with("score:")))
            .map(|(_, line)| line.trim())
            .collect();
        assert!(!block.is_empty(), "no check {check} in:\n{human}");
        [json, block.join("\n")]
    }
}

/// What a check's reason must say, and must not.
struct Said {
    check: &'static str,
    says: &'static [&'static str],
    never_says: &'static [&'static str],
}

fn said(
    check: &'static str,
    says: &'static [&'static str],
    never_says: &'static [&'static str],
) -> Said {
    Said {
        check,
        says,
        never_says,
    }
}

/// Once wired into the engine, each common mistake of the lesson is told what the student
/// can act on, in JSON and in the human report alike: how the bytes that came differ (NUL
/// padding, an echo, the same reply whatever was typed), which part of a near-miss
/// "connection from" line is wrong, what had just happened when the program ended and its
/// own last words, a failed bind's address, a flood as a flood; and no "blocked in ..."
/// or address hint where the cause is known. (Each fixture is graded once, in namespaces:
/// the verdicts at every level are tests/fixtures.rs's.)
#[rstest]
#[case::nul_padded_udp_reply(
    "fixtures/udp_serv/fail/nul_padded_reply.c",
    &[said(
        "replies_to_sender",
        &["b'hi alice\\n' followed by 1015 NUL bytes (1024 bytes in all)", "strlen(line)"],
        &["recvfrom() returned", "fixed address", "input()"],
    )]
)]
#[case::an_echo_of_the_clients_datagram(
    "fixtures/udp_serv/fail/echoes_datagram.py",
    &[said(
        "replies_to_sender",
        &["what alice had sent the program", "not the line typed (\"hi alice\")", "input() returned"],
        &["fixed address"],
    )]
)]
#[case::the_same_reply_whatever_was_typed(
    "fixtures/udp_serv/fail/fixed_reply.py",
    &[
        said(
            "replies_to_sender",
            &["which holds nothing of the line typed (\"hi alice\")"],
            &["fixed address"],
        ),
        said(
            "chats",
            &["the same bytes as when \"hi alice\" was typed", "does not depend on what is typed"],
            &["fixed address"],
        ),
    ]
)]
#[case::connected_by_not_connection_from(
    "fixtures/serv_simple/fail/connected_by.py",
    &[said(
        "prints_client",
        &["the client's address and port, but not the words \"connection from\""],
        &["blocked", "did not print"],
    )]
)]
#[case::an_address_length_never_set(
    "fixtures/serv_simple/fail/addrlen_not_set.c",
    &[said(
        "prints_client",
        &["the address 0.0.0.0:0, not the client's", "accept() filled in no address", "sizeof client"],
        &["blocked", "did not print", "print("],
    )]
)]
#[case::input_strips_the_newline(
    "fixtures/serv_tcp/fail/forgets_newline.py",
    &[said(
        "sends_typed_lines",
        &["alice received b'hello alice', without the newline at its end", "s += \"\\n\""],
        &["only part of it", "blocked", "waiting in"],
    )]
)]
#[case::the_servers_own_end_printed(
    "fixtures/serv_simple/fail/prints_own_address.py",
    &[said(
        "prints_client",
        &["the server's own address and port", "not who connected"],
        &["blocked", "did not print"],
    )]
)]
#[case::a_str_sent_dies_right_after_connecting(
    "fixtures/conn_simple/fail/send_str_not_bytes.py",
    &[said(
        "sends_hello",
        &[
            "exited with status 1 right after it connected to bob",
            "TypeError: a bytes-like object is required",
        ],
        &["other bytes"],
    )]
)]
#[case::lockstep_input_first(
    "fixtures/serv_tcp/fail/lockstep_input_first.py",
    &[said(
        "prints_messages",
        &["the program is blocked reading the keyboard with nothing typed"],
        &["within"],
    )]
)]
#[case::listen_after_a_failed_bind(
    "fixtures/serv_simple/fail/listens_after_failed_bind.c",
    &[said(
        "accepts",
        &["a port the kernel picked", "did bind() fail?", "perror"],
        &[],
    )]
)]
#[case::a_bind_to_an_address_this_host_lacks(
    "fixtures/serv_simple/fail/binds_foreign_address.c",
    &[said(
        "accepts",
        &[
            "exited with status 255",
            "bind() failed, since 203.0.113.7, the address it binds, is not an address of this host",
            "the last line it printed: \"Binding failed.\"",
            "INADDR_ANY",
        ],
        &["within"],
    )]
)]
#[case::a_crash_as_soon_as_a_line_is_typed(
    "fixtures/serv_tcp/fail/crashes_on_typed_line.c",
    &[said(
        "sends_typed_lines",
        &[
            "killed by SIGSEGV as soon as a line was typed (\"hello alice\")",
            "the last line it printed: \"are you there?\"",
        ],
        &["input()", "sys.stdin"],
    )]
)]
#[case::options_taken_for_an_address(
    "fixtures/netcat/fail/lnv_as_address.py",
    &[
        said("tcp_listen", &["took `-lnv` for an address", "Name or service not known"], &[]),
        said("udp_listen", &["took `-ulnv` for an address"], &[]),
    ]
)]
#[case::a_flood_told_as_a_flood(
    "fixtures/serv_simple/fail/recv_on_listener_floods.c",
    &[said(
        "prints_message",
        &["bytes in", "b'received: \\n' over and over", "but never printed b'Hello!\\n'"],
        &["did not print"],
    )]
)]
#[case::quits_after_the_first_datagram(
    "fixtures/udp_serv/fail/quits_after_first_datagram.py",
    &[said(
        "replies_to_sender",
        &["exited with status 0 right after the first datagram from alice (b'hello\\n')"],
        &[],
    )]
)]
fn the_reason_is_one_a_student_can_act_on(#[case] fixture: &str, #[case] checks: &[Said]) {
    let reasons = reasons_in_both(fixture);
    for Said {
        check,
        says,
        never_says,
    } in checks
    {
        for (format, text) in ["json", "human"].iter().zip(reasons(check)) {
            for part in *says {
                assert!(
                    text.contains(part),
                    "{fixture} {check} ({format}): {text:?} lacks {part:?}"
                );
            }
            for part in *never_says {
                assert!(
                    !text.contains(part),
                    "{fixture} {check} ({format}): {text:?} has {part:?}"
                );
            }
        }
    }
}

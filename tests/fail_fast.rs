//! A step fails as soon as the program can no longer do what it waits for (every thread of
//! it waits for socklab), not at its deadline; a program that may still act (it spins, or
//! a timer wakes it) keeps the deadline. Verdicts are the same either way, and so are the
//! reasons: in namespaces, and in a Docker-like container (as on Gradescope), where socklab
//! may not look into the program's threads itself and its init looks for it.

mod common;

use std::path::Path;

use common::{Place, expected_failures, grade_json_with, lab_of, not_passed};
use rstest::rstest;

/// Grades `fixture` at `place` with `--timeout SECONDS`, which must lose exactly the checks
/// its header names (exit 1); returns the failed checks that ended a wait (they have
/// `waited_s`): (message, seconds waited), at least one.
fn failed_waits(place: Place, fixture: &str, timeout: &str) -> Vec<(String, f64)> {
    let build = tempfile::tempdir().unwrap();
    let argv = place.command_for(Path::new(fixture), build.path());
    let lab = lab_of(Path::new(fixture));
    let (code, report) = grade_json_with(place, &lab, &["--timeout", timeout], &argv);
    assert_eq!(
        (code, not_passed(&report)),
        (1, expected_failures(Path::new(fixture))),
        "{place:?}: {report:#}"
    );
    let waits: Vec<(String, f64)> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "failed")
        .filter_map(|c| Some((c["message"].as_str()?.to_string(), c["waited_s"].as_f64()?)))
        .collect();
    assert!(!waits.is_empty(), "no check failed waiting: {report:#}");
    waits
}

/// A message with what differs from run to run (ports, addresses, times) left out.
fn reason(message: &str) -> String {
    message
        .split(|c: char| c.is_ascii_digit() || c == '.')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("#")
}

/// Six programs that block for ever (lockstep, recv first and input first; a chat that
/// waits for Enter after the client hangs up; a server that reads the keyboard again
/// instead of closing; a UDP server that answers a fixed address; a server on port 8001),
/// graded with a 30 s deadline in namespaces and in a Docker-like container: each loses
/// exactly the checks it loses at the default, every wait it failed ended because the
/// program was blocked, not at the deadline, and the reasons are the same in both places.
#[rstest]
fn blocked_programs_fail_at_once(
    #[values(
        "fixtures/serv_tcp/fail/lockstep_recv_first.py",
        "fixtures/serv_tcp/fail/lockstep_input_first.py",
        "fixtures/serv_tcp/fail/waits_for_enter_after_hangup.py",
        "fixtures/serv_simple/fail/never_closes.py",
        "fixtures/udp_serv/fail/replies_fixed_port.py",
        "fixtures/serv_simple/fail/port_8001.py"
    )]
    fixture: &str,
) {
    let [namespaces, docker] = [Place::Namespaces, Place::Docker].map(|place| {
        let waits = failed_waits(place, fixture, "30");
        for (message, waited) in &waits {
            assert!(
                message.contains("so it can do nothing") && *waited < 30.0,
                "{place:?}: a wait ended at its deadline, not when the program was blocked: {message} ({waited} s)"
            );
        }
        waits
            .iter()
            .map(|(message, _)| reason(message))
            .collect::<Vec<_>>()
    });
    assert_eq!(namespaces, docker, "one program, one reason at every level");
}

/// A program that spins (printing b'' for ever on a closed socket) or wakes on a timer is
/// not provably stuck: it keeps the deadline, and the report says so.
#[rstest]
fn programs_that_may_still_act_keep_the_deadline(
    #[values(
        "fixtures/serv_tcp/fail/no_break_on_empty.py",
        "fixtures/udp_serv/fail/timed_select_never_answers.py"
    )]
    fixture: &str,
) {
    let waits = failed_waits(Place::Namespaces, fixture, "1");
    assert!(
        waits
            .iter()
            // "within 1.0 s", or a flood's "printed N bytes in 1.0 s".
            .any(|(message, waited)| message.contains(" 1.0 s") && *waited >= 1.0),
        "no wait kept its deadline: {waits:?}"
    );
    assert!(
        waits
            .iter()
            .all(|(m, _)| !m.contains("so it can do nothing")),
        "{waits:?}"
    );
}

/// A server whose connection has a receive timeout (SO_RCVTIMEO) is not stuck while it
/// waits in recv(): the timeout will wake it. Where socklab may not ask the socket itself
/// (Docker refuses `pidfd_getfd`), the guard's word that a timeout was set must keep the
/// deadline too; without it the program would be told it is blocked for good.
#[rstest]
fn a_socket_with_a_receive_timeout_keeps_the_deadline(
    #[values(Place::Namespaces, Place::Docker)] place: Place,
) {
    let dir = tempfile::tempdir().unwrap();
    let program = dir.path().join("serv_simple_recv_timeout.py");
    // serv_simple, but it reads the socket again (for 60 s at most) instead of the keyboard.
    std::fs::write(
        &program,
        "import socket, struct\n\
         s = socket.socket(); s.bind(('0.0.0.0', 8000)); s.listen()\n\
         c, a = s.accept()\n\
         print('connection from', a, flush=True)\n\
         c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack('ll', 60, 0))\n\
         print(c.recv(1024).decode(), flush=True)\n\
         c.recv(1024)\n",
    )
    .unwrap();
    let build = tempfile::tempdir().unwrap();
    let argv = place.command_for(&program, build.path());
    let (code, report) = grade_json_with(place, "serv_simple", &["--timeout", "1"], &argv);
    assert_eq!(code, 1, "{report:#}");
    let sends = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "sends_typed_line")
        .unwrap();
    let message = sends["message"].as_str().unwrap();
    assert!(
        sends["waited_s"].as_f64().unwrap() >= 1.0 && !message.contains("so it can do nothing"),
        "{place:?}: {sends:#}"
    );
}

//! Carrying out a lab's steps against a [`Session`], one file per kind of step. Every step
//! that waits for the program ends in one of three ways besides success (see
//! [`crate::session::Unmet`]), and says which: what came was wrong, the program can no
//! longer do it (and would wait for ever), or the deadline passed.

mod connect;
mod datagram;
mod ending;
mod listen;
mod screen;
mod stream;

use std::time::Duration;

use crate::escape;
use crate::report::Failure;
use crate::script::Step;
use crate::session::{Session, Unmet};

/// How much of unmatched output a failure shows.
const GOT_SHOWN_BYTES: usize = 400;

pub fn run_step(s: &mut Session, step: &Step) -> Result<(), Failure> {
    match step {
        Step::Listen(peer) => listen::listen(s, peer.name()),
        Step::Connect(peer) => connect::connect(s, peer.name()),
        Step::Accept(peer) => listen::accept(s, peer.name()),
        Step::Send(peer, data) => stream::send(s, peer.name(), data),
        Step::TypeLine(line) => screen::type_line(s, line),
        Step::HangUp(peer) => {
            s.hang_up(peer.name());
            Ok(())
        }
        Step::Prints(text) => screen::prints_on(s, text, screen::Stream::Screen),
        Step::PrintsOnStderr(text) => screen::prints_on(s, text, screen::Stream::Stderr),
        Step::Receives(peer, expected) => stream::receives(s, peer.name(), expected),
        Step::SeesEndOfStream(peer) => stream::sees_end_of_stream(s, peer.name()),
        Step::Reachable => connect::reachable(s),
        Step::BindsUdp => datagram::binds_udp(s),
        Step::SendDatagram(peer, data) => datagram::send(s, peer.name(), data),
        Step::ReceivesDatagram(peer, want) => datagram::receives(s, peer.name(), want),
        Step::BindUdp(peer) => datagram::bind(s, peer.name()),
        Step::ReplyDatagram(peer, data) => datagram::reply(s, peer.name(), data),
        Step::StopsAtEndOfInput => ending::stops_at_end_of_input(s),
        Step::ExitsWith(status) => ending::exits_with(s, *status),
    }
}

/// The failure of a step whose event did not come. `missing` says what did not happen
/// ("nothing reached alice"); how the wait ended completes it, then `hint` follows. A
/// failure the wait already had stays as it is.
fn unmet(unmet: Unmet, expected: &str, got: String, missing: &str, hint: &str) -> Failure {
    let message = match &unmet {
        Unmet::Failed(failure) => return failure.clone(),
        Unmet::Deadline { waited } => format!("{missing} within {}{hint}", seconds(*waited)),
        Unmet::Stuck { waiting, .. } => format!(
            "{missing}: the program is {waiting}, so it can do nothing {}{hint}",
            waiting.until()
        ),
    };
    Failure {
        expected: expected.to_string(),
        got,
        message,
        waited: unmet.waited(),
        program_gone: false,
    }
}

/// Fills in `{port}`, `{alice.port}`, `{alice.ip}` from the session.
fn expand(session: &Session, template: &str) -> String {
    let mut out = template.replace("{port}", &session.port.to_string());
    while let Some(open) = out.find('{') {
        let Some(len) = out[open..].find('}') else {
            break;
        };
        let var = &out[open + 1..open + len];
        let value = var.split_once('.').and_then(|(peer, field)| {
            let addr = session.peers.local_addr(peer)?;
            match field {
                "port" => Some(addr.port().to_string()),
                "ip" => Some(addr.ip().to_string()),
                _ => None,
            }
        });
        let Some(value) = value else { break };
        out.replace_range(open..open + len + 1, &value);
    }
    out
}

/// The end of `data`, escaped, for a failure's "got".
fn shown(data: &[u8]) -> String {
    if data.is_empty() {
        return "nothing".into();
    }
    if data.len() <= GOT_SHOWN_BYTES {
        return escape::python_bytes(data);
    }
    let tail = &data[data.len() - GOT_SHOWN_BYTES..];
    format!(
        "… {} (the last {} of {} bytes)",
        escape::python_bytes(tail),
        GOT_SHOWN_BYTES,
        data.len()
    )
}

fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// The failure of a step that could not go on because the program is gone.
fn program_gone(session: &mut Session, expected: String, got: String) -> Failure {
    session.settle_exit();
    Failure {
        expected,
        got,
        message: session.program.how_ended(),
        waited: None,
        program_gone: true,
    }
}

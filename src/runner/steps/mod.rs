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

/// Fills in the placeholders of a `prints line with` part from the session (`{port}`,
/// `{alice.ip}`, `{bob.port}`...: see [`crate::labfile::steps::LINE_PLACEHOLDERS`]); `{{`
/// and `}}` are braces. A peer with no address yet leaves its placeholder as written.
fn expand(session: &Session, template: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(at) = rest.find(['{', '}']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        let Some(close) = tail.find('}').filter(|_| tail.starts_with('{')) else {
            out.push_str(&tail[..1]);
            rest = &tail[1..];
            continue;
        };
        match placeholder(session, &tail[1..close]) {
            Some(value) => out.push_str(&value),
            None => out.push_str(&tail[..=close]),
        }
        rest = &tail[close + 1..];
    }
    out.push_str(rest);
    out
}

/// The value of one placeholder, if the session knows it.
fn placeholder(session: &Session, name: &str) -> Option<String> {
    if name == "port" {
        return Some(session.port.to_string());
    }
    let (peer, field) = name.split_once('.')?;
    let addr = session.peers.local_addr(peer)?;
    match field {
        "port" => Some(addr.port().to_string()),
        "ip" => Some(addr.ip().to_string()),
        _ => None,
    }
}

/// The end of `data`, escaped, for a failure's "got".
pub(super) fn shown(data: &[u8]) -> String {
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

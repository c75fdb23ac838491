//! The step vocabulary of a lab file: `{ "alice sends" = "Hello!\n" }`. Each step names its
//! subject first (`alice`, `bob`, `program`, `keyboard`), then what it does; its value is
//! the bytes, line or text (a string), the parts of a line (an array of strings), a status
//! (an integer), or `true` for a step that needs nothing more.
//!
//! | step | value | protocol |
//! | --- | --- | --- |
//! | `PEER listens`, `PEER accepts` (the program connects to it), `PEER connects` (to the program), `PEER hangs up`, `PEER sees end of stream` | `true` | TCP |
//! | `PEER sends`, `PEER sends line` (a newline added) | string | TCP |
//! | `PEER receives` (these bytes exactly), `PEER receives line` (with or without its newline, nothing else) | string | TCP |
//! | `PEER binds udp` | `true` | UDP |
//! | `PEER sends datagram`, `PEER sends datagram line`, `PEER replies datagram` (to whoever sent last) | string | UDP |
//! | `PEER receives datagram`, `PEER receives datagram line` | string | UDP |
//! | `program prints` (as `print(data)` shows bytes, or the text itself), `program shows` (exactly), and `... on stderr` | string | any |
//! | `program prints line with`, `program prints on stderr line with` (a line holding each part) | array of strings | any |
//! | `program exits with` | integer | any |
//! | `program is reachable at bob`, `program stops at end of input` | `true` | any |
//! | `program binds udp` | `true` | UDP |
//! | `keyboard types` (a line and Enter) | string | any |
//!
//! PEER is `alice` or `bob`. Placeholders (`{alice.port}`) are filled in only in the parts of
//! `prints line with` (see [`LINE_PLACEHOLDERS`]); elsewhere `{{` and `}}` stand for braces.

use crate::script::{Peer, Proto, Received, Step, Text};

/// The placeholders `prints line with` fills in from the run.
pub const LINE_PLACEHOLDERS: &[&str] = &[
    "port",
    "alice.ip",
    "alice.port",
    "bob.ip",
    "bob.port",
];

/// Which runs a step may be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fits {
    Any,
    Only(Proto),
}

/// Every phrase a step may start with, for the error that lists them.
pub const PHRASES: &[&str] = &[
    "PEER listens",
    "PEER accepts",
    "PEER connects",
    "PEER hangs up",
    "PEER sees end of stream",
    "PEER sends",
    "PEER sends line",
    "PEER receives",
    "PEER receives line",
    "PEER binds udp",
    "PEER sends datagram",
    "PEER sends datagram line",
    "PEER replies datagram",
    "PEER receives datagram",
    "PEER receives datagram line",
    "program prints",
    "program shows",
    "program prints line with",
    "program prints on stderr",
    "program shows on stderr",
    "program prints on stderr line with",
    "program exits with",
    "program is reachable at bob",
    "program stops at end of input",
    "program binds udp",
    "keyboard types",
];

/// The step `phrase` (the key of a step's table) says with `value`, and which runs it fits.
pub fn parse(phrase: &str, value: &toml::Value) -> Result<(Step, Fits), String> {
    let (subject, verb) = phrase
        .split_once(' ')
        .ok_or_else(|| unknown_phrase(phrase))?;
    let tcp = Fits::Only(Proto::Tcp);
    let udp = Fits::Only(Proto::Udp);
    let peer = match subject {
        "alice" => Some(Peer::Alice),
        "bob" => Some(Peer::Bob),
        _ => None,
    };
    if let Some(peer) = peer {
        let step = match verb {
            "listens" => (flag(value, Step::Listen(peer))?, tcp),
            "accepts" => (flag(value, Step::Accept(peer))?, tcp),
            "connects" => (flag(value, Step::Connect(peer))?, tcp),
            "hangs up" => (flag(value, Step::HangUp(peer))?, tcp),
            "sees end of stream" => (flag(value, Step::SeesEndOfStream(peer))?, tcp),
            "sends" => (Step::Send(peer, bytes(value)?), tcp),
            "sends line" => (Step::Send(peer, line(value)?), tcp),
            "receives" => (Step::Receives(peer, Received::Exactly(bytes(value)?)), tcp),
            "receives line" => (Step::Receives(peer, Received::Line(bytes(value)?)), tcp),
            "binds udp" => (flag(value, Step::BindUdp(peer))?, udp),
            "sends datagram" => (Step::SendDatagram(peer, bytes(value)?), udp),
            "sends datagram line" => (Step::SendDatagram(peer, line(value)?), udp),
            "replies datagram" => (Step::ReplyDatagram(peer, bytes(value)?), udp),
            "receives datagram" => (
                Step::ReceivesDatagram(peer, Received::Exactly(bytes(value)?)),
                udp,
            ),
            "receives datagram line" => (
                Step::ReceivesDatagram(peer, Received::Line(bytes(value)?)),
                udp,
            ),
            _ => return Err(unknown_phrase(phrase)),
        };
        return Ok(step);
    }
    let any = Fits::Any;
    match (subject, verb) {
        ("program", "prints") => Ok((Step::Prints(Text::Printed(bytes(value)?)), any)),
        ("program", "shows") => Ok((Step::Prints(Text::Raw(bytes(value)?)), any)),
        ("program", "prints line with") => Ok((Step::Prints(Text::LineWith(parts(value)?)), any)),
        ("program", "prints on stderr") => {
            Ok((Step::PrintsOnStderr(Text::Printed(bytes(value)?)), any))
        }
        ("program", "shows on stderr") => Ok((Step::PrintsOnStderr(Text::Raw(bytes(value)?)), any)),
        ("program", "prints on stderr line with") => {
            Ok((Step::PrintsOnStderr(Text::LineWith(parts(value)?)), any))
        }
        ("program", "exits with") => {
            let status = value
                .as_integer()
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| format!("`{phrase}` takes an exit status, a whole number"))?;
            Ok((Step::ExitsWith(status), any))
        }
        ("program", "is reachable at bob") => Ok((flag(value, Step::Reachable)?, any)),
        ("program", "stops at end of input") => Ok((flag(value, Step::StopsAtEndOfInput)?, any)),
        ("program", "binds udp") => Ok((flag(value, Step::BindsUdp)?, udp)),
        ("keyboard", "types") => Ok((Step::TypeLine(text(value)?), any)),
        _ => Err(unknown_phrase(phrase)),
    }
}

fn unknown_phrase(phrase: &str) -> String {
    format!(
        "unknown step `{phrase}`; a step is one of: {} (PEER is alice or bob)",
        PHRASES.join(", ")
    )
}

/// A step that needs nothing more: its value is `true`.
fn flag(value: &toml::Value, step: Step) -> Result<Step, String> {
    match value {
        toml::Value::Boolean(true) => Ok(step),
        _ => Err("this step takes no value: write `true`".into()),
    }
}

/// A string of the step, its `{{` and `}}` made single braces; a lone brace is refused, as
/// placeholders are filled in only in `prints line with`.
fn text(value: &toml::Value) -> Result<String, String> {
    let raw = value
        .as_str()
        .ok_or_else(|| format!("this step takes a string, not {}", value.type_str()))?;
    let mut out = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' | '}' if chars.peek() == Some(&c) => {
                chars.next();
                out.push(c);
            }
            '{' | '}' => {
                return Err(format!(
                    "{raw:?}: placeholders are filled in only in `prints line with` and run arguments; write {{{{ or }}}} for a brace"
                ));
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

fn bytes(value: &toml::Value) -> Result<Vec<u8>, String> {
    text(value).map(String::into_bytes)
}

fn line(value: &toml::Value) -> Result<Vec<u8>, String> {
    bytes(value).map(|mut b| {
        b.push(b'\n');
        b
    })
}

/// The parts of `prints line with`: strings whose placeholders are all known.
fn parts(value: &toml::Value) -> Result<Vec<String>, String> {
    let array = value
        .as_array()
        .ok_or("`prints line with` takes an array of strings, the parts of the line")?;
    array
        .iter()
        .map(|part| {
            let part = part.as_str().ok_or("each part of the line is a string")?;
            check_placeholders(part, LINE_PLACEHOLDERS)?;
            Ok(part.to_string())
        })
        .collect()
}

/// Refuses a `{name}` in `text` that is not one of `known` (`{{` and `}}` are braces).
pub fn check_placeholders(text: &str, known: &[&str]) -> Result<(), String> {
    let mut rest = text;
    while let Some(open) = rest.find(['{', '}']) {
        let after = &rest[open + 1..];
        if rest[open..].starts_with("{{") || rest[open..].starts_with("}}") {
            rest = &after[1..];
            continue;
        }
        if rest[open..].starts_with('}') {
            return Err(format!("{text:?}: a lone }}; write }}}} for a brace"));
        }
        let Some(close) = after.find('}') else {
            return Err(format!("{text:?}: a {{ that is never closed; write {{{{ for a brace"));
        };
        let name = &after[..close];
        if !known.contains(&name) {
            return Err(format!(
                "unknown placeholder {{{name}}} in {text:?}; the placeholders here are: {}",
                known
                    .iter()
                    .map(|k| format!("{{{k}}}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

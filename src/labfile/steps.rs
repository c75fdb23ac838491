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
//!
//! Values that would grade nonsense are refused: a typed line holding a newline or a
//! control character (the terminal would act on it), or longer than a terminal's line; a
//! `... line` step's line holding a newline; nothing to print, send or receive over TCP,
//! or a line with no part (any program would pass); an exit status outside 0 to 255.

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
            "sends" => (Step::Send(peer, something(phrase, bytes(value)?)?), tcp),
            "sends line" => (Step::Send(peer, line(phrase, value)?), tcp),
            "receives" => (
                Step::Receives(peer, Received::Exactly(something(phrase, bytes(value)?)?)),
                tcp,
            ),
            "receives line" => {
                let line = one_line(phrase, something(phrase, bytes(value)?)?)?;
                (Step::Receives(peer, Received::Line(line)), tcp)
            }
            "binds udp" => (flag(value, Step::BindUdp(peer))?, udp),
            "sends datagram" => (Step::SendDatagram(peer, bytes(value)?), udp),
            "sends datagram line" => (Step::SendDatagram(peer, line(phrase, value)?), udp),
            "replies datagram" => (Step::ReplyDatagram(peer, bytes(value)?), udp),
            "receives datagram" => (
                Step::ReceivesDatagram(peer, Received::Exactly(bytes(value)?)),
                udp,
            ),
            "receives datagram line" => (
                Step::ReceivesDatagram(peer, Received::Line(one_line(phrase, bytes(value)?)?)),
                udp,
            ),
            _ => return Err(unknown_phrase(phrase)),
        };
        return Ok(step);
    }
    let any = Fits::Any;
    match (subject, verb) {
        ("program", "prints") => Ok((Step::Prints(Text::Printed(shown(phrase, value)?)), any)),
        ("program", "shows") => Ok((Step::Prints(Text::Raw(shown(phrase, value)?)), any)),
        ("program", "prints line with") => Ok((Step::Prints(Text::LineWith(parts(value)?)), any)),
        ("program", "prints on stderr") => {
            Ok((Step::PrintsOnStderr(Text::Printed(shown(phrase, value)?)), any))
        }
        ("program", "shows on stderr") => {
            Ok((Step::PrintsOnStderr(Text::Raw(shown(phrase, value)?)), any))
        }
        ("program", "prints on stderr line with") => {
            Ok((Step::PrintsOnStderr(Text::LineWith(parts(value)?)), any))
        }
        ("program", "exits with") => {
            let status = value
                .as_integer()
                .filter(|n| (0..=255).contains(n))
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| {
                    format!("`{phrase}` takes an exit status, a whole number from 0 to 255, not {value}")
                })?;
            Ok((Step::ExitsWith(status), any))
        }
        ("program", "is reachable at bob") => Ok((flag(value, Step::Reachable)?, any)),
        ("program", "stops at end of input") => Ok((flag(value, Step::StopsAtEndOfInput)?, any)),
        ("program", "binds udp") => Ok((flag(value, Step::BindsUdp)?, udp)),
        ("keyboard", "types") => Ok((Step::TypeLine(typed(text(value)?)?), any)),
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

/// The bytes of a `... line` step, its newline added.
fn line(phrase: &str, value: &toml::Value) -> Result<Vec<u8>, String> {
    let mut line = one_line(phrase, bytes(value)?)?;
    line.push(b'\n');
    Ok(line)
}

/// A `... line` step's line, which holds no newline: the step adds or allows it.
fn one_line(phrase: &str, line: Vec<u8>) -> Result<Vec<u8>, String> {
    if line.contains(&b'\n') {
        return Err(format!(
            "`{phrase}` is one line, written without its newline: for several lines or exact bytes, use `{}`",
            phrase.trim_end_matches(" line")
        ));
    }
    Ok(line)
}

/// Bytes a step cannot do without: sending or expecting nothing would pass whatever the
/// program does.
fn something(phrase: &str, bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    if bytes.is_empty() {
        return Err(format!(
            "`{phrase}` of nothing: it would pass whatever the program does; write the bytes"
        ));
    }
    Ok(bytes)
}

/// What the program should show: something.
fn shown(phrase: &str, value: &toml::Value) -> Result<Vec<u8>, String> {
    something(phrase, bytes(value)?)
}

/// The longest line a terminal takes in canonical mode, without its newline (Linux's
/// N_TTY_BUF_SIZE is 4096, the newline included).
const TYPED_LINE_MAX: usize = 4095;

/// A line `keyboard types`: text the terminal passes on as it is, one line, since the step
/// presses Enter itself.
fn typed(line: String) -> Result<String, String> {
    if line.contains(['\n', '\r']) {
        return Err(format!(
            "{line:?}: `keyboard types` types one line and presses Enter itself, so a newline in it would type two lines as one step: write a step for each line"
        ));
    }
    if let Some(c) = line.chars().find(|c| c.is_control() && *c != '\t') {
        return Err(format!(
            "{line:?}: `keyboard types` types text, and the terminal acts on control characters such as {c:?} (^C interrupts, ^D ends input): for end of input, use `program stops at end of input`"
        ));
    }
    if line.len() > TYPED_LINE_MAX {
        return Err(format!(
            "`keyboard types` takes a line of at most {TYPED_LINE_MAX} bytes (a terminal's limit), not {}",
            line.len()
        ));
    }
    Ok(line)
}

/// The parts of `prints line with`: strings whose placeholders are all known.
fn parts(value: &toml::Value) -> Result<Vec<String>, String> {
    let array = value
        .as_array()
        .filter(|parts| !parts.is_empty())
        .ok_or("`prints line with` takes an array of strings, the parts of the line (one at least)")?;
    array
        .iter()
        .map(|part| {
            let part = part.as_str().ok_or("each part of the line is a string")?;
            if part.is_empty() {
                return Err("an empty part is in every line: write what the line holds".into());
            }
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

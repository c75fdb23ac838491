//! The keyboard and the screen: `type_line` types on the program's keyboard, `prints`
//! waits for text on its screen (or stderr).

use crate::report::Failure;
use crate::script::Text;
use crate::session::{Inbox, Probe, Session};

use super::{expand, program_gone, shown, unmet};

/// Where a program shows text.
#[derive(Clone, Copy)]
pub enum Stream {
    Screen,
    Stderr,
}

impl Stream {
    fn inbox(self, s: &mut Session) -> &mut Inbox {
        match self {
            Stream::Screen => &mut s.program.screen,
            Stream::Stderr => &mut s.program.stderr,
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Stream::Screen => "print",
            Stream::Stderr => "print on stderr",
        }
    }
}

pub fn type_line(s: &mut Session, line: &str) -> Result<(), Failure> {
    let expected = format!("to type {line:?} on the program's keyboard");
    if s.program.screen_closed() {
        return Err(program_gone(s, expected, "the terminal is closed".into()));
    }
    let typed = s.type_bytes(format!("{line}\n").as_bytes());
    typed.map_err(|message| Failure {
        expected,
        got: "the keyboard was not read".into(),
        message,
        ..Failure::default()
    })
}

pub fn prints_on(s: &mut Session, text: &Text, stream: Stream) -> Result<(), Failure> {
    let parts: Vec<String> = match text {
        Text::LineWith(parts) => parts.iter().map(|p| expand(s, p)).collect(),
        Text::Printed(_) | Text::Raw(_) => Vec::new(),
    };
    let expected = text.describe(&parts);
    let result = s.wait_for(|s, _| {
        let inbox = stream.inbox(s);
        if let Some(end) = text.find(inbox.unmatched(), &parts) {
            inbox.consume(end);
            Probe::Ready(())
        } else if inbox.ended() {
            let got = shown(inbox.unmatched());
            Probe::Failed(program_gone(s, expected.clone(), got))
        } else {
            Probe::Pending
        }
    });
    result.map_err(|end| {
        let unmatched = stream.inbox(s).unmatched();
        let what = if unmatched.is_empty() {
            "anything"
        } else {
            "it"
        };
        let missing = format!("the program did not {} {what}", stream.verb());
        unmet(end, &expected, shown(unmatched), &missing, "")
    })
}

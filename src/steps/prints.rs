//! `program prints` (as `print(data)` shows bytes, or the text itself), `program shows`
//! (these bytes exactly), `program prints line with` (a whole line holding each part,
//! placeholders filled in), and the same `on stderr`: the program shows this.

use crate::placeholders::{self, IN_LINES, Placeholder};
use crate::report::{Failure, Proto};
use crate::session::{Output, Probe, Session};

use super::expect::Text;
use super::failures::{program_gone, shown, unmet};
use super::{Does, Fits, Kind, Role, Said, SoFar, Step, StepKind};

pub const KIND: Kind = Kind {
    phrases: &[
        "program prints",
        "program shows",
        "program prints line with",
        "program prints on stderr",
        "program shows on stderr",
        "program prints on stderr line with",
    ],
    fits: Fits::Any,
    parse,
};

#[derive(Debug)]
struct Prints {
    /// As a lab file writes it.
    pattern: &'static str,
    output: Output,
    text: Text,
}

fn parse(said: &Said) -> Result<Step, String> {
    let output = if said.pattern.contains(" on stderr") {
        Output::Stderr
    } else {
        Output::Screen
    };
    let text = if said.pattern.ends_with(" line with") {
        Text::LineWith(said.parts()?)
    } else if said.pattern.starts_with("program shows") {
        Text::Raw(said.something()?)
    } else {
        Text::Printed(said.something()?)
    };
    Ok(Step::new(Prints {
        pattern: said.pattern,
        output,
        text,
    }))
}

impl StepKind for Prints {
    fn phrase(&self) -> String {
        self.pattern.into()
    }

    fn role(&self) -> Role {
        Role::of(&[Does::WaitsForProgram])
    }

    fn take(&self, _: &mut SoFar, _: Proto) -> Result<(), String> {
        Ok(())
    }

    fn run(&self, s: &mut Session) -> Result<(), Failure> {
        let (text, output) = (&self.text, self.output);
        let parts: Vec<String> = match text {
            Text::LineWith(parts) => parts.iter().map(|p| filled(s, p)).collect(),
            Text::Printed(_) | Text::Raw(_) => Vec::new(),
        };
        let expected = text.describe(&parts);
        let result = s.wait_for(|s, _| {
            let inbox = s.program_mut().output_mut(output);
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
            let unmatched = s.program().output(output).unmatched();
            let what = if unmatched.is_empty() {
                "anything"
            } else {
                "it"
            };
            let verb = match output {
                Output::Screen => "print",
                Output::Stderr => "print on stderr",
            };
            let missing = format!("the program did not {verb} {what}");
            unmet(end, &expected, shown(unmatched), &missing, "")
        })
    }
}

/// A part of `prints line with` with its placeholders filled in from the run; a peer with
/// no address yet leaves its placeholder as written.
fn filled(s: &Session, part: &str) -> String {
    placeholders::fill(part, IN_LINES, |placeholder| match placeholder {
        Placeholder::Port => Some(s.place().port().to_string()),
        Placeholder::PeerIp(peer) => s.peers().local_addr(peer).map(|a| a.ip().to_string()),
        Placeholder::PeerPort(peer) => s.peers().local_addr(peer).map(|a| a.port().to_string()),
        Placeholder::Bob => None,
    })
}

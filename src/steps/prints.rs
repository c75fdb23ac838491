//! `program prints` (as `print(data)` shows bytes, or the text itself), `program shows`
//! (these bytes exactly), `program prints line with` (a whole line holding each part,
//! placeholders filled in), and the same `on stderr`: the program shows this.

use crate::escape;
use crate::placeholders::{self, IN_LINES, Placeholder};
use crate::reasons::{self, Part, Printed, PrintedLine, Reason, moment};
use crate::report::{Failure, Proto};
use crate::session::{Output, Probe, Session, Unmet};

use super::expect::Text;
use super::failures::{program_gone, reasoned, shown, unmet};
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
        let at_start = s.program().output(output).total();
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
            if let Unmet::Failed(failure) = end {
                return failure;
            }
            let inbox = s.program().output(output);
            let got = shown(inbox.unmatched());
            let waited = end.waited().unwrap_or_default();
            let printed = Printed {
                bytes: inbox.total() - at_start,
                tail: inbox.tail(),
                waited,
            };
            let language = s.evidence().language();
            let did = match text {
                Text::Printed(data) => format!("printed {}", escape::python_bytes(data)),
                Text::Raw(data) => format!("showed {}", escape::python_bytes(data)),
                Text::LineWith(_) => format!("printed {expected}"),
            };
            // The cause, where what it printed says it: then no "blocked in ..." follows.
            let reason = moment::flood(&printed, &did, language).or_else(|| match text {
                Text::LineWith(templates) => near_miss(s, output, templates, &parts),
                Text::Printed(_) | Text::Raw(_) => None,
            });
            if let Some(reason) = reason {
                return reasoned(&expected, got, reason).after(waited);
            }
            let what = if s.program().output(output).unmatched().is_empty() {
                "anything"
            } else {
                "it"
            };
            let verb = match output {
                Output::Screen => "print",
                Output::Stderr => "print on stderr",
            };
            let missing = format!("the program did not {verb} {what}");
            unmet(end, &expected, got, &missing, "")
        })
    }
}

/// The reason for a printed line that comes near the one awaited (`templates`, as the lab
/// writes its parts; `filled`, with the run's values): which part is wrong. A part that is
/// a peer's address or port alone is judged as one; the rest as words.
fn near_miss(s: &Session, output: Output, templates: &[String], filled: &[String]) -> Option<Reason> {
    let mut peer = None;
    let parts: Vec<Part> = templates
        .iter()
        .zip(filled)
        .map(|(template, filled)| {
            let of_peer = |field: &str| {
                ["alice", "bob"].into_iter().find_map(|name| {
                    let addr = s.peers().local_addr(name)?;
                    (template.as_str() == format!("{{{name}.{field}}}")).then_some((name, addr))
                })
            };
            if let Some((name, addr)) = of_peer("ip") {
                peer = Some(name);
                Part::Ip(addr.ip())
            } else if let Some((name, addr)) = of_peer("port") {
                peer = Some(name);
                Part::Port(addr.port())
            } else {
                Part::Words(filled)
            }
        })
        .collect();
    // A peer that connected to the program is its client, as the lesson calls it.
    let whose = match peer {
        Some(_) if s.place().reached().is_some() => "the client's".to_string(),
        Some(name) => format!("{name}'s"),
        None => "the peer's".to_string(),
    };
    let line = PrintedLine {
        parts: &parts,
        whose: &whose,
        own: peer.and_then(|name| s.peers().connection(name)).map(|c| c.remote),
        printed: s.program().output(output).unmatched(),
    };
    reasons::near_miss::near_miss(&line, s.evidence().language())
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

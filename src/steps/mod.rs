//! The steps of a lab, one kind a file. Each kind owns everything about it: its phrases in
//! lab files (`{ "alice sends" = "Hello!\n" }`), how their values are read and checked when
//! the lab loads, what it is to its run ([`Role`]: does it give the program input, wait for
//! it, make it the server), what it needs the steps before it to have set up ([`SoFar`]),
//! and how it is carried out against the [`Session`]. A new kind of step is a new file here
//! and one line in [`KINDS`]; a test holds [`KINDS`] and the README's table of steps
//! together.
//!
//! A step names its subject first (`alice`, `bob`, `program`, `keyboard`), then what it
//! does; its value is the bytes, line or text (a string), the parts of a line (an array of
//! strings), a status (an integer), or `true` for a step that needs nothing more (see
//! [`said`]). Every step that waits for the program ends in one of three ways besides
//! success (see [`crate::session::Unmet`]), and says which: what came was wrong, the program
//! can no longer do it (and would wait for ever), or the deadline passed ([`failures`]).

mod accept;
mod bind_udp;
mod binds_udp;
mod connect;
mod exits_with;
pub mod expect;
mod failures;
mod hangs_up;
mod listen;
mod prints;
mod reachable;
mod receives;
mod receives_datagram;
mod replies_datagram;
pub mod said;
mod sees_end_of_stream;
mod sends;
mod sends_datagram;
mod stops_at_end_of_input;
mod types;

use std::fmt;
use std::sync::Arc;

use crate::report::{Failure, Proto};
use crate::session::Session;

pub use failures::shown;
pub use said::Said;

/// Every kind of step, in the order the error for an unknown phrase lists their phrases.
pub const KINDS: &[Kind] = &[
    listen::KIND,
    accept::KIND,
    connect::KIND,
    hangs_up::KIND,
    sees_end_of_stream::KIND,
    sends::KIND,
    receives::KIND,
    bind_udp::KIND,
    sends_datagram::KIND,
    replies_datagram::KIND,
    receives_datagram::KIND,
    prints::KIND,
    exits_with::KIND,
    reachable::KIND,
    stops_at_end_of_input::KIND,
    binds_udp::KIND,
    types::KIND,
];

/// A kind of step as lab files write it.
pub struct Kind {
    /// Its phrases, `PEER` standing for `alice` or `bob`.
    pub phrases: &'static [&'static str],
    /// The runs it may be in.
    pub fits: Fits,
    /// The step one of its phrases says with its value.
    pub parse: fn(&Said) -> Result<Step, String>,
}

/// Which runs a step may be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fits {
    Any,
    Only(Proto),
}

/// What every kind of step does.
pub trait StepKind: fmt::Debug + Send + Sync {
    /// The phrase it is written with, its peer named (`bob listens`), for errors.
    fn phrase(&self) -> String;
    /// What it is to its run.
    fn role(&self) -> Role;
    /// Carries on what the run's steps so far have set up, or says why it cannot come here
    /// (checked when the lab loads; see [`crate::labfile::sense`]).
    fn take(&self, so_far: &mut SoFar, proto: Proto) -> Result<(), String>;
    /// Carries it out.
    fn run(&self, s: &mut Session) -> Result<(), Failure>;
}

/// What a step is to its run (each kind says it with [`Role::of`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Role {
    /// It gives the program something to act on (a message, a datagram, a typed line, a
    /// hang-up, a key): what the program does from then on is this step's doing (see
    /// [`crate::runner`]).
    pub gives_input: bool,
    /// It connects to the program: an action, though it gives nothing.
    pub connects: bool,
    /// It is part of the program's conversation with the peers: it talks to one, or waits
    /// for the program's socket.
    pub converses: bool,
    /// It waits for the program to do something, and fails when it does not.
    pub waits_for_program: bool,
    /// It makes the program the server of its run: the harness reaches it at its port.
    pub serves: bool,
    /// The peer takes the lab's port before the program starts: a setup step.
    pub takes_port: Option<Peer>,
}

/// What a step may do in its run: the parts of a [`Role`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Does {
    GivesInput,
    Connects,
    Converses,
    WaitsForProgram,
    Serves,
}

impl Role {
    /// The role of a step that does these, and no other.
    pub fn of(does: &[Does]) -> Role {
        Role {
            gives_input: does.contains(&Does::GivesInput),
            connects: does.contains(&Does::Connects),
            converses: does.contains(&Does::Converses),
            waits_for_program: does.contains(&Does::WaitsForProgram),
            serves: does.contains(&Does::Serves),
            takes_port: None,
        }
    }

    /// The same role, the peer taking the lab's port in setup.
    pub fn taking_port(self, peer: Peer) -> Role {
        Role {
            takes_port: Some(peer),
            ..self
        }
    }
}

/// One step of a lab, of any kind.
#[derive(Debug, Clone)]
pub struct Step(Arc<dyn StepKind>);

impl Step {
    pub fn new(kind: impl StepKind + 'static) -> Step {
        Step(Arc::new(kind))
    }

    pub fn phrase(&self) -> String {
        self.0.phrase()
    }

    pub fn role(&self) -> Role {
        self.0.role()
    }

    pub fn take(&self, so_far: &mut SoFar, proto: Proto) -> Result<(), String> {
        self.0.take(so_far, proto)
    }

    pub fn run(&self, s: &mut Session) -> Result<(), Failure> {
        self.0.run(s)
    }

    /// Whether the step gives the program something to act on (see [`Role::gives_input`]).
    pub fn gives_input(&self) -> bool {
        self.role().gives_input
    }

    /// Whether the step acts rather than only waits: it gives input, or connects.
    pub fn acts(&self) -> bool {
        let role = self.role();
        role.gives_input || role.connects
    }

    /// Whether the step is part of the program's conversation with the peers.
    pub fn converses(&self) -> bool {
        self.role().converses
    }
}

/// The step `phrase` (the key of a step's table) says with `value`, and which runs it fits.
pub fn parse(phrase: &str, value: &toml::Value) -> Result<(Step, Fits), String> {
    let (subject, verb) = phrase
        .split_once(' ')
        .ok_or_else(|| unknown_phrase(phrase))?;
    let peer = match subject {
        "alice" => Some(Peer::Alice),
        "bob" => Some(Peer::Bob),
        _ => None,
    };
    let pattern = match peer {
        Some(_) => format!("PEER {verb}"),
        None => phrase.to_string(),
    };
    let (kind, pattern) = KINDS
        .iter()
        .find_map(|kind| {
            let found = kind.phrases.iter().find(|p| **p == pattern)?;
            Some((kind, *found))
        })
        .ok_or_else(|| unknown_phrase(phrase))?;
    let said = Said {
        phrase,
        pattern,
        peer,
        value,
    };
    Ok(((kind.parse)(&said)?, kind.fits))
}

fn unknown_phrase(phrase: &str) -> String {
    let phrases: Vec<&str> = KINDS.iter().flat_map(|k| k.phrases.iter().copied()).collect();
    format!(
        "unknown step `{phrase}`; a step is one of: {} (PEER is alice or bob)",
        phrases.join(", ")
    )
}

/// A socket the harness plays, named after the lesson's hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// The client of the lesson's drawing (111.111.111.111).
    Alice,
    /// The server of the lesson's drawing (222.222.222.222).
    Bob,
}

impl Peer {
    pub fn name(self) -> &'static str {
        match self {
            Peer::Alice => "alice",
            Peer::Bob => "bob",
        }
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a run's steps so far have set up, as the lab is loaded: who holds the lab's port,
/// which peers have a connection or a socket, what the program was seen doing.
#[derive(Debug, Default)]
pub struct SoFar {
    /// The peer holding the lab's port from setup.
    pub holder: Option<Peer>,
    /// Peers with a TCP connection to the program.
    pub connected: Vec<Peer>,
    /// Peers with a UDP socket (bound in setup, or from sending).
    pub with_socket: Vec<Peer>,
    /// Peers that received a datagram.
    pub received: Vec<Peer>,
    /// The program was seen bound to its UDP port.
    pub program_bound: bool,
}

impl SoFar {
    /// A step that needs `peer` to have a connection: made before by `connects` or
    /// `accepts`.
    fn needs_connection(&self, peer: Peer, phrase: &str) -> Result<(), String> {
        if self.connected.contains(&peer) {
            Ok(())
        } else {
            Err(format!(
                "`{phrase}` before {peer} has a connection: first `{peer} connects` (to a server program) or `{peer} accepts` (from a client program)"
            ))
        }
    }
}

/// A step that takes the lab's port belongs in setup, before the program starts.
fn only_in_setup(phrase: &str) -> Result<(), String> {
    Err(format!(
        "`{phrase}` goes in setup (setup = [{{ \"{phrase}\" = true }}]): the harness takes the port before the program starts, so that a client program finds it"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's table of steps (what instructors read) and [`KINDS`] (what lab files
    /// may say) hold the same phrases: a phrase the table shows has a kind that parses it,
    /// and every kind's phrases are in the table.
    #[test]
    fn every_phrase_of_the_readme_has_a_kind_and_every_kind_is_in_the_readme() {
        let readme = include_str!("../../README.md");
        let table: Vec<&str> = readme
            .lines()
            .skip_while(|l| !l.contains("| step | value | in a run of |"))
            .skip(2)
            .take_while(|l| l.trim_start().starts_with('|'))
            .collect();
        assert!(table.len() > 5, "the README's table of steps is where it was");
        let mut shown = Vec::new();
        for row in &table {
            let cell = row.trim_start().trim_start_matches('|');
            let cell = &cell[..cell.find('|').unwrap()];
            // The phrases, not what the notes in brackets quote (`print(data)`, `{port}`).
            let phrases = cell.split('`').skip(1).step_by(2).filter(|quoted| {
                ["alice ", "bob ", "program ", "keyboard "]
                    .iter()
                    .any(|subject| quoted.starts_with(subject))
            });
            for quoted in phrases {
                let pattern = quoted
                    .strip_prefix("alice ")
                    .or_else(|| quoted.strip_prefix("bob "))
                    .map_or(quoted.to_string(), |verb| format!("PEER {verb}"));
                assert!(
                    KINDS.iter().any(|k| k.phrases.contains(&pattern.as_str())),
                    "the README shows `{quoted}`, which no kind of step parses"
                );
                shown.push(pattern);
            }
        }
        for phrase in KINDS.iter().flat_map(|k| k.phrases) {
            assert!(
                shown.iter().any(|s| s == phrase),
                "`{phrase}` is no step the README's table shows"
            );
        }
    }

    /// Each phrase parses to a step that says it with its peer, whatever kind it is.
    #[test]
    fn every_phrase_parses_to_a_step_written_so() {
        let values = [
            toml::Value::Boolean(true),
            toml::Value::String("hi".into()),
            toml::Value::Integer(0),
            toml::Value::Array(vec![toml::Value::String("hi".into())]),
        ];
        for kind in KINDS {
            for pattern in kind.phrases {
                let phrase = pattern.replace("PEER", "bob");
                let step = values
                    .iter()
                    .find_map(|value| parse(&phrase, value).ok())
                    .unwrap_or_else(|| panic!("`{phrase}` takes none of the sample values"));
                let written = step.0.phrase();
                assert!(
                    phrase.starts_with(&written),
                    "`{phrase}` says it is `{written}`"
                );
            }
        }
    }
}

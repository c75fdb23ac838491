//! The one protocol between the harness and the program's init, both ways, typed, and
//! encoded and decoded here and nowhere else: what init tells the harness ([`Status`], one
//! JSON line a message on its status pipe, read back by a [`Decoder`]), and what the harness
//! asks of init ([`Request`], a signal each, since init's only channel from the harness is
//! its signals). How init is started is [`super::InitArgs`].

use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};

use crate::report::ProgramExit;
use crate::stuck::Look;

/// One message from init, in the order they come: `Started` or `CannotStart`, then (after a
/// start) `Exited`, then `Swept`, then the pipe closes; `Looked` whenever the harness asked
/// (SIGUSR2) while the program ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The program is running: exec succeeded.
    Started,
    /// The program never ran: socklab's failure, not the student's (exit 2).
    CannotStart { stage: Stage, error: String },
    /// How the program ended.
    Exited(Exit),
    /// Init is done: this many of the program's other processes were left when it ended.
    Swept(usize),
    /// What init saw of the program's threads when the harness asked: `None` when one of
    /// them may still act (see [`crate::stuck::look`]).
    Looked(Option<Look>),
}

/// [`ProgramExit`] on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

impl From<Exit> for ProgramExit {
    fn from(exit: Exit) -> ProgramExit {
        match exit {
            Exit::Code(code) => ProgramExit::Exited(code),
            Exit::Signal(signal) => ProgramExit::Signaled(signal),
        }
    }
}

/// What init was doing when the start failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The program's private mounts (see [`crate::confine`]).
    Confinement,
    /// Forking the program's process.
    Fork,
    /// Dropping capabilities, or becoming the run's own user.
    Privileges,
    /// Its limits (see [`crate::limits`]).
    Limits,
    /// Its session and controlling terminal.
    Terminal,
    /// Exec of the program itself.
    Exec,
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stage::Confinement => "setting up its confinement",
            Stage::Fork => "starting its process",
            Stage::Privileges => "dropping its privileges",
            Stage::Limits => "setting its limits",
            Stage::Terminal => "giving it its terminal",
            Stage::Exec => "exec",
        })
    }
}

impl Status {
    /// The message as one line, newline included.
    pub fn encode(&self) -> String {
        let mut line = serde_json::to_string(self).expect("a status always serializes");
        line.push('\n');
        line
    }

    /// One line of the pipe (without its newline); `None` for anything else.
    fn decode(line: &[u8]) -> Option<Status> {
        serde_json::from_slice(line).ok()
    }
}

/// The harness's end of the status pipe: bytes as they come in, whole messages out.
#[derive(Debug, Default)]
pub struct Decoder {
    /// The start of a line whose end has not come yet.
    partial: Vec<u8>,
}

impl Decoder {
    /// The messages `data` completes, in order; a line that is no message is passed over.
    pub fn feed(&mut self, data: &[u8]) -> Vec<Status> {
        self.partial.extend_from_slice(data);
        let mut said = Vec::new();
        while let Some(nl) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=nl).collect();
            said.extend(Status::decode(&line[..nl]));
        }
        said
    }
}

/// What the harness asks of init, each a signal of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// Pass SIGTERM on to every process of the program.
    Stop,
    /// Kill every process of the program, reap them, and end. The kernel sends it too when
    /// the harness's thread that started init ends (its parent-death signal).
    KillAll,
    /// Say what the program's threads are blocked in: answered with [`Status::Looked`].
    Look,
}

impl Request {
    pub const ALL: [Request; 3] = [Request::Stop, Request::KillAll, Request::Look];

    /// The signal that carries it.
    pub fn signal(self) -> Signal {
        match self {
            Request::Stop => Signal::SIGTERM,
            Request::KillAll => Signal::SIGUSR1,
            Request::Look => Signal::SIGUSR2,
        }
    }

    /// The request a signal carries, if any.
    pub fn carried_by(signal: Signal) -> Option<Request> {
        Request::ALL.into_iter().find(|r| r.signal() == signal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every message comes back as it went, whole, however the pipe splits the bytes.
    #[test]
    fn round_trip() {
        for status in [
            Status::Started,
            Status::CannotStart {
                stage: Stage::Exec,
                error: "No such file or directory".into(),
            },
            Status::Exited(Exit::Code(3)),
            Status::Exited(Exit::Signal(9)),
            Status::Swept(2),
            Status::Looked(None),
        ] {
            let line = status.encode();
            assert!(line.ends_with('\n') && !line[..line.len() - 1].contains('\n'));
            let mut decoder = Decoder::default();
            let (start, end) = line.as_bytes().split_at(line.len() / 2);
            assert_eq!(decoder.feed(start), []);
            assert_eq!(decoder.feed(end), [status]);
        }
        assert_eq!(Decoder::default().feed(b"exit 0\n"), []);
    }

    /// Each request has a signal of its own, and is known by it.
    #[test]
    fn requests_by_signal() {
        for request in Request::ALL {
            assert_eq!(Request::carried_by(request.signal()), Some(request));
        }
        assert_eq!(Request::carried_by(Signal::SIGCHLD), None);
    }
}

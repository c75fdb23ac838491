//! What init tells the harness on its status pipe: the one protocol between them, typed, one
//! JSON line a message, encoded and decoded here and nowhere else.

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
    pub fn decode(line: &[u8]) -> Option<Status> {
        serde_json::from_slice(line).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every message comes back as it went.
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
            assert_eq!(Status::decode(line.trim_end().as_bytes()), Some(status));
        }
        assert_eq!(Status::decode(b"exit 0"), None);
    }
}

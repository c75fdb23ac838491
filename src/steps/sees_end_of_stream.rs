//! `PEER sees end of stream`: the program closes the connection (end of stream, not a
//! reset), once the conversation it ends has taken place, and by itself, not by its crash.

use crate::report::{Failure, ProgramExit, Proto};
use crate::session::{Probe, Session, StreamEnd};

use super::failures::{program_gone, unmet};
use super::{Does, Fits, Kind, Peer, Role, Said, SoFar, Step, StepKind};

pub const KIND: Kind = Kind {
    phrases: &["PEER sees end of stream"],
    fits: Fits::Only(Proto::Tcp),
    parse,
};

#[derive(Debug)]
struct SeesEndOfStream {
    peer: Peer,
}

fn parse(said: &Said) -> Result<Step, String> {
    said.flag_for(|peer| SeesEndOfStream { peer })
}

impl StepKind for SeesEndOfStream {
    fn phrase(&self) -> String {
        format!("{} sees end of stream", self.peer)
    }

    fn role(&self) -> Role {
        Role::of(&[Does::Converses, Does::WaitsForProgram])
    }

    fn take(&self, so_far: &mut SoFar, _: Proto) -> Result<(), String> {
        so_far.needs_connection(self.peer, &self.phrase())
    }

    fn run(&self, s: &mut Session) -> Result<(), Failure> {
        let peer = self.peer.name();
        let expected = "end of stream (the program closes the connection)";
        let result = s.wait_for(|s, _| {
            let Some(conn) = s.peers().connection(peer) else {
                return Probe::Failed(Failure::new(
                    expected,
                    "no connection",
                    format!("{peer} has no connection"),
                ));
            };
            match conn.inbox.end {
                Some(end) => Probe::Ready(end),
                None => Probe::Pending,
            }
        });
        let end = result.map_err(|end| {
            unmet(
                end,
                expected,
                "the connection still open".into(),
                "the program did not close the connection",
                "",
            )
        })?;
        // The program goes on, or ends, after the close: which one says whose close it was.
        s.settle();
        let crashed = s.program().exit().filter(|exit| crashed(*exit, s)).is_some();
        if end == StreamEnd::Reset {
            let why = if s.program().ended() {
                format!(": {}", s.program().how_ended_briefly())
            } else {
                String::new()
            };
            Err(Failure::new(
                expected,
                "the connection reset",
                format!(
                    "the connection was reset, not closed (the program's end of it still held bytes unread, or it ended){why}"
                ),
            ))
        } else if crashed {
            let ended = program_gone(s, expected, "end of stream when the program crashed");
            Err(Failure {
                why: format!("the connection ended because the program did: {}", ended.why),
                ..ended
            })
        } else if let Some(gap) = s.conversation().unfinished() {
            Err(Failure::new(
                expected,
                "end of stream",
                format!(
                    "the program closed the connection, but the conversation it ends did not take place ({gap})"
                ),
            ))
        } else {
            Ok(())
        }
    }
}

/// Whether the program's end was a crash (a signal, or a failing status with something on
/// stderr, as an uncaught exception leaves), not an exit it chose.
fn crashed(exit: ProgramExit, s: &Session) -> bool {
    match exit {
        ProgramExit::Signaled(_) => true,
        ProgramExit::Exited(0) => false,
        ProgramExit::Exited(_) => !s.program().output(crate::session::Output::Stderr).all().is_empty(),
    }
}

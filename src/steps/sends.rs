//! `PEER sends` (these bytes) and `PEER sends line` (a newline added): the peer sends on its
//! connection with the program.

use crate::escape;
use crate::report::{Failure, Proto};
use crate::session::Session;

use super::{Does, Fits, Kind, Peer, Role, Said, SoFar, Step, StepKind};

pub const KIND: Kind = Kind {
    phrases: &["PEER sends", "PEER sends line"],
    fits: Fits::Only(Proto::Tcp),
    parse,
};

#[derive(Debug)]
struct Sends {
    peer: Peer,
    data: Vec<u8>,
}

fn parse(said: &Said) -> Result<Step, String> {
    let data = match said.pattern {
        "PEER sends line" => said.line()?,
        _ => said.something()?,
    };
    Ok(Step::new(Sends {
        peer: said.peer(),
        data,
    }))
}

impl StepKind for Sends {
    fn phrase(&self) -> String {
        format!("{} sends", self.peer)
    }

    fn role(&self) -> Role {
        Role::of(&[Does::GivesInput, Does::Converses])
    }

    fn take(&self, so_far: &mut SoFar, _: Proto) -> Result<(), String> {
        so_far.needs_connection(self.peer, &self.phrase())
    }

    fn run(&self, s: &mut Session) -> Result<(), Failure> {
        let peer = self.peer.name();
        s.give().send(peer, &self.data).map_err(|why| {
            s.conversation_mut().missing(format!("{peer} could not send"));
            Failure::new(
                format!("{peer} to send {}", escape::python_bytes(&self.data)),
                "the connection was closed",
                why,
            )
        })
    }
}

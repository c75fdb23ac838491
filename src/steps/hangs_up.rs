//! `PEER hangs up`: the peer closes its end of the connection, as a client quitting `nc`
//! would; the program reads end of stream.

use crate::report::{Failure, Proto};
use crate::session::Session;

use super::{Does, Fits, Kind, Peer, Role, Said, SoFar, Step, StepKind};

pub const KIND: Kind = Kind {
    phrases: &["PEER hangs up"],
    fits: Fits::Only(Proto::Tcp),
    parse,
};

#[derive(Debug)]
struct HangsUp {
    peer: Peer,
}

fn parse(said: &Said) -> Result<Step, String> {
    said.flag_for(|peer| HangsUp { peer })
}

impl StepKind for HangsUp {
    fn phrase(&self) -> String {
        format!("{} hangs up", self.peer)
    }

    fn role(&self) -> Role {
        Role::of(&[Does::GivesInput, Does::Converses])
    }

    fn take(&self, so_far: &mut SoFar, _: Proto) -> Result<(), String> {
        so_far.needs_connection(self.peer, &self.phrase())
    }

    fn run(&self, s: &mut Session) -> Result<(), Failure> {
        s.give().hang_up(self.peer.name());
        Ok(())
    }
}

//! `PEER hangs up`: the peer closes its end of the connection, as a client quitting `nc`
//! would; the program reads end of stream.

use crate::report::{Failure, Proto};
use crate::session::Session;

use super::{Fits, Kind, Peer, Role, Said, SoFar, Step, StepKind};

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
    said.flag()?;
    Ok(Step::new(HangsUp { peer: said.peer() }))
}

impl StepKind for HangsUp {
    fn phrase(&self) -> String {
        format!("{} hangs up", self.peer)
    }

    fn role(&self) -> Role {
        Role {
            gives_input: true,
            connects: false,
            converses: true,
            waits_for_program: false,
            serves: false,
            takes_port: None,
        }
    }

    fn take(&self, so_far: &mut SoFar, _: Proto) -> Result<(), String> {
        so_far.needs_connection(self.peer, &self.phrase())
    }

    fn run(&self, s: &mut Session) -> Result<(), Failure> {
        s.hang_up(self.peer.name());
        Ok(())
    }
}

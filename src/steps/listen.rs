//! `PEER listens`: the peer listens on the lab's port on all addresses, as the lesson's
//! `nc -l 8000` does, so that a client program finds it. A setup step: the harness takes
//! the port before the program starts.

use crate::report::{Failure, Proto};
use crate::session::Session;

use super::{Does, Fits, Kind, Peer, Role, Said, SoFar, Step, StepKind, only_in_setup};

pub const KIND: Kind = Kind {
    phrases: &["PEER listens"],
    fits: Fits::Only(Proto::Tcp),
    parse,
};

#[derive(Debug)]
struct Listens {
    peer: Peer,
}

fn parse(said: &Said) -> Result<Step, String> {
    said.flag_for(|peer| Listens { peer })
}

impl StepKind for Listens {
    fn phrase(&self) -> String {
        format!("{} listens", self.peer)
    }

    fn role(&self) -> Role {
        Role::of(&[Does::Converses]).taking_port(self.peer)
    }

    fn take(&self, _: &mut SoFar, _: Proto) -> Result<(), String> {
        only_in_setup(&self.phrase())
    }

    fn run(&self, s: &mut Session) -> Result<(), Failure> {
        let port = s.place().port();
        s.give().listen(self.peer.name()).map_err(|e| {
            Failure::new(
                format!("to listen on port {port}"),
                e.to_string(),
                format!("the harness could not listen on port {port}: {e}"),
            )
        })
    }
}

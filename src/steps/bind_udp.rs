//! `PEER binds udp`: the peer binds a UDP socket on all addresses at the lab's port, as
//! `nc -ul` does, for a client program that sends first. A setup step: the harness takes
//! the port before the program starts.

use crate::report::{Failure, Proto};
use crate::session::Session;

use super::{Does, Fits, Kind, Peer, Role, Said, SoFar, Step, StepKind, only_in_setup};

pub const KIND: Kind = Kind {
    phrases: &["PEER binds udp"],
    fits: Fits::Only(Proto::Udp),
    parse,
};

#[derive(Debug)]
struct BindUdp {
    peer: Peer,
}

fn parse(said: &Said) -> Result<Step, String> {
    said.flag_for(|peer| BindUdp { peer })
}

impl StepKind for BindUdp {
    fn phrase(&self) -> String {
        format!("{} binds udp", self.peer)
    }

    fn role(&self) -> Role {
        Role::of(&[Does::Converses]).taking_port(self.peer)
    }

    fn take(&self, _: &mut SoFar, _: Proto) -> Result<(), String> {
        only_in_setup(&self.phrase())
    }

    fn run(&self, s: &mut Session) -> Result<(), Failure> {
        let port = s.place().port();
        s.give().bind_datagrams(self.peer.name()).map_err(|e| {
            Failure::new(
                format!("to bind UDP port {port}"),
                e.to_string(),
                format!("the harness could not bind UDP port {port}: {e}"),
            )
        })
    }
}

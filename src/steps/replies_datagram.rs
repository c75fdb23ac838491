//! `PEER replies datagram`: the peer answers, with one datagram, whoever sent it a datagram
//! last (a client program, whose port only its datagram says).

use std::net::Ipv4Addr;

use crate::report::{Failure, Proto};
use crate::session::Session;

use super::{Does, Fits, Kind, Peer, Role, Said, SoFar, Step, StepKind};

pub const KIND: Kind = Kind {
    phrases: &["PEER replies datagram"],
    fits: Fits::Only(Proto::Udp),
    parse,
};

#[derive(Debug)]
struct RepliesDatagram {
    peer: Peer,
    data: Vec<u8>,
}

fn parse(said: &Said) -> Result<Step, String> {
    Ok(Step::new(RepliesDatagram {
        peer: said.peer(),
        data: said.bytes()?,
    }))
}

impl StepKind for RepliesDatagram {
    fn phrase(&self) -> String {
        format!("{} replies datagram", self.peer)
    }

    fn role(&self) -> Role {
        Role::of(&[Does::GivesInput, Does::Converses])
    }

    fn take(&self, so_far: &mut SoFar, _: Proto) -> Result<(), String> {
        let peer = self.peer;
        if so_far.received.contains(&peer) {
            Ok(())
        } else {
            Err(format!(
                "`{peer} replies datagram` answers the datagram {peer} received last, and {peer} has received none yet: put `{peer} receives datagram` before it"
            ))
        }
    }

    fn run(&self, s: &mut Session) -> Result<(), Failure> {
        let peer = self.peer.name();
        let to = s.peers().datagrams(peer).and_then(|d| d.last_sender);
        let Some(to) = to else {
            s.conversation_mut().missing(format!("the program sent {peer} nothing to answer"));
            return Err(Failure::new(
                format!("a datagram from the program for {peer} to answer"),
                "none",
                format!("the program sent {peer} nothing to answer"),
            ));
        };
        let from = s
            .peers().local_addr(peer)
            .map(|a| a.ip())
            .unwrap_or(Ipv4Addr::UNSPECIFIED.into());
        s.give().send_datagram(peer, from, to, &self.data).map_err(|e| {
            Failure::new(
                format!("{peer} to answer {to}"),
                e.to_string(),
                format!("{peer} could not send to {to}: {e}"),
            )
        })
    }
}

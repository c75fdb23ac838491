//! `PEER sends datagram` (these bytes) and `PEER sends datagram line` (a newline added):
//! the peer sends one datagram to a server program's port, from a UDP socket of its own
//! made on first use.

use std::net::{IpAddr, SocketAddr};

use crate::report::{Failure, Proto};
use crate::session::Session;

use super::{Does, Fits, Kind, Peer, Role, Said, SoFar, Step, StepKind};

pub const KIND: Kind = Kind {
    phrases: &["PEER sends datagram", "PEER sends datagram line"],
    fits: Fits::Only(Proto::Udp),
    parse,
};

#[derive(Debug)]
struct SendsDatagram {
    peer: Peer,
    data: Vec<u8>,
}

fn parse(said: &Said) -> Result<Step, String> {
    let data = match said.pattern {
        "PEER sends datagram line" => said.line()?,
        _ => said.bytes()?,
    };
    Ok(Step::new(SendsDatagram {
        peer: said.peer(),
        data,
    }))
}

impl StepKind for SendsDatagram {
    fn phrase(&self) -> String {
        format!("{} sends datagram", self.peer)
    }

    fn role(&self) -> Role {
        Role::of(&[Does::GivesInput, Does::Converses])
    }

    fn take(&self, so_far: &mut SoFar, _: Proto) -> Result<(), String> {
        let peer = self.peer;
        if let Some(holder) = so_far.holder {
            return Err(format!(
                "`{peer} sends datagram` goes to the program's port, but here the program is a client ({holder} binds udp in setup): answer it with `{holder} replies datagram`"
            ));
        }
        if !so_far.program_bound {
            return Err(format!(
                "`{peer} sends datagram` goes to the program's port, and a datagram sent before the program binds it is lost: put a check with {{ \"program binds udp\" = true }} before it"
            ));
        }
        so_far.with_socket.push(peer);
        Ok(())
    }

    fn run(&self, s: &mut Session) -> Result<(), Failure> {
        let peer = self.peer.name();
        let (from, to) = route(s);
        s.give().send_datagram(peer, from, to, &self.data).map_err(|e| {
            s.conversation_mut().missing(format!("{peer} could not send"));
            Failure::new(
                format!("{peer} to send a datagram to {to}"),
                e.to_string(),
                format!("{peer} could not send to {to}: {e}"),
            )
        })
    }
}

/// Where datagrams for the program go, and from which of the harness's addresses.
fn route(s: &Session) -> (IpAddr, SocketAddr) {
    let at = s.place().reached().map_or(s.place().hosts().bob.into(), |r| r.at);
    let from = if at.is_loopback() {
        at
    } else {
        s.place().hosts().alice.into()
    };
    (from, SocketAddr::new(at, s.place().port()))
}

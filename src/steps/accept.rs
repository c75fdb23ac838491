//! `PEER accepts`: a client program connects to the peer's listener (see
//! [`super::listen`]).

use crate::report::{Failure, Proto};
use crate::session::{Probe, Session};

use super::failures::{program_gone, unmet};
use super::{Does, Fits, Kind, Peer, Role, Said, SoFar, Step, StepKind};

pub const KIND: Kind = Kind {
    phrases: &["PEER accepts"],
    fits: Fits::Only(Proto::Tcp),
    parse,
};

#[derive(Debug)]
struct Accepts {
    peer: Peer,
}

fn parse(said: &Said) -> Result<Step, String> {
    said.flag_for(|peer| Accepts { peer })
}

impl StepKind for Accepts {
    fn phrase(&self) -> String {
        format!("{} accepts", self.peer)
    }

    fn role(&self) -> Role {
        Role::of(&[Does::Converses, Does::WaitsForProgram])
    }

    fn take(&self, so_far: &mut SoFar, _: Proto) -> Result<(), String> {
        let peer = self.peer;
        if so_far.holder != Some(peer) {
            return Err(format!(
                "`{peer} accepts` a connection from the program, but {peer} does not listen for one: add setup = [{{ \"{peer} listens\" = true }}]"
            ));
        }
        so_far.connected.push(peer);
        Ok(())
    }

    fn run(&self, s: &mut Session) -> Result<(), Failure> {
        let peer = self.peer.name();
        let port = s.place().port();
        let expected = format!("the program to connect to port {port}");
        let result = s.wait_for(|s, _| {
            if s.peers().connection(peer).is_some() {
                Probe::Ready(())
            } else if s.program().ended() {
                Probe::Failed(program_gone(s, expected.clone(), "no connection"))
            } else {
                Probe::Pending
            }
        });
        result.map_err(|end| {
            s.conversation_mut().missing(format!("the program never connected to {peer}"));
            unmet(
                end,
                &expected,
                "no connection".into(),
                &format!("nothing connected to port {port}"),
                &format!("; is the program connecting to 127.0.0.1 port {port}?"),
            )
        })
    }
}

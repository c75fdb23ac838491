//! `listen` and `accept`: Bob listens, as the lesson's `nc -l 8000` does, and a client
//! program connects to him.

use crate::report::Failure;
use crate::session::{Probe, Session};

use super::{program_gone, unmet};

pub fn listen(s: &mut Session, peer: &'static str) -> Result<(), Failure> {
    s.listen(peer).map_err(|e| Failure {
        expected: format!("to listen on port {}", s.port),
        got: e.to_string(),
        message: format!("the harness could not listen on port {}: {e}", s.port),
        ..Failure::default()
    })
}

pub fn accept(s: &mut Session, peer: &'static str) -> Result<(), Failure> {
    let expected = format!("the program to connect to port {}", s.port);
    let result = s.wait_for(|s, _| {
        if s.peers.connection(peer).is_some() {
            Probe::Ready(())
        } else if s.program.ended() {
            Probe::Failed(program_gone(s, expected.clone(), "no connection".into()))
        } else {
            Probe::Pending
        }
    });
    let port = s.port;
    result.map_err(|end| {
        s.conversation
            .missing(format!("the program never connected to {peer}"));
        unmet(
            end,
            &expected,
            "no connection".into(),
            &format!("nothing connected to port {port}"),
            &format!("; is the program connecting to 127.0.0.1 port {port}?"),
        )
    })
}

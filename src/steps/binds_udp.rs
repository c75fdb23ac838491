//! `program binds udp`: a server program has a UDP socket bound to the lab's port; where
//! it can be reached is kept for [`super::reachable`] and [`super::sends_datagram`].

use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::report::{Failure, Proto};
use crate::session::{Probe, Reached, Session};

use super::failures::{nothing_listens, program_gone};
use super::{Does, Fits, Kind, Role, Said, SoFar, Step, StepKind};

pub const KIND: Kind = Kind {
    phrases: &["program binds udp"],
    fits: Fits::Only(Proto::Udp),
    parse,
};

#[derive(Debug)]
struct BindsUdp;

fn parse(said: &Said) -> Result<Step, String> {
    said.flag()?;
    Ok(Step::new(BindsUdp))
}

impl StepKind for BindsUdp {
    fn phrase(&self) -> String {
        "program binds udp".into()
    }

    fn role(&self) -> Role {
        Role::of(&[Does::Converses, Does::WaitsForProgram, Does::Serves])
    }

    fn take(&self, so_far: &mut SoFar, _: Proto) -> Result<(), String> {
        so_far.program_bound = true;
        Ok(())
    }

    fn run(&self, s: &mut Session) -> Result<(), Failure> {
        let port = s.place().port();
        let expected = format!("a UDP socket bound to port {port}");
        let mut backoff = Duration::from_millis(1);
        let result = s.wait_for(|s, _| {
            if s.program().ended() {
                return Probe::Failed(program_gone(s, expected.clone(), "no UDP socket"));
            }
            let listening = s.listening_elsewhere();
            s.note_life_from_listeners(&listening);
            let bound = listening
                .iter()
                .find(|l| l.proto == Proto::Udp && l.port == port);
            match bound {
                Some(l) => {
                    let at: IpAddr = if l.addr.is_unspecified() {
                        s.place().hosts().bob.into()
                    } else {
                        l.addr
                    };
                    // In a namespace Bob's address is not loopback; on the host, one bound to
                    // 127.0.0.1 only is what another host could not reach.
                    let from_other_hosts = l.addr.is_unspecified() || !l.addr.is_loopback();
                    s.place_mut().set_reached(Reached {
                        at,
                        from_other_hosts,
                    });
                    Probe::Ready(())
                }
                None => {
                    // Nothing tells us when a program binds: look again soon (each look reads
                    // /proc, so back off to a few milliseconds).
                    backoff = (backoff * 2).min(Duration::from_millis(16));
                    Probe::RetryAt(Instant::now() + backoff)
                }
            }
        });
        result.map_err(|end| {
            s.conversation_mut().missing(format!("the program bound no UDP socket to port {port}"));
            let mut failure = nothing_listens(s, Proto::Udp, &expected, end);
            if s
                .listening_elsewhere()
                .iter()
                .any(|l| l.proto == Proto::Tcp && l.port == port)
            {
                failure.why = format!(
                    "nothing receives on UDP {port}; a TCP listener is on {port}: the socket should be socket(AF_INET, SOCK_DGRAM)"
                );
            }
            failure
        })
    }
}

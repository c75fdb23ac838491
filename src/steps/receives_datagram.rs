//! `PEER receives datagram` (exactly these bytes) and `PEER receives datagram line`: the
//! peer receives one datagram, judged alone: a datagram is one message, whenever it comes.

use crate::escape;
use crate::reasons::{Carrier, Exchange, content};
use crate::report::{Failure, Proto};
use crate::session::{Probe, Session, Unmet};

use super::expect::{Received, Verdict};
use super::failures::{program_gone, reasoned, unmet};
use super::{Does, Fits, Kind, Peer, Role, Said, SoFar, Step, StepKind};

pub const KIND: Kind = Kind {
    phrases: &["PEER receives datagram", "PEER receives datagram line"],
    fits: Fits::Only(Proto::Udp),
    parse,
};

#[derive(Debug)]
struct ReceivesDatagram {
    peer: Peer,
    want: Received,
}

fn parse(said: &Said) -> Result<Step, String> {
    let want = match said.pattern {
        "PEER receives datagram line" => Received::Line(said.one_line(said.bytes()?)?),
        _ => Received::Exactly(said.bytes()?),
    };
    Ok(Step::new(ReceivesDatagram {
        peer: said.peer(),
        want,
    }))
}

impl StepKind for ReceivesDatagram {
    fn phrase(&self) -> String {
        format!("{} receives datagram", self.peer)
    }

    fn role(&self) -> Role {
        Role::of(&[Does::Converses, Does::WaitsForProgram])
    }

    fn take(&self, so_far: &mut SoFar, _: Proto) -> Result<(), String> {
        let peer = self.peer;
        if so_far.holder != Some(peer) && !so_far.with_socket.contains(&peer) {
            return Err(format!(
                "`{}`, but {peer} has no socket to receive on: add setup = [{{ \"{peer} binds udp\" = true }}] (a program that sends first), or `{peer} sends datagram` before it",
                self.phrase()
            ));
        }
        so_far.received.push(peer);
        Ok(())
    }

    fn run(&self, s: &mut Session) -> Result<(), Failure> {
        let (peer, want) = (self.peer.name(), &self.want);
        let expected = format!("one datagram holding {}", want.describe());
        let result = s.wait_for(|s, _| {
            let server_port = s.place().port();
            let Some(inbox) = s.peers_mut().datagrams_mut(peer) else {
                return Probe::Failed(Failure::new(
                    expected.clone(),
                    "nothing",
                    format!("{peer} has sent nothing the program could answer"),
                ));
            };
            let Some((from, data, earlier)) = inbox.take_next() else {
                if s.program().ended() {
                    return Probe::Failed(program_gone(s, expected.clone(), "nothing"));
                }
                return Probe::Pending;
            };
            if earlier {
                // Never evidence for this check: judged here so that no later one meets it.
                return Probe::Failed(Failure::new(
                    expected.clone(),
                    escape::python_bytes(&data),
                    format!(
                        "before this check, {peer} had received a datagram that no step asked for"
                    ),
                ));
            }
            // A server answers from its own port: `nc -u HOST 9000` has connected its socket
            // there and drops datagrams from anywhere else.
            let from_server_expected = inbox.local.port() != server_port;
            let verdict = want.judge(&data, true);
            let probe = match verdict {
                Verdict::Matched(_) if from_server_expected && from.port() != server_port => {
                    Probe::Failed(Failure::new(
                        format!("{expected}, from port {server_port}"),
                        format!("{} from port {}", escape::python_bytes(&data), from.port()),
                        format!(
                            "the answer came from port {}, not {server_port}: a client such as nc -u, connected to port {server_port}, drops it; send with the socket bound to {server_port}",
                            from.port()
                        ),
                    ))
                }
                Verdict::Matched(_) => Probe::Ready(()),
                // The datagram came from where it should: its content is what is wrong, and
                // the reason says how, never with the lab's hint about addresses.
                _ => {
                    let evidence = s.evidence();
                    let exchange = Exchange {
                        peer,
                        awaited: want.as_awaited(),
                        got: &data,
                        carrier: Carrier::Datagram,
                        typed: evidence.typed(),
                        peer_sent: evidence.sent_by(peer),
                        earlier: evidence.earlier_reply(peer),
                    };
                    let reason = content::other_bytes(&exchange, evidence.language());
                    Probe::Failed(reasoned(
                        expected.clone(),
                        escape::python_bytes(&data),
                        reason,
                    ))
                }
            };
            s.evidence_mut().received(peer, &data);
            probe
        });
        result.map_err(|end| {
            if let Unmet::Failed(failure) = &end
                && !failure.got.is_empty()
                && failure.got != "nothing"
            {
                return failure.clone();
            }
            s.conversation_mut().missing(format!("no datagram reached {peer}"));
            let at = s.peers().local_addr(peer);
            let missing = format!(
                "no datagram reached {peer}{}",
                at.map(|a| format!(" at {a}")).unwrap_or_default()
            );
            unmet(end, &expected, "nothing".into(), &missing, "")
        })
    }
}

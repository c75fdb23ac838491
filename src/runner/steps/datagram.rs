//! UDP: the program `binds_udp` (a server), the harness `bind`s for a client program; a
//! peer `send`s a datagram, `receives` one holding a line, or `reply`s to whoever sent last.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use crate::escape;
use crate::report::Failure;
use crate::script::{Proto, Received, Verdict};
use crate::session::{Probe, Reached, Session, Unmet};

use super::connect::nothing_listens;
use super::{program_gone, unmet};

/// Waits until the program has a UDP socket bound to the port, and notes where it can be
/// reached.
pub fn binds_udp(s: &mut Session) -> Result<(), Failure> {
    let expected = format!("a UDP socket bound to port {}", s.port);
    let mut backoff = Duration::from_millis(1);
    let result = s.wait_for(|s, _| {
        if s.program.ended() {
            return Probe::Failed(program_gone(s, expected.clone(), "no UDP socket".into()));
        }
        let listening = s.listening_elsewhere();
        s.note_life_from_listeners(&listening);
        let bound = listening
            .iter()
            .find(|l| l.proto == Proto::Udp && l.port == s.port);
        match bound {
            Some(l) => {
                let at: IpAddr = if l.addr.is_unspecified() {
                    s.hosts.bob.into()
                } else {
                    l.addr
                };
                // In a namespace Bob's address is not loopback; on the host, one bound to
                // 127.0.0.1 only is what another host could not reach.
                let from_other_hosts = l.addr.is_unspecified() || !l.addr.is_loopback();
                s.reached = Some(Reached {
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
        s.conversation
            .missing(format!("the program bound no UDP socket to port {}", s.port));
        let mut failure = nothing_listens(s, Proto::Udp, &expected, end);
        if s
            .listening_elsewhere()
            .iter()
            .any(|l| l.proto == Proto::Tcp && l.port == s.port)
        {
            failure.message = format!(
                "nothing receives on UDP {port}; a TCP listener is on {port}: the socket should be socket(AF_INET, SOCK_DGRAM)",
                port = s.port
            );
        }
        failure
    })
}

/// Binds the peer's UDP socket at the lab's port, for a program that sends first.
pub fn bind(s: &mut Session, peer: &'static str) -> Result<(), Failure> {
    s.bind_datagrams(peer).map_err(|e| Failure {
        expected: format!("to bind UDP port {}", s.port),
        got: e.to_string(),
        message: format!("the harness could not bind UDP port {}: {e}", s.port),
        ..Failure::default()
    })
}

/// Where datagrams for the program go, and from which of the harness's addresses.
fn route(s: &Session) -> (IpAddr, SocketAddr) {
    let at = s.reached.map_or(s.hosts.bob.into(), |r| r.at);
    let from = if at.is_loopback() {
        at
    } else {
        s.hosts.alice.into()
    };
    (from, SocketAddr::new(at, s.port))
}

pub fn send(s: &mut Session, peer: &'static str, data: &[u8]) -> Result<(), Failure> {
    let (from, to) = route(s);
    s.send_datagram(peer, from, to, data).map_err(|e| {
        s.conversation.missing(format!("{peer} could not send"));
        Failure {
            expected: format!("{peer} to send a datagram to {to}"),
            got: e.to_string(),
            message: format!("{peer} could not send to {to}: {e}"),
            ..Failure::default()
        }
    })
}

/// The peer answers, with one datagram, whoever sent it a datagram last.
pub fn reply(s: &mut Session, peer: &'static str, data: &[u8]) -> Result<(), Failure> {
    let to = s.peers.datagrams(peer).and_then(|d| d.last_sender);
    let Some(to) = to else {
        s.conversation
            .missing(format!("the program sent {peer} nothing to answer"));
        return Err(Failure {
            expected: format!("a datagram from the program for {peer} to answer"),
            got: "none".into(),
            message: format!("the program sent {peer} nothing to answer"),
            ..Failure::default()
        });
    };
    let from = s
        .peers
        .local_addr(peer)
        .map(|a| a.ip())
        .unwrap_or(Ipv4Addr::UNSPECIFIED.into());
    s.send_datagram(peer, from, to, data).map_err(|e| Failure {
        expected: format!("{peer} to answer {to}"),
        got: e.to_string(),
        message: format!("{peer} could not send to {to}: {e}"),
        ..Failure::default()
    })
}

/// The peer receives one datagram, judged alone: a datagram is one message, whenever it
/// comes.
pub fn receives(s: &mut Session, peer: &'static str, want: &Received) -> Result<(), Failure> {
    let expected = format!("one datagram holding {}", want.describe());
    let result = s.wait_for(|s, _| {
        let server_port = s.port;
        let Some(inbox) = s.peers.datagrams_mut(peer) else {
            return Probe::Failed(Failure {
                expected: expected.clone(),
                got: "nothing".into(),
                message: format!("{peer} has sent nothing the program could answer"),
                ..Failure::default()
            });
        };
        let Some((from, data, earlier)) = inbox.take_next() else {
            if s.program.ended() {
                return Probe::Failed(program_gone(s, expected.clone(), "nothing".into()));
            }
            return Probe::Pending;
        };
        if earlier {
            // Never evidence for this check: judged here so that no later one meets it.
            return Probe::Failed(Failure {
                expected: expected.clone(),
                got: escape::python_bytes(&data),
                message: format!(
                    "before this check, {peer} had received a datagram that no step asked for"
                ),
                ..Failure::default()
            });
        }
        // A server answers from its own port: `nc -u HOST 9000` has connected its socket
        // there and drops datagrams from anywhere else.
        let from_server_expected = inbox.local.port() != server_port;
        match want.judge(&data, true) {
            Verdict::Matched(_) if from_server_expected && from.port() != server_port => {
                Probe::Failed(Failure {
                    expected: format!("{expected}, from port {server_port}"),
                    got: format!("{} from port {}", escape::python_bytes(&data), from.port()),
                    message: format!(
                        "the answer came from port {}, not {server_port}: a client such as nc -u, connected to port {server_port}, drops it; send with the socket bound to {server_port}",
                        from.port()
                    ),
                    ..Failure::default()
                })
            }
            Verdict::Matched(_) => Probe::Ready(()),
            _ => {
                let message = if want.awaited().starts_with(&data) && !data.is_empty() {
                    format!("{peer} received only part of the line in one datagram: send the whole line in one sendto()")
                } else {
                    format!("{peer} received a different datagram")
                };
                Probe::Failed(Failure {
                    expected: expected.clone(),
                    got: escape::python_bytes(&data),
                    message,
                    ..Failure::default()
                })
            }
        }
    });
    result.map_err(|end| {
        if let Unmet::Failed(failure) = &end
            && !failure.got.is_empty()
            && failure.got != "nothing"
        {
            return failure.clone();
        }
        s.conversation.missing(format!("no datagram reached {peer}"));
        let at = s.peers.local_addr(peer);
        let missing = format!(
            "no datagram reached {peer}{}",
            at.map(|a| format!(" at {a}")).unwrap_or_default()
        );
        unmet(end, &expected, "nothing".into(), &missing, "")
    })
}

//! `PEER connects`: the peer connects to a server program, as the lesson's
//! `nc 127.0.0.1 8000` does, at Bob's address, retrying until it listens; and the program
//! must then take the connection (accept() it). Where it was reached is kept for
//! [`super::reachable`].

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::report::{Failure, Proto};
use crate::sandbox::Listening;
use crate::session::{Accepted, Probe, Reached, Session};

use super::failures::{nothing_listens, program_gone, unmet};
use super::{Does, Fits, Kind, Peer, Role, Said, SoFar, Step, StepKind};

/// The longest pause between two connect attempts to a program not listening yet.
const CONNECT_RETRY_MAX: Duration = Duration::from_millis(4);
/// How often a connect that keeps being refused looks at what listens instead.
const LISTENER_SCAN_EVERY: Duration = Duration::from_millis(200);
/// The longest pause between two looks at whether the program has accepted.
const ACCEPT_LOOK_MAX: Duration = Duration::from_millis(16);

pub const KIND: Kind = Kind {
    phrases: &["PEER connects"],
    fits: Fits::Only(Proto::Tcp),
    parse,
};

#[derive(Debug)]
struct Connects {
    peer: Peer,
}

fn parse(said: &Said) -> Result<Step, String> {
    said.flag_for(|peer| Connects { peer })
}

impl StepKind for Connects {
    fn phrase(&self) -> String {
        format!("{} connects", self.peer)
    }

    fn role(&self) -> Role {
        Role::of(&[Does::Connects, Does::Converses, Does::WaitsForProgram, Does::Serves])
    }

    fn take(&self, so_far: &mut SoFar, _: Proto) -> Result<(), String> {
        so_far.connected.push(self.peer);
        Ok(())
    }

    fn run(&self, s: &mut Session) -> Result<(), Failure> {
        let peer = self.peer.name();
        let expected = format!(
            "a TCP listener on port {} that {peer} can connect to",
            s.place().port()
        );
        if let Err(end) = connected(s, peer, &expected) {
            s.conversation_mut().missing(format!("{peer} could not connect"));
            return Err(nothing_listens(s, Proto::Tcp, &expected, end));
        }
        // The kernel completed the connection into the listener's queue; the program has
        // yet to take it. A new event, with a wait of its own.
        let mut backoff = Duration::from_millis(1);
        let taken = s.wait_for(|s, _| taken(s, peer, &expected, &mut backoff));
        taken.map_err(|end| {
            s.conversation_mut().missing(format!("the program never accepted {peer}'s connection"));
            let missing = format!(
                "the program never accepted {peer}'s connection (the kernel had completed it, into its listener's queue)"
            );
            unmet(end, &expected, "a connection not accepted".into(), &missing, "")
        })
    }
}

/// Connects `peer` to the program, retrying until it listens, and notes where it was
/// reached.
fn connected(s: &mut Session, peer: &'static str, expected: &str) -> crate::session::Wait<()> {
    let hosts = s.place().hosts();
    let port = s.place().port();
    let bob = SocketAddr::from((hosts.bob, port));
    let mut backoff = Duration::from_millis(1);
    let mut next_scan = Instant::now();
    let on_host = s.place().on_host();
    s.wait_for(|s, last| {
        if s.program().ended() {
            return Probe::Failed(program_gone(s, expected, "no listener"));
        }
        // On the host, where the program listens (all addresses, or one) is read before
        // connecting: a program that answers one client and exits closes its listener
        // the moment it has accepted, before a look after the connection could see it.
        let mut seen = Vec::new();
        if on_host {
            let listening = s.listening_elsewhere();
            s.note_life_from_listeners(&listening);
            seen = listening
                .into_iter()
                .filter(|l| l.proto == Proto::Tcp && l.port == port)
                .collect();
            if seen.is_empty() && !last {
                backoff = (backoff * 2).min(ACCEPT_LOOK_MAX);
                return Probe::RetryAt(Instant::now() + backoff);
            }
        }
        let mut attempt = s.give().try_connect(peer, hosts.alice.into(), bob);
        if let Ok(true) = attempt {
            let reached = reached_at_bob(s, &seen);
            s.place_mut().set_reached(reached);
        } else if last || Instant::now() >= next_scan {
            // Reading /proc costs milliseconds, so look now and then, not every retry (and
            // once more before giving up).
            next_scan = Instant::now() + LISTENER_SCAN_EVERY;
            let listening = s.listening_elsewhere();
            // A program listening elsewhere has started: it gets no start-up allowance.
            s.note_life_from_listeners(&listening);
            // Listening on the port, but only on one address (127.0.0.1, usually): go on
            // there so that the other checks still count; `reachable` will say why.
            if let Some(only) = listening
                .iter()
                .find(|l| l.proto == Proto::Tcp && l.port == port && !l.addr.is_unspecified())
            {
                let from = if only.addr.is_loopback() {
                    only.addr
                } else {
                    hosts.alice.into()
                };
                attempt = s.give().try_connect(peer, from, SocketAddr::new(only.addr, port));
                if let Ok(true) = attempt {
                    s.place_mut().set_reached(Reached {
                        at: only.addr,
                        from_other_hosts: false,
                    });
                    s.note(
                        "harness",
                        format!(
                            "the program listens on {} only, not where bob's address {} reaches it",
                            only.addr, hosts.bob
                        ),
                    );
                }
            }
        }
        match attempt {
            Ok(true) => Probe::Ready(()),
            Ok(false) => {
                // Nothing tells us when a program starts listening, and a refused connect
                // on loopback costs microseconds: retry soon.
                backoff = (backoff * 2).min(CONNECT_RETRY_MAX);
                Probe::RetryAt(Instant::now() + backoff)
            }
            Err(e) => Probe::Failed(Failure::new(
                expected,
                e.to_string(),
                format!("{peer} could not connect: {e}"),
            )),
        }
    })
}

/// Whether the program has taken the connection the peer made: called accept() (it holds a
/// descriptor for it), not only had the kernel complete it into its listener's queue.
fn taken(
    s: &mut Session,
    peer: &'static str,
    expected: &str,
    backoff: &mut Duration,
) -> Probe<()> {
    match s.attribution().accepted(peer) {
        Accepted::Yes => Probe::Ready(()),
        Accepted::NotYet if s.program().ended() => Probe::Failed(program_gone(
            s,
            expected,
            "a connection it never accepted",
        )),
        Accepted::NotYet => {
            // Nothing tells us when a program accepts: look again soon (each look reads
            // the kernel's table, so back off to a few milliseconds).
            *backoff = (*backoff * 2).min(ACCEPT_LOOK_MAX);
            Probe::RetryAt(Instant::now() + *backoff)
        }
        Accepted::Never => Probe::Failed(Failure::new(
            expected,
            "the connection reset",
            format!("{peer}'s connection was reset before the program accepted it"),
        )),
    }
}

/// Where a server program was reached at Bob's address: in a namespace, only a program
/// bound to all addresses answers there, so another host could reach it; on the host,
/// where Bob is 127.0.0.1 too, its listening socket (`listening`, seen just before)
/// says whether it bound all addresses.
fn reached_at_bob(s: &Session, listening: &[Listening]) -> Reached {
    let bob = IpAddr::V4(s.place().hosts().bob);
    let port = s.place().port();
    let from_other_hosts = !s.place().on_host()
        || listening
            .iter()
            .filter(|l| l.port == port)
            .any(|l| l.addr.is_unspecified() || !l.addr.is_loopback());
    let at = match listening.iter().find(|l| l.port == port) {
        Some(l) if !l.addr.is_unspecified() => l.addr,
        _ => bob,
    };
    Reached {
        at,
        from_other_hosts,
    }
}

//! `connect`: Alice connects to a server program, as the lesson's `nc 127.0.0.1 8000` does,
//! at Bob's address; `reachable`: whether another host could have.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::report::Failure;
use crate::sandbox::Listening;
use crate::script::Proto;
use crate::session::{Accepted, Probe, Reached, Session, Unmet};

use super::{program_gone, seconds, unmet};

/// The longest pause between two connect attempts to a program not listening yet.
const CONNECT_RETRY_MAX: Duration = Duration::from_millis(4);
/// How often a connect that keeps being refused looks at what listens instead.
const LISTENER_SCAN_EVERY: Duration = Duration::from_millis(200);
/// The longest pause between two looks at whether the program has accepted.
const ACCEPT_LOOK_MAX: Duration = Duration::from_millis(16);

pub fn connect(s: &mut Session, peer: &'static str) -> Result<(), Failure> {
    let hosts = s.hosts;
    let bob = SocketAddr::from((hosts.bob, s.port));
    let expected = format!(
        "a TCP listener on port {} that {peer} can connect to",
        s.port
    );
    let mut backoff = Duration::from_millis(1);
    let mut next_scan = Instant::now();
    let on_host = s.isolation.on_host();
    let result = s.wait_for(|s, last| {
        if s.program.ended() {
            return Probe::Failed(program_gone(s, expected.clone(), "no listener".into()));
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
                .filter(|l| l.proto == Proto::Tcp && l.port == s.port)
                .collect();
            if seen.is_empty() && !last {
                backoff = (backoff * 2).min(ACCEPT_LOOK_MAX);
                return Probe::RetryAt(Instant::now() + backoff);
            }
        }
        let mut attempt = s.try_connect(peer, hosts.alice.into(), bob);
        if let Ok(true) = attempt {
            s.reached = Some(reached_at_bob(s, &seen));
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
                .find(|l| l.proto == Proto::Tcp && l.port == s.port && !l.addr.is_unspecified())
            {
                let from = if only.addr.is_loopback() {
                    only.addr
                } else {
                    hosts.alice.into()
                };
                attempt = s.try_connect(peer, from, SocketAddr::new(only.addr, s.port));
                if let Ok(true) = attempt {
                    s.reached = Some(Reached {
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
            Err(e) => Probe::Failed(Failure {
                expected: expected.clone(),
                got: e.to_string(),
                message: format!("{peer} could not connect: {e}"),
                ..Failure::default()
            }),
        }
    });
    if let Err(end) = result {
        s.conversation.missing(format!("{peer} could not connect"));
        return Err(nothing_listens(s, Proto::Tcp, &expected, end));
    }
    // The kernel completed the connection into the listener's queue; the program has yet
    // to take it. A new event, with a wait of its own.
    let mut backoff = Duration::from_millis(1);
    let taken = s.wait_for(|s, _| taken(s, peer, &expected, &mut backoff));
    taken.map_err(|end| {
        s.conversation
            .missing(format!("the program never accepted {peer}'s connection"));
        let missing = format!(
            "the program never accepted {peer}'s connection (the kernel had completed it, into its listener's queue)"
        );
        unmet(end, &expected, "a connection not accepted".into(), &missing, "")
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
    match s.accepted(peer) {
        Accepted::Yes => Probe::Ready(()),
        Accepted::NotYet if s.program.ended() => Probe::Failed(program_gone(
            s,
            expected.to_string(),
            "a connection it never accepted".into(),
        )),
        Accepted::NotYet => {
            // Nothing tells us when a program accepts: look again soon (each look reads
            // the kernel's table, so back off to a few milliseconds).
            *backoff = (*backoff * 2).min(ACCEPT_LOOK_MAX);
            Probe::RetryAt(Instant::now() + *backoff)
        }
        Accepted::Never => Probe::Failed(Failure {
            expected: expected.to_string(),
            got: "the connection reset".into(),
            message: format!(
                "{peer}'s connection was reset before the program accepted it"
            ),
            ..Failure::default()
        }),
    }
}

/// The failure of a wait for the program to listen (or bind): where it listens instead, if
/// anywhere, and why the wait ended.
pub(super) fn nothing_listens(s: &Session, proto: Proto, expected: &str, end: Unmet) -> Failure {
    let (waiting, waited) = match end {
        Unmet::Failed(failure) => return failure,
        Unmet::Stuck { waiting, after } => (Some(waiting), after),
        Unmet::Deadline { waited } => (None, waited),
    };
    let listens: Vec<String> = s
        .listening_elsewhere()
        .iter()
        .map(|l| format!("{} {}", l.proto, l.port))
        .collect();
    let got = if listens.is_empty() {
        "nothing listening".to_string()
    } else {
        format!("the program listens on {}", listens.join(", "))
    };
    let verb = match proto {
        Proto::Tcp => "listens on",
        Proto::Udp => "is bound to",
    };
    let why = match &waiting {
        Some(waiting) => format!(
            ": it is {waiting}, so it can do nothing {}",
            waiting.until()
        ),
        None => String::new(),
    };
    let message = if listens.is_empty() {
        let after = match waiting {
            Some(_) => String::new(),
            None => format!(" after {}", seconds(waited)),
        };
        format!(
            "nothing {verb} {proto} {}{after}, and your program listens on no port (did it call bind(){}?){why}",
            s.port,
            if proto == Proto::Tcp {
                " and listen()"
            } else {
                ""
            }
        )
    } else {
        format!(
            "nothing {verb} {proto} {}; your program listens on {}{why}",
            s.port,
            listens.join(", ")
        )
    };
    Failure {
        expected: expected.to_string(),
        got,
        message,
        waited: Some(waited),
        program_gone: false,
    }
}

/// Where a server program was reached at Bob's address: in a namespace, only a program
/// bound to all addresses answers there, so another host could reach it; on the host,
/// where Bob is 127.0.0.1 too, its listening socket (`listening`, seen just before)
/// says whether it bound all addresses.
fn reached_at_bob(s: &Session, listening: &[Listening]) -> Reached {
    let bob = IpAddr::V4(s.hosts.bob);
    let from_other_hosts = !s.isolation.on_host()
        || listening
            .iter()
            .filter(|l| l.port == s.port)
            .any(|l| l.addr.is_unspecified() || !l.addr.is_loopback());
    let at = match listening.iter().find(|l| l.port == s.port) {
        Some(l) if !l.addr.is_unspecified() => l.addr,
        _ => bob,
    };
    Reached {
        at,
        from_other_hosts,
    }
}

/// The program can be reached at Bob's address, as from another host.
pub fn reachable(s: &mut Session) -> Result<(), Failure> {
    let bob = s.hosts.bob;
    match s.reached {
        Some(Reached {
            from_other_hosts: true,
            ..
        }) => Ok(()),
        Some(Reached { at, .. }) => Err(Failure {
            expected: format!(
                "the program reachable at bob's address {bob}, port {}",
                s.port
            ),
            got: format!("it listens on {at} only"),
            message: format!(
                "bound to {at}: only this host can connect; bind 0.0.0.0 as in the lesson (the other checks went on over {at})"
            ),
            ..Failure::default()
        }),
        None => Err(Failure {
            expected: format!("the program reachable at bob's address {bob}"),
            got: "it was never reached".into(),
            message: "the harness never reached the program".into(),
            ..Failure::default()
        }),
    }
}

//! `PEER receives` (these bytes exactly) and `PEER receives line` (the line, with or without
//! its newline, and nothing after it): the peer receives on its connection with the
//! program.

use crate::reasons::{Carrier, Exchange, content};
use crate::report::{Failure, Proto};
use crate::session::{Probe, Session, StreamEnd, Unmet};

use super::expect::{Received, Verdict, find_bytes};
use super::failures::{program_gone, reasoned, shown, unmet};
use super::{Does, Fits, Kind, Peer, Role, Said, SoFar, Step, StepKind};

pub const KIND: Kind = Kind {
    phrases: &["PEER receives", "PEER receives line"],
    fits: Fits::Only(Proto::Tcp),
    parse,
};

#[derive(Debug)]
struct Receives {
    peer: Peer,
    want: Received,
}

fn parse(said: &Said) -> Result<Step, String> {
    let want = match said.pattern {
        "PEER receives line" => Received::Line(said.one_line(said.something()?)?),
        _ => Received::Exactly(said.something()?),
    };
    Ok(Step::new(Receives {
        peer: said.peer(),
        want,
    }))
}

/// How a wait for bytes on a connection ended, when it did not fail on its own.
enum Got {
    /// These bytes, as awaited.
    Expected(Vec<u8>),
    /// The connection ended before the bytes came: what came instead (maybe nothing), and
    /// how it ended.
    Ended(Vec<u8>, Option<StreamEnd>),
}

impl StepKind for Receives {
    fn phrase(&self) -> String {
        format!("{} receives", self.peer)
    }

    fn role(&self) -> Role {
        Role::of(&[Does::Converses, Does::WaitsForProgram])
    }

    fn take(&self, so_far: &mut SoFar, _: Proto) -> Result<(), String> {
        so_far.needs_connection(self.peer, &self.phrase())
    }

    fn run(&self, s: &mut Session) -> Result<(), Failure> {
        let (peer, want) = (self.peer.name(), &self.want);
        let expected = want.describe();
        if let Some(conn) = s.peers_mut().connection_mut(peer) {
            // Bytes from before this check's epoch are never evidence for it.
            let earlier = conn.inbox.from_earlier_epochs().to_vec();
            if !earlier.is_empty() {
                conn.inbox.consume_all();
                return Err(Failure::new(
                    expected,
                    shown(&earlier),
                    format!("before this check, {peer} had received bytes that no step asked for"),
                ));
            }
        }
        let result = s.wait_for(|s, last| {
            let Some(conn) = s.peers_mut().connection_mut(peer) else {
                return Probe::Failed(Failure::new(
                    expected.clone(),
                    "no connection",
                    format!("{peer} has no connection to receive on"),
                ));
            };
            let got = conn.inbox.unmatched();
            match want.judge(got, conn.inbox.ended()) {
                Verdict::Matched(n) => Probe::Ready(Got::Expected(got[..n].to_vec())),
                Verdict::MatchedUnlessMore(n) if last => {
                    Probe::Ready(Got::Expected(got[..n].to_vec()))
                }
                // Wrong already, but keep reading until what was awaited comes too (or the
                // stream ends, or the wait does), so the failure shows it all and the next
                // check does not meet these bytes again.
                Verdict::Wrong
                    if !last
                        && !conn.inbox.ended()
                        && find_bytes(got, want.awaited()).is_none() =>
                {
                    Probe::Pending
                }
                Verdict::Wrong if conn.inbox.ended() => {
                    let got = got.to_vec();
                    conn.inbox.consume_all();
                    Probe::Ready(Got::Ended(got, conn.inbox.end))
                }
                Verdict::Wrong => {
                    let got = got.to_vec();
                    // Judged and reported here; later checks must not blame the same bytes.
                    conn.inbox.consume_all();
                    Probe::Failed(other_bytes(s, peer, want, &expected, &got))
                }
                Verdict::Incomplete | Verdict::MatchedUnlessMore(_) => Probe::Pending,
            }
        });
        match result {
            Ok(Got::Expected(got)) => {
                if let Some(conn) = s.peers_mut().connection_mut(peer) {
                    conn.inbox.consume(got.len());
                }
                s.evidence_mut().received(peer, &got);
                Ok(())
            }
            Ok(Got::Ended(got, end)) => Err(ended_early(s, peer, want, &expected, &got, end)),
            Err(end) => Err(not_received(s, peer, want, &expected, end)),
        }
    }
}

/// The failure of a wait whose connection ended before the bytes came. Whether the program
/// ended with it is settled first: then the reason is its end, said the same way whatever
/// the timing.
fn ended_early(
    s: &mut Session,
    peer: &'static str,
    want: &Received,
    expected: &str,
    got: &[u8],
    end: Option<StreamEnd>,
) -> Failure {
    s.settle();
    let how = match end {
        Some(StreamEnd::Reset) => "was reset",
        _ => "ended",
    };
    if got.is_empty() {
        s.conversation_mut().missing(format!("nothing reached {peer}"));
    }
    match s.program().exit() {
        // The program's end is the reason: nothing came, or it crashed.
        Some(exit) if got.is_empty() || !exit.is_success() => {
            program_gone(s, expected, shown(got))
        }
        _ if got.is_empty() => Failure::new(
            expected,
            shown(got),
            format!("the connection {how} before {peer} received anything"),
        ),
        _ => {
            let failure = other_bytes(s, peer, want, expected, got);
            Failure {
                why: format!("{}, then the connection {how}", failure.why),
                ..failure
            }
        }
    }
}

/// The failure of bytes that came but were not those awaited: how they differ, with advice
/// that fits that (see [`crate::reasons::content`]).
fn other_bytes(
    s: &mut Session,
    peer: &'static str,
    want: &Received,
    expected: &str,
    got: &[u8],
) -> Failure {
    let evidence = s.evidence();
    let exchange = Exchange {
        peer,
        awaited: want.as_awaited(),
        got,
        carrier: Carrier::Stream,
        typed: evidence.typed(),
        peer_sent: evidence.sent_by(peer),
        earlier: evidence.earlier_reply(peer),
    };
    let failure = reasoned(expected, shown(got), content::other_bytes(&exchange, evidence.language()));
    s.evidence_mut().received(peer, got);
    failure
}

/// The failure of a wait that ended without the bytes, the connection still open: bytes
/// that came are judged for how they differ (the cause, so no "blocked in ..." follows);
/// where nothing came, what the program waits for instead.
fn not_received(
    s: &mut Session,
    peer: &'static str,
    want: &Received,
    expected: &str,
    end: Unmet,
) -> Failure {
    if let Unmet::Failed(failure) = end {
        return failure;
    }
    let got = match s.peers_mut().connection_mut(peer) {
        Some(conn) => {
            let got = conn.inbox.unmatched().to_vec();
            conn.inbox.consume_all();
            got
        }
        None => return unmet(end, expected, "no connection".into(), &format!("{peer} has no connection"), ""),
    };
    if got.is_empty() {
        s.conversation_mut().missing(format!("nothing reached {peer}"));
        return unmet(end, expected, shown(&got), &format!("nothing reached {peer}"), "");
    }
    let failure = other_bytes(s, peer, want, expected, &got);
    match end.waited() {
        Some(waited) => failure.after(waited),
        None => failure,
    }
}

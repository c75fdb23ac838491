//! A TCP connection with the program: a peer `send`s, `receives` exact bytes or a line, and
//! `sees_end_of_stream` when the program closes it.

use crate::escape;
use crate::report::Failure;
use crate::script::{Received, Verdict, find_bytes};
use crate::session::{Probe, Session, Unmet};

use super::{shown, unmet};

pub fn send(s: &mut Session, peer: &'static str, data: &[u8]) -> Result<(), Failure> {
    s.send(peer, data).map_err(|message| Failure {
        expected: format!("{peer} to send {}", escape::python_bytes(data)),
        got: "the connection was closed".into(),
        message,
        ..Failure::default()
    })
}

pub fn receives(s: &mut Session, peer: &'static str, want: &Received) -> Result<(), Failure> {
    let expected = want.describe();
    let result = s.wait_for(|s, last| {
        let Some(conn) = s.peers.connection_mut(peer) else {
            return Probe::Failed(Failure {
                expected: expected.clone(),
                got: "no connection".into(),
                message: format!("{peer} has no connection to receive on"),
                ..Failure::default()
            });
        };
        let got = conn.inbox.unmatched();
        match want.judge(got, conn.inbox.ended()) {
            Verdict::Matched(n) => {
                conn.inbox.consume(n);
                Probe::Ready(())
            }
            Verdict::MatchedUnlessMore(n) if last => {
                conn.inbox.consume(n);
                Probe::Ready(())
            }
            // Wrong already, but keep reading until what was awaited comes too (or the
            // stream ends, or the wait does), so the failure shows it all and the next
            // check does not meet these bytes again.
            Verdict::Wrong
                if !last && !conn.inbox.ended() && find_bytes(got, want.awaited()).is_none() =>
            {
                Probe::Pending
            }
            Verdict::Wrong => {
                let ended = conn.inbox.ended();
                let got = shown(got);
                // Judged and reported here; later checks must not blame the same bytes.
                conn.inbox.consume_all();
                let message = if ended && !got.is_empty() {
                    format!("{peer} received other bytes, then the connection ended")
                } else if ended {
                    format!("the connection ended before {peer} received it")
                } else {
                    format!("{peer} received other bytes")
                };
                Probe::Failed(Failure {
                    expected: expected.clone(),
                    got,
                    message,
                    ..Failure::default()
                })
            }
            Verdict::Incomplete | Verdict::MatchedUnlessMore(_) => Probe::Pending,
        }
    });
    result.map_err(|end| {
        let wrong = s.peers.connection(peer).is_some_and(|c| {
            !c.inbox.unmatched().is_empty()
                && want.judge(c.inbox.unmatched(), false) == Verdict::Wrong
        });
        let got = match s.peers.connection_mut(peer) {
            Some(conn) => {
                let got = shown(conn.inbox.unmatched());
                conn.inbox.consume_all();
                got
            }
            None => "no connection".into(),
        };
        let missing = if got == "nothing" {
            format!("nothing reached {peer}")
        } else if wrong {
            format!("{peer} received other bytes")
        } else {
            format!("only part of it reached {peer}")
        };
        if wrong && let Unmet::Deadline { .. } = end {
            // What came is the failure; the deadline says nothing more.
            return Failure {
                message: missing,
                ..unmet(end, &expected, got, "", "")
            };
        }
        unmet(end, &expected, got, &missing, "")
    })
}

pub fn sees_end_of_stream(s: &mut Session, peer: &'static str) -> Result<(), Failure> {
    let expected = "end of stream (the program closes the connection)".to_string();
    let result = s.wait_for(|s, _| {
        let Some(conn) = s.peers.connection(peer) else {
            return Probe::Failed(Failure {
                expected: expected.clone(),
                got: "no connection".into(),
                message: format!("{peer} has no connection"),
                ..Failure::default()
            });
        };
        let extra = conn.inbox.unmatched();
        if !extra.is_empty() {
            Probe::Failed(Failure {
                expected: expected.clone(),
                got: shown(extra),
                message: format!("the program sent more bytes to {peer} than it should"),
                ..Failure::default()
            })
        } else if conn.inbox.ended() {
            Probe::Ready(())
        } else {
            Probe::Pending
        }
    });
    result.map_err(|end| {
        let missing = "the program did not close the connection";
        unmet(
            end,
            &expected,
            "the connection still open".into(),
            missing,
            "",
        )
    })
}

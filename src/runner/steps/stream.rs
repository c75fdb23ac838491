//! A TCP connection with the program: a peer `send`s, `receives` exact bytes or a line, and
//! `sees_end_of_stream` when the program closes it.

use crate::escape;
use crate::report::{Failure, ProgramExit};
use crate::script::{Received, Verdict, find_bytes};
use crate::session::{Probe, Session, StreamEnd, Unmet};

use super::{shown, unmet};

pub fn send(s: &mut Session, peer: &'static str, data: &[u8]) -> Result<(), Failure> {
    s.send(peer, data).map_err(|message| {
        s.conversation.missing(format!("{peer} could not send"));
        Failure {
            expected: format!("{peer} to send {}", escape::python_bytes(data)),
            got: "the connection was closed".into(),
            message,
            ..Failure::default()
        }
    })
}

/// How a wait for bytes on a connection ended, when it did not fail on its own.
enum Got {
    Expected,
    /// The connection ended before the bytes came: what came instead (maybe nothing), and
    /// how it ended.
    Ended(Vec<u8>, Option<StreamEnd>),
}

pub fn receives(s: &mut Session, peer: &'static str, want: &Received) -> Result<(), Failure> {
    let expected = want.describe();
    if let Some(conn) = s.peers.connection_mut(peer) {
        // Bytes from before this check's epoch are never evidence for it.
        let earlier = conn.inbox.from_earlier_epochs().to_vec();
        if !earlier.is_empty() {
            conn.inbox.consume_all();
            return Err(Failure {
                expected,
                got: shown(&earlier),
                message: format!(
                    "before this check, {peer} had received bytes that no step asked for"
                ),
                ..Failure::default()
            });
        }
    }
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
                Probe::Ready(Got::Expected)
            }
            Verdict::MatchedUnlessMore(n) if last => {
                conn.inbox.consume(n);
                Probe::Ready(Got::Expected)
            }
            // Wrong already, but keep reading until what was awaited comes too (or the
            // stream ends, or the wait does), so the failure shows it all and the next
            // check does not meet these bytes again.
            Verdict::Wrong
                if !last && !conn.inbox.ended() && find_bytes(got, want.awaited()).is_none() =>
            {
                Probe::Pending
            }
            Verdict::Wrong if conn.inbox.ended() => {
                let got = got.to_vec();
                conn.inbox.consume_all();
                Probe::Ready(Got::Ended(got, conn.inbox.end))
            }
            Verdict::Wrong => {
                let got = shown(got);
                // Judged and reported here; later checks must not blame the same bytes.
                conn.inbox.consume_all();
                Probe::Failed(Failure {
                    expected: expected.clone(),
                    got,
                    message: format!("{peer} received other bytes"),
                    ..Failure::default()
                })
            }
            Verdict::Incomplete | Verdict::MatchedUnlessMore(_) => Probe::Pending,
        }
    });
    match result {
        Ok(Got::Expected) => Ok(()),
        Ok(Got::Ended(got, end)) => Err(ended_early(s, peer, &expected, &got, end)),
        Err(end) => Err(not_received(s, peer, want, &expected, end)),
    }
}

/// The failure of a wait whose connection ended before the bytes came. Whether the program
/// ended with it is settled first: then the reason is its end, said the same way whatever
/// the timing.
fn ended_early(
    s: &mut Session,
    peer: &'static str,
    expected: &str,
    got: &[u8],
    end: Option<StreamEnd>,
) -> Failure {
    s.settle();
    let how = match end {
        Some(StreamEnd::Reset) => "was reset",
        _ => "ended",
    };
    let (message, program_gone) = match s.program.exit {
        // The program's end is the reason: nothing came, or it crashed.
        Some(_) if got.is_empty() => (s.program.how_ended(), true),
        Some(exit) if !exit.is_success() => (s.program.how_ended(), true),
        _ if got.is_empty() => (
            format!("the connection {how} before {peer} received anything"),
            false,
        ),
        _ => (
            format!("{peer} received other bytes, then the connection {how}"),
            false,
        ),
    };
    if got.is_empty() {
        s.conversation.missing(format!("nothing reached {peer}"));
    }
    Failure {
        expected: expected.to_string(),
        got: shown(got),
        message,
        waited: None,
        program_gone,
    }
}

/// The failure of a wait that ended without the bytes, the connection still open.
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
    let wrong = s.peers.connection(peer).is_some_and(|c| {
        !c.inbox.unmatched().is_empty() && want.judge(c.inbox.unmatched(), false) == Verdict::Wrong
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
        s.conversation.missing(format!("nothing reached {peer}"));
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
            ..unmet(end, expected, got, "", "")
        };
    }
    unmet(end, expected, got, &missing, "")
}

/// The program closes the connection: end of stream (not a reset), once the conversation
/// it ends has taken place, and by the program itself, not by its crash.
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
        match conn.inbox.end {
            Some(end) => Probe::Ready(end),
            None => Probe::Pending,
        }
    });
    let failure = |got: &str, message: String, program_gone: bool| Failure {
        expected: expected.clone(),
        got: got.to_string(),
        message,
        waited: None,
        program_gone,
    };
    match result {
        Err(end) => Err(unmet(
            end,
            &expected,
            "the connection still open".into(),
            "the program did not close the connection",
            "",
        )),
        Ok(end) => {
            // The program goes on, or ends, after the close: which one says whose close it was.
            s.settle();
            let crashed = s.program.exit.filter(|exit| crashed(*exit, s)).is_some();
            if end == StreamEnd::Reset {
                let why = if s.program.ended() {
                    format!(": {}", s.program.how_ended_briefly())
                } else {
                    String::new()
                };
                Err(failure(
                    "the connection reset",
                    format!(
                        "the connection was reset, not closed (the program's end of it still held bytes unread, or it ended){why}"
                    ),
                    false,
                ))
            } else if crashed {
                Err(failure(
                    "end of stream when the program crashed",
                    format!(
                        "the connection ended because the program did: {}",
                        s.program.how_ended()
                    ),
                    true,
                ))
            } else if let Some(gap) = s.conversation.unfinished() {
                Err(failure(
                    "end of stream",
                    format!(
                        "the program closed the connection, but the conversation it ends did not take place ({gap})"
                    ),
                    false,
                ))
            } else {
                Ok(())
            }
        }
    }
}

/// Whether the program's end was a crash (a signal, or a failing status with something on
/// stderr, as an uncaught exception leaves), not an exit it chose.
fn crashed(exit: ProgramExit, s: &Session) -> bool {
    match exit {
        ProgramExit::Signaled(_) => true,
        ProgramExit::Exited(0) => false,
        ProgramExit::Exited(_) => !s.program.stderr.all().is_empty(),
    }
}

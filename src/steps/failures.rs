//! How a step that did not get what it waited for says so, shared by the kinds: how the wait
//! ended completes what did not happen ([`unmet`]); a reason a student can act on becomes
//! the failure's words and advice ([`reasoned`], see [`crate::reasons`]); a program gone is
//! its own reason, told with the moment and its last words ([`program_gone`],
//! [`program_ended`]); a program that never took its port says where it listens instead
//! ([`nothing_listens`]); and the bytes that came are shown from their end ([`shown`]).

use std::time::Duration;

use crate::escape;
use crate::reasons::{Ended, Hint, Reason, bind, moment};
use crate::report::{Failure, Proto};
use crate::session::{Evidence, Output, Session, Unmet};

/// How much of unmatched output a failure shows.
const GOT_SHOWN_BYTES: usize = 400;

/// The failure of a step whose event did not come. `missing` says what did not happen
/// ("nothing reached alice"); how the wait ended completes it, then `more` follows. A
/// failure the wait already had stays as it is.
pub fn unmet(unmet: Unmet, expected: &str, got: String, missing: &str, more: &str) -> Failure {
    let why = match &unmet {
        Unmet::Failed(failure) => return failure.clone(),
        Unmet::Deadline { waited } => format!("{missing} within {}{more}", seconds(*waited)),
        Unmet::Stuck { waiting, .. } => format!(
            "{missing}: the program is {waiting}, so it can do nothing {}{more}",
            waiting.until()
        ),
    };
    let failure = Failure::new(expected, got, why);
    match unmet.waited() {
        Some(waited) => failure.after(waited),
        None => failure,
    }
}

/// The failure a reason gives: its words, and its own advice (or none) in place of the
/// lab's hint for the step, unless it says the lab's hint fits.
pub fn reasoned(expected: impl Into<String>, got: impl Into<String>, reason: Reason) -> Failure {
    let failure = Failure::new(expected, got, reason.why);
    match reason.hint {
        Hint::Step => failure,
        Hint::Own(hint) => failure.with_own_hint(Some(hint)),
        Hint::Nothing => failure.with_own_hint(None),
    }
}

/// The failure of a step that could not go on because the program is gone.
pub fn program_gone(s: &mut Session, expected: impl Into<String>, got: impl Into<String>) -> Failure {
    s.settle_exit();
    Failure {
        program_gone: true,
        ..program_ended(s, expected, got)
    }
}

/// The failure the program's end gives: how it ended, what had just happened, its last
/// line and the cause its words name (see [`crate::reasons::moment::ended`]); while its exit is
/// not known, as far as it is.
pub fn program_ended(s: &mut Session, expected: impl Into<String>, got: impl Into<String>) -> Failure {
    let Some(exit) = s.program().exit() else {
        return Failure::new(expected, got, s.program().how_ended());
    };
    let host_addresses = s.host_addresses();
    let facts = s.evidence().facts();
    let printed = s.program().output(Output::Screen).all();
    let ended = Ended {
        exit,
        moment: s.evidence().moment(),
        stderr: s.program().output(Output::Stderr).all(),
        printed,
        args: &facts.args,
        host_addresses: &host_addresses,
        source: facts.source.as_deref(),
    };
    let reason = moment::ended(&ended, facts.language);
    Failure {
        moment: Some(ended.moment.phrase()),
        last_line: moment::last_line(printed),
        ..reasoned(expected, got, reason)
    }
}

/// The failure of a wait for the program to listen (or bind): where it listens instead, if
/// anywhere, and why the wait ended.
pub fn nothing_listens(s: &Session, proto: Proto, expected: &str, end: Unmet) -> Failure {
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
    let port = s.place().port();
    let ports: Vec<u16> = s
        .listening_elsewhere()
        .iter()
        .filter(|l| l.proto == proto)
        .map(|l| l.port)
        .collect();
    let language = s.evidence().language();
    let picked = bind::kernel_picked(
        &proto.to_string(),
        port,
        &ports,
        Evidence::ephemeral_ports(),
        language,
    );
    if let Some(reason) = picked {
        return reasoned(expected, got, reason).after(waited);
    }
    let explanation = if listens.is_empty() {
        let after = match waiting {
            Some(_) => String::new(),
            None => format!(" after {}", seconds(waited)),
        };
        format!(
            "nothing {verb} {proto} {port}{after}, and your program listens on no port (did it call bind(){}?){why}",
            if proto == Proto::Tcp {
                " and listen()"
            } else {
                ""
            }
        )
    } else {
        format!(
            "nothing {verb} {proto} {port}; your program listens on {}{why}",
            listens.join(", ")
        )
    };
    Failure::new(expected, got, explanation).after(waited)
}

/// The end of `data`, escaped, for a failure's "got".
pub fn shown(data: &[u8]) -> String {
    if data.is_empty() {
        return "nothing".into();
    }
    if data.len() <= GOT_SHOWN_BYTES {
        return escape::python_bytes(data);
    }
    let tail = &data[data.len() - GOT_SHOWN_BYTES..];
    format!(
        "… {} (the last {} of {} bytes)",
        escape::python_bytes(tail),
        GOT_SHOWN_BYTES,
        data.len()
    )
}

pub fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

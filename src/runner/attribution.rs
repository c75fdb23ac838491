//! A check answers for what its own input caused (see [`crate::session::attribution`]).
//! Before a check that gives the program input, the program settles, so that everything
//! earlier has had its effect, and a new epoch begins; after the check's steps, the program
//! settles again, and a check that passed fails if a peer got more in its epoch than its
//! steps asked for, or if the program went on only by reading input that it had left
//! unread before the check began (a message an earlier check sent, say).

use crate::escape;
use crate::report::{Failure, Outcome};
use crate::script::Check;
use crate::session::{Channel, Session, Unread};

use crate::steps::shown;

/// What a check that gives the program input found before its first step.
pub struct Opened {
    /// What the program had left unread.
    unread: Vec<Unread>,
    /// How much the harness had given on each of those channels.
    given: Vec<usize>,
}

/// Before a check's steps: for one that gives the program input, the program settles and a
/// new epoch begins. `None` for a check that only watches.
pub fn open(s: &mut Session, check: &Check) -> Option<Opened> {
    if !check.steps.iter().any(|st| st.step.gives_input()) {
        return None;
    }
    s.settle();
    s.begin_epoch();
    let unread = s.attribution().unread();
    let given = unread
        .iter()
        .map(|u| s.attribution().given().on(u.channel).len())
        .collect();
    Some(Opened { unread, given })
}

/// After a check's steps: the program settles (unless a step already waited it out), and
/// what it did is charged to the check.
pub fn close(s: &mut Session, opened: Opened, outcome: Outcome) -> Outcome {
    let waited_out = matches!(&outcome, Outcome::Failed(f) if f.waited.is_some());
    if !waited_out {
        s.settle();
    }
    let unasked = unasked(s);
    let late = read_late(s, &opened);
    match outcome {
        Outcome::Passed => unasked.or(late).map_or(Outcome::Passed, Outcome::Failed),
        other => other,
    }
}

/// What the peers got in this check's epoch beyond what its steps matched: the check's
/// doing, judged here so that no later check meets it again.
fn unasked(s: &mut Session) -> Option<Failure> {
    let mut failure = None;
    for peer in s.peers().names() {
        let extra = if let Some(conn) = s.peers_mut().connection_mut(peer) {
            let extra = conn.inbox.this_epoch().to_vec();
            if !extra.is_empty() {
                conn.inbox.consume_all();
            }
            (!extra.is_empty()).then(|| {
                (
                    shown(&extra),
                    format!("{peer} received bytes that no step of this check asked for"),
                )
            })
        } else if let Some(datagrams) = s.peers_mut().datagrams_mut(peer) {
            let extra: Vec<String> = datagrams
                .inbox
                .iter()
                .skip(datagrams.from_earlier_epochs)
                .map(|(_, data)| escape::python_bytes(data))
                .collect();
            // Those from earlier epochs stay for the next step that receives here.
            datagrams.inbox.truncate(datagrams.from_earlier_epochs);
            (!extra.is_empty()).then(|| {
                let more = match extra.len() {
                    1 => "a datagram".to_string(),
                    n => format!("{n} datagrams"),
                };
                (
                    extra.join(", "),
                    format!(
                        "{peer} received {more} more than this check asked for (each datagram is one message)"
                    ),
                )
            })
        } else {
            None
        };
        if let Some((got, why)) = extra {
            failure.get_or_insert(Failure::new(format!("nothing more for {peer}"), got, why));
        }
    }
    failure
}

/// The failure of a check during which the program read input it had left unread before
/// the check began: what it did here may be its answer to that.
fn read_late(s: &Session, opened: &Opened) -> Option<Failure> {
    let now = s.attribution().unread();
    opened
        .unread
        .iter()
        .zip(&opened.given)
        .find(|(before, given)| {
            let since = s.attribution().given().on(before.channel).len().saturating_sub(**given);
            before.read_since(&now, since)
        })
        .map(|(before, given)| {
            let all = s.attribution().given().on(before.channel);
            let left = if before.exact {
                let from = given.saturating_sub(before.amount as usize);
                escape::python_bytes(&all[from..*given])
            } else {
                "a datagram".to_string()
            };
            let from = match before.channel {
                Channel::Keyboard => "was typed".to_string(),
                Channel::Peer(peer) => format!("{peer} sent"),
            };
            Failure::new(
                "the program to do this with what this check gave it",
                format!("it read {left} first, which {from} before this check"),
                format!(
                    "the program went on only by reading {left}, which {from} before this check and it had left unread: what it did here answers that earlier input"
                ),
            )
        })
}

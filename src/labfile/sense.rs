//! Whether a run's steps make sense together, beyond each step alone: who holds the lab's
//! port, which peer has a connection, what a datagram can reach, and whether each check
//! can fail at all. A run that breaks one of these would grade nonsense (every program
//! failing, or points no program can lose), so the loader refuses it, at the step that
//! breaks it, with what to write instead.
//!
//! - Setup: at most one peer takes the lab's port (`PEER listens` or `PEER binds udp`), and
//!   then the program is a client: no step may treat it as the server (`PEER connects`,
//!   `program is reachable at bob`, `program binds udp`), whose port the peer holds.
//! - TCP: `PEER accepts` needs that peer listening in setup; `PEER sends`, `receives`,
//!   `hangs up` and `sees end of stream` need a connection the run made before
//!   (`PEER connects` or `PEER accepts`); `program is reachable at bob` needs a connection.
//! - UDP: `PEER sends datagram` goes to the program's port, so it needs `program binds udp`
//!   before (a datagram sent earlier is lost); `PEER receives datagram` needs the peer to
//!   have a socket (bound in setup, or from sending); `PEER replies datagram` needs a
//!   datagram the peer received.
//! - `PEER listens` and `PEER binds udp` belong in setup, before the program starts.
//! - A check needs a step that waits for the program (a check of actions alone passes
//!   whatever the program does).
//!
//! What each kind of step needs of the steps before it is its own to say (see
//! [`crate::steps::StepKind::take`]); the whole run is judged here.

use std::ops::Range;

use crate::script::Proto;
use crate::steps::{Peer, SoFar, Step};

/// A step and where it is written.
pub struct Placed<'a> {
    pub span: Range<usize>,
    pub step: &'a Step,
}

/// A check's name and its steps.
pub struct PlacedCheck<'a> {
    pub id: &'a str,
    /// Where its name is written.
    pub span: Range<usize>,
    pub steps: Vec<Placed<'a>>,
}

/// The first thing in the run that makes no sense: where, and why.
pub fn check_run(
    setup: &[Placed],
    checks: &[PlacedCheck],
    proto: Proto,
) -> Result<(), (Range<usize>, String)> {
    let mut holder: Option<(Peer, &Placed)> = None;
    for placed in setup {
        let Some(peer) = placed.step.role().takes_port else {
            continue;
        };
        if let Some((other, _)) = holder {
            return Err((
                placed.span.clone(),
                format!(
                    "{other} already takes the lab's port in setup, and two peers cannot both hold it: keep one (a client program connects to one peer)"
                ),
            ));
        }
        holder = Some((peer, placed));
    }
    if let Some((peer, setup_step)) = holder
        && let Some(server) = checks
            .iter()
            .flat_map(|c| &c.steps)
            .find(|p| p.step.role().serves)
    {
        return Err((
            setup_step.span.clone(),
            format!(
                "{peer} takes the lab's port in setup, yet the program is the server here (`{}`): a server program needs the port itself; drop the setup, or grade a client program (`{peer} accepts`)",
                server.step.phrase()
            ),
        ));
    }
    let mut so_far = SoFar {
        holder: holder.map(|(peer, _)| peer),
        ..SoFar::default()
    };
    for check in checks {
        for placed in &check.steps {
            placed
                .step
                .take(&mut so_far, proto)
                .map_err(|why| (placed.span.clone(), why))?;
        }
        if !check.steps.iter().any(|p| p.step.role().waits_for_program) {
            return Err((
                check.span.clone(),
                format!(
                    "check {} only acts, so it passes whatever the program does: add what the program should do, e.g. {{ \"program prints\" = \"...\" }}",
                    check.id
                ),
            ));
        }
    }
    Ok(())
}

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

use std::ops::Range;

use crate::script::{Peer, Proto, Step};

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
        let (Step::Listen(peer) | Step::BindUdp(peer)) = placed.step else {
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
        holder = Some((*peer, placed));
    }
    if let Some((peer, setup_step)) = holder
        && let Some(server) = checks
            .iter()
            .flat_map(|c| &c.steps)
            .find(|p| treats_as_server(p.step))
    {
        return Err((
            setup_step.span.clone(),
            format!(
                "{peer} takes the lab's port in setup, yet the program is the server here (`{}`): a server program needs the port itself; drop the setup, or grade a client program (`{peer} accepts`)",
                phrase(server.step)
            ),
        ));
    }
    let mut run = Conversation {
        holder: holder.map(|(peer, _)| peer),
        ..Conversation::default()
    };
    for check in checks {
        for placed in &check.steps {
            run.take(placed.step, proto)
                .map_err(|why| (placed.span.clone(), why))?;
        }
        if !check.steps.iter().any(|p| waits_for_program(p.step)) {
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

/// What the steps so far have set up.
#[derive(Default)]
struct Conversation {
    /// The peer holding the lab's port from setup.
    holder: Option<Peer>,
    /// Peers with a TCP connection to the program.
    connected: Vec<Peer>,
    /// Peers with a UDP socket (bound in setup, or from sending).
    with_socket: Vec<Peer>,
    /// Peers that received a datagram.
    received: Vec<Peer>,
    /// The program was seen bound to its UDP port.
    program_bound: bool,
}

impl Conversation {
    /// Carries `step` on, or says why it cannot come here.
    fn take(&mut self, step: &Step, proto: Proto) -> Result<(), String> {
        match step {
            Step::Listen(_) | Step::BindUdp(_) => Err(format!(
                "`{}` goes in setup (setup = [{{ \"{}\" = true }}]): the harness takes the port before the program starts, so that a client program finds it",
                phrase(step),
                phrase(step)
            )),
            Step::Accept(peer) => {
                if self.holder != Some(*peer) {
                    return Err(format!(
                        "`{peer} accepts` a connection from the program, but {peer} does not listen for one: add setup = [{{ \"{peer} listens\" = true }}]"
                    ));
                }
                self.connected.push(*peer);
                Ok(())
            }
            Step::Connect(peer) => {
                self.connected.push(*peer);
                Ok(())
            }
            Step::Send(peer, _)
            | Step::Receives(peer, _)
            | Step::HangUp(peer)
            | Step::SeesEndOfStream(peer) => {
                if self.connected.contains(peer) {
                    Ok(())
                } else {
                    Err(format!(
                        "`{}` before {peer} has a connection: first `{peer} connects` (to a server program) or `{peer} accepts` (from a client program)",
                        phrase(step)
                    ))
                }
            }
            Step::Reachable => {
                let reached = match proto {
                    Proto::Tcp => !self.connected.is_empty(),
                    Proto::Udp => self.program_bound,
                };
                if reached {
                    Ok(())
                } else {
                    Err(format!(
                        "`program is reachable at bob` judges where the program was reached: put {} before it",
                        match proto {
                            Proto::Tcp => "`alice connects`",
                            Proto::Udp => "`program binds udp`",
                        }
                    ))
                }
            }
            Step::BindsUdp => {
                self.program_bound = true;
                Ok(())
            }
            Step::SendDatagram(peer, _) => {
                if let Some(holder) = self.holder {
                    return Err(format!(
                        "`{peer} sends datagram` goes to the program's port, but here the program is a client ({holder} binds udp in setup): answer it with `{holder} replies datagram`"
                    ));
                }
                if !self.program_bound {
                    return Err(format!(
                        "`{peer} sends datagram` goes to the program's port, and a datagram sent before the program binds it is lost: put a check with {{ \"program binds udp\" = true }} before it"
                    ));
                }
                self.with_socket.push(*peer);
                Ok(())
            }
            Step::ReceivesDatagram(peer, _) => {
                if self.holder != Some(*peer) && !self.with_socket.contains(peer) {
                    return Err(format!(
                        "`{}`, but {peer} has no socket to receive on: add setup = [{{ \"{peer} binds udp\" = true }}] (a program that sends first), or `{peer} sends datagram` before it",
                        phrase(step)
                    ));
                }
                self.received.push(*peer);
                Ok(())
            }
            Step::ReplyDatagram(peer, _) => {
                if self.received.contains(peer) {
                    Ok(())
                } else {
                    Err(format!(
                        "`{peer} replies datagram` answers the datagram {peer} received last, and {peer} has received none yet: put `{peer} receives datagram` before it"
                    ))
                }
            }
            Step::TypeLine(_)
            | Step::Prints(_)
            | Step::PrintsOnStderr(_)
            | Step::ExitsWith(_)
            | Step::StopsAtEndOfInput => Ok(()),
        }
    }
}

/// Steps that make the program the server of its run: the harness reaches it at its port.
fn treats_as_server(step: &Step) -> bool {
    match step {
        Step::Connect(_) | Step::Reachable | Step::BindsUdp => true,
        Step::Listen(_)
        | Step::SendDatagram(..)
        | Step::Accept(_)
        | Step::Send(..)
        | Step::TypeLine(_)
        | Step::HangUp(_)
        | Step::Prints(_)
        | Step::PrintsOnStderr(_)
        | Step::Receives(..)
        | Step::SeesEndOfStream(_)
        | Step::ExitsWith(_)
        | Step::ReceivesDatagram(..)
        | Step::StopsAtEndOfInput
        | Step::BindUdp(_)
        | Step::ReplyDatagram(..) => false,
    }
}

/// Steps that wait for the program to do something, and fail when it does not.
fn waits_for_program(step: &Step) -> bool {
    match step {
        Step::Connect(_)
        | Step::Accept(_)
        | Step::Prints(_)
        | Step::PrintsOnStderr(_)
        | Step::Receives(..)
        | Step::SeesEndOfStream(_)
        | Step::ExitsWith(_)
        | Step::Reachable
        | Step::BindsUdp
        | Step::ReceivesDatagram(..)
        | Step::StopsAtEndOfInput => true,
        Step::Listen(_)
        | Step::Send(..)
        | Step::TypeLine(_)
        | Step::HangUp(_)
        | Step::BindUdp(_)
        | Step::SendDatagram(..)
        | Step::ReplyDatagram(..) => false,
    }
}

/// The phrase a step is written with, as in a lab file (`bob listens`).
fn phrase(step: &Step) -> String {
    match step {
        Step::Listen(peer) => format!("{peer} listens"),
        Step::Connect(peer) => format!("{peer} connects"),
        Step::Accept(peer) => format!("{peer} accepts"),
        Step::Send(peer, _) => format!("{peer} sends"),
        Step::TypeLine(_) => "keyboard types".into(),
        Step::HangUp(peer) => format!("{peer} hangs up"),
        Step::Prints(_) => "program prints".into(),
        Step::PrintsOnStderr(_) => "program prints on stderr".into(),
        Step::Receives(peer, _) => format!("{peer} receives"),
        Step::SeesEndOfStream(peer) => format!("{peer} sees end of stream"),
        Step::ExitsWith(_) => "program exits with".into(),
        Step::Reachable => "program is reachable at bob".into(),
        Step::BindsUdp => "program binds udp".into(),
        Step::SendDatagram(peer, _) => format!("{peer} sends datagram"),
        Step::ReceivesDatagram(peer, _) => format!("{peer} receives datagram"),
        Step::StopsAtEndOfInput => "program stops at end of input".into(),
        Step::BindUdp(peer) => format!("{peer} binds udp"),
        Step::ReplyDatagram(peer, _) => format!("{peer} replies datagram"),
    }
}

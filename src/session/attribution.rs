//! What the program did, attributed to what caused it, whatever the timing.
//!
//! - **Settling**: waiting until the program has done all it will do with what it was
//!   given: it is blocked waiting for the harness (read from its threads, see
//!   [`super::stuck_check`]) or it has ended. That is an event, not a time; only a program
//!   that may still act (a timer wakes it, or it spins) is given at most
//!   [`SETTLE_AT_MOST`].
//! - **Epochs**: the runner begins one, once the program has settled, with each check that
//!   gives the program input. What a peer received before is never evidence for the new
//!   epoch's steps (see [`super::Inbox::from_earlier_epochs`]).
//! - **What the program left unread**: bytes the harness sent on a connection that the
//!   program's socket still holds, datagrams its socket still holds, typed lines its
//!   terminal still holds. A program that reads them later goes on only thanks to them.

use std::time::{Duration, Instant};

use super::Session;
use super::peers::ProgramEnd;
use super::inbox::StreamEnd;
use crate::sandbox::sockets;

/// The longest a program that may still act is waited for to settle.
pub const SETTLE_AT_MOST: Duration = Duration::from_secs(1);

/// Where the harness gives the program input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Keyboard,
    /// A peer's connection or datagrams.
    Peer(&'static str),
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Channel::Keyboard => f.write_str("the keyboard"),
            Channel::Peer(name) => f.write_str(name),
        }
    }
}

/// Input the program has not read yet on one channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unread {
    pub channel: Channel,
    /// Bytes, when `exact`; otherwise only whether it is more than 0 counts (a UDP
    /// socket's queue is counted in the memory its datagrams take).
    pub amount: u64,
    pub exact: bool,
}

/// What the harness gave the program, by channel, in order.
#[derive(Debug, Default)]
pub struct Given {
    sent: Vec<(Channel, Vec<u8>)>,
}

impl Given {
    pub(super) fn record(&mut self, channel: Channel, data: &[u8]) {
        match self.sent.iter_mut().find(|(c, _)| *c == channel) {
            Some((_, all)) => all.extend_from_slice(data),
            None => self.sent.push((channel, data.to_vec())),
        }
    }

    /// Everything given on `channel` so far.
    pub fn on(&self, channel: Channel) -> &[u8] {
        self.sent
            .iter()
            .find(|(c, _)| *c == channel)
            .map_or(&[], |(_, all)| all)
    }
}

impl Session {
    /// Waits until the program has done all it will with what it was given (see the module
    /// doc); whether it did settle (rather than run out of patience).
    pub fn settle(&mut self) -> bool {
        if self.is_settled() {
            return true;
        }
        let at_most = SETTLE_AT_MOST.min(self.timeouts().step);
        let deadline = self.clock.deadline_from(Instant::now()).min(Instant::now() + at_most);
        self.pump_until_or_stuck(deadline, |s| s.program.ended());
        self.is_settled()
    }

    /// Whether the program has ended, or has been blocked waiting for the harness since
    /// anything last happened.
    pub(super) fn is_settled(&self) -> bool {
        !self.program.was_started() || self.program.ended() || self.stuck.settled()
    }

    /// Begins an epoch: what the peers receive from now on is its own.
    pub fn begin_epoch(&mut self) {
        self.peers.begin_epoch();
    }

    /// What the program did with what it was given (see [`Attribution`]).
    pub fn attribution(&self) -> Attribution<'_> {
        Attribution(self)
    }
}

/// What the program did with what the harness gave it: what it was given, what it has left
/// unread, and whether it took a peer's connection ([`Session::attribution`]).
pub struct Attribution<'a>(&'a Session);

impl<'a> Attribution<'a> {
    /// What the harness has given the program so far.
    pub fn given(&self) -> &'a Given {
        &self.0.given
    }

    /// The input the program has not read yet, channel by channel, as far as the kernel
    /// says: its terminal, its sockets (found by address in the tables of the run's network
    /// namespace, or the host's). A channel that cannot be asked is left out.
    pub fn unread(&self) -> Vec<Unread> {
        let mut found = Vec::new();
        if self.0.program.running()
            && let Some(amount) = self.0.program.keyboard_unread()
        {
            found.push(Unread {
                channel: Channel::Keyboard,
                amount,
                exact: true,
            });
        }
        for (name, end) in self.0.peers.program_ends() {
            let channel = Channel::Peer(name);
            let unread = match end {
                ProgramEnd::Stream { program, peer, end } => {
                    match sockets::tcp_connection(program, peer) {
                        Some(entry) => Some((entry.rx_queue, true)),
                        // Closed with nothing unread, or Linux would have reset it.
                        None if end == Some(StreamEnd::Closed) => Some((0, true)),
                        None => None,
                    }
                }
                ProgramEnd::Datagrams(program) => {
                    sockets::udp_socket(program).map(|entry| (entry.rx_queue, false))
                }
            };
            if let Some((amount, exact)) = unread {
                found.push(Unread {
                    channel,
                    amount,
                    exact,
                });
            }
        }
        found
    }
}

/// Whether the program has taken a connection a peer made to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// It called accept(): it holds a descriptor for the connection (or has sent on it,
    /// or closed it, which only a holder can).
    Yes,
    /// The connection waits in its listener's queue.
    NotYet,
    /// The connection was reset without the program taking it.
    Never,
}

impl Attribution<'_> {
    /// Whether the program has taken `peer`'s connection (see [`Accepted`]).
    pub fn accepted(&self, peer: &str) -> Accepted {
        let Some(conn) = self.0.peers.connection(peer) else {
            return Accepted::Never;
        };
        if conn.inbox.total() > 0 || conn.inbox.end == Some(StreamEnd::Closed) {
            return Accepted::Yes;
        }
        match sockets::tcp_connection(conn.remote, conn.local) {
            // A connection in the queue has no descriptor yet, hence no inode, and stays
            // established until taken.
            Some(entry) if entry.inode != 0 || !entry.established() => Accepted::Yes,
            Some(_) => Accepted::NotYet,
            None if conn.inbox.end == Some(StreamEnd::Reset) => Accepted::Never,
            None => Accepted::NotYet,
        }
    }
}

impl Unread {
    /// Whether the program read any of this, given what it had unread `now` and what the
    /// harness gave on the channel meanwhile (`given_since`, in bytes).
    pub fn read_since(&self, now: &[Unread], given_since: usize) -> bool {
        if self.amount == 0 {
            return false;
        }
        let left = now
            .iter()
            .find(|u| u.channel == self.channel)
            .map_or(self.amount, |u| u.amount);
        if self.exact {
            // A stream is read in order: anything read came from what was there first.
            left < self.amount + given_since as u64
        } else {
            left == 0 || (given_since == 0 && left < self.amount)
        }
    }
}

/// How the conversation with the peers has gone so far, for the steps that judge how it
/// ends (the program closing a connection, or exiting): they give credit only for ending a
/// conversation that took place.
#[derive(Debug, Default)]
pub struct Conversation {
    /// The first part of the conversation that did not take place: a check's name, and
    /// what was missing.
    gap: Option<String>,
    /// Whether the current check has acted yet: an ending after the check's own action
    /// (a hang-up, ^D) is that action's doing, and judged on its own.
    acted: bool,
    /// Whether a step of the current check found its part of the conversation missing.
    missing: Option<String>,
}

impl Conversation {
    /// A new check begins.
    pub fn begin_check(&mut self) {
        self.acted = false;
        self.missing = None;
    }

    /// The current check acts (see [`Conversation::unfinished`]).
    pub fn acts(&mut self) {
        self.acted = true;
    }

    /// A step found its part of the conversation missing: `what` did not happen (the
    /// program never sent what a peer waited for, never connected, was gone).
    pub fn missing(&mut self, what: impl Into<String>) {
        self.missing.get_or_insert_with(|| what.into());
    }

    /// The current check has ended; `not_reached` says why, if it never ran although it is
    /// part of the conversation.
    pub fn end_check(&mut self, check: &str, not_reached: Option<&str>) {
        let missing = self.missing.take().or(not_reached.map(str::to_string));
        if let Some(missing) = missing {
            self.gap.get_or_insert_with(|| format!("{check}: {missing}"));
        }
    }

    /// Why an ending judged now would not end a conversation that took place, if so.
    pub fn unfinished(&self) -> Option<&str> {
        self.gap.as_deref().filter(|_| !self.acted)
    }
}

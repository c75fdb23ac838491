//! The event loop: one `poll` over the program's screen, stderr and status pipe and the
//! harness's sockets, reading everything as it comes into the pieces of the session. A wait
//! has three ways to end besides what it waited for: what came was wrong, the program can
//! no longer make it come, or the deadline passed.

use std::time::{Duration, Instant};

use crate::report::Failure;
use crate::stuck::Waiting;

use super::Session;
use super::peers::PeerEvent;
use super::program::Source;
use crate::init::protocol::Status;
use crate::report::ProgramExit;
use super::stuck_check::Verdict;

/// What a wait's probe says after looking at the session.
pub enum Probe<T> {
    Ready(T),
    Failed(Failure),
    /// Nothing yet; wake on any event.
    Pending,
    /// Nothing yet; try again at this instant even if no event comes (connect retries).
    RetryAt(Instant),
}

/// Why a wait ended without what it waited for.
#[derive(Debug, Clone)]
pub enum Unmet {
    /// What came was wrong, or the program is gone: the probe's own failure.
    Failed(Failure),
    /// The program can no longer make it come: every thread of it waits for the harness.
    Stuck { waiting: Waiting, after: Duration },
    /// The deadline passed with the program still able to act.
    Deadline { waited: Duration },
}

impl Unmet {
    /// How long the wait lasted, when it was not cut short by a failure.
    pub fn waited(&self) -> Option<Duration> {
        match self {
            Unmet::Failed(_) => None,
            Unmet::Stuck { after, .. } => Some(*after),
            Unmet::Deadline { waited } => Some(*waited),
        }
    }
}

/// The outcome of every wait.
pub type Wait<T> = Result<T, Unmet>;

/// A descriptor the loop waits on.
#[derive(Clone, Copy)]
enum Watched {
    Program(Source),
    Peer(usize),
}

impl Session {
    /// Waits until `probe` is ready or fails, reading every event as it comes. The probe is
    /// asked again after each event, and once more (with `last` true) when the program turns
    /// out unable to act or the deadline comes, before the wait gives up.
    pub fn wait_for<T>(
        &mut self,
        mut probe: impl FnMut(&mut Session, bool) -> Probe<T>,
    ) -> Wait<T> {
        let begun = Instant::now();
        loop {
            let deadline = self.clock.deadline_from(begun);
            let now = Instant::now();
            let last = now >= deadline;
            let mut wake = match probe(self, last) {
                Probe::Ready(value) => return Ok(value),
                Probe::Failed(failure) => return Err(Unmet::Failed(failure)),
                _ if last => {
                    return Err(Unmet::Deadline {
                        waited: now - begun,
                    });
                }
                Probe::Pending => deadline,
                Probe::RetryAt(at) => at.min(deadline),
            };
            // Nothing yet: can the program still make it come?
            match self.ask_stuck() {
                Verdict::Stuck(waiting) => {
                    return match probe(self, true) {
                        Probe::Ready(value) => Ok(value),
                        Probe::Failed(failure) => Err(Unmet::Failed(failure)),
                        Probe::Pending | Probe::RetryAt(_) => Err(Unmet::Stuck {
                            waiting,
                            after: begun.elapsed(),
                        }),
                    };
                }
                Verdict::AskAt(at) => wake = wake.min(at),
                Verdict::MayAct => {}
            }
            self.pump(wake);
        }
    }

    /// Reads events for at most `window`, or until `done` (the compiler's run: until it
    /// ends, or its deadline).
    pub fn watch_for(&mut self, window: Duration, done: impl FnMut(&Session) -> bool) {
        self.pump_until(Instant::now() + window, done);
    }

    pub(super) fn pump_until(&mut self, deadline: Instant, mut done: impl FnMut(&Session) -> bool) {
        while !done(self) && Instant::now() < deadline {
            if !self.pump(deadline) {
                return;
            }
        }
    }

    /// As [`Session::pump_until`], but ends as soon as the program is blocked for good.
    pub(super) fn pump_until_or_stuck(
        &mut self,
        deadline: Instant,
        mut done: impl FnMut(&Session) -> bool,
    ) {
        while !done(self) && Instant::now() < deadline {
            let wake = match self.ask_stuck() {
                Verdict::Stuck(_) => return,
                Verdict::AskAt(at) => at.min(deadline),
                Verdict::MayAct => deadline,
            };
            if !self.pump(wake) {
                return;
            }
        }
    }

    /// Whether the program is blocked for good (see [`super::stuck_check`]).
    fn ask_stuck(&mut self) -> Verdict {
        let Session {
            stuck,
            place,
            program,
            ..
        } = self;
        stuck.ask(
            || super::program_processes(&place.isolation, program),
            || program.ask_init_to_look(),
        )
    }

    /// Waits for events until `wake` and reads everything that is ready. Returns false when
    /// nothing is left that could ever become ready.
    fn pump(&mut self, wake: Instant) -> bool {
        if self.program.running() {
            let Session {
                limits,
                place,
                program,
                ..
            } = self;
            limits.sample(|| super::program_processes(&place.isolation, program).len());
        }
        let mut watched = Vec::new();
        let mut fds = Vec::new();
        for (fd, source) in self.program.pollable() {
            fds.push(fd);
            watched.push(Watched::Program(source));
        }
        for (fd, index) in self.peers.pollable() {
            fds.push(fd);
            watched.push(Watched::Peer(index));
        }
        if fds.is_empty() {
            return false;
        }
        let ready = crate::poll::wait(&fds, crate::poll::Ready::Read, Some(wake));
        drop(fds);
        let Ok(ready) = ready else {
            return true;
        };
        for (ready, what) in ready.into_iter().zip(watched) {
            if !ready {
                continue;
            }
            let from_program = match what {
                Watched::Program(Source::Status) => self.read_status(),
                Watched::Program(source) => self.read_output(source),
                Watched::Peer(index) => self.read_peer(index),
            };
            // The one place where what the program did counts as a sign of life, and as
            // activity that any look at its threads must come after.
            if from_program {
                self.clock.saw_life();
                self.stuck.program_acted();
            }
        }
        // The moment the program ended after is taken once everything ready with its end
        // is read: a client that connected and died at once may have its connection and its
        // end read in one round, whichever first.
        if self.program.exit().is_some() {
            self.evidence.program_ended();
        }
        true
    }

    /// Reads the screen or stderr; whether anything came.
    fn read_output(&mut self, source: Source) -> bool {
        let data = self.program.read_output(source);
        if !data.is_empty() {
            let who = match source {
                Source::Screen => "screen",
                _ => "stderr",
            };
            self.transcript.bytes(who, &data);
        }
        !data.is_empty()
    }

    /// Reads init's status lines. The program's end is activity, not a sign of life; what
    /// init saw of its threads is neither.
    fn read_status(&mut self) -> bool {
        for status in self.program.read_status() {
            match status {
                Status::Looked(look) => {
                    self.stuck.answered(look);
                    continue;
                }
                Status::Started => {}
                Status::CannotStart { stage, error } => {
                    self.note("harness", format!("could not start the program: {stage}: {error}"))
                }
                Status::Exited(exit) => {
                    let exit: ProgramExit = exit.into();
                    self.note("program", format!("exits with {exit}"))
                }
                Status::Swept(0) => {}
                Status::Swept(n) => self.note(
                    "harness",
                    format!("{n} processes of the program were left, and killed"),
                ),
            }
            self.stuck.program_acted();
        }
        false
    }

    /// Reads what a peer received; whether the program did anything.
    fn read_peer(&mut self, index: usize) -> bool {
        match self.peers.read(index) {
            PeerEvent::Nothing => false,
            PeerEvent::Accepted { name, remote } => {
                self.note(name, format!("accepts a connection from {remote}"));
                self.evidence.connected_to(name);
                true
            }
            PeerEvent::Bytes { name, data, end } => {
                if !data.is_empty() {
                    self.transcript.bytes(format!("program → {name}"), &data);
                }
                match end {
                    Some(super::StreamEnd::Closed) => self.note(name, "sees end of stream"),
                    Some(super::StreamEnd::Reset) => self.note(name, "sees the connection reset"),
                    None => {}
                }
                !data.is_empty() || end.is_some()
            }
            PeerEvent::Datagrams { name, got } => {
                for (from, data) in &got {
                    self.transcript.datagram(
                        format!("program → {name}"),
                        data,
                        format!("from {from}"),
                    );
                }
                !got.is_empty()
            }
        }
    }
}

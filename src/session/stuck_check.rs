//! Whether the program can still make a wait's event come, asked while the wait goes on:
//! a look at its threads (see [`crate::stuck`]) once things have been quiet for a moment,
//! and a second look a moment later to confirm. Anything the harness gives the program or
//! sees of it starts over.

use std::time::{Duration, Instant};

use crate::stuck::{self, Look, Waiting};

/// How long after the last thing the harness gave the program, or saw of it, a first look
/// is taken: what the harness wrote has reached the program by then (a pty passes input on
/// through a kernel worker, which a busy machine may run a little late).
const QUIET: Duration = Duration::from_millis(50);
/// How long after a first look the second one is taken.
const CONFIRM_AFTER: Duration = Duration::from_millis(50);
/// How often to look while the program may still act.
const LOOK_EVERY: Duration = Duration::from_millis(50);

pub(super) enum Verdict {
    /// Every thread waits for the harness, and has for a while.
    Stuck(Waiting),
    /// Ask again at this instant.
    AskAt(Instant),
    /// The program may still act, and its threads cannot be looked at: only the deadline
    /// will tell.
    MayAct,
}

pub(super) struct StuckCheck {
    /// Whether the program's threads can be looked at here (`None` until first asked).
    possible: Option<bool>,
    first: Option<(Look, Instant)>,
    next_look: Instant,
    last_activity: Instant,
}

impl StuckCheck {
    pub fn new() -> StuckCheck {
        StuckCheck {
            possible: None,
            first: None,
            next_look: Instant::now(),
            last_activity: Instant::now(),
        }
    }

    /// The harness gave the program something or saw something of it: any look so far
    /// says nothing about what comes next.
    pub fn activity(&mut self) {
        self.last_activity = Instant::now();
        self.first = None;
    }

    /// Asks whether the program, whose processes `pids` gives, is stuck.
    pub fn ask(&mut self, pids: impl FnOnce() -> Vec<i32>) -> Verdict {
        if self.possible == Some(false) {
            return Verdict::MayAct;
        }
        let now = Instant::now();
        let quiet_from = self.last_activity + QUIET;
        if now < quiet_from {
            return Verdict::AskAt(quiet_from);
        }
        if let Some((_, at)) = &self.first
            && now < *at + CONFIRM_AFTER
        {
            return Verdict::AskAt(*at + CONFIRM_AFTER);
        }
        if self.first.is_none() && now < self.next_look {
            return Verdict::AskAt(self.next_look);
        }
        let pids = pids();
        if self.possible.is_none() {
            match pids.first() {
                Some(&pid) => self.possible = Some(stuck::can_look_at(pid)),
                None => return Verdict::AskAt(now + LOOK_EVERY),
            }
            if self.possible == Some(false) {
                return Verdict::MayAct;
            }
        }
        let look = stuck::look(&pids);
        match (self.first.take(), look) {
            (Some((first, _)), Some(second)) if stuck::confirmed(&first, &second) => {
                Verdict::Stuck(second.waiting().clone())
            }
            (_, Some(look)) => {
                self.first = Some((look, now));
                Verdict::AskAt(now + CONFIRM_AFTER)
            }
            (_, None) => {
                self.next_look = now + LOOK_EVERY;
                Verdict::AskAt(self.next_look)
            }
        }
    }
}

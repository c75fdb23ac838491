//! Whether the program can still make a wait's event come, asked while the wait goes on:
//! a look at its threads (see [`crate::stuck`]), once what the harness last gave it has had
//! a moment to reach it, and a second look a moment later to confirm. Anything the harness
//! gives the program or sees of it starts over.
//!
//! The harness looks itself where it may (namespaces; a program running as the student);
//! where it may not (root without CAP_SYS_PTRACE, as in Docker, looking at a sandbox user's
//! threads), it asks the program's init, which may (see [`crate::init::look`]), and the
//! answer comes on init's status pipe like any other event. Either way the verdict is the
//! same.

use std::time::{Duration, Instant};

use crate::stuck::{self, Look, Waiting};

/// How long after the last thing the harness gave the program a first look is taken: what
/// the harness wrote has reached the program by then (a pty passes input on through a
/// kernel worker, which a busy machine may run a little late). What the program does
/// needs no such wait: a look sees it running, and the second look any wake-up.
const QUIET: Duration = Duration::from_millis(50);
/// How long after a first look the second one is taken.
const CONFIRM_AFTER: Duration = Duration::from_millis(50);
/// How often to look while the program may still act.
const LOOK_EVERY: Duration = Duration::from_millis(50);
/// How long init's answer is waited for before asking again (init answers at once, unless
/// it is busy ending the run).
const ANSWER_PATIENCE: Duration = Duration::from_millis(500);

pub(super) enum Verdict {
    /// Every thread waits for the harness, and has for a while.
    Stuck(Waiting),
    /// Ask again at this instant.
    AskAt(Instant),
    /// The program may still act, and its threads cannot be looked at: only the deadline
    /// will tell.
    MayAct,
}

/// Who looks at the program's threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sight {
    /// The harness reads /proc itself.
    Direct,
    /// The program's init looks when asked, and answers on its status pipe.
    ThroughInit,
}

pub(super) struct StuckCheck {
    /// Who looks (`None` until first asked).
    sight: Option<Sight>,
    first: Option<(Look, Instant)>,
    next_look: Instant,
    /// When the harness last gave the program something.
    last_input: Instant,
    /// When the harness last gave the program something or saw something of it.
    last_activity: Instant,
    /// When init was asked to look, while its answer is awaited.
    asked: Option<Instant>,
    /// Init's answer, with when it was asked.
    answer: Option<(Option<Look>, Instant)>,
    /// Found stuck, and nothing has happened since.
    settled: bool,
}

impl StuckCheck {
    pub fn new() -> StuckCheck {
        StuckCheck {
            sight: None,
            first: None,
            next_look: Instant::now(),
            last_input: Instant::now(),
            last_activity: Instant::now(),
            asked: None,
            answer: None,
            settled: false,
        }
    }

    /// Whether the program was last found blocked for good, with nothing happening since.
    pub fn settled(&self) -> bool {
        self.settled
    }

    /// The harness gave the program something: any look so far says nothing about what
    /// comes next, and the next waits until it has reached the program.
    pub fn input_given(&mut self) {
        self.last_input = Instant::now();
        self.program_acted();
    }

    /// The harness saw the program do something: any look so far says nothing about what
    /// comes next.
    pub fn program_acted(&mut self) {
        self.last_activity = Instant::now();
        self.first = None;
        self.settled = false;
    }

    /// Init's answer to the last question (see [`crate::init::protocol::Status::Looked`]).
    pub fn answered(&mut self, look: Option<Look>) {
        if let Some(asked) = self.asked {
            self.answer = Some((look, asked));
        }
    }

    /// Asks whether the program, whose processes `pids` gives, is stuck; `ask_init` asks
    /// its init to look, and says whether it could.
    pub fn ask(
        &mut self,
        pids: impl FnOnce() -> Vec<i32>,
        ask_init: impl FnOnce() -> bool,
    ) -> Verdict {
        let now = Instant::now();
        let quiet_from = self.last_input + QUIET;
        if now < quiet_from {
            return Verdict::AskAt(quiet_from);
        }
        if let Some((look, asked)) = self.answer.take() {
            self.asked = None;
            // An answer to a question put before the last activity is out of date.
            if asked >= self.last_activity {
                return self.judge(look, asked);
            }
        }
        if let Some(asked) = self.asked {
            if now < asked + ANSWER_PATIENCE {
                return Verdict::AskAt(asked + ANSWER_PATIENCE);
            }
            // No answer: init is ending the run, or busy; ask again later.
            self.asked = None;
            self.next_look = now + LOOK_EVERY;
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
        let sight = match self.sight {
            Some(sight) => sight,
            None => {
                let Some(&pid) = pids.first() else {
                    return Verdict::AskAt(now + LOOK_EVERY);
                };
                let sight = if stuck::can_look_at(pid) {
                    Sight::Direct
                } else {
                    Sight::ThroughInit
                };
                self.sight = Some(sight);
                sight
            }
        };
        match sight {
            Sight::Direct => {
                let look = stuck::look(&pids);
                self.judge(look, now)
            }
            Sight::ThroughInit if ask_init() => {
                self.asked = Some(now);
                Verdict::AskAt(now + ANSWER_PATIENCE)
            }
            // Init is gone: so is the program.
            Sight::ThroughInit => Verdict::MayAct,
        }
    }

    /// What a look taken at `at` says, with the look before it.
    fn judge(&mut self, look: Option<Look>, at: Instant) -> Verdict {
        match (self.first.take(), look) {
            (Some((first, _)), Some(second)) if stuck::confirmed(&first, &second) => {
                self.settled = true;
                Verdict::Stuck(second.waiting().clone())
            }
            (_, Some(look)) => {
                self.first = Some((look, at));
                Verdict::AskAt(at + CONFIRM_AFTER)
            }
            (_, None) => {
                self.next_look = Instant::now() + LOOK_EVERY;
                Verdict::AskAt(self.next_look)
            }
        }
    }
}

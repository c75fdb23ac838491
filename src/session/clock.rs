//! When a wait ends at the latest. A program that has shown no sign of life yet may take
//! `startup` (interpreters are slow to start, more so on a busy machine); every other wait
//! lasts `step`. What counts as a sign of life is decided here, once: anything the program
//! did that the harness saw (output, a connection, a datagram, a socket it listens on).

use std::time::{Duration, Instant};

/// Deadlines for waits.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub step: Duration,
    pub startup: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            step: Duration::from_secs(3),
            startup: Duration::from_secs(10),
        }
    }
}

pub struct Clock {
    pub timeouts: Timeouts,
    launched_at: Option<Instant>,
    alive: bool,
}

impl Clock {
    pub fn new(timeouts: Timeouts) -> Clock {
        Clock {
            timeouts,
            launched_at: None,
            alive: false,
        }
    }

    pub fn launched(&mut self) {
        self.launched_at = Some(Instant::now());
    }

    /// The program did something the harness saw: it has started, and gets no start-up
    /// allowance any more.
    pub fn saw_life(&mut self) {
        self.alive = true;
    }

    /// The deadline of a wait that begins at `begun`.
    pub fn deadline_from(&self, begun: Instant) -> Instant {
        let step = begun + self.timeouts.step;
        match self.launched_at {
            Some(launched) if !self.alive => step.max(launched + self.timeouts.startup),
            _ => step,
        }
    }
}

//! What the program sends the harness on one stream, kept in a capped buffer: a program
//! that prints without end must not grow the harness.

/// How much of one stream is kept; the rest is counted.
const KEEP_BYTES: usize = 1 << 20;
/// How many of the last bytes an inbox remembers beyond its cap.
const TAIL_BYTES: usize = 64;

/// How a byte stream the harness reads has ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    Closed,
    Reset,
}

/// Bytes received on one stream: the first [`KEEP_BYTES`] kept, the rest counted, and a
/// cursor up to which steps have already matched.
#[derive(Debug, Default)]
pub struct Inbox {
    kept: Vec<u8>,
    matched_to: usize,
    /// Where the current epoch's bytes begin (see [`super::attribution`]).
    epoch_from: usize,
    dropped: u64,
    /// The last bytes received, kept or not: what a flood was printing at the end.
    tail: Vec<u8>,
    pub end: Option<StreamEnd>,
}

impl Inbox {
    pub(super) fn push(&mut self, data: &[u8]) {
        let room = KEEP_BYTES.saturating_sub(self.kept.len());
        let take = room.min(data.len());
        self.kept.extend_from_slice(&data[..take]);
        self.dropped += (data.len() - take) as u64;
        self.tail
            .extend_from_slice(&data[data.len().saturating_sub(TAIL_BYTES)..]);
        let excess = self.tail.len().saturating_sub(TAIL_BYTES);
        self.tail.drain(..excess);
    }

    /// The last bytes received (up to 64), even past the cap.
    pub fn tail(&self) -> &[u8] {
        &self.tail
    }

    /// Bytes received in all, kept or not.
    pub fn total(&self) -> u64 {
        self.kept.len() as u64 + self.dropped
    }

    /// What no step has matched yet.
    pub fn unmatched(&self) -> &[u8] {
        &self.kept[self.matched_to..]
    }

    pub fn consume(&mut self, n: usize) {
        self.matched_to = (self.matched_to + n).min(self.kept.len());
    }

    /// Marks everything received so far as judged: later steps must not blame it again.
    pub fn consume_all(&mut self) {
        self.matched_to = self.kept.len();
    }

    /// From now on, what comes belongs to a new epoch.
    pub(super) fn begin_epoch(&mut self) {
        self.epoch_from = self.kept.len();
    }

    /// What no step has matched yet and came before the current epoch: never evidence for
    /// this epoch's steps.
    pub fn from_earlier_epochs(&self) -> &[u8] {
        &self.kept[self.matched_to.min(self.epoch_from)..self.epoch_from]
    }

    /// What no step has matched yet of the current epoch's bytes.
    pub fn this_epoch(&self) -> &[u8] {
        &self.kept[self.matched_to.max(self.epoch_from)..]
    }

    pub fn all(&self) -> &[u8] {
        &self.kept
    }

    /// Bytes received but not kept.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    pub fn ended(&self) -> bool {
        self.end.is_some()
    }
}

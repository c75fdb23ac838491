//! What happened in a run, in order: who did or showed what, and when. Bytes are shown as
//! Python shows them; a burst from one source reads as one entry; past a cap only counted.

use std::time::{Duration, Instant};

use crate::escape;
use crate::report::Entry;

/// How much data the transcript shows in all before it only counts.
const TRANSCRIPT_BYTES: usize = 64 << 10;
/// Bytes from one source within this long of the last make one transcript entry.
const MERGE_WITHIN: Duration = Duration::from_millis(10);
const MERGE_UP_TO: usize = 2048;

#[derive(Default)]
pub struct Transcript {
    started: Started,
    entries: Vec<Entry>,
    bytes: usize,
    omitted: u64,
    /// The raw bytes of the last entry, while it may still grow.
    last_raw: Option<Vec<u8>>,
}

/// When the run began: when its transcript was made.
struct Started(Instant);

impl Default for Started {
    fn default() -> Self {
        Started(Instant::now())
    }
}

impl Transcript {
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Bytes not shown (a flood of output).
    pub fn omitted(&self) -> u64 {
        self.omitted
    }

    /// A plain note (`alice` `connects from ...`).
    pub(super) fn note(&mut self, who: impl Into<String>, text: impl Into<String>) {
        let at = self.started.0.elapsed();
        self.last_raw = None;
        self.entries.push(Entry {
            at,
            who: who.into(),
            text: text.into(),
        });
    }

    /// Bytes that went by (`screen` `b'Hello!\n'`).
    pub(super) fn bytes(&mut self, who: impl Into<String>, data: &[u8]) {
        let who = who.into();
        if self.bytes >= TRANSCRIPT_BYTES {
            self.omitted += data.len() as u64;
            return;
        }
        let take = (TRANSCRIPT_BYTES - self.bytes).min(data.len());
        self.bytes += take;
        self.omitted += (data.len() - take) as u64;
        let data = &data[..take];
        // A burst from one source (a flood, a line split across reads) reads best as one
        // entry.
        let now = self.started.0.elapsed();
        if let Some((last, raw)) = self.entries.last_mut().zip(self.last_raw.as_mut())
            && last.who == who
            && now - last.at < MERGE_WITHIN
            && raw.len() + data.len() <= MERGE_UP_TO
        {
            raw.extend_from_slice(data);
            last.text = escape::python_bytes(raw);
            return;
        }
        self.note(who, escape::python_bytes(data));
        self.last_raw = Some(data.to_vec());
    }

    /// A datagram gets an entry of its own, saying where it went: datagrams are units.
    pub(super) fn datagram(&mut self, who: String, data: &[u8], route: String) {
        self.bytes(who, data);
        if let Some(last) = self.entries.last_mut() {
            last.text = format!("{} (datagram {route})", last.text);
        }
        self.last_raw = None;
    }
}

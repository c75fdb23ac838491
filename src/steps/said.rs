//! A step as a lab file says it, and its value read for the kind that matched it: the
//! bytes, line or text (a string), the parts of a line (an array of strings), or `true`
//! for a step that needs nothing more. Placeholders are filled in only in the parts of
//! `prints line with` (see [`crate::placeholders`]); elsewhere `{{` and `}}` stand for
//! braces.
//!
//! Values that would grade nonsense are refused: a `... line` step's line holding a
//! newline; nothing to print, send or receive over TCP, or a line with no part (any
//! program would pass). Each kind refuses what makes no sense for it alone.

use crate::placeholders::{self, IN_LINES};

use super::{Peer, Step, StepKind};

/// A step as written: its phrase, the kind's phrase it matched (`PEER sends line`), its
/// peer, and its value.
pub struct Said<'a> {
    /// As written: `alice sends line`.
    pub phrase: &'a str,
    /// The kind's phrase it matched: `PEER sends line`.
    pub pattern: &'static str,
    pub(super) peer: Option<Peer>,
    pub value: &'a toml::Value,
}

impl Said<'_> {
    /// The peer a `PEER ...` phrase names.
    pub fn peer(&self) -> Peer {
        self.peer.unwrap_or(Peer::Alice)
    }

    /// A step that needs nothing more: its value is `true`.
    pub fn flag(&self) -> Result<(), String> {
        match self.value {
            toml::Value::Boolean(true) => Ok(()),
            _ => Err("this step takes no value: write `true`".into()),
        }
    }

    /// The step of a `PEER ...` phrase that needs nothing more, its value `true`.
    pub fn flag_for<K: StepKind + 'static>(&self, step: impl FnOnce(Peer) -> K) -> Result<Step, String> {
        self.flag()?;
        Ok(Step::new(step(self.peer())))
    }

    /// A string, its `{{` and `}}` made single braces; a lone brace is refused, as
    /// placeholders are filled in only in `prints line with`.
    pub fn text(&self) -> Result<String, String> {
        let raw = self
            .value
            .as_str()
            .ok_or_else(|| format!("this step takes a string, not {}", self.value.type_str()))?;
        let mut out = String::new();
        let mut chars = raw.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' | '}' if chars.peek() == Some(&c) => {
                    chars.next();
                    out.push(c);
                }
                '{' | '}' => {
                    return Err(format!(
                        "{raw:?}: placeholders are filled in only in `prints line with` and run arguments; write {{{{ or }}}} for a brace"
                    ));
                }
                c => out.push(c),
            }
        }
        Ok(out)
    }

    pub fn bytes(&self) -> Result<Vec<u8>, String> {
        self.text().map(String::into_bytes)
    }

    /// Bytes a step cannot do without: sending or expecting nothing would pass whatever
    /// the program does.
    pub fn something(&self) -> Result<Vec<u8>, String> {
        let bytes = self.bytes()?;
        if bytes.is_empty() {
            return Err(format!(
                "`{}` of nothing: it would pass whatever the program does; write the bytes",
                self.phrase
            ));
        }
        Ok(bytes)
    }

    /// The bytes of a `... line` step that sends, its newline added.
    pub fn line(&self) -> Result<Vec<u8>, String> {
        let mut line = self.one_line(self.bytes()?)?;
        line.push(b'\n');
        Ok(line)
    }

    /// A `... line` step's line, which holds no newline: the step adds or allows it.
    pub fn one_line(&self, line: Vec<u8>) -> Result<Vec<u8>, String> {
        if line.contains(&b'\n') {
            return Err(format!(
                "`{}` is one line, written without its newline: for several lines or exact bytes, use `{}`",
                self.phrase,
                self.phrase.trim_end_matches(" line")
            ));
        }
        Ok(line)
    }

    /// The parts of `prints line with`: strings whose placeholders are all known.
    pub fn parts(&self) -> Result<Vec<String>, String> {
        let array = self
            .value
            .as_array()
            .filter(|parts| !parts.is_empty())
            .ok_or("`prints line with` takes an array of strings, the parts of the line (one at least)")?;
        array
            .iter()
            .map(|part| {
                let part = part.as_str().ok_or("each part of the line is a string")?;
                if part.is_empty() {
                    return Err("an empty part is in every line: write what the line holds".into());
                }
                placeholders::check(part, IN_LINES)?;
                Ok(part.to_string())
            })
            .collect()
    }
}

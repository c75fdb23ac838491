//! What a lab is once loaded: a list of runs of checks, a check a list of steps, and a step
//! either acts (connect, send, type a line, hang up) or expects something (on the screen,
//! at a peer, the program's exit). Labs are written as lab files ([`crate::labfile`]); the
//! matching rules live here as plain functions on bytes; [`crate::runner`] carries the
//! steps out.

use std::collections::{BTreeSet, HashSet};

use crate::error::{Error, Result};
use crate::escape;

pub use crate::report::Proto;

/// A socket the harness plays, named after the lesson's hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// The client of the lesson's drawing (111.111.111.111).
    Alice,
    /// The server of the lesson's drawing (222.222.222.222).
    Bob,
}

impl Peer {
    pub fn name(self) -> &'static str {
        match self {
            Peer::Alice => "alice",
            Peer::Bob => "bob",
        }
    }
}

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A lab, as its lab file says it (see [`crate::labfile`]).
#[derive(Debug, Clone)]
pub struct Lab {
    pub name: String,
    pub aliases: Vec<String>,
    /// One line for `socklab labs`.
    pub summary: String,
    /// The port the lesson's program has written in it.
    pub lesson_port: u16,
    pub proto: Proto,
    /// Where `socklab labs` lists it (the lesson's order); labs without come after.
    pub order: Option<u32>,
    /// What to grade when no program is given (Activity 1: the `nc` on PATH).
    pub default_program: Option<String>,
    /// What a student hands in when it is the lesson's command lines, one for each run,
    /// rather than a program (Activity 1's `activity1.sh`): see [`crate::commands`].
    pub commands: Option<CommandFile>,
    /// What the program's environment has besides its fixed one (see [`crate::launch`]).
    pub env: Vec<(String, String)>,
    /// The program is run once per entry, each time in a fresh namespace; most labs have one.
    pub runs: Vec<Run>,
}

impl Lab {
    /// Every check of every run, in order.
    pub fn checks(&self) -> impl Iterator<Item = &Check> {
        self.runs.iter().flat_map(|r| r.checks.iter())
    }

    pub fn check_mut(&mut self, id: &str) -> Option<&mut Check> {
        self.runs
            .iter_mut()
            .flat_map(|r| r.checks.iter_mut())
            .find(|c| c.id == id)
    }

    pub fn max_score(&self) -> u32 {
        self.checks().map(|c| c.points).sum()
    }

    /// Whether `name` is this lab's name or one of its aliases.
    pub fn is_called(&self, name: &str) -> bool {
        self.name == name || self.aliases.iter().any(|a| a == name)
    }

    /// The lab cut down to check `id` and what it builds on (`--only`): the checks it
    /// needs, transitively, and every check before a kept one in its run, since a check
    /// carries on the conversation the checks before it began (serv_simple's
    /// `exits_cleanly` needs no other check, yet the program exits only after its chat).
    /// Runs left without a check are dropped. An unknown `id` is an error naming the checks.
    pub fn only(mut self, id: &str) -> Result<Lab> {
        if !self.checks().any(|c| c.id == id) {
            let ids: Vec<&str> = self.checks().map(|c| c.id.as_str()).collect();
            return Err(Error::Usage(format!(
                "{} has no check '{id}'; its checks are: {}",
                self.name,
                ids.join(", ")
            )));
        }
        let mut keep: HashSet<String> = HashSet::from([id.to_string()]);
        loop {
            let before = keep.len();
            for run in &self.runs {
                if let Some(last) = run.checks.iter().rposition(|c| keep.contains(&c.id)) {
                    for check in &run.checks[..=last] {
                        keep.insert(check.id.clone());
                        keep.extend(check.needs.iter().cloned());
                    }
                }
            }
            if keep.len() == before {
                break;
            }
        }
        for run in &mut self.runs {
            run.checks.retain(|c| keep.contains(&c.id));
        }
        self.runs.retain(|run| !run.checks.is_empty());
        Ok(self)
    }
}

/// A file of command lines, one for each run of a lab (Activity 1's `activity1.sh`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandFile {
    /// The file's name in a student's submission (`activity1.sh`); a file given to the lab
    /// with the same extension is read as its commands.
    pub file: String,
    /// The one-letter options that tell the runs' lines apart (`lu`: `-l` listens, `-u` is
    /// UDP); each run's own are those in its `args`.
    pub options: String,
}

impl CommandFile {
    /// Which of the telling options `words` give (`-lnv` gives `l` of `lu`).
    pub fn options_in(&self, words: &[String]) -> BTreeSet<char> {
        words
            .iter()
            .filter(|w| is_short_options(w))
            .flat_map(|w| w[1..].chars())
            .filter(|c| self.options.contains(*c))
            .collect()
    }
}

/// Whether `word` is one or more one-letter options (`-l`, `-lnv`), not `-` or `--long`.
pub fn is_short_options(word: &str) -> bool {
    word.len() > 1 && word.starts_with('-') && !word.starts_with("--")
}

/// One run of the program: the arguments the lab adds, what the harness prepares before the
/// program starts, and the checks.
#[derive(Debug, Clone)]
pub struct Run {
    /// What this run is, for reports ("TCP listener"); empty in a lab of one run.
    pub name: String,
    /// The transport of this run (the netcat lab has TCP runs and UDP runs).
    pub proto: Proto,
    /// Arguments added after the user's command, e.g. `-lnv {port}`; `{port}` and `{bob}`
    /// are filled in.
    pub args: Vec<String>,
    /// Other forms of the arguments, tried in order when the run's first check fails with
    /// the lesson's form (a netcat of another family).
    pub fallbacks: Vec<Fallback>,
    /// Harness-only steps before the program starts (listening for a client program).
    pub setup: Vec<Step>,
    pub checks: Vec<Check>,
}

#[derive(Debug, Clone)]
pub struct Fallback {
    pub args: Vec<String>,
    /// Why a program may need this form, said in the report when it is used.
    pub why: String,
}

#[derive(Debug, Clone)]
pub struct Check {
    /// Stable name, used in reports, rubrics and fixtures (`prints_client`).
    pub id: String,
    pub description: String,
    pub points: u32,
    /// Checks that must have passed for this one to make sense.
    pub needs: Vec<String>,
    pub steps: Vec<Scripted>,
}

/// A step and, optionally, what its failure usually means, in the student's terms.
#[derive(Debug, Clone)]
pub struct Scripted {
    pub step: Step,
    pub hint: Option<String>,
}

/// What the harness does or waits for. Each names whom it acts on: a peer (Alice or Bob),
/// the program, or its keyboard.
#[derive(Debug, Clone)]
pub enum Step {
    /// The peer listens on the lab's port on all addresses (before a client program starts).
    Listen(Peer),
    /// The peer connects to the program's port, retrying until it listens.
    Connect(Peer),
    /// Waits for the program to connect to the peer's listener.
    Accept(Peer),
    /// The peer sends these bytes on its connection.
    Send(Peer, Vec<u8>),
    /// Types a line and Enter on the program's keyboard.
    TypeLine(String),
    /// The peer closes its end of the connection.
    HangUp(Peer),
    /// The program shows this on its screen.
    Prints(Text),
    /// The program shows this on its stderr.
    PrintsOnStderr(Text),
    /// The peer receives this from the program.
    Receives(Peer, Received),
    /// The peer sees end of stream: the program closed the connection, sending nothing more.
    SeesEndOfStream(Peer),
    /// The program exits with this status.
    ExitsWith(i32),
    /// The program can be reached at Bob's address, as from another host (it did not bind
    /// 127.0.0.1 only).
    Reachable,
    /// The program has a UDP socket bound to the lab's port.
    BindsUdp,
    /// The peer sends one datagram to the program's port.
    SendDatagram(Peer, Vec<u8>),
    /// The peer receives one datagram holding this.
    ReceivesDatagram(Peer, Received),
    /// ^D on the keyboard (then Ctrl-C, if it goes on) ends the program.
    StopsAtEndOfInput,
    /// The peer binds a UDP socket on all addresses at the lab's port (for a client program).
    BindUdp(Peer),
    /// The peer answers, with one datagram, whoever sent it a datagram last.
    ReplyDatagram(Peer, Vec<u8>),
}

impl Step {
    /// Whether the step gives the program something to act on: a message, a datagram, a
    /// typed line, a hang-up, a key. What the program does from then on is that step's
    /// doing (see [`crate::runner`]).
    pub fn gives_input(&self) -> bool {
        matches!(
            self,
            Step::Send(..)
                | Step::TypeLine(_)
                | Step::HangUp(_)
                | Step::SendDatagram(..)
                | Step::ReplyDatagram(..)
                | Step::StopsAtEndOfInput
        )
    }

    /// Whether the step acts rather than only waits: it gives input, or connects.
    pub fn acts(&self) -> bool {
        self.gives_input() || matches!(self, Step::Connect(_))
    }

    /// Whether the step is part of the program's conversation with the peers: it talks to
    /// one, or waits for the program's socket.
    pub fn converses(&self) -> bool {
        match self {
            Step::Listen(_)
            | Step::Connect(_)
            | Step::Accept(_)
            | Step::Send(..)
            | Step::HangUp(_)
            | Step::Receives(..)
            | Step::SeesEndOfStream(_)
            | Step::SendDatagram(..)
            | Step::ReceivesDatagram(..)
            | Step::BindUdp(_)
            | Step::ReplyDatagram(..)
            | Step::BindsUdp => true,
            Step::TypeLine(_)
            | Step::Prints(_)
            | Step::PrintsOnStderr(_)
            | Step::ExitsWith(_)
            | Step::Reachable
            | Step::StopsAtEndOfInput => false,
        }
    }
}

/// What the program should show on its screen.
#[derive(Debug, Clone)]
pub enum Text {
    /// `b'Hello!\n'` (Python's `print(data)`) or the raw text `Hello!\n`.
    Printed(Vec<u8>),
    /// These bytes exactly, as they came.
    Raw(Vec<u8>),
    /// A whole line containing each part: text matched ignoring case, numbers as whole
    /// numbers. Parts may hold variables such as `{alice.port}`.
    LineWith(Vec<String>),
}

impl Text {
    /// Where the first match in `screen` ends, with variables already filled in `parts`.
    pub fn find(&self, screen: &[u8], parts: &[String]) -> Option<usize> {
        match self {
            Text::Printed(data) => {
                let repr = escape::python_bytes(data).into_bytes();
                let end = [repr.as_slice(), data.as_slice()]
                    .iter()
                    .filter_map(|form| find_bytes(screen, form).map(|at| at + form.len()))
                    .min()?;
                // The newline print() adds belongs to this output too.
                Some(if screen.get(end) == Some(&b'\n') {
                    end + 1
                } else {
                    end
                })
            }
            Text::Raw(data) => find_bytes(screen, data).map(|at| at + data.len()),
            Text::LineWith(_) => {
                let mut start = 0;
                while let Some(nl) = screen[start..].iter().position(|&b| b == b'\n') {
                    let line = &screen[start..start + nl];
                    if parts.iter().all(|part| line_has(line, part)) {
                        return Some(start + nl + 1);
                    }
                    start += nl + 1;
                }
                None
            }
        }
    }

    pub fn describe(&self, parts: &[String]) -> String {
        match self {
            Text::Printed(data) => format!(
                "{} (as print(data) shows bytes) or the text itself",
                escape::python_bytes(data)
            ),
            Text::Raw(data) => format!("{} exactly", escape::python_bytes(data)),
            Text::LineWith(_) => {
                let quoted: Vec<String> = parts
                    .iter()
                    .map(|p| {
                        if p.chars().all(|c| c.is_ascii_digit()) {
                            p.clone()
                        } else {
                            format!("\"{p}\"")
                        }
                    })
                    .collect();
                format!("a line with {}", quoted.join(" and "))
            }
        }
    }
}

pub fn find_bytes(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A number must stand alone (8000 is not in 18000); text is matched ignoring case.
fn line_has(line: &[u8], part: &str) -> bool {
    if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
        let needle = part.as_bytes();
        let mut from = 0;
        while let Some(at) = find_bytes(&line[from..], needle) {
            let start = from + at;
            let end = start + needle.len();
            let digit_before = start > 0 && line[start - 1].is_ascii_digit();
            let digit_after = end < line.len() && line[end].is_ascii_digit();
            if !digit_before && !digit_after {
                return true;
            }
            from = start + 1;
        }
        false
    } else {
        find_bytes(
            &line.to_ascii_lowercase(),
            part.to_ascii_lowercase().as_bytes(),
        )
        .is_some()
    }
}

/// What a peer should receive from the program.
#[derive(Debug, Clone)]
pub enum Received {
    /// These bytes and no more (the next step's bytes come only after this one passed).
    Exactly(Vec<u8>),
    /// The line, with or without `\n`, and nothing after it.
    Line(Vec<u8>),
}

/// What received bytes say about a [`Received`] expectation so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Matched; this many bytes are used up.
    Matched(usize),
    /// Cannot match any more.
    Wrong,
    /// Could still match if more comes.
    Incomplete,
    /// Enough to pass if nothing else comes by the deadline (a line without its newline).
    MatchedUnlessMore(usize),
}

impl Received {
    pub fn judge(&self, got: &[u8], ended: bool) -> Verdict {
        match self {
            Received::Exactly(want) => {
                if got == want.as_slice() {
                    Verdict::Matched(want.len())
                } else if want.starts_with(got) && !ended {
                    Verdict::Incomplete
                } else {
                    Verdict::Wrong
                }
            }
            Received::Line(line) => {
                let mut with_newline = line.clone();
                with_newline.push(b'\n');
                if got == with_newline.as_slice() {
                    Verdict::Matched(got.len())
                } else if got == line.as_slice() {
                    if ended {
                        Verdict::Matched(got.len())
                    } else {
                        Verdict::MatchedUnlessMore(got.len())
                    }
                } else if with_newline.starts_with(got) && !ended {
                    Verdict::Incomplete
                } else {
                    Verdict::Wrong
                }
            }
        }
    }

    /// The bytes whose arrival ends the wait even when what came first was wrong.
    pub fn awaited(&self) -> &[u8] {
        match self {
            Received::Exactly(want) | Received::Line(want) => want,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Received::Exactly(want) => escape::python_bytes(want),
            Received::Line(line) => {
                let mut with_newline = line.clone();
                with_newline.push(b'\n');
                format!(
                    "{} or {} and nothing else",
                    escape::python_bytes(line),
                    escape::python_bytes(&with_newline)
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    fn kept(lab: &str, only: &str) -> Vec<String> {
        let lab = crate::labs::find(lab).unwrap().only(only).unwrap();
        lab.checks().map(|c| c.id.clone()).collect()
    }

    #[test]
    fn only_keeps_the_check_what_it_needs_and_the_conversation_before_it() {
        assert_eq!(
            kept("serv_tcp", "prints_client"),
            ["accepts", "reachable", "prints_client"]
        );
        assert_eq!(kept("serv_tcp", "accepts"), ["accepts"]);
        let whole: Vec<String> = crate::labs::find("serv_simple")
            .unwrap()
            .checks()
            .map(|c| c.id.clone())
            .collect();
        assert_eq!(kept("serv_simple", "exits_cleanly"), whole);
        // Another run's checks only where needed: the UDP listener's run alone.
        assert_eq!(
            kept("netcat", "udp_listen_chat"),
            ["udp_listen", "udp_listen_chat"]
        );
        let netcat = crate::labs::find("netcat").unwrap().only("udp_listen").unwrap();
        assert_eq!(netcat.runs.len(), 1);
        assert_eq!(netcat.runs[0].fallbacks.len(), 1, "the run keeps its fallbacks");
    }

    #[test]
    fn only_an_unknown_check_names_the_labs_checks() {
        let Err(e) = crate::labs::find("conn_simple").unwrap().only("nope") else {
            panic!("accepted an unknown check");
        };
        assert_eq!(
            e.to_string(),
            "conn_simple has no check 'nope'; its checks are: connects, sends_hello, prints_reply, closes_connection, exits_cleanly"
        );
    }

    #[test]
    fn printed_accepts_python_bytes_or_raw_text() {
        let t = Text::Printed(b"Hello!\n".to_vec());
        assert_eq!(t.find(b"b'Hello!\\n'\n", &[]), Some(12));
        assert_eq!(t.find(b"Hello!\n\n", &[]), Some(8));
        assert_eq!(t.find(b"Hello!\nb", &[]), Some(7));
        assert_eq!(t.find(b"Hello!", &[]), None);
        assert_eq!(t.find(b"b'Hello!'\n", &[]), None);
    }

    #[test]
    fn line_with_needs_whole_numbers_on_one_complete_line() {
        let t = Text::LineWith(parts(&["connection from", "54214"]));
        let p = parts(&["connection from", "54214"]);
        assert!(
            t.find(b"connection from ('127.0.0.1', 54214)\n", &p)
                .is_some()
        );
        assert!(t.find(b"Connection from 127.0.0.1:54214\n", &p).is_some());
        assert!(
            t.find(b"connection from ('127.0.0.1', 542140)\n", &p)
                .is_none()
        );
        assert!(
            t.find(b"connection from ('127.0.0.1', 54214)", &p)
                .is_none()
        );
        assert!(t.find(b"connection from x\n54214\n", &p).is_none());
    }

    #[test]
    fn exact_bytes_fail_as_soon_as_they_differ() {
        let r = Received::Exactly(b"Hello!\n".to_vec());
        assert_eq!(r.judge(b"Hel", false), Verdict::Incomplete);
        assert_eq!(r.judge(b"Hel", true), Verdict::Wrong);
        assert_eq!(r.judge(b"Help", false), Verdict::Wrong);
        assert_eq!(r.judge(b"Hello!\n", false), Verdict::Matched(7));
        assert_eq!(r.judge(b"Hello!\n\0", false), Verdict::Wrong);
    }

    #[test]
    fn a_line_may_come_without_its_newline_but_with_nothing_else() {
        let r = Received::Line(b"hello back".to_vec());
        assert_eq!(r.judge(b"hello back\n", false), Verdict::Matched(11));
        assert_eq!(r.judge(b"hello back", true), Verdict::Matched(10));
        assert_eq!(
            r.judge(b"hello back", false),
            Verdict::MatchedUnlessMore(10)
        );
        assert_eq!(r.judge(b"hello back\r\n", false), Verdict::Wrong);
        assert_eq!(r.judge(b"hello back\nx", false), Verdict::Wrong);
        assert_eq!(r.judge(b"hello", false), Verdict::Incomplete);
    }
}

//! What a lab is once loaded: a list of runs of checks, a check a list of steps. Labs are
//! written as lab files ([`crate::labfile`]); each kind of step is a module of
//! [`crate::steps`]; [`crate::runner`] carries the checks out.

use std::collections::{BTreeSet, HashSet};

use crate::error::{Error, Result};

pub use crate::report::Proto;
pub use crate::steps::Step;

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

#[cfg(test)]
mod tests {
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
}

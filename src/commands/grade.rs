//! Grading a file of commands: each run of the lab is graded on its own, by the runner, as
//! a lab of that one run whose program is the line's (`nc`) and whose arguments are the
//! line's (`-lnv 9000`); a run without a line that can run loses its checks, the first
//! with the reason. The runs' events reach the caller as one lab's: one `Started`, naming
//! the file, each notice once, and one `Finished` with the runs' reports merged.

use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::placeholders::{self, IN_ARGS, Placeholder};
use crate::program::Program;
use crate::report::{Event, Failure, IsolationLevel, Notice, Outcome, Report, RunSummary};
use crate::runner::{self, Config};
use crate::script::{Lab, Run, is_short_options};
use crate::submission::LabInfo;

use super::{Handed, lesson_command};

/// Grades `handed`, the commands for `lab`'s runs, calling `on_event` as the runner does.
pub fn grade(
    lab: Lab,
    handed: &Handed,
    config: Config,
    on_event: &mut dyn FnMut(&Event),
) -> Result<Report> {
    let started = Instant::now();
    let mut events = OneLab {
        on_event,
        lab: lab.name.clone(),
        file: handed.file.clone(),
        place: None,
        held: Vec::new(),
        notices: handed.notices.iter().cloned().map(Notice::Program).collect(),
    };
    let mut passed: HashSet<String> = HashSet::new();
    let mut parts: Vec<Report> = Vec::new();
    for run in &lab.runs {
        let part = match program_for(&lab, run, handed)? {
            Ok((program, args)) => {
                let one = one_run(&lab, run, args, &passed);
                runner::grade(one, program, config.clone(), &mut |event| events.pass(event))?
            }
            Err(lost) => {
                let part = lost.report(&lab, run);
                events.send(Event::RunStarted {
                    name: run.name.clone(),
                    program: part.runs[0].program.clone(),
                });
                for check in &part.checks {
                    events.send(Event::CheckFinished(check.clone()));
                }
                part
            }
        };
        passed.extend(part.checks.iter().filter(|c| c.passed()).map(|c| c.id.clone()));
        parts.push(part);
    }
    // Nothing ran: the lab starts as a program that never ran does.
    events.start(lab.lesson_port, None);
    let report = merged(&lab, handed, parts, events.notices.clone(), started.elapsed());
    (events.on_event)(&Event::Finished(report.clone()));
    Ok(report)
}

/// The runs' events as one lab's.
struct OneLab<'a> {
    on_event: &'a mut dyn FnMut(&Event),
    lab: String,
    file: String,
    /// The port and isolation of the first run that ran, once it started.
    place: Option<(u16, Option<IsolationLevel>)>,
    /// Events of runs lost before any ran, sent once the lab has started.
    held: Vec<Event>,
    /// Every notice said so far (the file's, then the runs').
    notices: Vec<Notice>,
}

impl OneLab<'_> {
    /// Starts the lab, once: `Started` naming the file, the file's notices, what was held.
    fn start(&mut self, port: u16, isolation: Option<IsolationLevel>) {
        if self.place.is_some() {
            return;
        }
        self.place = Some((port, isolation));
        (self.on_event)(&Event::Started {
            lab: self.lab.clone(),
            program: vec![self.file.clone()],
            port,
            isolation,
        });
        for notice in &self.notices {
            (self.on_event)(&Event::Notice(notice.clone()));
        }
        for event in std::mem::take(&mut self.held) {
            (self.on_event)(&event);
        }
    }

    fn send(&mut self, event: Event) {
        if self.place.is_some() {
            (self.on_event)(&event);
        } else {
            self.held.push(event);
        }
    }

    /// An event of a run the runner grades.
    fn pass(&mut self, event: &Event) {
        match event {
            Event::Started {
                port, isolation, ..
            } => self.start(*port, *isolation),
            // Each run's place says the same things: once is enough.
            Event::Notice(notice) if self.notices.contains(notice) => {}
            Event::Notice(notice) => {
                self.notices.push(notice.clone());
                self.send(event.clone());
            }
            Event::Finished(_) => {}
            Event::RunStarted { .. } | Event::CheckFinished(_) | Event::NotGraded(_) => {
                self.send(event.clone())
            }
        }
    }
}

/// Why a run did not run, shown in its first check.
struct Lost {
    /// The line as written, split into words, if there was one.
    line: Option<Vec<String>>,
    got: String,
    /// Why, in a few words (the reason of the run's other checks).
    brief: String,
    why: String,
}

impl Lost {
    /// The run's report: the first check failed with the reason, the others not reached.
    fn report(self, lab: &Lab, run: &Run) -> Report {
        let alone = Lab {
            runs: vec![run.clone()],
            ..lab.clone()
        };
        let mut report = LabInfo::of(&alone).not_run(Vec::new(), Duration::ZERO, |index| {
            if index == 0 {
                Outcome::Failed(Failure::new(
                    format!("a command such as `{}`", lesson_command(lab, run)),
                    self.got.clone(),
                    self.why.clone(),
                ))
            } else {
                Outcome::NotReached {
                    reason: self.brief.clone(),
                }
            }
        });
        report.runs = vec![RunSummary {
            name: run.name.clone(),
            program: self.line.unwrap_or_default(),
            exit: None,
            stopped_by_harness: false,
            stderr_tail: String::new(),
            ran: false,
        }];
        report
    }
}

/// The program and arguments of `run`'s line, or why it has none that can run. A lab's own
/// program missing from the machine is socklab's error.
#[allow(clippy::type_complexity)]
fn program_for(
    lab: &Lab,
    run: &Run,
    handed: &Handed,
) -> Result<std::result::Result<(Program, Vec<String>), Lost>> {
    let Some(line) = handed.line_for(&run.name) else {
        return Ok(Err(Lost {
            line: None,
            got: format!("no line for it in {}", handed.file),
            brief: format!("{} has no line for this run", handed.file),
            why: format!(
                "{} has no command for '{}' (a line with the options of `{}`), so it could not run",
                handed.file,
                run.name,
                lesson_command(lab, run)
            ),
        }));
    };
    let lost = |why: String| {
        Ok(Err(Lost {
            line: Some(line.text.split_whitespace().map(String::from).collect()),
            got: line.shown(),
            brief: format!("line {} could not run", line.number),
            why: format!("{why}; the line was not run"),
        }))
    };
    let words = match &line.words {
        Ok(words) => words,
        Err(why) => return lost(why.clone()),
    };
    let (first, args) = words.split_first().expect("a line has a word");
    match Program::resolve(std::slice::from_ref(first)) {
        Ok(program) => Ok(Ok((program, args.to_vec()))),
        Err(e @ (Error::ProgramNotFound(_) | Error::NotExecutable(_)))
            if lab.default_program.as_ref() != Some(first) =>
        {
            lost(format!("`{first}` cannot be run on this machine ({e})"))
        }
        Err(e) => Err(e),
    }
}

/// `run` alone, as its line runs it: the line's arguments, and the lab's other forms of
/// them (another netcat family's) only when the line says what the lesson's command says.
/// A check that needs one of an earlier run that passed needs it no more; one that did not
/// pass leaves the check not reached.
fn one_run(lab: &Lab, run: &Run, args: Vec<String>, passed: &HashSet<String>) -> Lab {
    let mut run = run.clone();
    let lesson_form: Vec<String> = run
        .args
        .iter()
        .map(|a| {
            placeholders::replace(a, IN_ARGS, |p| {
                (p == Placeholder::Port).then(|| lab.lesson_port.to_string())
            })
        })
        .collect();
    if !same_arguments(&lesson_form, &args) {
        run.fallbacks.clear();
    }
    run.args = args;
    for check in &mut run.checks {
        check.needs.retain(|need| !passed.contains(need));
    }
    Lab {
        runs: vec![run],
        ..lab.clone()
    }
}

/// Whether two argument lists say the same: the same words in order, but for the letters of
/// short options, in any order and grouping (`-vnl` is `-lnv`, `-l -n -v` too).
fn same_arguments(a: &[String], b: &[String]) -> bool {
    split_options(a) == split_options(b)
}

/// The letters of the short options in `words`, and the other words in order.
fn split_options(words: &[String]) -> (BTreeSet<char>, Vec<&String>) {
    let (options, rest): (Vec<&String>, Vec<&String>) =
        words.iter().partition(|w| is_short_options(w));
    let letters = options.iter().flat_map(|w| w[1..].chars()).collect();
    (letters, rest)
}

/// The runs' reports as the lab's: as the runner merges its runs, the file as the program.
fn merged(
    lab: &Lab,
    handed: &Handed,
    parts: Vec<Report>,
    notices: Vec<Notice>,
    took: Duration,
) -> Report {
    let ran: Vec<&Report> = parts.iter().filter(|p| p.isolation.is_some()).collect();
    Report {
        lab: lab.name.clone(),
        program: vec![handed.file.clone()],
        port: ran.first().map_or(lab.lesson_port, |r| r.port),
        isolation: ran.first().and_then(|r| r.isolation),
        notices,
        checks: parts.iter().flat_map(|p| p.checks.clone()).collect(),
        transcript: parts.iter().flat_map(|p| p.transcript.clone()).collect(),
        transcript_omitted: parts.iter().map(|p| p.transcript_omitted).sum(),
        duration: took,
        runs: parts.iter().flat_map(|p| p.runs.clone()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn the_same_arguments_whatever_the_order_of_option_letters() {
        let same = |a, b| same_arguments(&words(a), &words(b));
        assert!(same("-lnv 9000", "-vnl 9000"));
        assert!(same("-lnv 9000", "-l -n -v 9000"));
        assert!(!same("-lnv 9000", "-ln 9000"));
        assert!(!same("-lnv 9000", "-lnv 9001"));
        assert!(!same("{bob} 9000", "9000 {bob}"));
    }
}

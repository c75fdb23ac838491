//! Runs one lab against one program: a thread of its own grades the lab's runs in turn, each
//! an [`Attempt`] in a place of its own (see [`crate::sandbox`]), and sends events to the
//! caller, who hands them to a reporter. A run whose lesson form of the arguments fails its
//! first check is attempted again in its other forms (a netcat of another family); an
//! attempt's events wait in its [`Outbox`] until it is kept. Each kind of step is carried
//! out by its own module of [`crate::steps`]; a check answers for what its input caused
//! ([`attribution`]).

mod attempt;
mod attribution;
mod outbox;

use std::sync::mpsc;
use std::time::Instant;

use crate::confine::Confinement;
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::program::Program;
use crate::report::{CheckResult, Event, Notice, Report};
use crate::sandbox::place::IsolationFloor;
use crate::script::Lab;
use crate::session::{ProgramFacts, Timeouts};

use attempt::{Attempt, RunResult};
use outbox::Outbox;

#[derive(Debug, Clone, Default)]
pub struct Config {
    pub timeouts: Timeouts,
    /// What the program may not see (other submissions, results); see [`crate::confine`].
    pub confinement: Confinement,
    /// The least isolation a run may have; below it socklab refuses to grade.
    pub isolation_floor: IsolationFloor,
    pub limits: Limits,
    /// The ports of every lab, which a guarded program may not bind unless its own (the
    /// engine knows no lab: whoever grades says).
    pub lab_ports: Vec<u16>,
}

/// Grades `program` against `lab`, calling `on_event` with each event as it happens.
pub fn grade(
    lab: Lab,
    program: Program,
    config: Config,
    on_event: &mut dyn FnMut(&Event),
) -> Result<Report> {
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name(format!("grade {}", lab.name))
        .spawn(move || grade_lab(&lab, &program, &config, &tx))
        .map_err(Error::io("starting a grading thread"))?;
    for event in rx {
        on_event(&event);
    }
    thread
        .join()
        .map_err(|_| Error::Internal("the grading thread panicked".into()))?
}

fn grade_lab(
    lab: &Lab,
    program: &Program,
    config: &Config,
    events: &mpsc::Sender<Event>,
) -> Result<Report> {
    let started = Instant::now();
    let mut kept: Vec<RunResult> = Vec::new();
    // What the program is, once per grading: its reasons' words fit its language.
    let facts = ProgramFacts {
        language: program.language(),
        args: Vec::new(),
        source: program.source_text(),
    };
    let mut notices = Vec::new();
    for run in &lab.runs {
        let earlier: Vec<CheckResult> = kept.iter().flat_map(|r| r.checks.clone()).collect();
        let attempt = |args| Attempt {
            lab,
            run,
            args,
            program,
            config,
            earlier: &earlier,
            starts_lab: kept.is_empty(),
            facts: &facts,
        };
        // The lesson's form first; other forms only where it fails the run's first check,
        // and only kept where they pass it.
        let hold = !run.fallbacks.is_empty();
        let mut lesson_out = Outbox::new(events, hold);
        let lesson = attempt(&run.args).run_apart(&mut lesson_out)?;
        let mut chosen = None;
        if !lesson.first_passed {
            for fallback in &run.fallbacks {
                let mut other = attempt(&fallback.args).run_apart(&mut Outbox::new(events, hold))?;
                if other.first_passed {
                    let notice = Notice::Program(format!(
                        "{}; {}, so this run was graded as `{}`",
                        lesson.first_failure,
                        fallback.why,
                        other.result.summary.program.join(" ")
                    ));
                    let _ = events.send(Event::Notice(notice.clone()));
                    other.result.notices.push(notice);
                    chosen = Some(other);
                    break;
                }
            }
        }
        let mut chosen = chosen.unwrap_or_else(|| {
            lesson_out.release();
            lesson
        });
        // A lab of several runs says each thing once.
        for notice in chosen.result.notices.drain(..) {
            if !notices.contains(&notice) {
                notices.push(notice);
            }
        }
        kept.push(chosen.result);
    }
    let first = kept
        .first()
        .ok_or_else(|| Error::Internal(format!("lab {} has no runs", lab.name)))?;
    let report = Report {
        lab: lab.name.to_string(),
        program: program.argv.clone(),
        port: first.port,
        isolation: Some(first.isolation.level()),
        notices,
        checks: kept.iter().flat_map(|r| r.checks.clone()).collect(),
        transcript: kept.iter().flat_map(|r| r.transcript.clone()).collect(),
        transcript_omitted: kept.iter().map(|r| r.transcript_omitted).sum(),
        duration: started.elapsed(),
        runs: kept.iter().map(|r| r.summary.clone()).collect(),
    };
    let _ = events.send(Event::Finished(report.clone()));
    Ok(report)
}

//! Runs one lab against one program: a thread of its own sets up the run's place (see
//! [`crate::sandbox`]), starts the program, carries out each check's steps (one file each
//! under [`steps`]) against the [`Session`], and sends events to the caller, who hands them
//! to a reporter.

mod attribution;
mod steps;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::confine::Confinement;
use crate::error::{Error, Result};
use crate::launch::Enclosure;
use crate::program::Program;
use crate::limits::Limits;
use crate::report::{
    CheckResult, Entry, Event, IsolationLevel, Notice, Outcome, Report, RunSummary,
};
use crate::sandbox::Isolation;
use crate::sandbox::place::{IsolationFloor, Place, Wanted};
use crate::script::{Lab, Run};
use crate::session::{Session, Timeouts};

use steps::run_step;

#[derive(Debug, Clone, Default)]
pub struct Config {
    pub timeouts: Timeouts,
    /// What the program may not see (other submissions, results); see [`crate::confine`].
    pub confinement: Confinement,
    /// The least isolation a run may have; below it socklab refuses to grade.
    pub isolation_floor: IsolationFloor,
    pub limits: Limits,
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

/// What one run of the program (in its kept argument form) produced.
struct RunResult {
    checks: Vec<CheckResult>,
    summary: RunSummary,
    port: u16,
    isolation: Isolation,
    notices: Vec<Notice>,
    transcript: Vec<Entry>,
    transcript_omitted: u64,
}

/// An attempt at a run in one form of its arguments.
struct Attempt {
    result: RunResult,
    /// Whether the first check passed (its events then went out as they happened).
    first_passed: bool,
    /// Events held back because the first check failed and another form may do better.
    held: Vec<Event>,
    /// Why the first check failed, for the note when another form is used.
    first_failure: String,
}

fn grade_lab(
    lab: &Lab,
    program: &Program,
    config: &Config,
    events: &mpsc::Sender<Event>,
) -> Result<Report> {
    let started = Instant::now();
    let mut kept: Vec<RunResult> = Vec::new();
    let mut notices = Vec::new();
    for run in &lab.runs {
        let hold = !run.fallbacks.is_empty();
        let first_event = kept.is_empty();
        let earlier: Vec<CheckResult> = kept.iter().flat_map(|r| r.checks.clone()).collect();
        // Each attempt gets a fresh namespace, so a thread of its own.
        let attempt = |args: &[String], first_event: bool| {
            std::thread::scope(|scope| {
                scope
                    .spawn(|| {
                        attempt_run(
                            lab,
                            run,
                            args,
                            program,
                            config,
                            &earlier,
                            hold,
                            first_event,
                            events,
                        )
                    })
                    .join()
                    .map_err(|_| Error::Internal("a grading thread panicked".into()))?
            })
        };
        // The lesson's form first; other forms only where it fails the run's first check,
        // and only kept where they pass it.
        let lesson = attempt(&run.args, first_event)?;
        let mut chosen = None;
        if !lesson.first_passed {
            for fallback in &run.fallbacks {
                let mut other = attempt(&fallback.args, first_event)?;
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
            for event in lesson.held.iter().cloned() {
                let _ = events.send(event);
            }
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
    let last = kept
        .last()
        .ok_or_else(|| Error::Internal(format!("lab {} has no runs", lab.name)))?;
    let report = Report {
        lab: lab.name.to_string(),
        program: program.argv.clone(),
        port: kept[0].port,
        isolation: Some(kept[0].isolation.level()),
        notices,
        checks: kept.iter().flat_map(|r| r.checks.clone()).collect(),
        exit: last.summary.exit,
        stopped_by_harness: last.summary.stopped_by_harness,
        stderr_tail: last.summary.stderr_tail.clone(),
        transcript: kept.iter().flat_map(|r| r.transcript.clone()).collect(),
        transcript_omitted: kept.iter().map(|r| r.transcript_omitted).sum(),
        duration: started.elapsed(),
        runs: kept.iter().map(|r| r.summary.clone()).collect(),
    };
    let _ = events.send(Event::Finished(report.clone()));
    Ok(report)
}

/// Events of an attempt: held back until released, then sent as they come.
struct Outbox<'a> {
    held: Option<Vec<Event>>,
    events: &'a mpsc::Sender<Event>,
}

impl Outbox<'_> {
    fn send(&mut self, event: Event, release: bool) {
        match &mut self.held {
            Some(queue) if !release => queue.push(event),
            _ => {
                for event in self.held.take().into_iter().flatten().chain([event]) {
                    let _ = self.events.send(event);
                }
            }
        }
    }
}

/// One run of the program with one form of the lab's arguments, on the calling thread,
/// which enters a fresh namespace for it. With `hold`, events wait until the first check
/// has passed, so that a form given up on leaves no trace in the report.
#[allow(clippy::too_many_arguments)]
fn attempt_run(
    lab: &Lab,
    run: &Run,
    args: &[String],
    program: &Program,
    config: &Config,
    earlier: &[CheckResult],
    hold: bool,
    first_event: bool,
    events: &mpsc::Sender<Event>,
) -> Result<Attempt> {
    let mut out = Outbox {
        held: Some(Vec::new()),
        events,
    };
    let wanted = Wanted {
        floor: config.isolation_floor,
        proto: run.proto,
        port: lab.lesson_port,
        fixed_port: !program.takes_port(),
        harness_binds: run
            .setup
            .iter()
            .any(|s| matches!(s, crate::script::Step::Listen(_) | crate::script::Step::BindUdp(_))),
        patience: config.timeouts.step * 2,
        confinement: &config.confinement,
        others_ports: crate::labs::all().iter().map(|l| l.lesson_port).collect(),
    };
    let (place, placed) = Place::set_up(&wanted, program)?;
    let isolation = place.isolation.clone();
    let mut notices = Vec::new();
    if let Some(notice) = isolation.notice()
        && first_event
    {
        // Once per process on stderr, however many runs and attempts follow.
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| eprintln!("socklab: {notice}"));
    }
    notices.extend(place.notices.iter().cloned().map(Notice::Grading));
    // A C file is compiled here, in the run's own place, as its program will run.
    let placed = crate::build::build(&placed, &place, config.limits)?;
    let port = place.port;
    let limits = place.limits(config.limits);
    // A limit not kept matters where socklab grades others' programs (as root); on a
    // student's own machine, as at the `none` level, there is no adversary to keep out.
    if isolation.level() != IsolationLevel::None && crate::sandbox::real_ids().0 == 0 {
        notices.extend(limits.notice().map(Notice::Grading));
    }
    let mut enclosure = Enclosure::in_place(&place, &limits);
    enclosure.env = lab.env.clone();
    let bob = isolation.hosts().bob.to_string();
    let given = program;
    let program = placed.with_args(args.iter().map(|a| a.replace("{bob}", &bob)));

    let mut session = Session::new(isolation.clone(), port, config.timeouts, limits);
    for step in &run.setup {
        run_step(&mut session, step)
            .map_err(|f| Error::Internal(format!("preparing the lab: {}", f.message)))?;
    }
    // A program that never ran is socklab's failure (exit 2), not the student's zero.
    session.launch(&program, &enclosure)?;
    let shown_argv = program.args_for(port);
    if first_event {
        out.send(
            Event::Started {
                lab: lab.name.to_string(),
                program: given.argv.clone(),
                port,
                isolation: Some(isolation.level()),
            },
            false,
        );
        for notice in &notices {
            out.send(Event::Notice(notice.clone()), false);
        }
    }
    if !run.name.is_empty() {
        out.send(
            Event::RunStarted {
                name: run.name.to_string(),
                program: shown_argv.clone(),
            },
            false,
        );
    }

    let mut results: Vec<CheckResult> = Vec::new();
    let mut first_failure = String::new();
    // Whether an earlier check already told the program's end: a check that then finds it
    // gone was not reached. The first check to meet the end tells it in full, whether the
    // program died just before that check began or during it (which of the two depends on
    // how fast init's word comes), so that the reason is the same however loaded the machine.
    let mut gone_before = false;
    for (index, check) in run.checks.iter().enumerate() {
        let began = Instant::now();
        let mark = session.transcript().len();
        let unmet = check.needs.iter().find(|id| {
            !earlier
                .iter()
                .chain(&results)
                .any(|r| r.id == **id && r.passed())
        });
        session.conversation.begin_check();
        let outcome = if let Some(unmet) = unmet {
            Outcome::NotReached {
                reason: format!("needs '{unmet}', which did not pass"),
            }
        } else {
            let opened = attribution::open(&mut session, check);
            let steps = check.steps.iter().try_for_each(|scripted| {
                if scripted.step.acts() {
                    session.conversation.acted = true;
                }
                run_step(&mut session, &scripted.step).map_err(|mut failure| {
                    // A hint explains a mistake, not a crash.
                    if let Some(hint) = scripted.hint.as_ref().filter(|_| !failure.program_gone) {
                        failure.message = format!("{}\n{hint}", failure.message);
                    }
                    failure
                })
            });
            // A program that ran into a limit fails for that reason first.
            let steps = steps.map_err(|mut failure| {
                if let Some(limit) = session.limit_hit() {
                    failure.message = format!("{limit}; {}", failure.message);
                }
                failure
            });
            let outcome = match steps {
                Ok(()) => Outcome::Passed,
                Err(failure) if failure.program_gone && gone_before => Outcome::NotReached {
                    reason: format!("{} before this check", session.program.how_ended_briefly()),
                },
                Err(failure) => Outcome::Failed(failure),
            };
            match opened {
                Some(opened) => attribution::close(&mut session, opened, outcome),
                None => outcome,
            }
        };
        let not_reached = match &outcome {
            Outcome::NotReached { reason } if check.steps.iter().any(|s| s.step.converses()) => {
                Some(format!("not reached ({reason})"))
            }
            _ => None,
        };
        session.conversation.end_check(&check.id, not_reached.as_deref());
        session.settle_exit();
        gone_before |= matches!(&outcome, Outcome::Failed(f) if f.program_gone);
        let passed = matches!(outcome, Outcome::Passed);
        if index == 0 && !passed {
            let why = if session.program.exit.is_some() {
                session.program.how_ended_briefly()
            } else {
                match &outcome {
                    Outcome::Failed(f) => f.message.lines().next().unwrap_or_default().to_string(),
                    Outcome::NotReached { reason } => reason.clone(),
                    Outcome::Passed => String::new(),
                }
            };
            first_failure = format!("`{}` did not work: {why}", shown_argv.join(" "));
            if session.program.exit.is_some() && !run.name.is_empty() {
                // Say plainly which of the lesson's commands this program cannot run.
                let notice =
                    Notice::Program(format!("`{}` ended at once: {why}", shown_argv.join(" ")));
                out.send(Event::Notice(notice.clone()), false);
                notices.push(notice);
            }
        }
        // Held events go out once the first check has passed (or at once without `hold`).
        let release = !hold || (index == 0 && passed) || out.held.is_none();
        let result = CheckResult {
            id: check.id.to_string(),
            description: check.description.to_string(),
            points: if passed { check.points } else { 0 },
            max: check.points,
            transcript: match outcome {
                Outcome::Failed(_) => session.transcript()[mark..].to_vec(),
                _ => Vec::new(),
            },
            outcome,
            duration: began.elapsed(),
        };
        out.send(Event::CheckFinished(result.clone()), release);
        results.push(result);
    }

    session.finish();
    let mut transcript = session.transcript().to_vec();
    if !run.name.is_empty() {
        transcript.insert(
            0,
            Entry {
                at: Duration::ZERO,
                who: "harness".into(),
                text: format!("run '{}': {}", run.name, shown_argv.join(" ")),
            },
        );
    }
    let first_passed = results.first().is_some_and(CheckResult::passed);
    Ok(Attempt {
        first_passed,
        held: out.held.take().unwrap_or_default(),
        first_failure,
        result: RunResult {
            checks: results,
            summary: RunSummary {
                name: run.name.to_string(),
                program: shown_argv,
                exit: session.program.exit,
                stopped_by_harness: session.program.stopped_by_harness,
                stderr_tail: session.program.stderr_tail(20),
            },
            port,
            isolation,
            notices,
            transcript,
            transcript_omitted: session.transcript_omitted(),
        },
    })
}

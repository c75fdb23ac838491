//! One attempt at a run of a lab: the program, in one form of the run's arguments, in a
//! place of its own. [`Attempt::prepare`] sets up the place, the limits and the session and
//! starts the program; [`Attempt::check`] carries out one check into its result (what it
//! needs, its steps with their hints, the limit the program ran into, what its input
//! caused, and the note a failed first check leaves); [`Attempt::finish`] stops the program
//! and says how the run went. Its events go out through an [`Outbox`].

use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::launch::Enclosure;
use crate::placeholders::{self, IN_ARGS, Placeholder};
use crate::program::Program;
use crate::reasons;
use crate::report::{CheckResult, Entry, Event, IsolationLevel, Notice, Outcome, RunSummary};
use crate::sandbox::Isolation;
use crate::sandbox::place::{Place, Wanted};
use crate::script::{Check, Lab, Run};
use crate::session::{ProgramFacts, Session};

use super::Config;
use super::attribution;
use super::outbox::Outbox;

/// What an attempt is given.
pub struct Attempt<'a> {
    pub lab: &'a Lab,
    pub run: &'a Run,
    /// The form of the run's arguments this attempt uses.
    pub args: &'a [String],
    pub program: &'a Program,
    pub config: &'a Config,
    /// The checks of the lab's earlier runs, for `needs`.
    pub earlier: &'a [CheckResult],
    /// Whether its run is the lab's first: it starts the lab's events.
    pub starts_lab: bool,
    /// What the program is (its language, its source), known once per grading.
    pub facts: &'a ProgramFacts,
}

/// What one run of the program produced.
pub struct RunResult {
    pub checks: Vec<CheckResult>,
    pub summary: RunSummary,
    pub port: u16,
    pub isolation: Isolation,
    pub notices: Vec<Notice>,
    pub transcript: Vec<Entry>,
    pub transcript_omitted: u64,
}

/// How an attempt went.
pub struct Attempted {
    pub result: RunResult,
    /// Whether the run's first check passed (its events then went out as they happened).
    pub first_passed: bool,
    /// Why the first check failed, for the note when another form is used.
    pub first_failure: String,
}

/// An attempt under way.
struct Running {
    session: Session,
    /// Where it happens, held until the program is gone: its folder, its user, its port.
    place: Place,
    /// The command as run, `{port}` filled in.
    argv: Vec<String>,
    port: u16,
    isolation: Isolation,
    notices: Vec<Notice>,
    results: Vec<CheckResult>,
    first_failure: String,
    /// Whether an earlier check already told the program's end: a check that then finds it
    /// gone was not reached. The first check to meet the end tells it in full, whether the
    /// program died just before that check began or during it (which of the two depends on
    /// how fast init's word comes), so that the reason is the same however loaded the machine.
    gone_before: bool,
}

impl Attempt<'_> {
    /// The attempt, on a thread of its own, which enters a fresh namespace for it.
    pub fn run_apart(&self, out: &mut Outbox) -> Result<Attempted> {
        std::thread::scope(|scope| {
            scope
                .spawn(|| self.run(out))
                .join()
                .map_err(|_| Error::Internal("a grading thread panicked".into()))?
        })
    }

    fn run(&self, out: &mut Outbox) -> Result<Attempted> {
        let mut running = self.prepare(out)?;
        for (index, check) in self.run.checks.iter().enumerate() {
            let result = self.check(&mut running, index, check, out);
            // A run that may be graded in another form holds its events until its first
            // check has passed.
            if index == 0 && result.passed() {
                out.release();
            }
            out.send(Event::CheckFinished(result.clone()));
            running.results.push(result);
        }
        Ok(self.finish(running))
    }

    /// The run's place, limits and session, the harness's setup, and the program started.
    /// A program that never ran is socklab's failure (exit 2), not the student's zero.
    fn prepare(&self, out: &mut Outbox) -> Result<Running> {
        let (lab, run, config) = (self.lab, self.run, self.config);
        let wanted = Wanted {
            floor: config.isolation_floor,
            proto: run.proto,
            port: lab.lesson_port,
            fixed_port: !self.program.takes_port(),
            harness_binds: run.setup.iter().any(|s| s.role().takes_port.is_some()),
            patience: config.timeouts.step * 2,
            confinement: &config.confinement,
            others_ports: config.lab_ports.clone(),
        };
        let (place, placed) = Place::set_up(&wanted, self.program)?;
        let isolation = place.isolation.clone();
        if let Some(notice) = isolation.notice()
            && self.starts_lab
        {
            // Once per process on stderr, however many runs and attempts follow.
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| eprintln!("socklab: {notice}"));
        }
        let mut notices: Vec<Notice> = place.notices.iter().cloned().map(Notice::Grading).collect();
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
        let args = self.args.iter().map(|arg| {
            placeholders::replace(arg, IN_ARGS, |p| match p {
                Placeholder::Bob => Some(bob.clone()),
                Placeholder::Port => Some(port.to_string()),
                Placeholder::PeerIp(_) | Placeholder::PeerPort(_) => None,
            })
        });
        let program = placed.with_args(args);

        let mut session = Session::new(isolation.clone(), port, config.timeouts, limits);
        for step in &run.setup {
            step.run(&mut session).map_err(|f| {
                Error::Internal(format!("preparing the lab: {}", f.message()))
            })?;
        }
        let argv = program.args_for(port);
        session.evidence_mut().set_facts(ProgramFacts {
            args: argv.get(self.program.argv.len()..).unwrap_or_default().to_vec(),
            ..self.facts.clone()
        });
        session.launch(&program, &enclosure)?;
        if self.starts_lab {
            out.send(Event::Started {
                lab: lab.name.to_string(),
                program: self.program.argv.clone(),
                port,
                isolation: Some(isolation.level()),
            });
            for notice in &notices {
                out.send(Event::Notice(notice.clone()));
            }
        }
        if !run.name.is_empty() {
            out.send(Event::RunStarted {
                name: run.name.to_string(),
                program: argv.clone(),
            });
        }
        Ok(Running {
            session,
            place,
            argv,
            port,
            isolation,
            notices,
            results: Vec::new(),
            first_failure: String::new(),
            gone_before: false,
        })
    }

    /// Carries out `check`, the run's `index`th, into its result.
    fn check(
        &self,
        running: &mut Running,
        index: usize,
        check: &Check,
        out: &mut Outbox,
    ) -> CheckResult {
        let began = Instant::now();
        let s = &mut running.session;
        let mark = s.transcript().entries().len();
        s.conversation_mut().begin_check();
        s.evidence_mut().begin_check();
        let outcome = match self.unmet_need(check, &running.results) {
            Some(unmet) => Outcome::NotReached {
                reason: format!("needs '{unmet}', which did not pass"),
            },
            None => carry_out(s, check, running.gone_before),
        };
        let not_reached = match &outcome {
            Outcome::NotReached { reason } if check.steps.iter().any(|s| s.step.converses()) => {
                Some(format!("not reached ({reason})"))
            }
            _ => None,
        };
        s.conversation_mut().end_check(&check.id, not_reached.as_deref());
        s.settle_exit();
        running.gone_before |= matches!(&outcome, Outcome::Failed(f) if f.program_gone);
        let passed = matches!(outcome, Outcome::Passed);
        if index == 0 && !passed {
            self.first_failed(running, &outcome, out);
        }
        CheckResult {
            id: check.id.to_string(),
            description: check.description.to_string(),
            points: if passed { check.points } else { 0 },
            max: check.points,
            transcript: match outcome {
                Outcome::Failed(_) => running.session.transcript().entries()[mark..].to_vec(),
                _ => Vec::new(),
            },
            outcome,
            duration: began.elapsed(),
        }
    }

    /// The check `check` needs that did not pass, in this run or an earlier one.
    fn unmet_need<'c>(&self, check: &'c Check, results: &[CheckResult]) -> Option<&'c String> {
        check.needs.iter().find(|id| {
            !self
                .earlier
                .iter()
                .chain(results)
                .any(|r| r.id == **id && r.passed())
        })
    }

    /// The run's first check did not pass: why, for the note when another form is used, and
    /// said at once when the program ended at once in a run of a lab of several.
    fn first_failed(&self, running: &mut Running, outcome: &Outcome, out: &mut Outbox) {
        let s = &running.session;
        let ended = s.program().exit().is_some();
        let why = if ended {
            s.program().how_ended_briefly()
        } else {
            match outcome {
                Outcome::Failed(f) => f.headline(),
                Outcome::NotReached { reason } => reason.clone(),
                Outcome::Passed => String::new(),
            }
        };
        let command = running.argv.join(" ");
        running.first_failure = format!("`{command}` did not work: {why}");
        if ended && !self.run.name.is_empty() {
            // Say plainly which of the lesson's commands this program cannot run.
            let notice = Notice::Program(format!("`{command}` ended at once: {why}"));
            out.send(Event::Notice(notice.clone()));
            running.notices.push(notice);
        }
    }

    /// The program stopped, and how the run went.
    fn finish(&self, running: Running) -> Attempted {
        let Running {
            mut session,
            place,
            argv,
            port,
            isolation,
            notices,
            results,
            first_failure,
            ..
        } = running;
        session.finish();
        let mut transcript = session.transcript().entries().to_vec();
        if !self.run.name.is_empty() {
            transcript.insert(
                0,
                Entry {
                    at: Duration::ZERO,
                    who: "harness".into(),
                    text: format!("run '{}': {}", self.run.name, argv.join(" ")),
                },
            );
        }
        let attempted = Attempted {
            first_passed: results.first().is_some_and(CheckResult::passed),
            first_failure,
            result: RunResult {
                checks: results,
                summary: RunSummary {
                    name: self.run.name.to_string(),
                    program: argv,
                    exit: session.program().exit(),
                    stopped_by_harness: session.program().stopped_by_harness(),
                    stderr_tail: session.program().stderr_tail(20),
                    ran: true,
                },
                port,
                isolation,
                notices,
                transcript,
                transcript_omitted: session.transcript().omitted(),
            },
        };
        // The place goes once the program is gone: its user's processes are killed then.
        drop(session);
        drop(place);
        attempted
    }
}

/// The check's steps against the session, each failure with its step's hint (where the
/// reason has no advice of its own, and the hint fits the program's language), and the limit
/// the program ran into as its first reason; then what the check's input caused is charged
/// to it (see [`attribution`]). A failure because the program is gone, when an earlier
/// check already told its end, is a check not reached.
fn carry_out(s: &mut Session, check: &Check, gone_before: bool) -> Outcome {
    let opened = attribution::open(s, check);
    let language = s.evidence().language();
    let steps = check.steps.iter().try_for_each(|scripted| {
        if scripted.step.acts() {
            s.conversation_mut().acts();
        }
        scripted
            .step
            .run(s)
            .map_err(|failure| {
                let hint = scripted.hint.as_deref();
                failure.with_hint(hint.filter(|h| reasons::step_hint_fits(h, language)))
            })
    });
    let outcome = match steps {
        Ok(()) => Outcome::Passed,
        Err(failure) => {
            let failure = failure.with_limit(s.limit_hit());
            if failure.program_gone && gone_before {
                Outcome::NotReached {
                    reason: format!("{} before this check", s.program().how_ended_briefly()),
                }
            } else {
                Outcome::Failed(failure)
            }
        }
    };
    match opened {
        Some(opened) => attribution::close(s, opened, outcome),
        None => outcome,
    }
}

//! `socklab check`: what it was asked to grade (`FILE`, `LAB FILE`, `LAB -- CMD ARGS`, or a
//! lab alone), made ready by [`crate::submission`]'s rules and graded; and `--only`'s note.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::commands;
use crate::error::{Error, Result};
use crate::labs;
use crate::program::Program;
use crate::report::{Event, Notice, Report};
use crate::runner::{self, Config};
use crate::script::Lab;
use crate::submission::{CompileError, Prepared, RunBy, lab_named_by, prepare, replay};

/// What `socklab check` was asked to grade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// The student's file, run by [`crate::submission`]'s rules.
    File(PathBuf),
    /// A command line, given after `--`.
    Command(Vec<String>),
    /// Nothing: the lab's own default (the netcat lab grades the `nc` on PATH).
    LabDefault,
}

/// The lab and what to grade against it, from `socklab check`'s words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckTarget {
    pub lab: String,
    pub subject: Subject,
}

impl CheckTarget {
    /// `FILE`, `LAB FILE`, `LAB -- CMD ARGS` or `LAB`: `first` is the first word, `file`
    /// the second, `command` what came after `--`. Plain values only; nothing is run.
    pub fn from_args(
        first: Option<&str>,
        file: Option<&Path>,
        command: &[String],
    ) -> Result<CheckTarget> {
        let Some(first) = first else {
            return Err(Error::Usage(
                "name the lab and the program's file: socklab check serv_tcp serv_tcp.py (socklab labs lists the labs)".into(),
            ));
        };
        let target = |subject| {
            Ok(CheckTarget {
                lab: first.to_string(),
                subject,
            })
        };
        match (file, command.is_empty()) {
            (Some(file), false) => Err(Error::Usage(format!(
                "give the program as a file or as a command after --, not both: socklab check {first} {}",
                file.display()
            ))),
            (Some(file), true) => target(Subject::File(file.to_path_buf())),
            (None, false) => target(Subject::Command(command.to_vec())),
            (None, true) => match labs::find(first) {
                Ok(_) => target(Subject::LabDefault),
                // A file whose name says the lab: socklab check serv_tcp.py
                Err(_) if first.contains(['.', '/']) || Path::new(first).is_file() => {
                    Ok(CheckTarget {
                        lab: lab_named_by(Path::new(first))?,
                        subject: Subject::File(first.into()),
                    })
                }
                Err(unknown_lab) => Err(unknown_lab),
            },
        }
    }

    /// Makes the program ready to grade against `lab`.
    pub fn prepare(&self, lab: &Lab) -> Result<Prepared> {
        let ready = |program| Ok(Prepared::Ready(program));
        match &self.subject {
            Subject::File(file) => prepare(file, lab),
            Subject::Command(argv) => ready(self.resolve(argv)?),
            Subject::LabDefault => match &lab.default_program {
                Some(program) => ready(Program::resolve(&[program.to_string()])?),
                None => Err(Error::Usage(format!(
                    "no program given: name its file, e.g. socklab check {0} {0}.py (or give a command after --: socklab check {0} -- python3 {0}.py)",
                    self.lab
                ))),
            },
        }
    }

    /// The command after `--`; a lone file that is no command (`-- serv_tcp.py`, not on
    /// PATH or not executable) gets the command that grades it.
    fn resolve(&self, argv: &[String]) -> Result<Program> {
        match Program::resolve(argv) {
            Err(Error::ProgramNotFound(_) | Error::NotExecutable(_))
                if argv.len() == 1 && runs_as_a_file(Path::new(&argv[0])) =>
            {
                let file = &argv[0];
                let why = if file.contains('/') {
                    "is not executable"
                } else {
                    "is not a command on PATH"
                };
                Err(Error::Usage(format!(
                    "{file} {why}; to grade that file, run: socklab check {} {file} (a .py runs with python3, a .c is compiled with cc)",
                    self.lab
                )))
            }
            resolved => resolved,
        }
    }
}

/// Whether [`prepare`] knows how to run `file`: a `.py`, a `.c`, or an executable.
fn runs_as_a_file(file: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(file) else {
        return false;
    };
    meta.is_file() && (RunBy::of(file) != RunBy::Itself || meta.permissions().mode() & 0o111 != 0)
}

/// Grades what `target` names against `lab`. A file that does not compile, or is missing
/// or empty, is graded too, as the student's zero.
pub fn grade(
    target: &CheckTarget,
    lab: Lab,
    config: Config,
    on_event: &mut dyn FnMut(&Event),
) -> Result<Report> {
    let prepared = target.prepare(&lab)?;
    match grade_prepared(prepared, lab.clone(), config, on_event) {
        // A C file the compiler refused in its run: the student's mistake, every check lost.
        Err(e) => match CompileError::of(&e) {
            Some(error) => {
                let report = error.report(&lab);
                replay(&report, on_event);
                Ok(report)
            }
            None => Err(e),
        },
        graded => graded,
    }
}

/// Grades a file made ready: its program, or its commands run by run; a file that never
/// runs (missing or empty) as every check lost, with why. A C file the compiler refuses
/// in its run is [`Error::DidNotCompile`], for the caller to say.
pub fn grade_prepared(
    prepared: Prepared,
    lab: Lab,
    config: Config,
    on_event: &mut dyn FnMut(&Event),
) -> Result<Report> {
    let never_ran = match prepared {
        Prepared::Ready(program) => return runner::grade(lab, program, config, on_event),
        Prepared::Commands(handed) => return commands::grade(lab, &handed, config, on_event),
        Prepared::NotHandedIn(absent) => absent.report(&lab),
    };
    replay(&never_ran, on_event);
    Ok(never_ran)
}

/// What `--only CHECK` says at the top of the report: the checks that ran.
pub fn only_notice(check: &str, kept: &Lab) -> String {
    let ran: Vec<&str> = kept.checks().map(|c| c.id.as_str()).collect();
    format!(
        "--only {check}: ran {} alone, so the score counts only them (grade without --only for the lab's mark)",
        ran.join(", ")
    )
}

/// Passes `event` on, with `notice` said after the start and kept in the final report.
pub fn with_notice(event: &Event, notice: Option<&String>, on_event: &mut dyn FnMut(&Event)) {
    match (event, notice) {
        (Event::Finished(report), Some(notice)) => {
            let mut report = report.clone();
            report.notices.insert(0, Notice::Program(notice.clone()));
            on_event(&Event::Finished(report));
        }
        (Event::Started { .. }, Some(notice)) => {
            on_event(event);
            on_event(&Event::Notice(Notice::Program(notice.clone())));
        }
        _ => on_event(event),
    }
}


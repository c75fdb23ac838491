//! A student's file and how to run it. `socklab check FILE`, `socklab check LAB FILE`,
//! `socklab grade LAB DIR FILE` and Gradescope's run_autograder all go through here, so the
//! rules live in one place:
//!
//! - The lab comes from the file's name: a lab's name or alias in it (`serv_tcp.py`,
//!   `serv_udp.c`, `my-serv-simple.py`), `-` counting as `_`.
//! - A `.py` runs with `python3`, or with the interpreter its `#!` line names when the file
//!   is executable.
//! - A `.c` is compiled with `cc` first, as part of each run, inside the run's own place
//!   (see [`crate::build`]). A compile error is the student's, not socklab's:
//!   [`CompileError`], reported as every check failed, the compiler's message in the first.
//! - Any other file runs as it is (it must be executable).
//! - A file that is missing or empty is not graded ([`crate::unsubmitted`]); a lab's file
//!   of commands (`activity1.sh`) is read as such ([`crate::commands`]).
//!
//! A submission that never ran still gets a report of every check ([`LabInfo::not_run`]).

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use crate::commands::{Handed, commands_file};
use crate::error::{Error, Result};
use crate::labs;
use crate::program::Program;
use crate::report::{CheckResult, Event, Failure, Notice, Outcome, Report};
use crate::script::Lab;
use crate::unsubmitted::Unsubmitted;

/// The lab `file`'s name says, by name or alias (`serv_udp.py` is `udp_serv`).
pub fn lab_named_by(file: &Path) -> Result<String> {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().to_lowercase().replace('-', "_"))
        .unwrap_or_default();
    let mut found: Vec<String> = labs::all()
        .into_iter()
        .filter(|lab| {
            std::iter::once(&lab.name)
                .chain(&lab.aliases)
                .any(|name| stem.contains(name.as_str()))
        })
        .map(|lab| lab.name)
        .collect();
    found.dedup();
    match &found[..] {
        [lab] => Ok(lab.clone()),
        _ => Err(Error::Usage(format!(
            "{} does not say which lab it is for: name the lab first, e.g. socklab check serv_tcp {} (the labs: {})",
            file.display(),
            file.display(),
            labs::names()
        ))),
    }
}

/// What runs a student's file, by its extension: the rule `check`, `grade` and Gradescope
/// share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunBy {
    /// A `.py`: `python3`, or the interpreter its `#!` line names when it is executable.
    Python,
    /// A `.c`: compiled with `cc` first, in its run.
    Compiler,
    /// Anything else runs as it is: it must be executable.
    Itself,
}

impl RunBy {
    pub fn of(file: &Path) -> RunBy {
        match file.extension().and_then(|e| e.to_str()) {
            Some("py") => RunBy::Python,
            Some("c") => RunBy::Compiler,
            _ => RunBy::Itself,
        }
    }
}

/// A file made ready to grade.
pub enum Prepared {
    /// A program to run; a `.c` file is compiled first, in the run (a file the compiler
    /// refuses is [`Error::DidNotCompile`] from there).
    Ready(Program),
    /// A file of commands, one for each of the lab's runs.
    Commands(Handed),
    /// A file missing or empty: the lab is not graded, every check lost.
    NotHandedIn(Unsubmitted),
}

/// What the compiler said about a file it refused.
#[derive(Debug, Clone)]
pub struct CompileError {
    /// The file as the user named it.
    pub file: String,
    /// The compiler's message, control characters escaped, cut after a few dozen lines.
    pub message: String,
}

/// Makes `file` ready to grade against `lab` by the rules above. A file that cannot be run
/// is an error (socklab could not grade); a file that is missing or empty is not; a `.c`
/// is compiled in its run.
pub fn prepare(file: &Path, lab: &Lab) -> Result<Prepared> {
    if let Some(absent) = Unsubmitted::of(file) {
        return Ok(Prepared::NotHandedIn(absent));
    }
    if let Some(commands) = commands_file(file, lab) {
        return Ok(Prepared::Commands(Handed::read(file, lab, commands)?));
    }
    let shown = file.display().to_string();
    let meta = std::fs::metadata(file).map_err(|_| Error::ProgramNotFound(shown.clone()))?;
    if !meta.is_file() {
        return Err(Error::ProgramNotFound(format!("{shown} (not a file)")));
    }
    let executable = meta.permissions().mode() & 0o111 != 0;
    let program = match RunBy::of(file) {
        RunBy::Python if executable && has_shebang(file) => Program::resolve(&[runnable(file)])?,
        RunBy::Python => Program::resolve(&["python3".into(), shown])?,
        RunBy::Compiler => {
            let cc = which::which("cc").map_err(|_| {
                Error::Usage(format!(
                    "cc not found: grading {shown} needs a C compiler (e.g. apt-get install gcc)"
                ))
            })?;
            Program::from_source(file, cc)
        }
        RunBy::Itself => Program::resolve(&[runnable(file)])?,
    };
    Ok(Prepared::Ready(program))
}

/// `file` as a command that names it rather than something on PATH (`./serv.py`).
fn runnable(file: &Path) -> String {
    let shown = file.display().to_string();
    if shown.contains('/') {
        shown
    } else {
        format!("./{shown}")
    }
}

fn has_shebang(file: &Path) -> bool {
    let mut start = [0u8; 2];
    std::fs::File::open(file)
        .and_then(|mut f| f.read_exact(&mut start))
        .is_ok_and(|()| &start == b"#!")
}

impl CompileError {
    /// What the compiler said, if `error` is a file it refused.
    pub fn of(error: &Error) -> Option<CompileError> {
        match error {
            Error::DidNotCompile { file, message } => Some(CompileError {
                file: file.clone(),
                message: message.clone(),
            }),
            _ => None,
        }
    }

    /// The compiler's first error line (or first line).
    fn first_error(&self) -> &str {
        self.message
            .lines()
            .find(|l| l.contains("error"))
            .or_else(|| self.message.lines().next())
            .unwrap_or_default()
    }

    /// One line: the file and the compiler's first error.
    pub fn summary(&self) -> String {
        format!("{} did not compile: {}", self.file, self.first_error())
    }

    /// The report of `lab` for this file, which never ran: the first check failed with the
    /// compiler's whole message (what JUnit and classroom show of it), the others not
    /// reached because of it, as after any first check that failed; a notice says it in
    /// one line (the top of the human, JSON and Gradescope reports).
    pub fn report(&self, lab: &Lab) -> Report {
        let mut report = LabInfo::of(lab).not_run(vec![self.file.clone()], Duration::ZERO, |index| {
            if index == 0 {
                Outcome::Failed(Failure::new(
                    format!("{} to compile with cc", self.file),
                    self.first_error(),
                    format!("it did not compile, so it could not run; cc said:\n{}", self.message),
                ))
            } else {
                Outcome::NotReached {
                    reason: format!("{} did not compile", self.file),
                }
            }
        });
        report.notices.push(Notice::Program(self.summary()));
        report
    }
}

/// Hands `report`, of a program that never ran, to `on_event` as a run's events.
pub fn replay(report: &Report, on_event: &mut dyn FnMut(&Event)) {
    on_event(&Event::Started {
        lab: report.lab.clone(),
        program: report.program.clone(),
        port: report.port,
        isolation: report.isolation,
    });
    for notice in &report.notices {
        on_event(&Event::Notice(notice.clone()));
    }
    for check in &report.checks {
        on_event(&Event::CheckFinished(check.clone()));
    }
    on_event(&Event::Finished(report.clone()));
}

/// What a report needs of a lab to say how a program that never ran fared on each check.
pub struct LabInfo {
    pub name: String,
    pub checks: Vec<CheckInfo>,
}

pub struct CheckInfo {
    pub id: String,
    pub description: String,
    pub points: u32,
}

impl LabInfo {
    pub fn of(lab: &Lab) -> LabInfo {
        LabInfo {
            name: lab.name.to_string(),
            checks: lab
                .checks()
                .map(|c| CheckInfo {
                    id: c.id.to_string(),
                    description: c.description.to_string(),
                    points: c.points,
                })
                .collect(),
        }
    }

    /// The report of `program`, which never ran: no points, and each check's outcome from
    /// `outcome` (called with the check's index).
    pub fn not_run(
        &self,
        program: Vec<String>,
        took: Duration,
        outcome: impl Fn(usize) -> Outcome,
    ) -> Report {
        Report {
            lab: self.name.clone(),
            program,
            port: 0,
            isolation: None,
            notices: Vec::new(),
            checks: self
                .checks
                .iter()
                .enumerate()
                .map(|(index, c)| CheckResult {
                    id: c.id.clone(),
                    description: c.description.clone(),
                    points: 0,
                    max: c.points,
                    outcome: outcome(index),
                    transcript: Vec::new(),
                    duration: Duration::ZERO,
                })
                .collect(),
            transcript: Vec::new(),
            transcript_omitted: 0,
            duration: took,
            runs: Vec::new(),
        }
    }
}

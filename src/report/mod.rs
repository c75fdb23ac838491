//! Plain data that leaves the engine: what each check found, the whole run's report, and
//! the events reporters consume; and for `socklab grade`, each submission of a class and
//! the class as a whole. Nothing here knows of ptys, namespaces or sockets.

mod class;
mod failure;

use std::time::Duration;

pub use class::{ClassEvent, ClassReport, ClassSummary, NotGraded, Submission, Verdict};
pub use failure::Failure;

/// Something a report says besides its checks, and whom it is for: a format read by two
/// audiences (Gradescope's students and staff) shows students only what is about the program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// About the program and how it was run, in the lesson's words (a C file that did not
    /// compile, the netcat arguments it was graded with, a file not submitted): for anyone.
    Program(String),
    /// About where and how socklab graded (isolation and why, limits not kept, paths hidden,
    /// its own trouble): for whoever runs socklab, never for students.
    Grading(String),
}

impl Notice {
    pub fn text(&self) -> &str {
        match self {
            Notice::Program(text) | Notice::Grading(text) => text,
        }
    }

    /// Whether students may read it.
    pub fn for_students(&self) -> bool {
        matches!(self, Notice::Program(_))
    }
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.text())
    }
}

/// One line of a run's transcript: who did or showed what, and when.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Since the run began.
    pub at: Duration,
    /// `screen`, `stderr`, `keyboard`, `alice → program`, `program → alice`, `alice`,
    /// `program`, `harness`.
    pub who: String,
    /// Bytes shown as Python shows them (`b'Hello!\n'`), or a plain note.
    pub text: String,
}

#[derive(Debug, Clone)]
pub enum Outcome {
    Passed,
    Failed(Failure),
    /// An earlier check this one depends on failed, or the program was already gone.
    NotReached {
        reason: String,
    },
}

#[derive(Debug, Clone)]
pub struct CheckResult {
    pub id: String,
    pub description: String,
    pub points: u32,
    pub max: u32,
    pub outcome: Outcome,
    /// What happened during this check (kept for failures).
    pub transcript: Vec<Entry>,
    pub duration: Duration,
}

impl CheckResult {
    pub fn passed(&self) -> bool {
        matches!(self.outcome, Outcome::Passed)
    }
}

/// Everything known about one run of one program against one lab.
#[derive(Debug, Clone)]
pub struct Report {
    pub lab: String,
    pub program: Vec<String>,
    pub port: u16,
    /// How the run was kept apart from the machine; `None` for a submission never run.
    pub isolation: Option<IsolationLevel>,
    /// Things the reader should know that are not checks (fallbacks, isolation, limits).
    pub notices: Vec<Notice>,
    pub checks: Vec<CheckResult>,
    pub transcript: Vec<Entry>,
    /// Transcript bytes not shown (a flood of output).
    pub transcript_omitted: u64,
    pub duration: Duration,
    /// Each run of the program (one for most labs; the netcat lab runs it in four roles).
    pub runs: Vec<RunSummary>,
}

/// How one run of the program went, apart from its checks.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// Empty for a lab of one run.
    pub name: String,
    /// The command as run, `{port}` filled in.
    pub program: Vec<String>,
    pub exit: Option<ProgramExit>,
    pub stopped_by_harness: bool,
    pub stderr_tail: String,
    /// Whether the program ran in this run (a line of Activity 1's file that could not run
    /// did not).
    pub ran: bool,
}

impl Report {
    /// The last run of the program that ran: how it ended is how the report says the
    /// program ended.
    fn last_ran(&self) -> Option<&RunSummary> {
        self.runs.iter().rev().find(|run| run.ran)
    }

    /// How the program ended, in its last run that ran.
    pub fn exit(&self) -> Option<ProgramExit> {
        self.last_ran().and_then(|run| run.exit)
    }

    /// Whether the harness had to stop the program, in its last run that ran.
    pub fn stopped_by_harness(&self) -> bool {
        self.last_ran().is_some_and(|run| run.stopped_by_harness)
    }

    /// The end of what the program wrote on stderr, in its last run that ran.
    pub fn stderr_tail(&self) -> &str {
        self.last_ran().map_or("", |run| &run.stderr_tail)
    }

    pub fn score(&self) -> u32 {
        self.checks.iter().map(|c| c.points).sum()
    }

    pub fn max_score(&self) -> u32 {
        self.checks.iter().map(|c| c.max).sum()
    }

    /// No marks lost: every check that carries points passed. A check a rubric set to 0
    /// points is reported but does not count, here or in the exit status.
    pub fn full_marks(&self) -> bool {
        self.checks.iter().all(|c| c.passed() || c.max == 0)
    }
}

/// What the runner tells reporters, in order: one `Started`, a `CheckFinished` per check,
/// one `Finished`. When socklab cannot grade, `socklab check` ends the events with one
/// `NotGraded` instead of `Finished`.
#[derive(Debug, Clone)]
pub enum Event {
    Started {
        lab: String,
        program: Vec<String>,
        port: u16,
        /// `None` for a program that never ran (a C file that did not compile).
        isolation: Option<IsolationLevel>,
    },
    Notice(Notice),
    /// A lab of several runs starts the next one (not sent for a lab of one run).
    RunStarted {
        name: String,
        program: Vec<String>,
    },
    CheckFinished(CheckResult),
    Finished(Report),
    NotGraded(NotGraded),
}

/// How the program ended, as init reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum ProgramExit {
    Exited(i32),
    Signaled(i32),
}

impl ProgramExit {
    pub fn from_status(status: std::process::ExitStatus) -> Option<ProgramExit> {
        use std::os::unix::process::ExitStatusExt;
        status
            .code()
            .map(ProgramExit::Exited)
            .or(status.signal().map(ProgramExit::Signaled))
    }

    pub fn is_success(self) -> bool {
        self == ProgramExit::Exited(0)
    }
}

impl std::fmt::Display for ProgramExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            ProgramExit::Exited(code) => write!(f, "status {code}"),
            ProgramExit::Signaled(sig) => {
                let name = nix::sys::signal::Signal::try_from(sig)
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_else(|_| format!("signal {sig}"));
                write!(f, "signal {name}")
            }
        }
    }
}

/// How a run was kept apart from the machine, best first. What each guarantees is in the
/// README ("Isolation").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IsolationLevel {
    /// The run's own network, PID and mount namespaces: nothing outside the run is in reach.
    Namespaces,
    /// The host's loopback, the program as a user of its own (namespaces refused, as root).
    Uid,
    /// The host's loopback, the program as socklab's own user.
    None,
}

impl std::fmt::Display for IsolationLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            IsolationLevel::Namespaces => "namespaces",
            IsolationLevel::Uid => "uid",
            IsolationLevel::None => "none",
        })
    }
}

/// The least isolation a run may have (`--isolation`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum IsolationFloor {
    #[default]
    Any,
    Uid,
    Namespaces,
}

impl std::fmt::Display for IsolationFloor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            IsolationFloor::Any => "any",
            IsolationFloor::Uid => "uid",
            IsolationFloor::Namespaces => "namespaces",
        })
    }
}

impl IsolationFloor {
    pub fn allows(self, level: IsolationLevel) -> bool {
        match self {
            IsolationFloor::Any => true,
            IsolationFloor::Uid => level != IsolationLevel::None,
            IsolationFloor::Namespaces => level == IsolationLevel::Namespaces,
        }
    }
}

/// The transport a lab's program uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Proto {
    Tcp,
    Udp,
}

impl std::fmt::Display for Proto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Proto::Tcp => "TCP",
            Proto::Udp => "UDP",
        })
    }
}

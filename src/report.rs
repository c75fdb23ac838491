//! Plain data that leaves the engine: what each check found, the whole run's report, and
//! the events reporters consume. Nothing here knows of ptys, namespaces or sockets.

use std::time::Duration;

use crate::init::ProgramExit;

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

/// Why a check failed, in the student's terms.
#[derive(Debug, Clone, Default)]
pub struct Failure {
    /// What the check waited for.
    pub expected: String,
    /// What came instead (bytes escaped), or the state things were in.
    pub got: String,
    /// A plain explanation: what happened and what it usually means.
    pub message: String,
    /// How long the step waited before giving up, if it timed out.
    pub waited: Option<Duration>,
    /// The step failed because the program was gone, not because of what it did.
    pub program_gone: bool,
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
    /// `own network namespace` or `host loopback`.
    pub isolation: String,
    /// Things the user should know that are not checks (fallbacks, adjustments).
    pub notices: Vec<String>,
    pub checks: Vec<CheckResult>,
    pub exit: Option<ProgramExit>,
    pub stopped_by_harness: bool,
    pub stderr_tail: String,
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
}

impl Report {
    pub fn score(&self) -> u32 {
        self.checks.iter().map(|c| c.points).sum()
    }

    pub fn max_score(&self) -> u32 {
        self.checks.iter().map(|c| c.max).sum()
    }

    pub fn full_marks(&self) -> bool {
        self.checks.iter().all(CheckResult::passed)
    }
}

/// What the runner tells reporters, in order: one `Started`, a `CheckFinished` per check,
/// one `Finished`.
#[derive(Debug, Clone)]
pub enum Event {
    Started {
        lab: String,
        program: Vec<String>,
        port: u16,
        isolation: String,
    },
    Notice(String),
    /// A lab of several runs starts the next one (not sent for a lab of one run).
    RunStarted {
        name: String,
        program: Vec<String>,
    },
    CheckFinished(CheckResult),
    Finished(Report),
}

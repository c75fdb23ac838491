//! Plain data that leaves the engine: what each check found, the whole run's report, and
//! the events reporters consume; and for `socklab grade`, each submission of a class and
//! the class as a whole. Nothing here knows of ptys, namespaces or sockets.

use std::time::Duration;

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

/// Why a check failed, in the student's terms: each part a field of its own, built by the
/// constructors below and put into words in one place ([`Failure::explanation`], which
/// every reporter shows), never glued into one text to be split apart again.
#[derive(Debug, Clone)]
pub struct Failure {
    /// What the check waited for.
    pub expected: String,
    /// What came instead (bytes escaped), or the state things were in.
    pub got: String,
    /// What happened, in plain words; a traceback or a compiler's message runs over lines.
    pub why: String,
    /// What a failure of this step usually means: the lab's hint for it. Never given when
    /// the program was gone, since a hint explains a mistake, not a crash.
    pub hint: Option<String>,
    /// The limit the program ran into, which is the reason before any other.
    pub limit: Option<String>,
    /// What had just happened when the step gave up (the harness's last input, the
    /// program's last act): a place for it, not filled or shown yet.
    pub moment: Option<String>,
    /// The last line the program printed: a place for it, not filled or shown yet.
    pub last_line: Option<String>,
    /// How long the step waited before giving up, if it timed out.
    pub waited: Option<Duration>,
    /// The step failed because the program was gone, not because of what it did.
    pub program_gone: bool,
}

impl Failure {
    /// What was expected, what came, and why it is wrong.
    pub fn new(expected: impl Into<String>, got: impl Into<String>, why: impl Into<String>) -> Failure {
        Failure {
            expected: expected.into(),
            got: got.into(),
            why: why.into(),
            hint: None,
            limit: None,
            moment: None,
            last_line: None,
            waited: None,
            program_gone: false,
        }
    }

    /// A step that could not go on because the program is gone; `how_it_ended` says why.
    pub fn program_gone(
        expected: impl Into<String>,
        got: impl Into<String>,
        how_it_ended: impl Into<String>,
    ) -> Failure {
        Failure {
            program_gone: true,
            ..Failure::new(expected, got, how_it_ended)
        }
    }

    /// The same failure, after a wait of `waited` that ended without the event.
    pub fn after(self, waited: Duration) -> Failure {
        Failure {
            waited: Some(waited),
            ..self
        }
    }

    /// The same failure with the lab's hint for its step, unless the program was gone.
    pub fn with_hint(self, hint: Option<&str>) -> Failure {
        Failure {
            hint: hint.filter(|_| !self.program_gone).map(str::to_string),
            ..self
        }
    }

    /// The same failure, the program having run into `limit` (if any).
    pub fn with_limit(self, limit: Option<String>) -> Failure {
        Failure {
            limit: limit.or(self.limit),
            ..self
        }
    }

    /// The first line of the explanation: the limit, if any, then the first line of why.
    pub fn headline(&self) -> String {
        self.explanation().next().unwrap_or_default()
    }

    /// The explanation, line by line: the limit and why (`LIMIT; WHY`), then the hint.
    pub fn explanation(&self) -> impl Iterator<Item = String> + '_ {
        let mut why = self.why.lines();
        let first = why.next().unwrap_or_default();
        let headline = match &self.limit {
            Some(limit) => format!("{limit}; {first}"),
            None => first.to_string(),
        };
        std::iter::once(headline)
            .chain(why.map(str::to_string))
            .chain(self.hint.iter().flat_map(|h| h.lines()).map(str::to_string))
    }

    /// The explanation as one text, the hint on a line of its own (JSON's `message`).
    pub fn message(&self) -> String {
        let limit = self.limit.as_ref().map(|l| format!("{l}; ")).unwrap_or_default();
        let hint = self.hint.as_ref().map(|h| format!("\n{h}")).unwrap_or_default();
        format!("{limit}{}{hint}", self.why)
    }
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

/// A lab socklab could not grade (exit 2): its whole maximum is lost, and the reason is
/// socklab's, not the program's. A format whose reader needs a result for every lab (GitHub
/// Classroom's reporter) still writes one from this.
#[derive(Debug, Clone)]
pub struct NotGraded {
    pub lab: String,
    /// The lab's points after the rubric.
    pub max_score: u32,
    /// socklab's error, one line.
    pub reason: String,
}

/// How one submission of a class fared before its checks were counted.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// The program ran; the report says how it did.
    Graded,
    /// There was nothing to run (no such file, not executable): a zero, with the reason.
    NoProgram { reason: String },
    /// socklab itself failed on this submission, so its zero is not the student's doing.
    HarnessError { reason: String },
}

/// One student's folder, graded. A submission that did not run still has a report: every
/// check not reached, with the reason.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The folder's name.
    pub id: String,
    pub verdict: Verdict,
    pub report: Report,
}

/// A whole class graded against one lab, submissions in order of id.
#[derive(Debug, Clone)]
pub struct ClassReport {
    pub lab: String,
    /// The lab's checks, in the lab's order, with their points after the rubric.
    pub checks: Vec<(String, u32)>,
    pub submissions: Vec<Submission>,
    pub jobs: usize,
    pub duration: Duration,
}

impl Submission {
    /// The score the student has: `None` when socklab failed on the submission, which is
    /// not graded at all (not a zero: nothing the student did was judged).
    pub fn score(&self) -> Option<u32> {
        match self.verdict {
            Verdict::Graded | Verdict::NoProgram { .. } => Some(self.report.score()),
            Verdict::HarnessError { .. } => None,
        }
    }
}

/// Figures over a class, for its summary.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassSummary {
    pub count: usize,
    pub max_score: u32,
    /// The mean score over the submissions that have one: those without a program counted
    /// as zero, those socklab failed on left out.
    pub mean: f64,
    pub full_marks: usize,
    /// Submissions with nothing to run (no program, or a C file that did not compile): zeros.
    pub no_program: usize,
    /// Submissions socklab failed on: not graded, and not in the mean.
    pub harness_errors: usize,
    /// Checks not passed by submissions that ran, most often first: (check, how many).
    pub most_failed: Vec<(String, usize)>,
}

impl ClassReport {
    /// The isolation levels the class's runs had ("namespaces", or "uid" where namespaces
    /// were refused), each once, best first; empty if none ran.
    pub fn isolation(&self) -> Vec<IsolationLevel> {
        let mut levels: Vec<IsolationLevel> = self
            .submissions
            .iter()
            .filter_map(|s| s.report.isolation)
            .collect();
        levels.sort();
        levels.dedup();
        levels
    }

    /// [`ClassReport::isolation`] as words: `namespaces`, `uid and none`, `none` (nothing ran).
    pub fn isolation_words(&self) -> String {
        let levels: Vec<String> = self.isolation().iter().map(|l| l.to_string()).collect();
        if levels.is_empty() {
            "none ran".to_string()
        } else {
            levels.join(" and ")
        }
    }

    pub fn max_score(&self) -> u32 {
        self.checks.iter().map(|(_, max)| max).sum()
    }

    pub fn summary(&self) -> ClassSummary {
        let count = self.submissions.len();
        let scores: Vec<u32> = self.submissions.iter().filter_map(Submission::score).collect();
        let total: u32 = scores.iter().sum();
        let ran: Vec<&Submission> = self
            .submissions
            .iter()
            .filter(|s| matches!(s.verdict, Verdict::Graded))
            .collect();
        let mut most_failed: Vec<(String, usize)> = self
            .checks
            .iter()
            .map(|(id, _)| {
                let failed = ran
                    .iter()
                    .filter(|s| s.report.checks.iter().any(|c| &c.id == id && !c.passed()))
                    .count();
                (id.clone(), failed)
            })
            .filter(|(_, failed)| *failed > 0)
            .collect();
        // Stable: ties keep the lab's order.
        most_failed.sort_by_key(|(_, failed)| std::cmp::Reverse(*failed));
        ClassSummary {
            count,
            max_score: self.max_score(),
            mean: if scores.is_empty() {
                0.0
            } else {
                f64::from(total) / scores.len() as f64
            },
            full_marks: self
                .submissions
                .iter()
                .filter(|s| matches!(s.verdict, Verdict::Graded) && s.report.full_marks())
                .count(),
            no_program: self
                .submissions
                .iter()
                .filter(|s| matches!(s.verdict, Verdict::NoProgram { .. }))
                .count(),
            harness_errors: count - scores.len(),
            most_failed,
        }
    }
}

/// What `socklab grade` tells its reporters, in order: one `Started`, a
/// `SubmissionFinished` per submission as each ends (in no set order), one `Finished` with
/// the submissions in order of id.
#[derive(Debug, Clone)]
pub enum ClassEvent {
    Started {
        lab: String,
        dir: String,
        total: usize,
        jobs: usize,
    },
    SubmissionFinished {
        submission: Submission,
        /// How many have finished, this one included.
        done: usize,
        total: usize,
    },
    Finished(ClassReport),
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

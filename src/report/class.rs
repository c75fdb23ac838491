//! For `socklab grade`: each submission of a class, and the class as a whole.

use std::time::Duration;

use super::{IsolationLevel, Report};

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

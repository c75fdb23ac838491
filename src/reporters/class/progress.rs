//! How far `socklab grade` has come, on stderr: an indicatif bar when stderr is a terminal,
//! otherwise a plain line per finished submission (for logs and CI).

use std::io::{self, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::report::{ClassEvent, Submission, Verdict};
use crate::reporters::class::{ClassReporter, shown_id};

pub enum Progress {
    Bar(Option<ProgressBar>),
    Lines(Box<dyn Write>),
}

impl Progress {
    /// A bar on stderr if it is a terminal, else lines written to `out`.
    pub fn new(bar: bool, out: Box<dyn Write>) -> Progress {
        if bar {
            Progress::Bar(None)
        } else {
            Progress::Lines(out)
        }
    }
}

/// `alice: 10/10`, `carol: 0/10 (not graded: ...)`, `dan: not graded (socklab could not
/// grade it: ...)`.
fn line(s: &Submission) -> String {
    let id = shown_id(&s.id);
    let score = format!("{id}: {}/{}", s.report.score(), s.report.max_score());
    match &s.verdict {
        Verdict::Graded => score,
        Verdict::NoProgram { reason } => format!("{score} (not graded: {reason})"),
        Verdict::HarnessError { reason } => {
            format!("{id}: not graded (socklab could not grade it: {reason})")
        }
    }
}

impl ClassReporter for Progress {
    fn event(&mut self, event: &ClassEvent) -> io::Result<()> {
        match (self, event) {
            (Progress::Bar(bar), ClassEvent::Started { total, .. }) => {
                let new = ProgressBar::with_draw_target(
                    Some(*total as u64),
                    ProgressDrawTarget::stderr(),
                );
                new.set_style(
                    ProgressStyle::with_template("grading {bar:30} {pos}/{len} {elapsed} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                *bar = Some(new);
                Ok(())
            }
            (Progress::Bar(bar), ClassEvent::SubmissionFinished { submission, .. }) => {
                if let Some(bar) = bar {
                    bar.set_message(line(submission));
                    bar.inc(1);
                }
                Ok(())
            }
            (Progress::Bar(bar), ClassEvent::Finished(_)) => {
                if let Some(bar) = bar.take() {
                    bar.finish_and_clear();
                }
                Ok(())
            }
            (
                Progress::Lines(out),
                ClassEvent::Started {
                    lab,
                    dir,
                    total,
                    jobs,
                },
            ) => writeln!(
                out,
                "socklab grade {lab}: {total} submissions in {}, {jobs} at a time",
                shown_id(dir)
            ),
            (
                Progress::Lines(out),
                ClassEvent::SubmissionFinished {
                    submission,
                    done,
                    total,
                },
            ) => writeln!(out, "[{done}/{total}] {}", line(submission)),
            (Progress::Lines(_), ClassEvent::Finished(_)) => Ok(()),
        }
    }
}

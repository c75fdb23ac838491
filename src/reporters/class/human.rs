//! `socklab grade --format human`: a line per submission in order of id (its score, and the
//! checks it did not pass or why it was not graded), then the class's summary, the scores in
//! colour where the output keeps it.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use crate::report::{ClassReport, Outcome, Submission, Verdict};
use crate::reporters::class::shown_id;
use crate::reporters::text;

/// Writes the class for a person, the scores in colour: `out` keeps or strips it (see
/// [`crate::reporters::human`]).
pub fn write(class: &ClassReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "socklab grade {}: {} submissions, {} at a time, {:.1} s, isolation: {}",
        class.lab,
        class.submissions.len(),
        class.jobs,
        class.duration.as_secs_f64(),
        class.isolation_words()
    )?;
    let id_width = class
        .submissions
        .iter()
        .map(|s| shown_id(&s.id).chars().count())
        .max()
        .unwrap_or(0);
    for s in &class.submissions {
        submission(s, id_width, out)?;
    }
    let summary = class.summary();
    let mut line = format!(
        "{} submissions: mean {:.2}/{}, {} at full marks",
        summary.count, summary.mean, summary.max_score, summary.full_marks
    );
    if summary.no_program > 0 {
        line.push_str(&format!(", {} not graded", summary.no_program));
    }
    if summary.harness_errors > 0 {
        line.push_str(&format!(
            ", {} socklab could not grade (left out of the mean)",
            summary.harness_errors
        ));
    }
    writeln!(out, "{line}")?;
    if !summary.most_failed.is_empty() {
        let failed: Vec<String> = summary
            .most_failed
            .iter()
            .map(|(check, n)| format!("{check} ({n})"))
            .collect();
        writeln!(out, "failed most: {}", failed.join(", "))?;
    }
    Ok(())
}

fn submission(s: &Submission, id_width: usize, out: &mut dyn Write) -> io::Result<()> {
    let r = &s.report;
    let style = if matches!(s.verdict, Verdict::Graded) && r.full_marks() {
        Style::new().fg_color(Some(AnsiColor::Green.into())).bold()
    } else {
        Style::new().fg_color(Some(AnsiColor::Red.into())).bold()
    };
    let score = match s.score() {
        Some(score) => format!("{score:>3}/{:<3}", r.max_score()),
        None => format!("{:>3}/{:<3}", "--", r.max_score()),
    };
    let score = text::paint(style, &score);
    let note = match &s.verdict {
        Verdict::Graded => lost(s),
        Verdict::NoProgram { reason } => format!("not graded: {reason}"),
        Verdict::HarnessError { reason } => {
            format!("not graded, socklab could not grade it: {reason}")
        }
    };
    let id = shown_id(&s.id);
    let line = format!("  {id:<id_width$}  {score} {note}");
    writeln!(out, "{}", line.trim_end())
}

/// `failed: a, b; not reached: c`, or nothing at full marks.
fn lost(s: &Submission) -> String {
    let mut failed = Vec::new();
    let mut not_reached = Vec::new();
    for c in &s.report.checks {
        match c.outcome {
            Outcome::Passed => {}
            Outcome::Failed(_) => failed.push(c.id.as_str()),
            Outcome::NotReached { .. } => not_reached.push(c.id.as_str()),
        }
    }
    let mut parts = Vec::new();
    if !failed.is_empty() {
        parts.push(format!("failed: {}", failed.join(", ")));
    }
    if !not_reached.is_empty() {
        parts.push(format!("not reached: {}", not_reached.join(", ")));
    }
    parts.join("; ")
}

//! The two audiences of a results.json, and what each is told. Students see the tests
//! Gradescope shows them and the top-level `output`; staff see every test, and
//! run_autograder's stdout (or, where a rubric shows stdout to students, a hidden test).
//!
//! - Students: each lab's points over the checks they are shown now (`visible`), how the
//!   program ended, the end of its stderr, and the notices about the program
//!   ([`Notice::Program`]). Never a check held back from them, not even as a count in a
//!   total, and no word of how socklab graded.
//! - Staff: each lab's full points, the checks held back from students and until when, the
//!   run's isolation, every notice ([`Notice::Grading`] too), and socklab's own messages.

use crate::report::{CheckResult, IsolationLevel, Notice, Report};
use crate::reporters::text;

use super::{Part, Visibility};

/// A lab's paragraph in the top-level output, for students; `None` for a lab none of whose
/// checks they are shown now, which the output then does not name.
pub fn for_students(part: &Part) -> Option<String> {
    let shown: Vec<&CheckResult> = part.shown_now().collect();
    if shown.is_empty() {
        return None;
    }
    let notices = part.report.notices.iter().filter(|n| n.for_students());
    Some(paragraph(part.report, points(shown), None, notices))
}

/// A lab's paragraph for staff: its full points, its isolation, every notice, and the
/// checks students are not shown now.
fn for_staff(part: &Part) -> String {
    let report = part.report;
    let all = points(report.checks.iter());
    let mut text = paragraph(report, all, report.isolation, report.notices.iter());
    let held: Vec<String> = report
        .checks
        .iter()
        .filter_map(|c| {
            let shown = part.visibility.of(&c.id);
            (shown != Visibility::Visible)
                .then(|| format!("{} {}/{} ({})", c.id, c.points, c.max, shown.as_str()))
        })
        .collect();
    if !held.is_empty() {
        text.push_str(&format!("\nnot shown to students now: {}", held.join(", ")));
    }
    text
}

/// The staff's account of a whole submission: the totals, each lab's paragraph, and what
/// socklab said on stderr meanwhile (`stderr`, when it was kept from students).
pub fn staff_account(parts: &[Part], stderr: &str) -> String {
    let (score, max) = points(parts.iter().flat_map(|p| p.report.checks.iter()));
    let mut text = format!("socklab: {score}/{max} in all");
    let (shown, shown_max) = points(parts.iter().flat_map(Part::shown_now));
    if (shown, shown_max) != (score, max) {
        text.push_str(&format!(
            "; the tests students are shown now add up to {shown}/{shown_max}"
        ));
    }
    for part in parts {
        text.push_str("\n\n");
        text.push_str(&for_staff(part));
    }
    if !stderr.trim().is_empty() {
        text.push_str("\n\nsocklab's messages while grading:\n");
        text.push_str(stderr.trim_end());
    }
    text.push('\n');
    text
}

/// Points scored and the most there were, over `checks`.
fn points<'a>(checks: impl IntoIterator<Item = &'a CheckResult>) -> (u32, u32) {
    checks
        .into_iter()
        .fold((0, 0), |(score, max), c| (score + c.points, max + c.max))
}

/// `lab: 5/8 (the program exited with status 0; 0.45 s)`, the isolation if given, then the
/// notices, then the end of the program's stderr. A program that never ran has no ending
/// to tell.
fn paragraph<'a>(
    report: &Report,
    (score, max): (u32, u32),
    isolation: Option<IsolationLevel>,
    notices: impl Iterator<Item = &'a Notice>,
) -> String {
    let mut text = format!("{}: {score}/{max}", report.lab);
    if report.isolation.is_some() {
        text.push_str(&format!(
            " ({}; {:.2} s",
            text::ending(report),
            report.duration.as_secs_f64()
        ));
        if let Some(level) = isolation {
            text.push_str(&format!("; isolation: {level}"));
        }
        text.push(')');
    }
    for notice in notices {
        text.push_str(&format!("\nnote: {notice}"));
    }
    if !report.stderr_tail().is_empty() {
        text.push_str("\nthe end of the program's stderr:\n");
        text.push_str(report.stderr_tail());
    }
    text
}

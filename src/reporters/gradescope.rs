//! `--format gradescope`: the results.json of Gradescope's autograder specification, written
//! when the run ends. Top level: `score` (the sum of the tests' scores), `execution_time`
//! (whole seconds, rounded up), `output` (the run's summary), `tests`. One test per check:
//! `name` (`lab: check`), `score`, `max_score`, `status` (`passed` or `failed`; a check not
//! reached is `failed` with its reason), `output` (the check's description, and for a
//! failure expected, got, why and the transcript), `visibility` (`visible`).

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::report::{CheckResult, Outcome, Report};
use crate::reporters::{json, text};

/// Students see each test as soon as it is graded; an instructor who wants otherwise can
/// change it in Gradescope's settings for the whole assignment.
pub const VISIBILITY: &str = "visible";

fn test(lab: &str, c: &CheckResult) -> Value {
    let status = match c.outcome {
        Outcome::Passed => "passed",
        Outcome::Failed(_) | Outcome::NotReached { .. } => "failed",
    };
    let mut output = c.description.clone();
    if c.max == 0 {
        output.push_str(" (reported, not scored)");
    }
    for line in text::details(c) {
        output.push('\n');
        output.push_str(&line);
    }
    json!({
        "name": format!("{lab}: {}", c.id),
        "score": c.points,
        "max_score": c.max,
        "status": status,
        "output": output,
        "output_format": "text",
        "visibility": VISIBILITY,
    })
}

/// The report as Gradescope's results.json.
pub fn results_json(r: &Report) -> Value {
    json!({
        "score": r.score(),
        "execution_time": r.duration.as_secs_f64().ceil() as u64,
        "output": text::run_summary(r),
        "output_format": "text",
        "tests": r.checks.iter().map(|c| test(&r.lab, c)).collect::<Vec<_>>(),
    })
}

/// Writes the report as Gradescope's results.json.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    json::document(&results_json(report), out)
}

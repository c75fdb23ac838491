//! `--format classroom`: the result object GitHub Classroom's grading reporter
//! (`classroom-resources/autograding-grading-reporter`) reads, base64-encoded, from each
//! grading step's `result` output. `version` 1, `status` (`pass` at full marks, `fail`
//! otherwise), `max_score`, and a test per check: `name` (`lab: check`), `status` (`pass`
//! or `fail`; a check not reached fails with its reason), `score`, `message` (for a
//! failure expected, got, why and the transcript), `test_code` (what the check does).
//! The reporter adds up the tests' `score` against `max_score`.

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::report::{CheckResult, Outcome, Report};
use crate::reporters::text;

fn test(lab: &str, c: &CheckResult) -> Value {
    let status = match c.outcome {
        Outcome::Passed => "pass",
        Outcome::Failed(_) | Outcome::NotReached { .. } => "fail",
    };
    json!({
        "name": format!("{lab}: {}", c.id),
        "status": status,
        "score": c.points,
        "message": text::details_text(c),
        "test_code": c.description,
    })
}

/// The report as the object the classroom reporter reads.
pub fn result_json(r: &Report) -> Value {
    json!({
        "version": 1,
        "status": if r.full_marks() { "pass" } else { "fail" },
        "max_score": r.max_score(),
        "tests": r.checks.iter().map(|c| test(&r.lab, c)).collect::<Vec<_>>(),
    })
}

/// Writes the report as the classroom reporter's object, on one line: the workflow
/// base64-encodes it as it is.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &result_json(report))?;
    writeln!(out)
}

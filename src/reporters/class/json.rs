//! `socklab grade --format json`: one object. `lab`, `max_score`, `submissions` in order of
//! id (each `id`, `status` — `graded`, `no_program` or `harness_error` — `error` when not
//! graded, `program` (its command line, `{dir}` filled in; empty if not run), `isolation`
//! (`namespaces`, `uid` or `none`; null if not run), `score` (null when socklab failed on
//! it: not graded, not a zero), `max_score`, `checks` as `socklab check --format json` shows
//! them), `isolation` (the levels the runs had), and `summary` (`count`, `mean` over the
//! submissions with a score, `full_marks`, `not_graded` (no program: zeros),
//! `harness_errors` (socklab's failures, left out of the mean), `most_failed`: each `check`
//! and `failed`, how many graded submissions did not pass it, most first).

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::report::{ClassReport, Submission, Verdict};
use crate::reporters::json::{check, document};

/// `graded`, `no_program` or `harness_error`, and the reason when not graded.
pub fn status(verdict: &Verdict) -> (&'static str, Option<&str>) {
    match verdict {
        Verdict::Graded => ("graded", None),
        Verdict::NoProgram { reason } => ("no_program", Some(reason)),
        Verdict::HarnessError { reason } => ("harness_error", Some(reason)),
    }
}

fn submission(s: &Submission) -> Value {
    let (status, error) = status(&s.verdict);
    json!({
        "id": s.id,
        "status": status,
        "error": error,
        "program": s.report.program,
        "isolation": s.report.isolation,
        "score": s.score(),
        "max_score": s.report.max_score(),
        "full_marks": matches!(s.verdict, Verdict::Graded) && s.report.full_marks(),
        "checks": s.report.checks.iter().map(check).collect::<Vec<_>>(),
        "duration_s": s.report.duration.as_secs_f64(),
    })
}

pub fn class_json(class: &ClassReport) -> Value {
    let summary = class.summary();
    json!({
        "lab": class.lab,
        "max_score": class.max_score(),
        "isolation": class.isolation(),
        "submissions": class.submissions.iter().map(submission).collect::<Vec<_>>(),
        "summary": {
            "count": summary.count,
            "mean": (summary.mean * 100.0).round() / 100.0,
            "full_marks": summary.full_marks,
            "not_graded": summary.no_program,
            "harness_errors": summary.harness_errors,
            "most_failed": summary
                .most_failed
                .iter()
                .map(|(check, failed)| json!({"check": check, "failed": failed}))
                .collect::<Vec<_>>(),
        },
        "jobs": class.jobs,
        "duration_s": class.duration.as_secs_f64(),
    })
}

pub fn write(class: &ClassReport, out: &mut dyn Write) -> io::Result<()> {
    document(&class_json(class), out)
}

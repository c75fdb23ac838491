//! `--format json`: one object for the whole run, printed when it ends. The field names are
//! a contract with scripts: `lab`, `score`, `max_score`, `checks` (each `name`, `points`,
//! `max`, `passed`, and on failure `expected`, `got`, `message`, and where known the
//! message's `hint`, the `moment` the program ended and the `last_line` it printed),
//! `transcript`. A lab socklab could not grade (exit 2) is `lab`, `graded: false`,
//! `score: null`, `max_score`, `error`.

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::report::ProgramExit;
use crate::report::{CheckResult, Entry, NotGraded, Notice, Outcome, Report};

fn entries(entries: &[Entry]) -> Value {
    entries
        .iter()
        .map(|e| json!({"t": (e.at.as_secs_f64() * 1e4).round() / 1e4, "who": e.who, "text": e.text}))
        .collect()
}

/// One check as the JSON reports show it (`socklab check` and `socklab grade` alike).
pub fn check(c: &CheckResult) -> Value {
    let mut v = json!({
        "name": c.id,
        "description": c.description,
        "points": c.points,
        "max": c.max,
        "passed": c.passed(),
    });
    let map = v.as_object_mut().expect("object");
    match &c.outcome {
        Outcome::Passed => {
            map.insert("status".into(), "passed".into());
        }
        Outcome::Failed(f) => {
            map.insert("status".into(), "failed".into());
            map.insert("expected".into(), f.expected.clone().into());
            map.insert("got".into(), f.got.clone().into());
            map.insert("message".into(), f.message().into());
            // The message's parts, for scripts that want one.
            let parts = [
                ("hint", &f.hint),
                ("moment", &f.moment),
                ("last_line", &f.last_line),
            ];
            for (field, value) in parts {
                if let Some(value) = value {
                    map.insert(field.into(), value.clone().into());
                }
            }
            if let Some(waited) = f.waited {
                map.insert("waited_s".into(), json!(waited.as_secs_f64()));
            }
            map.insert("transcript".into(), entries(&c.transcript));
        }
        Outcome::NotReached { reason } => {
            map.insert("status".into(), "not_reached".into());
            map.insert("message".into(), reason.clone().into());
        }
    }
    v
}

/// `exit_status` and `exit_signal`: one of them is set once the program has ended.
fn exit_fields(exit: Option<ProgramExit>) -> (Value, Value) {
    match exit {
        Some(ProgramExit::Exited(code)) => (json!(code), Value::Null),
        Some(ProgramExit::Signaled(sig)) => (Value::Null, json!(sig)),
        None => (Value::Null, Value::Null),
    }
}

/// The report as the JSON object scripts read.
pub fn report_json(r: &Report) -> Value {
    let (status, signal) = exit_fields(r.exit());
    json!({
        "lab": r.lab,
        "program": r.program,
        "port": r.port,
        "isolation": r.isolation,
        "score": r.score(),
        "max_score": r.max_score(),
        "full_marks": r.full_marks(),
        "checks": r.checks.iter().map(check).collect::<Vec<_>>(),
        "exit_status": status,
        "exit_signal": signal,
        "stopped_by_harness": r.stopped_by_harness(),
        "notices": r.notices.iter().map(Notice::text).collect::<Vec<_>>(),
        "stderr_tail": r.stderr_tail(),
        "transcript": entries(&r.transcript),
        "transcript_omitted_bytes": r.transcript_omitted,
        "runs": r.runs.iter().map(|run| {
            let (status, signal) = exit_fields(run.exit);
            json!({
                "name": run.name,
                "program": run.program,
                "exit_status": status,
                "exit_signal": signal,
                "stopped_by_harness": run.stopped_by_harness,
                "stderr_tail": run.stderr_tail,
            })
        }).collect::<Vec<_>>(),
        "duration_s": r.duration.as_secs_f64(),
    })
}

/// A lab socklab could not grade: no score (it is no mark of the program's), the points at
/// stake, and socklab's reason.
pub fn write_not_graded(lab: &NotGraded, out: &mut dyn Write) -> io::Result<()> {
    document(
        &json!({
            "lab": lab.lab,
            "graded": false,
            "score": Value::Null,
            "max_score": lab.max_score,
            "error": lab.reason,
        }),
        out,
    )
}

/// Writes the report as JSON.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    document(&report_json(report), out)
}

/// `value` pretty-printed, and a newline: a JSON document for a person or a script.
pub fn document(value: &Value, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}

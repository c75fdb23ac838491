//! `--format classroom`: the result object GitHub Classroom's grading reporter reads,
//! base64-encoded, from each lab step's `result` output. Its shape follows what the reporter
//! (classroom-resources/autograding-grading-reporter, `src/`, at 43c2d9f) does with it:
//!
//! - `main.js` 10-12 decodes and parses `<RUNNER>_RESULTS`; 19-23 fail the run when any
//!   result's `status` is `fail` or `error`.
//! - `console-results.js` 23-43 prints each test as `✅ name` or `❌ name`, adding
//!   ` - line N` unless `line_no` is exactly 0 (`!== 0`: a missing one prints
//!   `line undefined`); prints `message` only for a test of `status` `error`; and prints
//!   `test_code` under every test that has one.
//! - `helpers/test-helpers.js` 11-18 scores a runner as passed tests / tests × `max_score`
//!   (NaN for a runner without tests), which `console-results.js` 50-52 and
//!   `aggregate-results.js` 8-20 print per runner.
//! - `notify-classroom.js` 6-21 tells Classroom `Points X/Y`: X the sum of every test's
//!   `score`, Y the sum of `max_score`, leaving out runners whose `max_score` is 0.
//!
//! So that the log's per-lab totals and Classroom's points agree, a lab has **one test per
//! point**: a check worth 2 is two tests (`prints_client (point 1 of 2)`, `(point 2 of 2)`),
//! each scoring 1 or 0, and passed tests / tests × `max_score` is exactly the lab's score. A
//! check a rubric set to 0 points has no test here (it would count among the tests); the
//! step's log and summary still show it. A lab whose checks are all worth 0 has a test per
//! check, each scoring 0, so it still prints no NaN.
//!
//! A check's first test carries what the log should say under its ❌: `test_code` is the
//! check's description, and for a lost check expected, got and why (the transcript is in
//! the lab step's log, printed by socklab's human report); `message` has all of it. Every
//! test carries `line_no` 0, `filename` (the program graded) and `duration` (milliseconds),
//! as Classroom's own graders write them (autograding-command-grader `src/main.js` 16-33).
//!
//! A lab socklab could not grade ([`write_not_graded`]) keeps its whole `max_score`, lost,
//! in one test of `status` `error` whose message is the reason, so Classroom's total never
//! leaves it out.

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::report::{CheckResult, NotGraded, Outcome, Report};
use crate::reporters::text;

/// The tests of one check: one per point (one, scoring 0, for a lab worth nothing).
fn tests(lab: &str, file: &str, c: &CheckResult, scored_lab: bool) -> Vec<Value> {
    let (status, point) = match c.outcome {
        Outcome::Passed => ("pass", 1),
        Outcome::Failed(_) | Outcome::NotReached { .. } => ("fail", 0),
    };
    let count = if scored_lab { c.max } else { 1 };
    let milliseconds = c.duration.as_millis() as u64;
    (1..=count)
        .map(|n| {
            let name = if count > 1 {
                format!("{lab}: {} (point {n} of {count})", c.id)
            } else {
                format!("{lab}: {}", c.id)
            };
            // The reporter prints `test_code` under every test: once per check is enough.
            let (test_code, message) = if n == 1 {
                let mut code = vec![c.description.clone()];
                code.extend(text::evidence(c));
                (code.join("\n"), text::details_text(c))
            } else {
                (String::new(), String::new())
            };
            json!({
                "name": name,
                "status": status,
                "score": if scored_lab { point } else { 0 },
                "message": message,
                "test_code": test_code,
                "filename": file,
                "line_no": 0,
                "duration": milliseconds,
            })
        })
        .collect()
}

/// The report as the object the classroom reporter reads.
pub fn result_json(r: &Report) -> Value {
    let scored_lab = r.max_score() > 0;
    let file = text::program_file(&r.program);
    let tests: Vec<Value> = r
        .checks
        .iter()
        .filter(|c| c.max > 0 || !scored_lab)
        .flat_map(|c| tests(&r.lab, file, c, scored_lab))
        .collect();
    json!({
        "version": 1,
        "status": if r.full_marks() { "pass" } else { "fail" },
        "max_score": r.max_score(),
        "tests": tests,
    })
}

/// The object for a lab socklab could not grade: its whole maximum, lost, and why.
pub fn not_graded_json(lab: &NotGraded) -> Value {
    json!({
        "version": 1,
        "status": "error",
        "max_score": lab.max_score,
        "tests": [{
            "name": lab.lab,
            "status": "error",
            "score": 0,
            "message": format!("socklab could not grade {}: {}", lab.lab, lab.reason),
            "test_code": "",
            "filename": "",
            "line_no": 0,
            "duration": 0,
        }],
    })
}

/// Writes `value` on one line: the workflow base64-encodes it as it is.
fn one_line(value: &Value, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    writeln!(out)
}

/// Writes the report as the classroom reporter's object.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    one_line(&result_json(report), out)
}

/// Writes the object for a lab socklab could not grade.
pub fn write_not_graded(lab: &NotGraded, out: &mut dyn Write) -> io::Result<()> {
    one_line(&not_graded_json(lab), out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reporters::sample::{Went, report};

    fn names_and_scores(r: &Value) -> Vec<(String, u64)> {
        r["tests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["name"].as_str().unwrap().to_string(),
                    t["score"].as_u64().unwrap(),
                )
            })
            .collect()
    }

    /// A check a rubric set to 0 has no test (it would count among the tests the reporter
    /// divides by); the others one per point.
    #[test]
    fn a_check_worth_nothing_has_no_test() {
        let r = result_json(&report(
            "lab",
            &[
                ("a", 2, Went::Passed),
                ("b", 0, Went::Failed),
                ("c", 1, Went::Failed),
            ],
        ));
        assert_eq!(
            names_and_scores(&r),
            [
                ("lab: a (point 1 of 2)".to_string(), 1),
                ("lab: a (point 2 of 2)".to_string(), 1),
                ("lab: c".to_string(), 0),
            ]
        );
        assert_eq!((&r["max_score"], &r["status"]), (&3.into(), &"fail".into()));
    }

    /// A lab whose checks are all worth 0 still has tests (the reporter divides by their
    /// number), each scoring 0.
    #[test]
    fn a_lab_worth_nothing_has_a_test_per_check() {
        let r = result_json(&report(
            "lab",
            &[("a", 0, Went::Passed), ("b", 0, Went::Failed)],
        ));
        assert_eq!(
            names_and_scores(&r),
            [("lab: a".to_string(), 0), ("lab: b".to_string(), 0)]
        );
        assert_eq!((&r["max_score"], &r["status"]), (&0.into(), &"pass".into()));
    }
}

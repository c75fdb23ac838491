//! Reports made up for the reporters' unit tests: a lab's checks with their points and
//! outcomes, nothing run.

use std::time::Duration;

use crate::report::{CheckResult, Entry, Failure, Outcome, Report};

/// How a made-up check went.
#[derive(Clone, Copy)]
pub enum Went {
    Passed,
    Failed,
    NotReached,
}

/// A report of `lab` whose checks are `(id, max, went)`, run by `python3 {lab}.py` in one
/// second.
pub fn report(lab: &str, checks: &[(&str, u32, Went)]) -> Report {
    let checks = checks
        .iter()
        .map(|&(id, max, went)| {
            let outcome = match went {
                Went::Passed => Outcome::Passed,
                Went::Failed => Outcome::Failed(Failure::new(
                    "b'Hello!\\n'",
                    "b'``` |x|'",
                    "it sent something else",
                )),
                Went::NotReached => Outcome::NotReached {
                    reason: "needs 'accepts', which did not pass".into(),
                },
            };
            let transcript = match went {
                Went::Failed => vec![Entry {
                    at: Duration::from_millis(12),
                    who: "program → alice".into(),
                    text: "b'``` |x|'".into(),
                }],
                Went::Passed | Went::NotReached => Vec::new(),
            };
            CheckResult {
                id: id.into(),
                description: format!("does {id}"),
                points: if matches!(went, Went::Passed) { max } else { 0 },
                max,
                outcome,
                transcript,
                duration: Duration::from_millis(250),
            }
        })
        .collect();
    Report {
        lab: lab.into(),
        program: vec!["python3".into(), format!("{lab}.py")],
        port: 8000,
        isolation: Some(crate::report::IsolationLevel::Namespaces),
        notices: Vec::new(),
        checks,
        transcript: Vec::new(),
        transcript_omitted: 0,
        duration: Duration::from_millis(1000),
        runs: Vec::new(),
    }
}

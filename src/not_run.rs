//! The report of a program that never ran (missing, empty, did not compile, or a
//! submission with no program): every check with its points, none earned, each check's
//! outcome said by whoever knows why.

use std::time::Duration;

use crate::report::{CheckResult, Outcome, Report};
use crate::script::Lab;

/// What a report needs of a lab to say how a program that never ran fared on each check.
pub struct LabInfo {
    pub name: String,
    pub checks: Vec<CheckInfo>,
}

pub struct CheckInfo {
    pub id: String,
    pub description: String,
    pub points: u32,
}

impl LabInfo {
    pub fn of(lab: &Lab) -> LabInfo {
        LabInfo {
            name: lab.name.to_string(),
            checks: lab
                .checks()
                .map(|c| CheckInfo {
                    id: c.id.to_string(),
                    description: c.description.to_string(),
                    points: c.points,
                })
                .collect(),
        }
    }

    /// The report of `program`, which never ran: no points, and each check's outcome from
    /// `outcome` (called with the check's index).
    pub fn not_run(
        &self,
        program: Vec<String>,
        took: Duration,
        outcome: impl Fn(usize) -> Outcome,
    ) -> Report {
        Report {
            lab: self.name.clone(),
            program,
            port: 0,
            isolation: None,
            notices: Vec::new(),
            checks: self
                .checks
                .iter()
                .enumerate()
                .map(|(index, c)| CheckResult {
                    id: c.id.clone(),
                    description: c.description.clone(),
                    points: 0,
                    max: c.points,
                    outcome: outcome(index),
                    transcript: Vec::new(),
                    duration: Duration::ZERO,
                })
                .collect(),
            transcript: Vec::new(),
            transcript_omitted: 0,
            duration: took,
            runs: Vec::new(),
        }
    }
}

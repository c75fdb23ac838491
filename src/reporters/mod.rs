//! Reporters turn the runner's events into output. They see only [`crate::report`] data,
//! never the engine, so a new format is one new file here. [`class`] holds the reporters of
//! `socklab grade`, which see a whole class.

pub mod class;
pub mod classroom;
pub mod gradescope;
pub mod human;
pub mod json;
pub mod junit;
pub mod text;

use std::io::{self, Write};

use crate::report::Event;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A line per check, with expected and got for failures.
    Human,
    /// One JSON object for the whole run.
    Json,
    /// Gradescope's results.json.
    Gradescope,
    /// JUnit XML: a testsuite per lab, a testcase per check.
    Junit,
    /// The result object GitHub Classroom's grading reporter reads.
    Classroom,
}

pub trait Reporter {
    fn event(&mut self, event: &Event) -> io::Result<()>;
}

/// The reporter for `format`, writing to `out`. `color` only matters for human output.
pub fn for_format(format: Format, out: Box<dyn Write>, color: bool) -> Box<dyn Reporter> {
    match format {
        Format::Human => Box::new(human::HumanReporter::new(out, color)),
        Format::Json => Box::new(json::JsonReporter::new(out)),
        Format::Gradescope => Box::new(gradescope::GradescopeReporter::new(out)),
        Format::Junit => Box::new(junit::JunitReporter::new(out)),
        Format::Classroom => Box::new(classroom::ClassroomReporter::new(out)),
    }
}

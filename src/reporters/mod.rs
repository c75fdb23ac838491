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

use crate::report::{Event, Report};

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

/// Writes `T` (a run's report, or a class's) to `out`.
pub type WriteDocument<T> = Box<dyn Fn(&T, &mut dyn Write) -> io::Result<()>>;

/// A reporter that writes one document once everything is known: JSON, Gradescope, JUnit
/// and classroom for a run, and every format of `socklab grade`.
pub struct AtEnd<T> {
    out: Box<dyn Write>,
    write: WriteDocument<T>,
}

impl<T> AtEnd<T> {
    pub fn new(out: Box<dyn Write>, write: WriteDocument<T>) -> AtEnd<T> {
        AtEnd { out, write }
    }

    fn finish(&mut self, whole: &T) -> io::Result<()> {
        (self.write)(whole, &mut self.out)?;
        self.out.flush()
    }
}

impl Reporter for AtEnd<Report> {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::Started { .. }
            | Event::Notice(_)
            | Event::RunStarted { .. }
            | Event::CheckFinished(_) => Ok(()),
            Event::Finished(report) => self.finish(report),
        }
    }
}

/// The reporter for `format`, writing to `out`. `color` only matters for human output.
pub fn for_format(format: Format, out: Box<dyn Write>, color: bool) -> Box<dyn Reporter> {
    match format {
        Format::Human => Box::new(human::HumanReporter::new(out, color)),
        Format::Json => Box::new(AtEnd::new(out, Box::new(json::write))),
        Format::Gradescope => Box::new(AtEnd::new(out, Box::new(gradescope::write))),
        Format::Junit => Box::new(AtEnd::new(out, Box::new(junit::write))),
        Format::Classroom => Box::new(AtEnd::new(out, Box::new(classroom::write))),
    }
}

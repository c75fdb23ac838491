//! Reporters turn the runner's events into output. They see only [`crate::report`] data,
//! never the engine, so a new format is one new file here.

pub mod human;
pub mod json;

use std::io::{self, Write};

use crate::report::Event;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A line per check, with expected and got for failures.
    Human,
    /// One JSON object for the whole run.
    Json,
}

pub trait Reporter {
    fn event(&mut self, event: &Event) -> io::Result<()>;
}

/// The reporter for `format`, writing to `out`. `color` only matters for human output.
pub fn for_format(format: Format, out: Box<dyn Write>, color: bool) -> Box<dyn Reporter> {
    match format {
        Format::Human => Box::new(human::HumanReporter::new(out, color)),
        Format::Json => Box::new(json::JsonReporter::new(out)),
    }
}

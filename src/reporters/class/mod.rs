//! The reporters of `socklab grade`: a whole class graded against one lab. They see only
//! [`crate::report`] data: the class's events, each submission's report, the summary.
//! Output formats (human, JSON, CSV, HTML) write the class in order of id once it is all
//! graded; [`progress`] shows on stderr how far grading has come.

pub mod csv;
pub mod html;
pub mod human;
pub mod json;
pub mod progress;

use std::io::{self, Write};

use anstream::{AutoStream, ColorChoice};

use crate::escape;
use crate::report::{ClassEvent, ClassReport};
use crate::reporters::AtEnd;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ClassFormat {
    /// A line per submission, then the summary.
    Human,
    /// One JSON object: `lab`, `submissions`, `summary`.
    Json,
    /// A row per submission, for a gradebook.
    Csv,
    /// One self-contained HTML page: a histogram, the checks failed most, a row per
    /// submission opening onto its checks (best with --output).
    Html,
}

pub trait ClassReporter {
    fn event(&mut self, event: &ClassEvent) -> io::Result<()>;
}

impl ClassReporter for AtEnd<ClassReport> {
    fn event(&mut self, event: &ClassEvent) -> io::Result<()> {
        match event {
            ClassEvent::Started { .. } | ClassEvent::SubmissionFinished { .. } => Ok(()),
            ClassEvent::Finished(class) => self.finish(class),
        }
    }
}

/// The reporter for `format`, writing to `out`. `color` only matters for human output.
pub fn for_format(
    format: ClassFormat,
    out: Box<dyn Write>,
    color: ColorChoice,
) -> Box<dyn ClassReporter> {
    let write: crate::reporters::WriteDocument<ClassReport> = match format {
        ClassFormat::Human => Box::new(move |class, out| {
            // anstream keeps or strips the colour on the way (a `dyn Write` borrowed for
            // this call is no stream of its own to it).
            let mut shown = AutoStream::new(Vec::new(), color);
            human::write(class, &mut shown)?;
            out.write_all(&shown.into_inner())
        }),
        ClassFormat::Json => Box::new(json::write),
        ClassFormat::Csv => Box::new(self::csv::write),
        ClassFormat::Html => Box::new(html::write),
    };
    Box::new(AtEnd::new(out, write))
}

/// A submission's id as a terminal may show it: a folder name is the student's choice, and
/// its control bytes are escaped like the program's.
pub fn shown_id(id: &str) -> String {
    escape::readable(id.as_bytes())
}

//! Reporters turn the runner's events into output. They see only [`crate::report`] data,
//! never the engine, so a new format is one new file here. [`class`] holds the reporters of
//! `socklab grade`, which see a whole class.

pub mod class;
pub mod classroom;
pub mod gradescope;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
#[cfg(test)]
mod sample;
pub mod text;

use std::io::{self, Write};

use anstream::ColorChoice;

use crate::report::{Event, NotGraded, Report};
use crate::reporters::gradescope::Visibilities;

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
    /// GitHub-flavoured Markdown, e.g. for a GitHub Actions job summary.
    Markdown,
}

pub trait Reporter {
    fn event(&mut self, event: &Event) -> io::Result<()>;
}

/// Writes `T` (a run's report, or a class's) to `out`.
pub type WriteDocument<T> = Box<dyn Fn(&T, &mut dyn Write) -> io::Result<()>>;

/// A reporter that writes one document once everything is known: JSON, Gradescope, JUnit,
/// classroom and Markdown for a run, and every format of `socklab grade`. A format that has
/// something to say when socklab could not grade writes that too; the others write nothing.
pub struct AtEnd<T> {
    out: Box<dyn Write>,
    write: WriteDocument<T>,
    not_graded: Option<WriteDocument<NotGraded>>,
}

impl<T> AtEnd<T> {
    pub fn new(out: Box<dyn Write>, write: WriteDocument<T>) -> AtEnd<T> {
        AtEnd {
            out,
            write,
            not_graded: None,
        }
    }

    /// Also writes a document when socklab could not grade.
    pub fn or_not_graded(mut self, write: WriteDocument<NotGraded>) -> AtEnd<T> {
        self.not_graded = Some(write);
        self
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
            Event::NotGraded(lab) => match &self.not_graded {
                Some(write) => {
                    write(lab, &mut self.out)?;
                    self.out.flush()
                }
                None => Ok(()),
            },
        }
    }
}

/// The reporter for `format`, writing to `out`. `color` only matters for human output,
/// `visibility` only for Gradescope's.
pub fn for_format(
    format: Format,
    out: Box<dyn Write>,
    color: ColorChoice,
    visibility: &Visibilities,
) -> Box<dyn Reporter> {
    match format {
        Format::Human => Box::new(human::HumanReporter::new(out, color)),
        Format::Json => Box::new(
            AtEnd::new(out, Box::new(json::write)).or_not_graded(Box::new(json::write_not_graded)),
        ),
        Format::Gradescope => {
            let visibility = visibility.clone();
            Box::new(AtEnd::new(
                out,
                // The staff's account goes to stderr, which a run_autograder's stdout gathers.
                Box::new(move |report, out| {
                    gradescope::write(report, &visibility, out, &mut io::stderr())
                }),
            ))
        }
        Format::Junit => Box::new(
            AtEnd::new(out, Box::new(junit::write)).or_not_graded(Box::new(junit::write_not_graded)),
        ),
        Format::Classroom => Box::new(
            AtEnd::new(out, Box::new(classroom::write))
                .or_not_graded(Box::new(classroom::write_not_graded)),
        ),
        Format::Markdown => Box::new(
            AtEnd::new(out, Box::new(markdown::write))
                .or_not_graded(Box::new(markdown::write_not_graded)),
        ),
    }
}

//! What a student reads: a line per check as it finishes, and for each failure what was
//! expected, what came, why, and the transcript of that check. The report is always written
//! in colour into an anstream [`AutoStream`], which passes the colour on or strips it as its
//! [`ColorChoice`] says (main decides: a terminal, `CLICOLOR_FORCE` or `FORCE_COLOR` on a CI
//! log, never `NO_COLOR`); the program's own bytes always arrive here already escaped.

use std::io::{self, Write};

use anstream::{AutoStream, ColorChoice};
use anstyle::{AnsiColor, Style};

use crate::report::{CheckResult, Event, Outcome, Report};
use crate::reporters::{Reporter, text};

pub struct HumanReporter {
    out: AutoStream<Box<dyn Write>>,
    id_width: usize,
}

impl HumanReporter {
    pub fn new(out: Box<dyn Write>, color: ColorChoice) -> HumanReporter {
        HumanReporter {
            out: AutoStream::new(out, color),
            id_width: 18,
        }
    }

    fn check(&mut self, check: &CheckResult) -> io::Result<()> {
        let green = Style::new().fg_color(Some(AnsiColor::Green.into())).bold();
        let red = Style::new().fg_color(Some(AnsiColor::Red.into())).bold();
        let dim = Style::new().dimmed();
        let (tag, style) = match check.outcome {
            Outcome::Passed => ("PASS", green),
            Outcome::Failed(_) => ("FAIL", red),
            Outcome::NotReached { .. } => ("SKIP", dim),
        };
        let tag = text::paint(style, tag);
        writeln!(
            self.out,
            "  {tag}  {:<w$} {:>2}/{:<2} {}",
            check.id,
            check.points,
            check.max,
            check.description,
            w = self.id_width
        )?;
        for line in text::details(check) {
            writeln!(self.out, "        {line}")?;
        }
        Ok(())
    }

    fn summary(&mut self, report: &Report) -> io::Result<()> {
        let style = if report.full_marks() {
            Style::new().fg_color(Some(AnsiColor::Green.into())).bold()
        } else {
            Style::new().fg_color(Some(AnsiColor::Red.into())).bold()
        };
        let score = text::paint(style, &format!("{}/{}", report.score(), report.max_score()));
        writeln!(
            self.out,
            "score: {score}  ({}; {:.2} s)",
            text::ending(report),
            report.duration.as_secs_f64()
        )
    }
}

impl Reporter for HumanReporter {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::Started {
                lab,
                program,
                port,
                isolation,
            } => {
                let place = match isolation {
                    Some(level) => format!("port {port}, isolation: {level}"),
                    None => "not run".to_string(),
                };
                writeln!(
                    self.out,
                    "socklab check {lab}: {}  ({place})",
                    program.join(" ")
                )?;
            }
            Event::Notice(text) => writeln!(self.out, "  note: {text}")?,
            Event::RunStarted { name, program } if program.is_empty() => {
                writeln!(self.out, "  {name}: not run")?;
            }
            Event::RunStarted { name, program } => {
                writeln!(self.out, "  {name}: {}", program.join(" "))?;
            }
            Event::CheckFinished(check) => self.check(check)?,
            Event::Finished(report) => self.summary(report)?,
            // main says why on stderr, once.
            Event::NotGraded(_) => {}
        }
        self.out.flush()
    }
}

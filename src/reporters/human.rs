//! What a student reads: a line per check as it finishes, and for each failure what was
//! expected, what came, why, and the transcript of that check. Colour only on a terminal;
//! the program's own bytes always arrive here already escaped.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use crate::report::{CheckResult, Event, Outcome, Report};
use crate::reporters::{Reporter, text};

pub struct HumanReporter {
    out: Box<dyn Write>,
    color: bool,
    id_width: usize,
}

impl HumanReporter {
    pub fn new(out: Box<dyn Write>, color: bool) -> HumanReporter {
        HumanReporter {
            out,
            color,
            id_width: 18,
        }
    }

    fn paint(&self, style: Style, text: &str) -> String {
        text::paint(self.color, style, text)
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
        let tag = self.paint(style, tag);
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
        let score = self.paint(style, &format!("{}/{}", report.score(), report.max_score()));
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
                writeln!(
                    self.out,
                    "socklab check {lab}: {}  (port {port}, {isolation})",
                    program.join(" ")
                )?;
            }
            Event::Notice(text) => writeln!(self.out, "  note: {text}")?,
            Event::RunStarted { name, program } => {
                writeln!(self.out, "  {name}: {}", program.join(" "))?;
            }
            Event::CheckFinished(check) => self.check(check)?,
            Event::Finished(report) => self.summary(report)?,
        }
        self.out.flush()
    }
}

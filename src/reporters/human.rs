//! What a student reads: a line per check as it finishes, and for each failure what was
//! expected, what came, why, and the transcript of that check. Colour only on a terminal;
//! the program's own bytes always arrive here already escaped.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use crate::report::{CheckResult, Entry, Event, Outcome, Report};
use crate::reporters::Reporter;

/// A failed check shows this many transcript entries from its start and from its end.
const TRANSCRIPT_SHOWN: usize = 8;

/// A transcript line is cut after this many characters (JSON keeps them whole).
const ENTRY_SHOWN_CHARS: usize = 120;

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
        if self.color {
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
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
        match &check.outcome {
            Outcome::Passed => {}
            Outcome::NotReached { reason } => {
                writeln!(self.out, "        not reached: {reason}")?;
            }
            Outcome::Failed(f) => {
                writeln!(self.out, "        expected: {}", f.expected)?;
                writeln!(self.out, "        got:      {}", f.got)?;
                for (i, line) in f.message.lines().enumerate() {
                    let label = if i == 0 { "why:     " } else { "         " };
                    writeln!(self.out, "        {label} {line}")?;
                }
                if !check.transcript.is_empty() {
                    writeln!(self.out, "        transcript:")?;
                    let entries = &check.transcript;
                    if entries.len() <= TRANSCRIPT_SHOWN * 2 {
                        for entry in entries {
                            self.entry(entry, "          ")?;
                        }
                    } else {
                        for entry in &entries[..TRANSCRIPT_SHOWN] {
                            self.entry(entry, "          ")?;
                        }
                        let skipped = entries.len() - 2 * TRANSCRIPT_SHOWN;
                        writeln!(self.out, "          … {skipped} more entries …")?;
                        for entry in &entries[entries.len() - TRANSCRIPT_SHOWN..] {
                            self.entry(entry, "          ")?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn entry(&mut self, entry: &Entry, indent: &str) -> io::Result<()> {
        let text = match entry.text.char_indices().nth(ENTRY_SHOWN_CHARS) {
            Some((cut, _)) => format!(
                "{}… ({} chars in all)",
                &entry.text[..cut],
                entry.text.chars().count()
            ),
            None => entry.text.clone(),
        };
        writeln!(
            self.out,
            "{indent}+{:>6.3}s  {:<17} {text}",
            entry.at.as_secs_f64(),
            entry.who,
        )
    }

    fn summary(&mut self, report: &Report) -> io::Result<()> {
        let style = if report.full_marks() {
            Style::new().fg_color(Some(AnsiColor::Green.into())).bold()
        } else {
            Style::new().fg_color(Some(AnsiColor::Red.into())).bold()
        };
        let score = self.paint(style, &format!("{}/{}", report.score(), report.max_score()));
        let ending = match (report.exit, report.stopped_by_harness) {
            (_, true) => "the harness had to stop the program".to_string(),
            (Some(exit), false) => format!("the program exited with {exit}"),
            (None, false) => "the program's exit status is unknown".to_string(),
        };
        writeln!(
            self.out,
            "score: {score}  ({ending}; {:.2} s)",
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

//! `--format markdown`: the run in GitHub-flavoured Markdown, written when it ends; the
//! Classroom workflow appends it to `$GITHUB_STEP_SUMMARY`, which GitHub shows on the run's
//! page. A heading with the score, a table with a row per check, then for each lost check a
//! collapsed block with expected, got, why and its transcript; how the program ended, the
//! notices and the end of its stderr.
//!
//! Text from the lab goes through [`escaped`] (CommonMark lets any ASCII punctuation be
//! backslash-escaped, table pipes included); the program's bytes, already escaped by the
//! engine, only ever appear inside a code fence longer than any run of backticks in them.

use std::io::{self, Write};

use crate::report::{CheckResult, NotGraded, Outcome, Report};
use crate::reporters::text;

/// `text` with every ASCII punctuation character backslash-escaped, and on one line: safe
/// in a paragraph, a heading or a table cell.
pub fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            c if c.is_ascii_punctuation() => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// `body` in a code block whose fence no line of it can close.
fn fenced(body: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat((longest + 1).max(3));
    format!("{fence}text\n{body}\n{fence}")
}

fn verdict(c: &CheckResult) -> &'static str {
    match c.outcome {
        Outcome::Passed => "✅ passed",
        Outcome::Failed(_) => "❌ failed",
        Outcome::NotReached { .. } => "⏭️ not reached",
    }
}

fn row(c: &CheckResult) -> String {
    let mut about = escaped(&c.description);
    match &c.outcome {
        Outcome::NotReached { reason } => {
            about.push_str(&format!(" (not reached: {})", escaped(reason)))
        }
        Outcome::Passed | Outcome::Failed(_) => {}
    }
    if c.max == 0 {
        about.push_str(" (reported, not scored)");
    }
    format!(
        "| {} | `{}` | {}/{} | {about} |",
        verdict(c),
        c.id,
        c.points,
        c.max
    )
}

/// The report as Markdown.
pub fn markdown(r: &Report) -> String {
    let mark = if r.full_marks() { "✅" } else { "❌" };
    let mut md = format!(
        "### {mark} {}: {}/{}\n\n{}: {} ({:.2} s)\n\n",
        escaped(&r.lab),
        r.score(),
        r.max_score(),
        escaped(&r.program.join(" ")),
        escaped(&text::ending(r)),
        r.duration.as_secs_f64()
    );
    md.push_str("| result | check | points | what it checks |\n| --- | --- | --- | --- |\n");
    for c in &r.checks {
        md.push_str(&row(c));
        md.push('\n');
    }
    for c in r
        .checks
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Failed(_)))
    {
        md.push_str(&format!(
            "\n<details><summary>❌ {}: why it failed</summary>\n\n{}\n\n</details>\n",
            c.id,
            fenced(&text::details_text(c))
        ));
    }
    for notice in &r.notices {
        md.push_str(&format!("\nNote: {}\n", escaped(notice.text())));
    }
    if !r.stderr_tail().is_empty() {
        md.push_str(&format!(
            "\nThe end of the program's stderr:\n\n{}\n",
            fenced(r.stderr_tail())
        ));
    }
    md
}

/// Writes the report as Markdown.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(markdown(report).as_bytes())
}

/// Writes what a lab socklab could not grade shows: its maximum lost, and why.
pub fn write_not_graded(lab: &NotGraded, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "### ⚠️ {}: 0/{}, not graded\n\nsocklab could not grade it: {}",
        escaped(&lab.lab),
        lab.max_score,
        escaped(&lab.reason)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reporters::sample::{Went, report};

    #[test]
    fn escaped_text_is_literal_in_markdown_and_on_one_line() {
        assert_eq!(escaped("a|b_c*<x> `y`\nz"), r"a\|b\_c\*\<x\> \`y\` z");
    }

    /// A table row per check; a lost check's evidence in a fence that the program's own
    /// backticks cannot close.
    #[test]
    fn the_programs_backticks_stay_inside_the_fence() {
        let md = markdown(&report(
            "lab",
            &[
                ("a", 1, Went::Passed),
                ("b", 2, Went::Failed),
                ("c", 1, Went::NotReached),
            ],
        ));
        assert!(md.starts_with("### ❌ lab: 1/4\n"), "{md}");
        for row in [
            "| ✅ passed | `a` | 1/1 |",
            "| ❌ failed | `b` | 0/2 |",
            "| ⏭️ not reached | `c` | 0/1 |",
        ] {
            assert!(md.contains(row), "{row} not in\n{md}");
        }
        let block = md
            .split("<summary>❌ b: why it failed</summary>")
            .nth(1)
            .unwrap();
        assert!(block.contains("\n````text\nexpected: "), "{md}");
        assert!(block.contains("b'``` |x|'"), "{md}");
        assert!(block.contains("\n````\n\n</details>"), "{md}");
    }
}

//! Plain text shared by every reporter that shows a check to a person (human, Gradescope,
//! JUnit, classroom): what a failure expected, what came, why, and that check's transcript;
//! and how the program ended. The program's bytes arrive here already escaped.

use anstyle::Style;

use crate::report::{CheckResult, Entry, Outcome, Report};

/// A failed check shows this many transcript entries from its start and from its end.
const TRANSCRIPT_SHOWN: usize = 8;

/// A transcript line is cut after this many characters (JSON keeps them whole).
const ENTRY_SHOWN_CHARS: usize = 120;

/// The lines under a check's verdict, unindented: nothing for a pass, the reason for a
/// check not reached, and for a failure expected, got, why and the transcript.
pub fn details(check: &CheckResult) -> Vec<String> {
    let mut lines = evidence(check);
    if matches!(check.outcome, Outcome::Failed(_)) && !check.transcript.is_empty() {
        lines.push("transcript:".into());
        lines.extend(transcript(&check.transcript).map(|line| format!("  {line}")));
    }
    lines
}

/// [`details`] without the transcript: the reason a check was not reached, or a failure's
/// expected, got and why.
pub fn evidence(check: &CheckResult) -> Vec<String> {
    let mut lines = Vec::new();
    match &check.outcome {
        Outcome::Passed => {}
        Outcome::NotReached { reason } => lines.push(format!("not reached: {reason}")),
        Outcome::Failed(f) => {
            lines.push(format!("expected: {}", f.expected));
            lines.push(format!("got:      {}", f.got));
            for (i, line) in f.explanation().enumerate() {
                let label = if i == 0 { "why:" } else { "" };
                lines.push(format!("{label:<9} {line}"));
            }
        }
    }
    lines
}

/// [`details`] as one block of text.
pub fn details_text(check: &CheckResult) -> String {
    details(check).join("\n")
}

/// The entries of a transcript, one line each; a long one shows its start and its end.
pub fn transcript(entries: &[Entry]) -> impl Iterator<Item = String> + '_ {
    let (head, skipped, tail) = if entries.len() <= TRANSCRIPT_SHOWN * 2 {
        (entries, 0, &entries[..0])
    } else {
        (
            &entries[..TRANSCRIPT_SHOWN],
            entries.len() - 2 * TRANSCRIPT_SHOWN,
            &entries[entries.len() - TRANSCRIPT_SHOWN..],
        )
    };
    let gap = (skipped > 0).then(|| format!("… {skipped} more entries …"));
    head.iter()
        .map(entry)
        .chain(gap)
        .chain(tail.iter().map(entry))
}

/// `+ 0.012s  alice → program   b'Hello!\n'`, cut if long.
pub fn entry(entry: &Entry) -> String {
    let text = match entry.text.char_indices().nth(ENTRY_SHOWN_CHARS) {
        Some((cut, _)) => format!(
            "{}… ({} chars in all)",
            &entry.text[..cut],
            entry.text.chars().count()
        ),
        None => entry.text.clone(),
    };
    format!(
        "+{:>6.3}s  {:<17} {text}",
        entry.at.as_secs_f64(),
        entry.who
    )
}

/// How the run ended, in a few words: "the program exited with status 0".
pub fn ending(report: &Report) -> String {
    match (report.exit(), report.stopped_by_harness()) {
        (_, true) => "the harness had to stop the program".to_string(),
        (Some(exit), false) => format!("the program exited with {exit}"),
        (None, false) if report.isolation.is_none() => "the program did not run".to_string(),
        (None, false) => "the program's exit status is unknown".to_string(),
    }
}

/// `text` in `style`. Whether the colour reaches the reader is the output stream's business
/// (anstream strips it where colour is off; see `human.rs`).
pub fn paint(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

/// The file a command grades, for formats that name one (JUnit's `file`, GitHub Classroom's
/// `filename`): the script an interpreter is given (`python3 -u serv.py` gives `serv.py`),
/// else the program itself (`./serv`, `nc`).
pub fn program_file(program: &[String]) -> &str {
    let Some((first, args)) = program.split_first() else {
        return "";
    };
    let name = first.rsplit('/').next().unwrap_or(first);
    let interpreter =
        name.starts_with("python") || ["node", "ruby", "perl", "php", "bash", "sh"].contains(&name);
    match args.iter().find(|a| !a.starts_with('-')) {
        Some(script) if interpreter => script,
        _ => first,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_file_is_the_script_an_interpreter_runs_else_the_program() {
        let file = |argv: &[&str]| {
            let argv: Vec<String> = argv.iter().map(|a| a.to_string()).collect();
            program_file(&argv).to_string()
        };
        assert_eq!(file(&["python3", "-u", "serv.py", "{port}"]), "serv.py");
        assert_eq!(file(&["/usr/bin/python3.12", "a/serv.py"]), "a/serv.py");
        assert_eq!(file(&["./serv", "8000"]), "./serv");
        assert_eq!(file(&["nc"]), "nc");
        assert_eq!(file(&["python3"]), "python3");
        assert_eq!(file(&[]), "");
    }
}

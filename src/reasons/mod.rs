//! The reason a student can act on: what went wrong, said from what was seen, and what to do
//! about it, fit for the program's language. Pure: it takes plain data the engine already
//! holds (the bytes awaited and those that came, what was typed or sent just before, how
//! the program ended and its last words) and returns words; it knows no session, no lab,
//! no step.
//!
//! One file per pattern:
//! - [`content`]: bytes came, but other bytes: how they differ (NUL padding, an echo, the
//!   same reply whatever was typed, a missing newline, a repr), judged before any address.
//! - [`near_miss`]: a line that comes close to the one awaited (`connection from` with the
//!   client's address): which part is wrong.
//! - [`moment`]: the program ended, went silent or flooded: what had just happened, its own
//!   last words, and the "blocked in ..." clause only where it explains.
//! - [`bind`]: a failed bind(): the address its words or source name, not this host's; the
//!   port the kernel picked when listen() came without it.

pub mod bind;
pub mod content;
pub mod moment;
pub mod near_miss;

use std::path::Path;

pub use content::{Awaited, Carrier, Difference, Exchange};
pub use moment::{Blocked, Ended, Moment, Printed};
pub use near_miss::{Part, PrintedLine};

/// What the reason says, and what the student can do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// What went wrong, in the student's terms: the cause where it is known, else what was
    /// seen.
    pub why: String,
    pub hint: Hint,
}

/// The advice that follows a reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hint {
    /// Advice for the mistake the reason found; it replaces the lab's hint for the step.
    Own(String),
    /// The lab's hint for the step, where it fits the program's language (see
    /// [`step_hint_fits`]): the reason found nothing more precise.
    Step,
    /// No advice: the reason says it all, and the step's hint would point elsewhere.
    Nothing,
}

impl Reason {
    /// The advice to show: the reason's own, or the step's (`step_hint`, the lab's hint for
    /// the step, already judged to fit the language with [`step_hint_fits`]).
    pub fn hint_or<'a>(&'a self, step_hint: Option<&'a str>) -> Option<&'a str> {
        match &self.hint {
            Hint::Own(hint) => Some(hint),
            Hint::Step => step_hint,
            Hint::Nothing => None,
        }
    }

    /// The reason as one message, as the reports show a failure's "why": the reason, then
    /// its advice on a line of its own.
    pub fn message(&self, step_hint: Option<&str>) -> String {
        match self.hint_or(step_hint) {
            Some(hint) => format!("{}\n{hint}", self.why),
            None => self.why.clone(),
        }
    }

    fn own(why: impl Into<String>, hint: impl Into<String>) -> Reason {
        Reason {
            why: why.into(),
            hint: Hint::Own(hint.into()),
        }
    }

    fn bare(why: impl Into<String>) -> Reason {
        Reason {
            why: why.into(),
            hint: Hint::Nothing,
        }
    }
}

/// The language a program is written in, which decides the words of a hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Python,
    C,
    /// Anything else (a compiled binary, a shell script): hints name no language's calls.
    Other,
}

impl Language {
    /// From a file's name and its first line: `.py` or a `#!` line naming python is Python,
    /// `.c` (or `.h`) is C.
    pub fn of_file(name: &str, first_line: &str) -> Language {
        let extension = Path::new(name).extension().and_then(|e| e.to_str());
        match extension {
            Some("py") => Language::Python,
            Some("c" | "h") => Language::C,
            _ if first_line.starts_with("#!") && first_line.contains("python") => {
                Language::Python
            }
            _ => Language::Other,
        }
    }

    /// From a command as given (`python3 serv.py {port}`, `./a.out`): the interpreter if it
    /// is Python's, else the first argument whose file says; `first_line_of` reads a file's
    /// first line, if there is such a file.
    pub fn of_command(argv: &[String], first_line_of: impl Fn(&str) -> Option<String>) -> Language {
        let interpreter = argv
            .first()
            .and_then(|a| Path::new(a).file_name())
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if interpreter.starts_with("python") {
            return Language::Python;
        }
        argv.iter()
            .map(|arg| Language::of_file(arg, &first_line_of(arg).unwrap_or_default()))
            .find(|l| *l != Language::Other)
            .unwrap_or(Language::Other)
    }

    /// One of three phrasings, by language.
    fn pick<'a>(self, python: &'a str, c: &'a str, other: &'a str) -> &'a str {
        match self {
            Language::Python => python,
            Language::C => c,
            Language::Other => other,
        }
    }
}

/// Whether a lab's hint for a step fits a program in `language`. The lesson's labs speak
/// Python (`input()`, `print(data)`, `sys.stdin`): such a hint is left out for a C program
/// rather than read as advice about calls it does not make.
pub fn step_hint_fits(hint: &str, language: Language) -> bool {
    const PYTHON_ONLY: [&str; 7] = [
        "input()",
        "print(",
        "sys.stdin",
        ".encode()",
        "readline()",
        "EOFError",
        "b''",
    ];
    language != Language::C || !PYTHON_ONLY.iter().any(|word| hint.contains(word))
}

/// Text the program printed or was typed, in quotes, as it shows on a screen: only control
/// characters and invalid UTF-8 escaped.
fn quoted(text: &[u8]) -> String {
    let mut out = String::from("\"");
    for chunk in text.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                c if c.is_control() => out.push_str(&crate::escape::readable(c.to_string().as_bytes())),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// The reason, with its own advice, has every one of `has` and none of `lacks`.
    pub fn assert_says(reason: &Reason, has: &[&str], lacks: &[&str]) {
        let text = reason.message(None);
        for word in has {
            assert!(text.contains(word), "{text:?} lacks {word:?}");
        }
        for word in lacks {
            assert!(!text.contains(word), "{text:?} has {word:?}");
        }
    }

    #[test]
    fn the_language_comes_from_the_name_or_the_first_line() {
        let table: [(&str, &str, Language); 7] = [
            ("serv_simple.py", "", Language::Python),
            ("serv_simple.c", "", Language::C),
            ("serv_simple", "#!/usr/bin/python3", Language::Python),
            ("serv_simple", "#!/usr/bin/env python3", Language::Python),
            ("serv_simple", "#!/bin/sh", Language::Other),
            ("a.out", "\x7fELF", Language::Other),
            ("activity1.sh", "nc -lnv 9000", Language::Other),
        ];
        for (name, first_line, language) in table {
            assert_eq!(Language::of_file(name, first_line), language, "{name}");
        }
    }

    #[test]
    fn the_language_of_a_command() {
        let argv = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        let no_file = |_: &str| None;
        let table = [
            (argv(&["python3", "serv.py", "{port}"]), Language::Python),
            (argv(&["/usr/bin/python3.12", "x"]), Language::Python),
            (argv(&["./serv_tcp"]), Language::Other),
            (argv(&["./serv_tcp.c"]), Language::C),
            (argv(&["sh", "-c", "./x"]), Language::Other),
        ];
        for (argv, language) in table {
            assert_eq!(Language::of_command(&argv, no_file), language, "{argv:?}");
        }
        let shebang = |path: &str| (path == "./serv").then(|| "#!/usr/bin/python3".to_string());
        assert_eq!(
            Language::of_command(&argv(&["./serv"]), shebang),
            Language::Python
        );
    }

    #[test]
    fn a_quote_shows_text_as_on_a_screen() {
        let table: [(&[u8], &str); 4] = [
            (b"Binding failed.", "\"Binding failed.\""),
            (b"b'hello\\n'", "\"b'hello\\n'\""),
            (b"red\x1b[0m\t\xff", "\"red\\x1b[0m\\t\\xff\""),
            ("caf\u{e9}".as_bytes(), "\"caf\u{e9}\""),
        ];
        for (text, shown) in table {
            assert_eq!(quoted(text), shown);
        }
    }

    #[test]
    fn a_python_hint_is_left_out_for_c_only() {
        let python = "send exactly the typed line: input() gives it without its newline";
        let plain = "close the connection once the reply is sent";
        let table = [
            (python, Language::Python, true),
            (python, Language::Other, true),
            (python, Language::C, false),
            (plain, Language::C, true),
        ];
        for (hint, language, fits) in table {
            assert_eq!(step_hint_fits(hint, language), fits, "{hint} / {language:?}");
        }
    }
}

//! A lab whose file was not handed in: missing, or empty (nothing but blank lines and
//! comments, as a template repository's files are). Such a lab is not graded: nothing runs,
//! every check is lost with the reason in the student's words ("no serv_simple.py in the
//! repository", "serv_simple.py is empty"), and that is the student's zero (exit 1), not
//! socklab's failure.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use crate::report::{Notice, Outcome, Report};
use crate::script::Lab;
use crate::not_run::LabInfo;

/// A file larger than this holds more than a template's comments.
const TEMPLATE_CAP: u64 = 1 << 20;

/// Why there is nothing to grade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// No such file; `place` says where it was looked for ("the repository", a folder).
    Missing { place: String },
    /// Only blank lines and comments.
    Empty,
}

/// A file handed in with nothing to grade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubmitted {
    /// The file as the user named it.
    pub file: String,
    pub why: Why,
}

impl Unsubmitted {
    /// `file` (named `shown`), if it is missing or empty; `None` if it has something to grade
    /// (or cannot be read, which whoever runs it will say).
    pub fn of(file: &Path, shown: &str) -> Option<Unsubmitted> {
        let absent = |why| {
            Some(Unsubmitted {
                file: shown.to_string(),
                why,
            })
        };
        let meta = match std::fs::metadata(file) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return absent(Why::Missing {
                    place: place_of(file),
                });
            }
            Err(_) => return None,
            Ok(meta) => meta,
        };
        if !meta.is_file() || meta.len() > TEMPLATE_CAP {
            return None;
        }
        let mut text = Vec::new();
        std::fs::File::open(file)
            .and_then(|f| f.take(TEMPLATE_CAP).read_to_end(&mut text))
            .ok()?;
        let c_like = file.extension().is_some_and(|e| e == "c");
        if only_comments(&String::from_utf8_lossy(&text), c_like) {
            absent(Why::Empty)
        } else {
            None
        }
    }

    /// The reason, in the student's words.
    pub fn reason(&self) -> String {
        match &self.why {
            Why::Missing { place } => format!("no {} in {place}", self.file),
            Why::Empty => format!("{} is empty", self.file),
        }
    }

    /// The report of `lab` for this file: nothing ran, every check lost for this reason,
    /// said once at the top too.
    pub fn report(&self, lab: &Lab) -> Report {
        let reason = self.reason();
        let mut report = LabInfo::of(lab).not_run(vec![self.file.clone()], Duration::ZERO, |_| {
            Outcome::NotReached {
                reason: reason.clone(),
            }
        });
        report
            .notices
            .push(Notice::Program(format!(
                "{reason}, so {} was not graded",
                lab.name
            )));
        report
    }
}

/// Where a missing `file` was looked for: the repository when its folder is a git
/// checkout's top (GitHub Classroom), else the folder.
fn place_of(file: &Path) -> String {
    let folder = file.parent().unwrap_or(Path::new(""));
    let here = folder.as_os_str().is_empty() || folder == Path::new(".");
    if (if here { Path::new(".") } else { folder }).join(".git").exists() {
        "the repository".into()
    } else if here {
        "this folder".into()
    } else {
        folder.display().to_string()
    }
}

/// Whether `text` is nothing but whitespace and comments: `//` and `/* */` in C, lines that
/// begin with `#` otherwise (Python, shell, a `#!` line).
fn only_comments(text: &str, c_like: bool) -> bool {
    if !c_like {
        return text
            .lines()
            .map(str::trim)
            .all(|l| l.is_empty() || l.starts_with('#'));
    }
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix("//") {
            rest = after.split_once('\n').map_or("", |(_, next)| next);
        } else if let Some(after) = rest.strip_prefix("/*") {
            match after.split_once("*/") {
                Some((_, next)) => rest = next,
                // An unclosed comment is for the compiler to refuse.
                None => return false,
            }
        } else {
            return rest.is_empty();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_blank_lines_and_comments_are_empty() {
        assert!(only_comments("", false));
        assert!(only_comments("#!/usr/bin/python3\n# serv_simple.py\n\n  \n", false));
        assert!(!only_comments("# serv_simple.py\nfrom socket import *\n", false));
        assert!(only_comments("// serv_simple.c\n/* write it\n here */\n", true));
        assert!(!only_comments("// serv_simple.c\n#include <stdio.h>\n", true));
        assert!(!only_comments("/* never closed\n", true));
        assert!(!only_comments("int main(void) { return 0; }", true));
    }
}

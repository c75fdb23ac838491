//! What a step expects of the program, and how bytes are judged against it: plain
//! functions on bytes, for [`super::prints`], [`super::receives`] and
//! [`super::receives_datagram`].

use crate::escape;
use crate::reasons::Awaited;

/// What the program should show on its screen.
#[derive(Debug, Clone)]
pub enum Text {
    /// `b'Hello!\n'` (Python's `print(data)`) or the raw text `Hello!\n`.
    Printed(Vec<u8>),
    /// These bytes exactly, as they came.
    Raw(Vec<u8>),
    /// A whole line containing each part: text matched ignoring case, numbers as whole
    /// numbers. Parts may hold variables such as `{alice.port}`.
    LineWith(Vec<String>),
}

impl Text {
    /// Where the first match in `screen` ends, with variables already filled in `parts`.
    pub fn find(&self, screen: &[u8], parts: &[String]) -> Option<usize> {
        match self {
            Text::Printed(data) => {
                let repr = escape::python_bytes(data).into_bytes();
                let end = [repr.as_slice(), data.as_slice()]
                    .iter()
                    .filter_map(|form| find_bytes(screen, form).map(|at| at + form.len()))
                    .min()?;
                // The newline print() adds belongs to this output too.
                Some(if screen.get(end) == Some(&b'\n') {
                    end + 1
                } else {
                    end
                })
            }
            Text::Raw(data) => find_bytes(screen, data).map(|at| at + data.len()),
            Text::LineWith(_) => {
                let mut start = 0;
                while let Some(nl) = screen[start..].iter().position(|&b| b == b'\n') {
                    let line = &screen[start..start + nl];
                    if parts.iter().all(|part| line_has(line, part)) {
                        return Some(start + nl + 1);
                    }
                    start += nl + 1;
                }
                None
            }
        }
    }

    pub fn describe(&self, parts: &[String]) -> String {
        match self {
            Text::Printed(data) => format!(
                "{} (as print(data) shows bytes) or the text itself",
                escape::python_bytes(data)
            ),
            Text::Raw(data) => format!("{} exactly", escape::python_bytes(data)),
            Text::LineWith(_) => {
                let quoted: Vec<String> = parts
                    .iter()
                    .map(|p| {
                        if p.chars().all(|c| c.is_ascii_digit()) {
                            p.clone()
                        } else {
                            format!("\"{p}\"")
                        }
                    })
                    .collect();
                format!("a line with {}", quoted.join(" and "))
            }
        }
    }
}

pub fn find_bytes(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A number must stand alone (8000 is not in 18000); text is matched ignoring case.
fn line_has(line: &[u8], part: &str) -> bool {
    if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
        let needle = part.as_bytes();
        let mut from = 0;
        while let Some(at) = find_bytes(&line[from..], needle) {
            let start = from + at;
            let end = start + needle.len();
            let digit_before = start > 0 && line[start - 1].is_ascii_digit();
            let digit_after = end < line.len() && line[end].is_ascii_digit();
            if !digit_before && !digit_after {
                return true;
            }
            from = start + 1;
        }
        false
    } else {
        find_bytes(
            &line.to_ascii_lowercase(),
            part.to_ascii_lowercase().as_bytes(),
        )
        .is_some()
    }
}

/// What a peer should receive from the program.
#[derive(Debug, Clone)]
pub enum Received {
    /// These bytes and no more (the next step's bytes come only after this one passed).
    Exactly(Vec<u8>),
    /// The line, with or without `\n`, and nothing after it.
    Line(Vec<u8>),
}

/// What received bytes say about a [`Received`] expectation so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Matched; this many bytes are used up.
    Matched(usize),
    /// Cannot match any more.
    Wrong,
    /// Could still match if more comes.
    Incomplete,
    /// Enough to pass if nothing else comes by the deadline (a line without its newline).
    MatchedUnlessMore(usize),
}

impl Received {
    pub fn judge(&self, got: &[u8], ended: bool) -> Verdict {
        match self {
            Received::Exactly(want) => {
                if got == want.as_slice() {
                    Verdict::Matched(want.len())
                } else if want.starts_with(got) && !ended {
                    Verdict::Incomplete
                } else {
                    Verdict::Wrong
                }
            }
            Received::Line(line) => {
                let mut with_newline = line.clone();
                with_newline.push(b'\n');
                if got == with_newline.as_slice() {
                    Verdict::Matched(got.len())
                } else if got == line.as_slice() {
                    if ended {
                        Verdict::Matched(got.len())
                    } else {
                        Verdict::MatchedUnlessMore(got.len())
                    }
                } else if with_newline.starts_with(got) && !ended {
                    Verdict::Incomplete
                } else {
                    Verdict::Wrong
                }
            }
        }
    }

    /// What is awaited, as a reason judges bytes against it (see [`crate::reasons`]).
    pub fn as_awaited(&self) -> Awaited<'_> {
        match self {
            Received::Exactly(want) => Awaited::Exactly(want),
            Received::Line(line) => Awaited::Line(line),
        }
    }

    /// The bytes whose arrival ends the wait even when what came first was wrong.
    pub fn awaited(&self) -> &[u8] {
        match self {
            Received::Exactly(want) | Received::Line(want) => want,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Received::Exactly(want) => escape::python_bytes(want),
            Received::Line(line) => {
                let mut with_newline = line.clone();
                with_newline.push(b'\n');
                format!(
                    "{} or {} and nothing else",
                    escape::python_bytes(line),
                    escape::python_bytes(&with_newline)
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn printed_accepts_python_bytes_or_raw_text() {
        let t = Text::Printed(b"Hello!\n".to_vec());
        assert_eq!(t.find(b"b'Hello!\\n'\n", &[]), Some(12));
        assert_eq!(t.find(b"Hello!\n\n", &[]), Some(8));
        assert_eq!(t.find(b"Hello!\nb", &[]), Some(7));
        assert_eq!(t.find(b"Hello!", &[]), None);
        assert_eq!(t.find(b"b'Hello!'\n", &[]), None);
    }

    #[test]
    fn line_with_needs_whole_numbers_on_one_complete_line() {
        let t = Text::LineWith(parts(&["connection from", "54214"]));
        let p = parts(&["connection from", "54214"]);
        assert!(
            t.find(b"connection from ('127.0.0.1', 54214)\n", &p)
                .is_some()
        );
        assert!(t.find(b"Connection from 127.0.0.1:54214\n", &p).is_some());
        assert!(
            t.find(b"connection from ('127.0.0.1', 542140)\n", &p)
                .is_none()
        );
        assert!(
            t.find(b"connection from ('127.0.0.1', 54214)", &p)
                .is_none()
        );
        assert!(t.find(b"connection from x\n54214\n", &p).is_none());
    }

    #[test]
    fn exact_bytes_fail_as_soon_as_they_differ() {
        let r = Received::Exactly(b"Hello!\n".to_vec());
        assert_eq!(r.judge(b"Hel", false), Verdict::Incomplete);
        assert_eq!(r.judge(b"Hel", true), Verdict::Wrong);
        assert_eq!(r.judge(b"Help", false), Verdict::Wrong);
        assert_eq!(r.judge(b"Hello!\n", false), Verdict::Matched(7));
        assert_eq!(r.judge(b"Hello!\n\0", false), Verdict::Wrong);
    }

    #[test]
    fn a_line_may_come_without_its_newline_but_with_nothing_else() {
        let r = Received::Line(b"hello back".to_vec());
        assert_eq!(r.judge(b"hello back\n", false), Verdict::Matched(11));
        assert_eq!(r.judge(b"hello back", true), Verdict::Matched(10));
        assert_eq!(
            r.judge(b"hello back", false),
            Verdict::MatchedUnlessMore(10)
        );
        assert_eq!(r.judge(b"hello back\r\n", false), Verdict::Wrong);
        assert_eq!(r.judge(b"hello back\nx", false), Verdict::Wrong);
        assert_eq!(r.judge(b"hello", false), Verdict::Incomplete);
    }
}

//! Judge the content, then the address: when bytes reached a peer but were other bytes, the
//! reason says how they differ from those awaited, and the hint fits that difference. An
//! address hint ("sendto() the address recvfrom() returned") never follows bytes that came
//! from the right place: it belongs to a datagram that went elsewhere or never came.

use crate::escape::python_bytes;

use super::{Hint, Language, Reason, quoted};

/// What a peer waited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Awaited<'a> {
    /// These bytes, no more and no fewer.
    Exactly(&'a [u8]),
    /// The line, with or without its newline.
    Line(&'a [u8]),
}

impl Awaited<'_> {
    fn text(&self) -> &[u8] {
        match self {
            Awaited::Exactly(text) | Awaited::Line(text) => text,
        }
    }

    fn matches(&self, got: &[u8]) -> bool {
        match self {
            Awaited::Exactly(text) => got == *text,
            Awaited::Line(text) => got.strip_suffix(b"\n").unwrap_or(got) == *text,
        }
    }
}

/// What the bytes came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    /// A TCP connection.
    Stream,
    /// One UDP datagram.
    Datagram,
}

/// Bytes that reached a peer, and what they are judged against.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    /// Who received them (`alice`).
    pub peer: &'a str,
    pub awaited: Awaited<'a>,
    pub got: &'a [u8],
    pub carrier: Carrier,
    /// The line typed on the program's keyboard just before, when the bytes should carry it.
    pub typed: Option<&'a str>,
    /// What the peer itself last sent the program.
    pub peer_sent: Option<&'a [u8]>,
    /// The time before: the line typed then, and what the peer received for it.
    pub earlier: Option<(&'a str, &'a [u8])>,
}

/// How the bytes that came differ from those awaited, the likeliest cause first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// NUL bytes after the text: a whole buffer sent (`sizeof buf`), or a C string's
    /// terminator. `text_right`: the text before them is the one awaited.
    NulPadded { nuls: usize, text_right: bool },
    /// What the peer had sent the program, sent back.
    Echo,
    /// The same bytes as the time before, though another line was typed.
    SameWhateverTyped { earlier_typed: String },
    /// The newline alone, in a datagram of its own after the line before it.
    NewlineApart,
    /// The bytes' printed form (`b'hello'`), sent as text.
    Repr,
    /// The line ends in `\r\n`.
    CrLf,
    /// The line without its newline, where the newline is part of what is awaited.
    MissingNewline,
    /// Only the start of what was awaited.
    Part,
    /// What was awaited, then more.
    MoreAfter { extra: Vec<u8> },
    /// Nothing of the line typed.
    NothingOfTyped,
    /// Other bytes, in no way the checks above know.
    Other,
}

/// How `x.got` differs from `x.awaited`. Called only for bytes that do not match.
pub fn difference(x: &Exchange) -> Difference {
    let got = x.got;
    let text = x.awaited.text();
    let unpadded = trim_end(got, 0);
    if unpadded.len() < got.len() {
        return Difference::NulPadded {
            nuls: got.len() - unpadded.len(),
            text_right: x.awaited.matches(unpadded),
        };
    }
    if x.peer_sent.is_some_and(|sent| same_line(got, sent)) {
        return Difference::Echo;
    }
    if let (Some((earlier_typed, earlier_got)), Some(typed)) = (x.earlier, x.typed)
        && earlier_typed != typed
        && earlier_got == got
    {
        return Difference::SameWhateverTyped {
            earlier_typed: earlier_typed.to_string(),
        };
    }
    if x.carrier == Carrier::Datagram
        && got == b"\n"
        && x.earlier.is_some_and(|(_, before)| !before.is_empty() && !before.ends_with(b"\n"))
    {
        return Difference::NewlineApart;
    }
    let line = text.strip_suffix(b"\n").unwrap_or(text);
    let printed = trim_end(got, b'\n');
    if [python_bytes(line), python_bytes(&[line, b"\n"].concat())]
        .iter()
        .any(|repr| printed == repr.as_bytes())
    {
        return Difference::Repr;
    }
    if got.strip_suffix(b"\r\n") == Some(line) {
        return Difference::CrLf;
    }
    if matches!(x.awaited, Awaited::Exactly(_)) && text.ends_with(b"\n") && got == line {
        return Difference::MissingNewline;
    }
    if !got.is_empty() && text.starts_with(got) {
        return Difference::Part;
    }
    if let Some(rest) = got.strip_prefix(text) {
        // A line awaited with or without its newline: what follows the newline is more.
        let extra = match x.awaited {
            Awaited::Line(_) => rest.strip_prefix(b"\n").unwrap_or(rest),
            Awaited::Exactly(_) => rest,
        };
        return Difference::MoreAfter {
            extra: extra.to_vec(),
        };
    }
    if x.typed.is_some_and(|typed| !contains_ignoring_case(got, typed.as_bytes())) {
        return Difference::NothingOfTyped;
    }
    Difference::Other
}

/// The reason for bytes that came but were not those awaited.
pub fn other_bytes(x: &Exchange, language: Language) -> Reason {
    let peer = x.peer;
    let got = python_bytes(x.got);
    let typed = x.typed.map(|t| quoted(t.as_bytes()));
    let send_typed = language.pick(
        "send the line input() returned, s.encode()",
        "send the line fgets() read from stdin",
        "send the line typed on the keyboard",
    );
    match difference(x) {
        Difference::NulPadded { nuls, text_right } => {
            let text = python_bytes(trim_end(x.got, 0));
            let what = if nuls == 1 {
                "a NUL byte (a C string's terminator)".to_string()
            } else {
                format!("{nuls} NUL bytes ({} bytes in all)", x.got.len())
            };
            let verdict = match (text_right, nuls) {
                (true, 1) => ": the text is right, but its terminator was sent too",
                (true, _) => ": the text is right, but the whole buffer was sent, not only its bytes",
                (false, _) => "",
            };
            let call = match x.carrier {
                Carrier::Stream => "send(conn, line, strlen(line), 0)",
                Carrier::Datagram => "sendto(sock, line, strlen(line), 0, ...)",
            };
            Reason::own(
                format!("{peer} received {text} followed by {what}{verdict}"),
                match language {
                    Language::C => format!("send strlen(line) bytes, not sizeof line: {call}"),
                    _ => "send only the bytes of the text, not the whole buffer it was read into"
                        .to_string(),
                },
            )
        }
        Difference::Echo => Reason::own(
            format!(
                "{peer} received {got}, what {peer} had sent the program, {}: the program sent back what it received",
                typed.map_or("not the bytes awaited".to_string(), |t| format!(
                    "not the line typed ({t})"
                ))
            ),
            format!(
                "{send_typed}, not {}",
                language.pick(
                    "the data recv() or recvfrom() returned",
                    "the buffer recv() or recvfrom() filled",
                    "what the client sent"
                )
            ),
        ),
        Difference::SameWhateverTyped { earlier_typed } => Reason::own(
            format!(
                "{peer} received {got} again, the same bytes as when {} was typed: the reply does not depend on what is typed",
                quoted(earlier_typed.as_bytes())
            ),
            send_typed,
        ),
        Difference::NewlineApart => Reason::own(
            format!(
                "{peer} received {got} alone: the newline of the line before ({}) came in a datagram of its own, and a datagram is a message by itself",
                python_bytes(x.earlier.map(|(_, before)| before).unwrap_or_default())
            ),
            "send the line and its newline together, in one sendto()",
        ),
        Difference::Repr => Reason::own(
            format!(
                "{peer} received {got}: the printed form of bytes (b'...'), not the bytes themselves"
            ),
            language.pick(
                "str(data) and f\"{data}\" give \"b'...'\": send the bytes themselves, or s.encode() of the text",
                "send the bytes themselves, not their printed form",
                "send the bytes themselves, not their printed form",
            ),
        ),
        Difference::CrLf => Reason::own(
            format!("{peer} received {got}: the line ends in \\r\\n, not \\n"),
            "end the line with \"\\n\" alone",
        ),
        Difference::MissingNewline => Reason::own(
            format!("{peer} received {got}, without the newline at its end"),
            match x.typed {
                // A typed line lost its newline on the way in.
                Some(_) => language
                    .pick(
                        "input() strips the newline: add it back before sending (s += \"\\n\"), as the lesson does",
                        "keep the newline fgets() read, or add \"\\n\" back before sending",
                        "end the line with \"\\n\"",
                    )
                    .to_string(),
                None => format!(
                    "end it with the newline: send {}",
                    python_bytes(x.awaited.text())
                ),
            },
        ),
        Difference::Part => match x.carrier {
            Carrier::Datagram => Reason::own(
                format!("{peer} received only {got}, the start of the line, in one datagram"),
                "send the whole line in one sendto()",
            ),
            Carrier::Stream => Reason {
                why: format!("only part of it reached {peer}: {got}"),
                hint: Hint::Step,
            },
        },
        Difference::MoreAfter { extra } => Reason::own(
            format!(
                "{peer} received {}, then more{}: {}",
                python_bytes(x.awaited.text()),
                match x.carrier {
                    Carrier::Datagram => " in the same datagram",
                    Carrier::Stream => "",
                },
                python_bytes(&extra)
            ),
            format!("send {} and nothing after it", python_bytes(x.awaited.text())),
        ),
        Difference::NothingOfTyped => Reason::own(
            format!(
                "{peer} received {got}, which holds nothing of the line typed ({})",
                typed.unwrap_or_default()
            ),
            send_typed,
        ),
        Difference::Other => match x.carrier {
            // The datagram came from the right place: an address hint would mislead.
            Carrier::Datagram => Reason::bare(format!("{peer} received a different datagram")),
            Carrier::Stream => Reason {
                why: format!("{peer} received other bytes"),
                hint: Hint::Step,
            },
        },
    }
}

/// Two lines the same, a newline at the end of either aside.
fn same_line(a: &[u8], b: &[u8]) -> bool {
    !a.is_empty() && a.strip_suffix(b"\n").unwrap_or(a) == b.strip_suffix(b"\n").unwrap_or(b)
}

/// `data` without the run of `byte` at its end.
fn trim_end(data: &[u8], byte: u8) -> &[u8] {
    let end = data.iter().rposition(|&b| b != byte).map_or(0, |at| at + 1);
    &data[..end]
}

fn contains_ignoring_case(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || haystack
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reply to `typed`, awaited as that line, carried by `carrier`.
    fn reply<'a>(typed: &'a str, got: &'a [u8], carrier: Carrier) -> Exchange<'a> {
        Exchange {
            peer: "alice",
            awaited: Awaited::Line(typed.as_bytes()),
            got,
            carrier,
            typed: Some(typed),
            peer_sent: Some(b"hello\n"),
            earlier: None,
        }
    }

    #[test]
    fn each_difference_is_told_apart() {
        let padded = [b"hi alice\n".as_slice(), &[0u8; 1015]].concat();
        let padded_short = [b"hi\n".as_slice(), &[0u8; 8]].concat();
        let with_terminator = b"Hello!\n\0".as_slice();
        let same = reply("yes, here", b"hello from the server\n", Carrier::Datagram);
        let table: Vec<(Exchange, Difference)> = vec![
            (
                reply("hi alice", &padded, Carrier::Datagram),
                Difference::NulPadded {
                    nuls: 1015,
                    text_right: true,
                },
            ),
            (
                reply("hi alice", &padded_short, Carrier::Datagram),
                Difference::NulPadded {
                    nuls: 8,
                    text_right: false,
                },
            ),
            (
                Exchange {
                    awaited: Awaited::Exactly(b"Hello!\n"),
                    typed: None,
                    ..reply("", with_terminator, Carrier::Stream)
                },
                Difference::NulPadded {
                    nuls: 1,
                    text_right: true,
                },
            ),
            (
                reply("hi alice", b"hello\n", Carrier::Datagram),
                Difference::Echo,
            ),
            (
                reply("hi alice", b"hello", Carrier::Datagram),
                Difference::Echo,
            ),
            (
                Exchange {
                    earlier: Some(("hi alice", b"hello from the server\n")),
                    ..same
                },
                Difference::SameWhateverTyped {
                    earlier_typed: "hi alice".into(),
                },
            ),
            (
                // The same line typed twice: the same reply says nothing.
                Exchange {
                    earlier: Some(("yes, here", b"hello from the server\n")),
                    ..same
                },
                Difference::NothingOfTyped,
            ),
            (same, Difference::NothingOfTyped),
            (
                Exchange {
                    earlier: Some(("yes, here", b"yes, here")),
                    ..reply("sorry, I was busy", b"\n", Carrier::Datagram)
                },
                Difference::NewlineApart,
            ),
            (
                reply("hello back", b"b'hello back'", Carrier::Stream),
                Difference::Repr,
            ),
            (
                reply("hello back", b"b'hello back\\n'\n", Carrier::Stream),
                Difference::Repr,
            ),
            (
                reply("hello back", b"hello back\r\n", Carrier::Stream),
                Difference::CrLf,
            ),
            (
                Exchange {
                    awaited: Awaited::Exactly(b"hello alice\n"),
                    ..reply("hello alice", b"hello alice", Carrier::Stream)
                },
                Difference::MissingNewline,
            ),
            (
                reply("hi alice", b"hi al", Carrier::Datagram),
                Difference::Part,
            ),
            (
                reply("hi alice", b"hi alice\nhello\n", Carrier::Datagram),
                Difference::MoreAfter {
                    extra: b"hello\n".to_vec(),
                },
            ),
            (
                // Another case is not "nothing of" the line.
                reply("hi alice", b"Hi Alice\n", Carrier::Datagram),
                Difference::Other,
            ),
            (
                Exchange {
                    typed: None,
                    peer_sent: None,
                    ..reply("hi alice", b"Hi Alice\n", Carrier::Datagram)
                },
                Difference::Other,
            ),
        ];
        for (exchange, want) in table {
            assert_eq!(difference(&exchange), want, "{exchange:?}");
        }
    }

    #[test]
    fn the_reason_names_the_difference_and_fits_the_language() {
        let padded = [b"hi alice\n".as_slice(), &[0u8; 1015]].concat();
        let fixed = b"hello from the server\n".as_slice();
        // (exchange, language, words the reason has, words it must not have)
        let table: Vec<(Exchange, Language, &[&str], &[&str])> = vec![
            (
                reply("hi alice", &padded, Carrier::Datagram),
                Language::C,
                &[
                    "alice received b'hi alice\\n' followed by 1015 NUL bytes (1024 bytes in all)",
                    "strlen(line)",
                    "sendto(",
                ],
                &["recvfrom() returned", "input()", "fixed address"],
            ),
            (
                reply("hi alice", &padded, Carrier::Datagram),
                Language::Python,
                &["1015 NUL bytes", "not the whole buffer"],
                &["strlen", "sizeof"],
            ),
            (
                Exchange {
                    awaited: Awaited::Exactly(b"Hello!\n"),
                    typed: None,
                    ..reply("", b"Hello!\n\0", Carrier::Stream)
                },
                Language::C,
                &["a NUL byte (a C string's terminator)", "send(conn, line, strlen(line), 0)"],
                &["sendto"],
            ),
            (
                reply("hi alice", b"hello\n", Carrier::Datagram),
                Language::Python,
                &[
                    "what alice had sent the program",
                    "not the line typed (\"hi alice\")",
                    "input() returned",
                ],
                &["fixed address"],
            ),
            (
                reply("hi alice", b"hello\n", Carrier::Datagram),
                Language::C,
                &["sent back what it received", "fgets()"],
                &["input()"],
            ),
            (
                Exchange {
                    earlier: Some(("hi alice", fixed)),
                    ..reply("yes, here", fixed, Carrier::Datagram)
                },
                Language::Python,
                &[
                    "the same bytes as when \"hi alice\" was typed",
                    "does not depend on what is typed",
                ],
                &[],
            ),
            (
                reply("hi alice", fixed, Carrier::Datagram),
                Language::Other,
                &["holds nothing of the line typed (\"hi alice\")", "typed on the keyboard"],
                &["input()", "fgets()"],
            ),
            (
                reply("hello back", b"b'hello back'", Carrier::Stream),
                Language::Python,
                &["printed form of bytes", "str(data)"],
                &[],
            ),
            (
                Exchange {
                    awaited: Awaited::Exactly(b"hello alice\n"),
                    ..reply("hello alice", b"hello alice", Carrier::Stream)
                },
                Language::C,
                &["without the newline at its end", "fgets()"],
                &["input()"],
            ),
            (
                reply("hi alice", b"hi al", Carrier::Datagram),
                Language::Python,
                &["only b'hi al'", "in one sendto()"],
                &[],
            ),
            (
                Exchange {
                    typed: None,
                    peer_sent: None,
                    ..reply("hi alice", b"Hi Alice\n", Carrier::Datagram)
                },
                Language::Python,
                &["alice received a different datagram"],
                &["recvfrom() returned"],
            ),
        ];
        for (exchange, language, has, lacks) in table {
            let reason = other_bytes(&exchange, language);
            super::super::tests::assert_says(&reason, has, lacks);
        }
    }

    #[test]
    fn only_bytes_of_unknown_shape_on_a_connection_keep_the_steps_hint() {
        let unknown = Exchange {
            typed: None,
            peer_sent: None,
            ..reply("hi alice", b"Hi Alice\n", Carrier::Stream)
        };
        assert_eq!(other_bytes(&unknown, Language::C).hint, Hint::Step);
        let datagram = Exchange {
            carrier: Carrier::Datagram,
            ..unknown
        };
        assert_eq!(other_bytes(&datagram, Language::C).hint, Hint::Nothing);
    }
}

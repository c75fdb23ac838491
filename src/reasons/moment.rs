//! The moment and the program's own words: when the program ended, the reason says what had
//! just happened (a client connected, a line was typed, the first datagram came), quotes
//! the last line it printed, and names the cause its words give (an option taken for an
//! address, a failed bind; see [`super::bind`]). A flood of output is told as a flood. And
//! the "blocked in ..." clause is said only where nothing came, where it explains: the
//! program waits for something that will not come.

use std::net::IpAddr;
use std::time::Duration;

use crate::escape::{python_bytes, readable};
use crate::report::ProgramExit;

use super::bind;
use super::{Hint, Language, Reason, quoted};

/// What had just happened when the program failed, as the program met it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment<'a> {
    /// Nothing yet: it was starting.
    Start,
    /// A peer connected to it.
    Connected { peer: &'a str },
    /// It connected to a peer.
    ConnectedTo { peer: &'a str },
    /// A peer's bytes reached it: a message on the connection, or a datagram (`first`: the
    /// first of the run).
    Received {
        peer: &'a str,
        data: &'a [u8],
        datagram: bool,
        first: bool,
    },
    /// A line was typed on its keyboard.
    Typed(&'a str),
    /// A peer hung up.
    HungUp { peer: &'a str },
    /// End of input (^D) on its keyboard.
    EndOfInput,
}

impl Moment<'_> {
    /// The moment as the end of a sentence: "as soon as a line was typed (\"hi\")".
    pub fn phrase(&self) -> String {
        match *self {
            Moment::Start => "at once, before any connection or input".into(),
            Moment::Connected { peer } => format!("right after {peer} connected"),
            Moment::ConnectedTo { peer } => format!("right after it connected to {peer}"),
            Moment::Received {
                peer,
                data,
                datagram: true,
                first,
            } => format!(
                "right after {} datagram from {peer} ({})",
                if first { "the first" } else { "a" },
                python_bytes(data)
            ),
            Moment::Received { peer, data, .. } => {
                format!("right after {peer}'s message ({}) came", python_bytes(data))
            }
            Moment::Typed(line) => {
                format!("as soon as a line was typed ({})", quoted(line.as_bytes()))
            }
            Moment::HungUp { peer } => format!("when {peer} hung up"),
            Moment::EndOfInput => "at end of input (^D)".into(),
        }
    }
}

/// How the program ended, with everything it left behind.
#[derive(Debug, Clone, Copy)]
pub struct Ended<'a> {
    pub exit: ProgramExit,
    pub moment: Moment<'a>,
    /// What it wrote on stderr (its end, at least).
    pub stderr: &'a [u8],
    /// What it printed on its screen (its end, at least).
    pub printed: &'a [u8],
    /// The arguments it was given, after its name (a netcat's `-lnv 9000`).
    pub args: &'a [String],
    /// The addresses this host has, where the program ran.
    pub host_addresses: &'a [IpAddr],
    /// The program's source, where a failed bind()'s address may be written.
    pub source: Option<&'a str>,
}

/// The reason a program that has ended gives: how, when, in its own words, and the cause
/// those words name.
pub fn ended(e: &Ended, language: Language) -> Reason {
    let stderr = String::from_utf8_lossy(e.stderr);
    let printed = String::from_utf8_lossy(e.printed);
    let how = match e.exit {
        ProgramExit::Exited(code) => format!("exited with status {code}"),
        ProgramExit::Signaled(_) => format!("was killed by {}", e.exit.to_string().replace("signal ", "")),
    };
    let mut why = match option_taken_for_address(e.args, &stderr, &printed) {
        Some(option) => format!(
            "the program took `{option}` for an address: it {how} {}",
            e.moment.phrase()
        ),
        None => format!("the program {how} {}", e.moment.phrase()),
    };
    let mut hint = Hint::Nothing;
    if let ProgramExit::Signaled(signal) = e.exit
        && let Some(what) = signal_meaning(signal)
    {
        why.push_str(&format!(": {what}"));
    }
    let failure = bind::failure(&stderr, &printed, e.source, e.host_addresses);
    if let Some(failure) = &failure {
        why.push_str(&format!(": {}", failure.cause()));
    }
    if let Some(line) = last_line(e.printed) {
        why.push_str(&format!("; the last line it printed: {line}"));
    }
    if let Some(option) = option_taken_for_address(e.args, &stderr, &printed) {
        hint = Hint::Own(format!(
            "read the options first: `{option}` is {} in one word, and with -l the last argument is the port to listen on",
            option
                .chars()
                .skip(1)
                .map(|c| format!("-{c}"))
                .collect::<Vec<_>>()
                .join(" ")
        ));
    } else if let Some(failure) = &failure {
        hint = failure.hint(language);
    } else if let Some(advice) = advice(e, language) {
        hint = Hint::Own(advice.into());
    }
    let tail = last_lines(e.stderr, 8);
    if !tail.is_empty() && !e.exit.is_success() {
        why.push_str("; the end of its stderr:\n");
        why.push_str(&tail);
    }
    Reason { why, hint }
}

/// An argument that looks like options (`-lnv`) the program took for a host name: it ended
/// saying a name could not be resolved, or quoting the argument.
fn option_taken_for_address<'a>(args: &'a [String], stderr: &str, printed: &str) -> Option<&'a str> {
    const UNRESOLVED: [&str; 7] = [
        "name or service not known",
        "gaierror",
        "getaddrinfo",
        "temporary failure in name resolution",
        "nodename nor servname",
        "invalid address",
        "inet_pton",
    ];
    let said = format!("{stderr}\n{printed}").to_lowercase();
    let unresolved = UNRESOLVED.iter().any(|w| said.contains(w));
    args.iter()
        .map(String::as_str)
        .filter(|a| a.len() > 1 && a.starts_with('-') && a[1..].chars().all(|c| c.is_ascii_alphabetic()))
        .find(|a| unresolved || said.contains(&a.to_lowercase()))
}

/// What a signal usually means in a student's program.
fn signal_meaning(signal: i32) -> Option<&'static str> {
    match signal {
        libc::SIGSEGV | libc::SIGBUS => {
            Some("a crash, it used memory it does not own (a NULL or unset pointer, or past the end of an array)")
        }
        libc::SIGABRT => Some("abort(), a failed assert() or memory freed twice"),
        libc::SIGFPE => Some("an arithmetic error: a division by zero"),
        libc::SIGPIPE => Some("it wrote to a connection the other side had closed"),
        _ => None,
    }
}

/// Advice for an end the moment explains.
fn advice(e: &Ended, language: Language) -> Option<&'static str> {
    match (e.exit, e.moment) {
        (ProgramExit::Signaled(libc::SIGSEGV | libc::SIGBUS), _) if language != Language::Python => {
            Some("look at what the program does right then: a pointer never set or allocated, or an index past the end of an array")
        }
        (ProgramExit::Exited(0), Moment::Received { .. } | Moment::Connected { .. }) => Some(language.pick(
            "it stops after one exchange: keep going in a loop, waiting on the socket and the keyboard with select(), until the conversation ends",
            "it stops after one exchange: keep going in a loop, waiting on the socket and stdin with select(), until the conversation ends",
            "it stops after one exchange: keep going in a loop until the conversation ends",
        )),
        _ => None,
    }
}

/// The last line the program printed that has something in it, quoted as text.
pub fn last_line(printed: &[u8]) -> Option<String> {
    printed
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .rfind(|line| line.iter().any(|b| !b.is_ascii_whitespace()))
        .map(quoted)
}

/// The last `n` lines of `text`, readable.
fn last_lines(text: &[u8], n: usize) -> String {
    let lines: Vec<String> = text
        .strip_suffix(b"\n")
        .unwrap_or(text)
        .split(|&b| b == b'\n')
        .map(readable)
        .collect();
    if text.is_empty() {
        return String::new();
    }
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// What the program printed while a step waited.
#[derive(Debug, Clone, Copy)]
pub struct Printed<'a> {
    /// How many bytes, kept or not.
    pub bytes: u64,
    /// The last of them.
    pub tail: &'a [u8],
    /// How long the step waited.
    pub waited: Duration,
}

/// Past this many bytes printed in one wait, output is a flood, and said to be one.
pub const FLOOD_BYTES: u64 = 64 * 1024;

/// The reason for a wait that ended in a flood of output (`None` below [`FLOOD_BYTES`]):
/// how much, what over and over, and that it never did `what` ("printed b'Hello!\n'",
/// "exited").
pub fn flood(p: &Printed, what: &str, language: Language) -> Option<Reason> {
    if p.bytes < FLOOD_BYTES {
        return None;
    }
    let shape = match repeated(p.tail) {
        Some(unit) => format!("{} over and over", python_bytes(&unit)),
        None => format!("ending {}", python_bytes(p.tail)),
    };
    Some(Reason::own(
        format!(
            "the program printed {} bytes in {:.1} s, {shape}, but never {what}",
            p.bytes,
            p.waited.as_secs_f64()
        ),
        language.pick(
            "a loop that prints without end: a call that should wait returns at once each time (recv() gives b'' once the client has hung up: leave the loop then)",
            "a loop that prints without end: a call that should wait returns at once each time; check what recv() returns (-1 is an error, such as recv() on the listening socket rather than the one accept() returned; 0 is the client hanging up)",
            "a loop that prints without end: something that should wait returns at once each time",
        ),
    ))
}

/// The shortest run of bytes `tail` repeats (seen at least twice), turned to end at a line's
/// end where it has one.
fn repeated(tail: &[u8]) -> Option<Vec<u8>> {
    let period = (1..=tail.len() / 2).find(|&p| (p..tail.len()).all(|i| tail[i] == tail[i - p]))?;
    let unit = &tail[tail.len() - period..];
    Some(match unit.iter().rposition(|&b| b == b'\n') {
        Some(nl) => [&unit[nl + 1..], &unit[..=nl]].concat(),
        None => unit.to_vec(),
    })
}

/// What the program is blocked in, as the look at its threads said.
#[derive(Debug, Clone, Copy)]
pub struct Blocked<'a> {
    /// "blocked in recv() on its socket"
    pub waiting: &'a str,
    /// "until something is sent to it"
    pub until: &'a str,
}

/// The reason when nothing came (`missing`: "nothing reached alice"): what the program
/// waits for, which explains it, else how long was waited. Only here is the "blocked in"
/// clause said: where something came, or the program ended, the cause is known already.
pub fn nothing_came(missing: &str, blocked: Option<Blocked>, waited: Duration) -> String {
    match blocked {
        Some(b) => format!(
            "{missing}: the program is {}, so it can do nothing {}",
            b.waiting, b.until
        ),
        None => format!("{missing} within {:.1} s", waited.as_secs_f64()),
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn ended_with(exit: ProgramExit, moment: Moment<'static>) -> Ended<'static> {
        Ended {
            exit,
            moment,
            stderr: b"",
            printed: b"",
            args: &[],
            host_addresses: &[],
            source: None,
        }
    }

    #[test]
    fn the_moment_is_said() {
        let table: [(Moment, &str); 8] = [
            (Moment::Start, "at once, before any connection or input"),
            (Moment::Connected { peer: "alice" }, "right after alice connected"),
            (Moment::ConnectedTo { peer: "bob" }, "right after it connected to bob"),
            (
                Moment::Received {
                    peer: "alice",
                    data: b"hello\n",
                    datagram: true,
                    first: true,
                },
                "right after the first datagram from alice (b'hello\\n')",
            ),
            (
                Moment::Received {
                    peer: "alice",
                    data: b"Hello!\n",
                    datagram: false,
                    first: true,
                },
                "right after alice's message (b'Hello!\\n') came",
            ),
            (
                Moment::Typed("hello alice"),
                "as soon as a line was typed (\"hello alice\")",
            ),
            (Moment::HungUp { peer: "alice" }, "when alice hung up"),
            (Moment::EndOfInput, "at end of input (^D)"),
        ];
        for (moment, phrase) in table {
            assert_eq!(moment.phrase(), phrase);
        }
    }

    #[test]
    fn an_end_is_told_with_its_moment_and_words() {
        let host = [IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V4(Ipv4Addr::new(222, 222, 222, 222))];
        let lnv = ["-lnv".to_string(), "9000".to_string()];
        let gaierror = b"Traceback (most recent call last):\n  File \"nc.py\", line 21, in <module>\n    sock.connect((args[0], int(args[1])))\nsocket.gaierror: [Errno -2] Name or service not known\n";
        let c_source = "server.sin_addr.s_addr = inet_addr(\"203.0.113.7\");";
        // (how it ended, language, words the reason has, words it must not have)
        let table: Vec<(Ended, Language, &[&str], &[&str])> = vec![
            (
                Ended {
                    printed: b"connection from 111.111.111.111:4000\nhi, it's alice\nare you there?\n",
                    ..ended_with(ProgramExit::Signaled(libc::SIGSEGV), Moment::Typed("hello alice"))
                },
                Language::C,
                &[
                    "the program was killed by SIGSEGV as soon as a line was typed (\"hello alice\"): a crash, it used memory it does not own (a NULL or unset pointer",
                    "the last line it printed: \"are you there?\"",
                    "a pointer never set",
                ],
                &["stderr"],
            ),
            (
                Ended {
                    printed: b"Binding failed.\n",
                    source: Some(c_source),
                    host_addresses: &host,
                    ..ended_with(ProgramExit::Exited(255), Moment::Start)
                },
                Language::C,
                &[
                    "the program exited with status 255 at once, before any connection or input: bind() failed, since 203.0.113.7, the address it binds, is not an address of this host; the last line it printed: \"Binding failed.\"",
                    "INADDR_ANY",
                ],
                &["stderr"],
            ),
            (
                Ended {
                    stderr: gaierror,
                    args: &lnv,
                    ..ended_with(ProgramExit::Exited(1), Moment::Start)
                },
                Language::Python,
                &[
                    "the program took `-lnv` for an address: it exited with status 1 at once",
                    "-l -n -v in one word",
                    "socket.gaierror: [Errno -2] Name or service not known",
                ],
                &["last line it printed"],
            ),
            (
                Ended {
                    printed: b"b'hello\\n'\n",
                    ..ended_with(
                        ProgramExit::Exited(0),
                        Moment::Received {
                            peer: "alice",
                            data: b"hello\n",
                            datagram: true,
                            first: true,
                        },
                    )
                },
                Language::Python,
                &[
                    "the program exited with status 0 right after the first datagram from alice (b'hello\\n'); the last line it printed: \"b'hello\\n'\"",
                    "keep going in a loop",
                ],
                &["stderr", "stdin"],
            ),
            (
                Ended {
                    stderr: b"Traceback (most recent call last):\nTypeError: a bytes-like object is required, not 'str'\n",
                    ..ended_with(ProgramExit::Exited(1), Moment::Connected { peer: "alice" })
                },
                Language::Python,
                &[
                    "the program exited with status 1 right after alice connected; the end of its stderr:\nTraceback",
                    "TypeError: a bytes-like object is required",
                ],
                &["took", "bind"],
            ),
        ];
        for (ended, language, has, lacks) in table {
            let reason = super::ended(&ended, language);
            super::super::tests::assert_says(&reason, has, lacks);
        }
    }

    #[test]
    fn an_option_is_taken_for_an_address_only_on_its_evidence() {
        let args = ["-ulnv".to_string(), "9000".to_string()];
        let table = [
            ("socket.gaierror: [Errno -2] Name or service not known", "", Some("-ulnv")),
            ("", "cannot connect to -ulnv", Some("-ulnv")),
            ("Traceback...\nValueError: invalid literal for int()", "", None),
            ("", "", None),
        ];
        for (stderr, printed, taken) in table {
            assert_eq!(option_taken_for_address(&args, stderr, printed), taken, "{stderr}{printed}");
        }
        let plain = ["222.222.222.222".to_string(), "9000".to_string()];
        assert_eq!(option_taken_for_address(&plain, "gaierror", ""), None);
    }

    #[test]
    fn a_flood_is_told_as_one() {
        let tail = b"ived: \nreceived: \nreceived: \nreceived: \nreceived: \nreceived: \n";
        let flood_of = |bytes| Printed {
            bytes,
            tail,
            waited: Duration::from_secs(3),
        };
        let reason = flood(&flood_of(6_019_035), "printed b'Hello!\\n'", Language::C).unwrap();
        assert_eq!(
            reason.why,
            "the program printed 6019035 bytes in 3.0 s, b'received: \\n' over and over, but never printed b'Hello!\\n'"
        );
        assert!(matches!(reason.hint, Hint::Own(h) if h.contains("listening socket")));
        assert_eq!(flood(&flood_of(FLOOD_BYTES - 1), "exited", Language::C), None);
    }

    #[test]
    fn the_unit_of_a_flood_ends_at_a_line_end() {
        let table: [(&[u8], Option<&[u8]>); 5] = [
            (b"xxxxxxxx", Some(b"x")),
            (b"b''\nb''\nb''\nb''\n", Some(b"b''\n")),
            (b"''\nb''\nb''\nb", Some(b"b''\n")),
            (b"abcdefgh", None),
            (b"", None),
        ];
        for (tail, unit) in table {
            assert_eq!(repeated(tail).as_deref(), unit, "{tail:?}");
        }
    }

    #[test]
    fn the_blocked_clause_is_for_silence_only() {
        let blocked = Blocked {
            waiting: "blocked reading the keyboard with nothing typed",
            until: "until a line is typed",
        };
        let waited = Duration::from_millis(3000);
        assert_eq!(
            nothing_came("the program did not print anything", Some(blocked), waited),
            "the program did not print anything: the program is blocked reading the keyboard with nothing typed, so it can do nothing until a line is typed"
        );
        assert_eq!(
            nothing_came("nothing reached alice", None, waited),
            "nothing reached alice within 3.0 s"
        );
    }
}

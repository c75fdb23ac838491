//! A failed bind(), from what the program left: its words ("Binding failed.", a traceback's
//! `Cannot assign requested address`), the address written in them or in its source, and
//! the port the kernel picked when listen() came without a successful bind().

use std::net::{IpAddr, Ipv4Addr};
use std::ops::RangeInclusive;

use super::{Hint, Language, Reason};

/// What the program's words say about its bind().
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindFailure {
    /// The address it binds is not one this host has (EADDRNOTAVAIL); which one, where its
    /// words or source say.
    NotThisHost(Option<Ipv4Addr>),
    /// The port is taken (EADDRINUSE).
    InUse,
    /// It says bind() failed, and not why.
    Unsaid,
}

impl BindFailure {
    /// Why bind() failed, as the end of a sentence.
    pub fn cause(&self) -> String {
        match self {
            BindFailure::NotThisHost(Some(address)) => format!(
                "bind() failed, since {address}, the address it binds, is not an address of this host"
            ),
            BindFailure::NotThisHost(None) => {
                "bind() failed, since the address it binds is not an address of this host".into()
            }
            BindFailure::InUse => {
                "bind() failed, since the port is in use (another program holds it)".into()
            }
            BindFailure::Unsaid => "bind() failed".into(),
        }
    }

    pub fn hint(&self, language: Language) -> Hint {
        match self {
            BindFailure::NotThisHost(_) => Hint::Own(
                language
                    .pick(
                        "bind \"0.0.0.0\", any address of this host, as the lesson does: sock.bind((\"0.0.0.0\", port))",
                        "bind INADDR_ANY, any address of this host, as the lesson binds 0.0.0.0: server.sin_addr.s_addr = htonl(INADDR_ANY)",
                        "bind 0.0.0.0, any address of this host, as the lesson does",
                    )
                    .into(),
            ),
            BindFailure::Unsaid if language == Language::C => {
                Hint::Own("say why bind() failed: perror(\"bind\")".into())
            }
            BindFailure::InUse | BindFailure::Unsaid => Hint::Nothing,
        }
    }
}

/// The bind() failure the program's words tell of, if any: `stderr` and `printed` are its
/// words; `source` and those words may name the address; `host` is this host's addresses.
pub fn failure(
    stderr: &str,
    printed: &str,
    source: Option<&str>,
    host: &[IpAddr],
) -> Option<BindFailure> {
    let said = format!("{stderr}\n{printed}").to_lowercase();
    let says = |words: &[&str]| words.iter().any(|w| said.contains(w));
    if says(&["address already in use", "errno 98", "eaddrinuse"]) {
        return Some(BindFailure::InUse);
    }
    let not_here = says(&["cannot assign requested address", "errno 99", "eaddrnotavail"]);
    if !not_here && !said.contains("bind") {
        return None;
    }
    let foreign = [stderr, printed, source.unwrap_or_default()]
        .iter()
        .find_map(|text| foreign_address(text, host));
    match foreign {
        Some(address) => Some(BindFailure::NotThisHost(Some(address))),
        None if not_here => Some(BindFailure::NotThisHost(None)),
        None => Some(BindFailure::Unsaid),
    }
}

/// The first IPv4 address written in `text` that this host does not have (never 0.0.0.0,
/// a loopback address or the broadcast address). Nothing when the host's addresses are
/// not known.
pub fn foreign_address(text: &str, host: &[IpAddr]) -> Option<Ipv4Addr> {
    if host.is_empty() {
        return None;
    }
    text.split(|c: char| !c.is_ascii_digit() && c != '.')
        .filter_map(|word| word.trim_matches('.').parse::<Ipv4Addr>().ok())
        .find(|a| {
            !a.is_unspecified()
                && !a.is_loopback()
                && !a.is_broadcast()
                && !host.contains(&IpAddr::V4(*a))
        })
}

/// A program that listens (or is bound) only on ports the kernel picked, not on `port`:
/// listen() on a socket no bind() bound. `None` when it listens on none, or on a port of
/// its own choosing (a port written in it, which the usual message names).
pub fn kernel_picked(
    proto: &str,
    port: u16,
    listening: &[u16],
    ephemeral: RangeInclusive<u16>,
    language: Language,
) -> Option<Reason> {
    let picked = *listening.iter().find(|p| ephemeral.contains(p))?;
    Some(Reason::own(
        format!(
            "nothing listens on {proto} {port}; the program listens on {proto} {picked}, a port the kernel picked: it called listen() on a socket bind() had not bound (did bind() fail?)"
        ),
        language.pick(
            "call bind() with the port before listen()",
            "check what bind() returns, and stop if it fails: if (bind(...) < 0) { perror(\"bind\"); return 1; }",
            "bind the port before listen(), and stop if bind() fails",
        ),
    ))
}

/// The ports Linux picks by default (net.ipv4.ip_local_port_range).
pub const EPHEMERAL_PORTS: RangeInclusive<u16> = 32768..=60999;

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: [IpAddr; 3] = [
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V4(Ipv4Addr::new(111, 111, 111, 111)),
        IpAddr::V4(Ipv4Addr::new(222, 222, 222, 222)),
    ];

    #[test]
    fn a_failed_bind_is_told_from_the_programs_words() {
        let c = "server.sin_addr.s_addr = inet_addr(\"203.0.113.7\");";
        let traceback = "  File \"s.py\", line 4, in <module>\n    sock.bind((\"10.0.0.5\", 8000))\nOSError: [Errno 99] Cannot assign requested address";
        let foreign = |a: [u8; 4]| Some(BindFailure::NotThisHost(Some(Ipv4Addr::from(a))));
        // (stderr, printed, source, the failure)
        let table: [(&str, &str, Option<&str>, Option<BindFailure>); 8] = [
            ("", "Binding failed.\n", Some(c), foreign([203, 0, 113, 7])),
            (traceback, "", None, foreign([10, 0, 0, 5])),
            ("OSError: [Errno 99] Cannot assign requested address", "", None, Some(BindFailure::NotThisHost(None))),
            ("bind: Cannot assign requested address", "", Some("INADDR_ANY"), Some(BindFailure::NotThisHost(None))),
            ("OSError: [Errno 98] Address already in use", "", None, Some(BindFailure::InUse)),
            ("", "bind failed\n", Some("inet_addr(\"222.222.222.222\")"), Some(BindFailure::Unsaid)),
            ("", "connection from 111.111.111.111\n", Some(c), None),
            ("Traceback...\nTypeError: a bytes-like object is required", "", Some(c), None),
        ];
        for (stderr, printed, source, want) in table {
            assert_eq!(failure(stderr, printed, source, &HOST), want, "{stderr}{printed}");
        }
    }

    #[test]
    fn a_foreign_address_is_one_this_host_lacks() {
        let table = [
            ("bind to 203.0.113.7 port 8000", Some(Ipv4Addr::new(203, 0, 113, 7))),
            ("0.0.0.0 127.0.0.1 127.1.2.3 255.255.255.255", None),
            ("111.111.111.111 and 222.222.222.222.", None),
            ("version 1.2 or 3.4.5", None),
            ("1.2.3.4.", Some(Ipv4Addr::new(1, 2, 3, 4))),
        ];
        for (text, want) in table {
            assert_eq!(foreign_address(text, &HOST), want, "{text}");
        }
        assert_eq!(foreign_address("203.0.113.7", &[]), None, "host unknown");
    }

    #[test]
    fn a_port_the_kernel_picked_says_bind_failed() {
        let reason = kernel_picked("TCP", 8000, &[36953], EPHEMERAL_PORTS, Language::C).unwrap();
        assert!(reason.why.contains("listens on TCP 36953, a port the kernel picked"), "{}", reason.why);
        assert!(matches!(reason.hint, Hint::Own(h) if h.contains("perror")));
        assert_eq!(kernel_picked("TCP", 8000, &[8001], EPHEMERAL_PORTS, Language::C), None);
        assert_eq!(kernel_picked("TCP", 8000, &[], EPHEMERAL_PORTS, Language::C), None);
    }
}

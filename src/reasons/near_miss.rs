//! Near misses: a line awaited with certain parts (the words `connection from`, the client's
//! address and port) and a printed line that has some of them. Rather than "did not print
//! it", the reason says exactly which part is wrong: the words missing, 0.0.0.0:0 (accept()
//! given no room for the address), 127.0.0.1 or the server's own end where the client's
//! address belongs, the right address with another port.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::{Language, Reason, quoted};

/// A part of the awaited line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part<'a> {
    /// Words, matched without regard to case.
    Words(&'a str),
    /// The peer's address.
    Ip(IpAddr),
    /// The peer's port: a number standing alone.
    Port(u16),
}

/// What the program printed while a line with `parts` was awaited.
#[derive(Debug, Clone, Copy)]
pub struct PrintedLine<'a> {
    pub parts: &'a [Part<'a>],
    /// Whose address the `Ip` and `Port` parts are, as the student calls it ("the
    /// client's").
    pub whose: &'a str,
    /// The program's own end of the connection, which a program may print instead.
    pub own: Option<SocketAddr>,
    /// What it printed (several lines, maybe).
    pub printed: &'a [u8],
}

/// The reason for a line that comes near the one awaited, or `None` when no printed line
/// has any of its parts nor any address: then the program did not print it.
pub fn near_miss(p: &PrintedLine, language: Language) -> Option<Reason> {
    let candidates: Vec<(&[u8], Found)> = p
        .printed
        .split(|&b| b == b'\n')
        .map(|line| (line, Found::in_line(line, p.parts)))
        .filter(|(_, found)| found.present > 0)
        .collect();
    // The line with most parts; of equals, the first printed.
    let (line, found) = candidates.into_iter().rev().max_by_key(|(_, f)| f.present)?;
    let mut right = Vec::new();
    let mut wrong = Vec::new();
    let mut hint = None;
    let want_ip = p.parts.iter().find_map(|part| match part {
        Part::Ip(ip) => Some(*ip),
        _ => None,
    });
    let want_port = p.parts.iter().find_map(|part| match part {
        Part::Port(port) => Some(*port),
        _ => None,
    });
    let whose = p.whose;
    for (part, present) in p.parts.iter().zip(&found.has) {
        if let Part::Words(words) = part {
            if *present {
                right.push("the words".to_string());
            } else {
                wrong.push(format!("not the words \"{words}\""));
            }
        }
    }
    let ip_right = want_ip.is_none_or(|ip| found.has_ip(ip));
    let port_right = want_port.is_none_or(|port| found.has_port(p.parts, port));
    let client = match (want_ip, want_port) {
        (Some(ip), Some(port)) => format!("{whose} ({ip}, port {port})"),
        (Some(ip), None) => format!("{whose} ({ip})"),
        (None, Some(port)) => format!("{whose} (port {port})"),
        (None, None) => whose.to_string(),
    };
    match (ip_right, port_right) {
        (true, true) => right.push(format!("{whose} address and port")),
        (true, false) => {
            if want_ip.is_some() {
                right.push(format!("{whose} address"));
            }
            let port = want_port.unwrap_or_default();
            match found.port {
                Some(n) if n == port.swap_bytes() && n != port => {
                    wrong.push(format!(
                        "port {n}, which is {whose} port {port} in network byte order"
                    ));
                    hint = Some("turn the port into a number with ntohs(): ntohs(client.sin_port)");
                }
                Some(n) if p.own.is_some_and(|own| own.port() == n) => {
                    wrong.push(format!("port {n}, the server's own, not {whose} port {port}"))
                }
                Some(n) => wrong.push(format!("port {n}, not {whose} port {port}")),
                None => wrong.push("no port".to_string()),
            }
        }
        (false, _) => match found.ip {
            Some(ip) if ip.is_unspecified() && found.port == Some(0) => {
                wrong.push(format!(
                    "the address 0.0.0.0:0, not {client}: accept() filled in no address"
                ));
                hint = Some(language.pick(
                    "print the address accept() returned: print(\"connection from\", addr)",
                    "set the address length before accept(): socklen_t len = sizeof client; accept(sock, (struct sockaddr *)&client, &len)",
                    "print the address accept() filled in, its length set before the call",
                ));
            }
            Some(ip) if p.own.is_some_and(|own| own.ip() == ip) => {
                let own_port = p.own.map(|own| own.port()).filter(|o| found.port == Some(*o));
                let end = match own_port {
                    Some(port) => format!("address and port ({ip}, port {port})"),
                    None => format!("address {ip}"),
                };
                wrong.push(format!(
                    "the server's own {end}, not {client}: that is where it listens, not who connected"
                ));
            }
            Some(ip) => wrong.push(format!("the address {ip}, not {client}")),
            None => wrong.push(format!("no address, not {client}")),
        },
    }
    let right = match right.len() {
        0 => String::new(),
        _ => format!("{}, but ", right.join(" and ")),
    };
    let why = format!(
        "it printed {}: {right}{}",
        quoted(line),
        wrong.join(", and ")
    );
    let hint = hint.unwrap_or(language.pick(
        "print the address accept() returned: print(\"connection from\", addr)",
        "print the address accept() filled in: inet_ntoa(client.sin_addr) and ntohs(client.sin_port)",
        "print the address accept() returned, as the lesson does",
    ));
    Some(Reason::own(why, hint))
}

/// What one printed line has of the awaited parts, and the first address and port in it.
struct Found {
    /// For each part, whether the line has it.
    has: Vec<bool>,
    present: usize,
    /// The first IPv4 address in the line.
    ip: Option<IpAddr>,
    /// The first number after that address (or the first number, without one).
    port: Option<u16>,
}

impl Found {
    fn in_line(line: &[u8], parts: &[Part]) -> Found {
        let text = String::from_utf8_lossy(line).to_lowercase();
        let has: Vec<bool> = parts
            .iter()
            .map(|part| match part {
                Part::Words(words) => text.contains(&words.to_lowercase()),
                Part::Ip(ip) => numbers(&text).any(|n| n == ip.to_string()),
                Part::Port(port) => numbers(&text).any(|n| n == port.to_string()),
            })
            .collect();
        let ip = numbers(&text).find_map(|n| n.parse::<Ipv4Addr>().ok().map(IpAddr::V4));
        let after = ip.map_or(0, |ip| {
            let ip = ip.to_string();
            text.find(&ip).map_or(0, |at| at + ip.len())
        });
        let port = numbers(&text[after..])
            .filter(|n| !n.contains('.'))
            .find_map(|n| n.parse().ok());
        Found {
            present: has.iter().filter(|h| **h).count(),
            has,
            ip,
            port,
        }
    }

    fn has_ip(&self, ip: IpAddr) -> bool {
        self.ip == Some(ip)
    }

    fn has_port(&self, parts: &[Part], port: u16) -> bool {
        parts
            .iter()
            .zip(&self.has)
            .any(|(part, has)| *part == Part::Port(port) && *has)
    }
}

/// The runs of digits and dots in `text`: numbers and dotted addresses, whole.
fn numbers(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_ascii_digit() && c != '.')
        .map(|n| n.trim_matches('.'))
        .filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: Ipv4Addr = Ipv4Addr::new(111, 111, 111, 111);
    const BOB: Ipv4Addr = Ipv4Addr::new(222, 222, 222, 222);

    fn parts() -> [Part<'static>; 3] {
        [
            Part::Words("connection from"),
            Part::Ip(IpAddr::V4(ALICE)),
            Part::Port(38233),
        ]
    }

    fn reason(printed: &str, language: Language) -> Option<Reason> {
        let parts = parts();
        near_miss(
            &PrintedLine {
                parts: &parts,
                whose: "the client's",
                own: Some(SocketAddr::from((BOB, 8000))),
                printed: printed.as_bytes(),
            },
            language,
        )
    }

    #[test]
    fn each_near_miss_names_the_wrong_part() {
        // (printed, language, words the reason has, words it must not have)
        let table: [(&str, Language, &[&str], &[&str]); 9] = [
            (
                "Connected by ('111.111.111.111', 38233)\n",
                Language::Python,
                &[
                    "it printed \"Connected by ('111.111.111.111', 38233)\"",
                    "the client's address and port, but not the words \"connection from\"",
                    "print(\"connection from\", addr)",
                ],
                &["did not print", "blocked"],
            ),
            (
                "Got a connection from: 0.0.0.0:0\n",
                Language::C,
                &[
                    "the words, but the address 0.0.0.0:0, not the client's (111.111.111.111, port 38233)",
                    "accept() filled in no address",
                    "sizeof client",
                ],
                &["print(", "blocked"],
            ),
            (
                "connection from ('127.0.0.1', 38233)\n",
                Language::Python,
                &["the words, but the address 127.0.0.1, not the client's (111.111.111.111, port 38233)"],
                &[],
            ),
            (
                "connection from ('222.222.222.222', 8000)\n",
                Language::Python,
                &[
                    "the server's own address and port (222.222.222.222, port 8000)",
                    "not who connected",
                ],
                &[],
            ),
            (
                "connection from 111.111.111.111:4242\n",
                Language::C,
                &[
                    "the words and the client's address, but port 4242, not the client's port 38233",
                    "inet_ntoa",
                ],
                &["print("],
            ),
            (
                "connection from 111.111.111.111:22933\n",
                Language::C,
                &["port 22933, which is the client's port 38233 in network byte order", "ntohs("],
                &[],
            ),
            (
                "connection from 111.111.111.111\n",
                Language::Other,
                &["the words and the client's address, but no port"],
                &["print(", "inet_ntoa"],
            ),
            (
                "hello\n('111.111.111.111', 38233)\nbye\n",
                Language::Python,
                &["it printed \"('111.111.111.111', 38233)\"", "not the words"],
                &["hello", "bye"],
            ),
            (
                "connection from somewhere\n",
                Language::Python,
                &["the words, but no address, not the client's (111.111.111.111, port 38233)"],
                &[],
            ),
        ];
        for (printed, language, has, lacks) in table {
            let reason = reason(printed, language).unwrap_or_else(|| panic!("{printed:?}"));
            super::super::tests::assert_says(&reason, has, lacks);
        }
    }

    #[test]
    fn nothing_near_is_no_near_miss() {
        for printed in ["", "\n", "b'Hello!\\n'\n", "waiting for a client...\n"] {
            assert_eq!(reason(printed, Language::Python), None, "{printed:?}");
        }
    }

    #[test]
    fn the_line_nearest_is_the_one_judged() {
        let printed = "connection from\nconnection from 111.111.111.111 1\n";
        let reason = reason(printed, Language::Python).unwrap();
        assert!(reason.why.contains("port 1, not"), "{}", reason.why);
    }
}

//! netcat's command line, parsed the way getopt would: `-lnv 9000`, `-l -p 9000`,
//! `-u 127.0.0.1 9000`, flags combined or apart, before or after the operands, `--` ending
//! the options. Plain values only: nothing is resolved or opened here.

use super::NcError;

/// `socklab nc -h`, and `socklab help nc`.
pub const HELP: &str = "\
socklab nc: a reference netcat for the lesson (TCP and UDP, IPv4 and IPv6)

usage: socklab nc [-lnuvN] [-p PORT] [HOST] PORT

  socklab nc -lnv 9000            listen on TCP port 9000, on every IPv4 address
  socklab nc -l -p 9000           the same, in traditional netcat's form
  socklab nc -l 127.0.0.1 9000    listen on one address only
  socklab nc 127.0.0.1 9000       connect
  socklab nc -ulnv 9000           UDP: wait for a first datagram, then talk to its sender
  socklab nc -u 127.0.0.1 9000    UDP: send each read of stdin as one datagram

Options (combine them as in -lnv):
  -l        listen for one connection (TCP) or one peer (UDP) instead of connecting
  -u        UDP instead of TCP
  -n        numeric addresses only: no name lookups (without it HOST may be a name,
            and -v names addresses found in /etc/hosts; never by reverse DNS)
  -v        verbose: say on stderr what is bound, received and connected, as OpenBSD nc
  -p PORT   with -l, the port to listen on; otherwise the local port to connect from
  -N        accepted for OpenBSD nc's sake: end of stdin always shuts down sending
  -h        this help

TCP copies stdin to the connection and the connection to stdout at once, byte for byte.
End of stdin shuts down the sending side (as ncat, or OpenBSD nc -N). End of the
connection ends socklab nc once everything is written: all it received is on stdout, and
stdin, unless it is a terminal, has been sent to its end (or the peer refused more).
UDP has no end: after end of stdin socklab nc keeps printing what arrives until killed, as
OpenBSD nc does.

Exit status follows netcat, not socklab's grading codes: 0 success; 1 any error, bad
usage included, with one line on stderr.";

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub listen: bool,
    pub udp: bool,
    pub numeric: bool,
    pub verbose: bool,
    /// To connect to, or with -l the local address to listen on.
    pub host: Option<String>,
    /// To connect to, or with -l the port to listen on.
    pub port: u16,
    /// -p when connecting: the local port to connect from.
    pub source_port: Option<u16>,
}

/// A parsed command line: something to run, or a request for help.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    Run(Options),
    Help,
}

/// Parses netcat's arguments (those after `socklab nc`).
pub fn parse(args: &[String]) -> Result<Parsed, NcError> {
    let mut opts = Options {
        listen: false,
        udp: false,
        numeric: false,
        verbose: false,
        host: None,
        port: 0,
        source_port: None,
    };
    let mut p_value: Option<&str> = None;
    let mut operands: Vec<&str> = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--" {
            operands.extend(args.by_ref().map(String::as_str));
            break;
        }
        if arg == "--help" {
            return Ok(Parsed::Help);
        }
        if arg.starts_with("--") {
            return Err(NcError::Usage(format!("unknown option '{arg}'")));
        }
        let Some(cluster) = arg.strip_prefix('-').filter(|c| !c.is_empty()) else {
            operands.push(arg);
            continue;
        };
        for (i, flag) in cluster.char_indices() {
            match flag {
                'l' => opts.listen = true,
                'u' => opts.udp = true,
                'n' => opts.numeric = true,
                'v' => opts.verbose = true,
                'N' => {}
                'h' => return Ok(Parsed::Help),
                'p' => {
                    let attached = &cluster[i + 1..];
                    p_value = Some(if attached.is_empty() {
                        args.next().ok_or_else(|| {
                            NcError::Usage("option requires an argument -- 'p'".into())
                        })?
                    } else {
                        attached
                    });
                    break;
                }
                other => return Err(NcError::Usage(format!("invalid option -- '{other}'"))),
            }
        }
    }

    let (host, port) = match (opts.listen, p_value, operands.as_slice()) {
        (true, Some(port), []) => (None, port),
        (true, Some(port), [host]) => (Some(*host), port),
        (true, None, [port]) => (None, *port),
        (_, None, [host, port]) => (Some(*host), *port),
        (false, Some(source), [host, port]) => {
            opts.source_port = Some(parse_port(source)?);
            (Some(*host), *port)
        }
        (_, _, []) => {
            return Err(NcError::Usage("missing port number".into()));
        }
        (false, _, [_]) => {
            return Err(NcError::Usage(
                "missing host or port: socklab nc HOST PORT connects, -l listens".into(),
            ));
        }
        _ => {
            return Err(NcError::Usage(format!(
                "too many operands: {}",
                operands.join(" ")
            )));
        }
    };
    opts.host = host.map(str::to_string);
    opts.port = parse_port(port)?;
    Ok(Parsed::Run(opts))
}

/// A port as OpenBSD nc checks one: a number from 1 to 65535.
fn parse_port(text: &str) -> Result<u16, NcError> {
    match text.parse::<i64>() {
        Err(_) => Err(NcError::Usage(format!("port number invalid: {text}"))),
        Ok(n) if n < 1 => Err(NcError::Usage(format!("port number too small: {text}"))),
        Ok(n) => {
            u16::try_from(n).map_err(|_| NcError::Usage(format!("port number too large: {text}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(line: &str) -> Options {
        let args: Vec<String> = line.split_whitespace().map(String::from).collect();
        match parse(&args) {
            Ok(Parsed::Run(opts)) => opts,
            other => panic!("{line}: {other:?}"),
        }
    }

    fn error(line: &str) -> String {
        let args: Vec<String> = line.split_whitespace().map(String::from).collect();
        match parse(&args) {
            Err(e) => e.to_string(),
            other => panic!("{line}: expected an error, got {other:?}"),
        }
    }

    /// The lesson's four forms and traditional netcat's `-l -p`.
    #[test]
    fn lesson_forms() {
        let o = run("-lnv 9000");
        assert!(o.listen && o.numeric && o.verbose && !o.udp);
        assert_eq!((o.host, o.port), (None, 9000));
        let o = run("222.222.222.222 9000");
        assert!(!o.listen && !o.udp && !o.verbose);
        assert_eq!((o.host.as_deref(), o.port), (Some("222.222.222.222"), 9000));
        let o = run("-ulnv 9000");
        assert!(o.listen && o.udp && o.numeric && o.verbose);
        let o = run("-u 222.222.222.222 9000");
        assert!(o.udp && !o.listen);
        assert_eq!(run("-l -p 9000"), run("-l 9000"));
        assert_eq!(run("-lp9000"), run("-l 9000"));
        assert_eq!(run("-lnvp 9000"), run("-lnv 9000"));
    }

    /// Flags may come after the operands (as GNU getopt allows), and `--` ends them.
    #[test]
    fn order_and_double_dash() {
        assert_eq!(run("127.0.0.1 9000 -v"), run("-v 127.0.0.1 9000"));
        assert_eq!(run("-l -- 9000"), run("-l 9000"));
        let o = run("-l 127.0.0.1 9000");
        assert_eq!((o.host.as_deref(), o.port), (Some("127.0.0.1"), 9000));
        let o = run("-l -p 9000 127.0.0.1");
        assert_eq!((o.host.as_deref(), o.port), (Some("127.0.0.1"), 9000));
        let o = run("-p 5555 127.0.0.1 9000");
        assert_eq!((o.source_port, o.port), (Some(5555), 9000));
    }

    /// Bad usage reads as OpenBSD nc's messages where it has one.
    #[test]
    fn bad_usage() {
        assert!(error("127.0.0.1 70000").contains("port number too large: 70000"));
        assert!(error("127.0.0.1 abc").contains("port number invalid: abc"));
        assert!(error("-l 0").contains("port number too small: 0"));
        assert!(error("-l").contains("missing port number"));
        assert!(error("").contains("missing port number"));
        assert!(error("-lY 9000").contains("invalid option -- 'Y'"));
        assert!(error("--listen 9000").contains("unknown option '--listen'"));
        assert!(error("-l -p").contains("requires an argument -- 'p'"));
        assert!(error("9000").contains("missing host or port"));
        assert!(error("-l a b c").contains("too many operands"));
        assert!(error("-l -p 9000 a b").contains("too many operands"));
    }

    #[test]
    fn help() {
        for line in ["-h", "--help", "-lh 9000"] {
            let args: Vec<String> = line.split_whitespace().map(String::from).collect();
            assert_eq!(parse(&args).unwrap(), Parsed::Help, "{line}");
        }
    }
}

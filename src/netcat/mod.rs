//! `socklab nc`: a reference netcat for the lesson's forms (`nc -lnv 9000`,
//! `nc 222.222.222.222 9000`, `nc -ulnv 9000`, `nc -u 222.222.222.222 9000`), byte-exact with
//! OpenBSD nc in both directions and roles, and fast on bulk data (splice).
//!
//! - [`args`]: the command line, getopt-style, and the help text.
//! - [`names`]: resolving hosts (numeric only with -n) and OpenBSD nc's -v lines.
//! - [`tcp`]: one connection, both directions at once, half-close on end of stdin.
//! - [`udp`]: a datagram per read of stdin; a listener answers its first peer only.
//! - [`pump`]: moving a byte stream between descriptors with splice, or read and write.
//!
//! Exit status follows netcat rather than socklab's grading codes (0/1/2 in `error.rs`):
//! 0 when the connection ended normally, 1 for any error, bad usage included, each said in
//! one line on stderr.

pub mod args;
pub mod names;
pub mod pump;
pub mod tcp;
pub mod udp;

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

pub use args::{HELP, Options, Parsed};

/// The exit status of a run that ended normally.
pub const EXIT_OK: i32 = 0;
/// The exit status of every error, bad usage included (netcat's convention).
pub const EXIT_ERROR: i32 = 1;

/// Why socklab nc stopped: one line for stderr.
#[derive(Debug, thiserror::Error)]
pub enum NcError {
    #[error("{0} (socklab nc -h for help)")]
    Usage(String),
    #[error("{0}")]
    Failed(String),
}

impl NcError {
    /// Wraps an I/O error with the call that failed.
    pub fn io(what: &'static str) -> impl FnOnce(io::Error) -> NcError {
        move |e| NcError::Failed(format!("{what}: {}", names::plain(&e)))
    }
}

/// Runs `socklab nc ARGS`; returns the exit status. Errors are printed here.
pub fn main(args: &[String]) -> i32 {
    let result = match args::parse(args) {
        Ok(Parsed::Help) => {
            // A reader that stops early (`| head`) is no error of ours.
            let _ = writeln!(io::stdout(), "{HELP}");
            return EXIT_OK;
        }
        Ok(Parsed::Run(opts)) => run(&opts),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("socklab nc: {e}");
            EXIT_ERROR
        }
    }
}

/// Runs netcat as `opts` says, until the connection ends or an error.
pub fn run(opts: &Options) -> Result<(), NcError> {
    if opts.udp {
        udp::run(opts)
    } else {
        tcp::run(opts)
    }
}

/// Ends the whole program from a helper thread: the error line, then status 1.
fn die(e: &NcError) -> ! {
    eprintln!("socklab nc: {e}");
    std::process::exit(EXIT_ERROR)
}

/// Errors that mean the peer closed or reset the connection while we were sending.
fn peer_gone(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EPIPE | libc::ECONNRESET | libc::ENOTCONN)
    )
}

/// The wildcard address of `peer`'s family, with `port` (0: any).
fn unspecified(peer: SocketAddr, port: u16) -> SocketAddr {
    let ip: IpAddr = match peer {
        SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        SocketAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    };
    SocketAddr::new(ip, port)
}

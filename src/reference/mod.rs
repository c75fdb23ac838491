//! The Rust reference programs (`socklab ref LAB PORT`): each behaves as the lesson's Python
//! program does, output format included (`connection from ('127.0.0.1', 54214)`,
//! `b'Hello!\n'`), so that each gets full marks from its own lab and shows what a correct
//! run looks like.

pub mod conn_simple;
pub mod serv_simple;
pub mod serv_tcp;
pub mod udp_serv;

use std::net::SocketAddr;
use std::os::fd::{AsFd, BorrowedFd};

use crate::error::{Error, Result};

/// The labs that have a reference program.
pub const LABS: &[&str] = &["serv_simple", "conn_simple", "serv_tcp", "udp_serv"];

/// Runs the reference program of `lab` on `port`; returns its exit code.
pub fn run(lab: &str, port: u16) -> Result<i32> {
    let lab = crate::labs::find(lab)?;
    let result = match lab.name.as_str() {
        "serv_simple" => serv_simple::run(port),
        "conn_simple" => conn_simple::run(port),
        "serv_tcp" => serv_tcp::run(port),
        "udp_serv" => udp_serv::run(port),
        other => {
            return Err(Error::Usage(format!(
                "lab '{other}' has no reference program yet; these do: {}",
                LABS.join(", ")
            )));
        }
    };
    // Like a Python program with an uncaught exception: the error on stderr, status 1.
    Ok(match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{}: {e}", lab.name);
            1
        }
    })
}

/// What is ready to read, as the lesson's `select([sock, sys.stdin], [], [])` tells it.
pub struct Ready {
    pub socket: bool,
    pub keyboard: bool,
}

/// Waits until the socket or (while it is open) the keyboard has something to read.
pub fn wait_for_input(socket: BorrowedFd<'_>, keyboard_open: bool) -> std::io::Result<Ready> {
    let stdin = std::io::stdin();
    let mut fds = vec![socket];
    if keyboard_open {
        fds.push(stdin.as_fd());
    }
    loop {
        let ready = crate::poll::wait(&fds, crate::poll::Ready::Read, None)?;
        if ready.iter().any(|r| *r) {
            return Ok(Ready {
                socket: ready[0],
                keyboard: ready.get(1).copied().unwrap_or(false),
            });
        }
    }
}

/// `('127.0.0.1', 54214)`: how Python prints a socket address tuple.
pub fn python_addr(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => format!("('{}', {})", a.ip(), a.port()),
        SocketAddr::V6(a) => format!(
            "('{}', {}, {}, {})",
            a.ip(),
            a.port(),
            a.flowinfo(),
            a.scope_id()
        ),
    }
}

//! The Rust reference programs (`socklab ref LAB PORT`): each behaves as the lesson's Python
//! program does, output format included (`connection from ('127.0.0.1', 54214)`,
//! `b'Hello!\n'`), so that each gets full marks from its own lab and shows what a correct
//! run looks like.

pub mod conn_simple;
pub mod serv_simple;
pub mod serv_tcp;
pub mod udp_serv;

use std::net::SocketAddr;

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
pub fn wait_for_input(socket: std::os::fd::RawFd, keyboard_open: bool) -> std::io::Result<Ready> {
    loop {
        let mut fds = [
            libc::pollfd {
                fd: socket,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: if keyboard_open { 0 } else { -1 },
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: two valid pollfds; a negative fd is skipped.
        if unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) } < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        return Ok(Ready {
            socket: fds[0].revents != 0,
            keyboard: fds[1].revents != 0,
        });
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

//! serv_simple.py in Rust: accept one client, print it, print what it sends, reply with a
//! typed line (without its newline, as `input()` strips it), close.

use std::io::{self, BufRead, Read, Write};
use std::net::TcpListener;

use crate::escape::python_bytes;
use crate::reference::{python_addr, say};

pub fn run(port: u16) -> io::Result<()> {
    let listener = TcpListener::bind(("0.0.0.0", port))?;
    let (mut conn, addr) = listener.accept()?;
    say(&format!("connection from {}", python_addr(addr)))?;
    let mut buf = [0u8; 1024];
    let n = conn.read(&mut buf)?;
    say(&python_bytes(&buf[..n]))?;
    let mut line = String::new();
    io::stdin().lock().read_line(&mut line)?;
    conn.write_all(line.trim_end_matches('\n').as_bytes())?;
    Ok(())
}

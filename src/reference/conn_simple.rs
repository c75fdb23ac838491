//! conn_simple.py in Rust: connect to 127.0.0.1, send `Hello!\n`, print the reply.

use std::io::{self, Read, Write};
use std::net::TcpStream;

use crate::escape::python_bytes;
use crate::reference::say;

pub fn run(port: u16) -> io::Result<()> {
    let mut sock = TcpStream::connect(("127.0.0.1", port))?;
    sock.write_all(b"Hello!\n")?;
    let mut buf = [0u8; 1024];
    let n = sock.read(&mut buf)?;
    say(&python_bytes(&buf[..n]))?;
    Ok(())
}

//! serv_tcp.py in Rust: a 1:1 chat that waits on the socket and the keyboard at once
//! (poll, as the lesson's select), prints what arrives, sends each typed line with its
//! newline, and ends when the peer hangs up.

use std::io::{self, Read, Write};
use std::net::TcpListener;
use std::os::fd::AsFd;

use crate::escape::python_bytes;
use crate::reference::python_addr;

pub fn run(port: u16) -> io::Result<()> {
    let listener = TcpListener::bind(("0.0.0.0", port))?;
    let (mut conn, addr) = listener.accept()?;
    println!("connection from {}", python_addr(addr));
    let mut keyboard_open = true;
    let mut typed = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let ready = super::wait_for_input(conn.as_fd(), keyboard_open)?;
        if ready.socket {
            let n = conn.read(&mut buf)?;
            if n == 0 {
                break;
            }
            println!("{}", python_bytes(&buf[..n]));
        }
        if ready.keyboard {
            // Raw reads, not a buffered reader: poll must see every line that is waiting.
            let n = io::stdin().lock().read(&mut buf)?;
            if n == 0 {
                keyboard_open = false;
                if !typed.is_empty() {
                    typed.push(b'\n');
                    conn.write_all(&typed)?;
                    typed.clear();
                }
                continue;
            }
            typed.extend_from_slice(&buf[..n]);
            while let Some(nl) = typed.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = typed.drain(..=nl).collect();
                conn.write_all(&line)?;
            }
        }
    }
    Ok(())
}

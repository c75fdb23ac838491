//! Activity 2 in Rust: a UDP server as `nc -ul` would be for the activity. It prints each
//! datagram as it comes (raw, as netcat does), sends each typed line with its newline to
//! whoever sent last, and ends at end of input.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsFd;

pub fn run(port: u16) -> io::Result<()> {
    let sock = UdpSocket::bind(("0.0.0.0", port))?;
    let mut last_sender: Option<SocketAddr> = None;
    let mut typed = Vec::new();
    let mut buf = vec![0u8; 65536];
    let mut stdout = io::stdout();
    loop {
        let ready = super::wait_for_input(sock.as_fd(), true)?;
        if ready.socket {
            let (n, from) = sock.recv_from(&mut buf)?;
            last_sender = Some(from);
            stdout.write_all(&buf[..n])?;
            stdout.flush()?;
        }
        if ready.keyboard {
            let n = io::stdin().lock().read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            typed.extend_from_slice(&buf[..n]);
            while let Some(nl) = typed.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = typed.drain(..=nl).collect();
                match last_sender {
                    Some(to) => {
                        sock.send_to(&line, to)?;
                    }
                    None => eprintln!("udp_serv: nobody has sent anything yet; line not sent"),
                }
            }
        }
    }
}

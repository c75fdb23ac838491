//! `socklab partner` in a terminal of its own (a pty), with a real OpenBSD netcat in the
//! other "terminal": messages each way, typed lines, advice on a wait that ends empty, and
//! the verdict at the end.

mod common;

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;

const OPENBSD_NC: &str = "/bin/nc.openbsd";

/// The partner's terminal: what it printed so far, read with deadlines.
struct Terminal {
    master: OwnedFd,
    seen: Vec<u8>,
    closed: bool,
}

impl Terminal {
    /// Reads until `want` has appeared, or fails after 10 s.
    fn expect(&mut self, want: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !String::from_utf8_lossy(&self.seen).contains(want) {
            assert!(
                !self.closed && Instant::now() < deadline,
                "waited for {want:?}; the terminal shows:\n{}",
                String::from_utf8_lossy(&self.seen)
            );
            self.read_until(deadline);
        }
    }

    /// Reads until the partner has closed its terminal (exited), at most 10 s.
    fn expect_end(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.closed {
            assert!(Instant::now() < deadline, "the partner did not end");
            self.read_until(deadline);
        }
    }

    fn read_until(&mut self, deadline: Instant) {
        let mut pfd = libc::pollfd {
            fd: self.master.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let millis = deadline
            .saturating_duration_since(Instant::now())
            .as_millis() as i32;
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut pfd, 1, millis) } <= 0 {
            return;
        }
        let mut buf = [0u8; 4096];
        match nix::unistd::read(&self.master, &mut buf) {
            Ok(0) | Err(nix::errno::Errno::EIO) => self.closed = true,
            Ok(n) => self.seen.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }

    fn type_line(&mut self, text: &[u8]) {
        nix::unistd::write(&self.master, text).unwrap();
    }
}

fn partner(args: &[&str]) -> (Child, Terminal) {
    let term = socklab::terminal::open().unwrap();
    let child = Command::new(cargo_bin("socklab"))
        .arg("partner")
        .args(args)
        .stdin(Stdio::from(term.slave.try_clone().unwrap()))
        .stdout(Stdio::from(term.slave))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    (
        child,
        Terminal {
            master: term.master,
            seen: Vec::new(),
            closed: false,
        },
    )
}

/// Reads a piped stdout until `want` appears (the reader thread keeps waits bounded).
fn expect_on(rx: &std::sync::mpsc::Receiver<Vec<u8>>, seen: &mut Vec<u8>, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !String::from_utf8_lossy(seen).contains(want) {
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = rx.recv_timeout(left).unwrap_or_else(|_| {
            panic!(
                "waited for {want:?}, nc showed {:?}",
                String::from_utf8_lossy(seen)
            )
        });
        seen.extend_from_slice(&chunk);
    }
}

fn netcat(args: &[&str]) -> (Child, std::sync::mpsc::Receiver<Vec<u8>>) {
    let mut child = Command::new(OPENBSD_NC)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("netcat-openbsd is installed (.ci/run installs it)");
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Partner as Bob on TCP; the student's `nc` as Alice: each side's lines reach the other,
/// and when Alice hangs up the partner says what worked.
#[test]
fn tcp_listener_chats_with_nc_and_gives_a_verdict() {
    let port = common::free_port().to_string();
    let (mut child, mut term) = partner(&["tcp", "--listen", &port, "--wait", "10"]);
    term.expect("nc 127.0.0.1");
    term.expect("Waiting up to");

    let (mut nc, nc_out) = netcat(&["-N", "127.0.0.1", &port]);
    let mut nc_seen = Vec::new();
    expect_on(&nc_out, &mut nc_seen, "hello from socklab's partner");
    term.expect("Alice connected from 127.0.0.1");

    let mut nc_in = nc.stdin.take().unwrap();
    nc_in.write_all(b"hi partner\n").unwrap();
    term.expect(r"received b'hi partner\n'");
    expect_on(&nc_out, &mut nc_seen, "got your first line, thanks");

    term.type_line(b"typed by a person\n");
    expect_on(&nc_out, &mut nc_seen, "typed by a person\n");

    drop(nc_in); // nc -N half-closes: Alice hangs up
    term.expect("Alice's side closed the connection.");
    term.expect("TCP chat: 1 message from you arrived intact, each a whole line; 3 sent to you (1 typed here).");
    term.expect_end();
    assert!(child.wait().unwrap().success());
    let _ = nc.kill();
    let _ = nc.wait();
}

/// Partner as Alice on UDP against a `nc -ul` server: the greeting reaches the server, the
/// server's line reaches the partner, and ^D ends the chat.
#[test]
fn udp_client_chats_with_nc_ul() {
    let port = common::free_port().to_string();
    let (mut server, server_out) = netcat(&["-ul", &port]);
    let (mut child, mut term) = partner(&["udp", "--connect", "127.0.0.1", &port]);
    let mut server_seen = Vec::new();
    // The greeting can beat nc to its bind: then it is lost, as UDP may lose it; type a
    // line in the partner until the server shows one (each try waits on the server).
    let deadline = Instant::now() + Duration::from_secs(10);
    term.expect("^D ends the chat");
    while server_seen.is_empty() {
        assert!(Instant::now() < deadline, "nc -ul never got a datagram");
        if let Ok(chunk) = server_out.recv_timeout(Duration::from_millis(300)) {
            server_seen.extend_from_slice(&chunk);
        } else {
            term.type_line(b"are you there?\n");
        }
    }
    let mut server_in = server.stdin.take().unwrap();
    server_in.write_all(b"yes, the server\n").unwrap();
    term.expect(r"received b'yes, the server\n'");
    term.type_line(b"\x04");
    term.expect("End of input: the partner ends the chat.");
    term.expect("UDP chat: 1 message from you arrived intact");
    term.expect_end();
    assert!(child.wait().unwrap().success());
    let _ = server.kill();
    let _ = server.wait();
}

/// Nobody connects: the wait ends at its deadline with advice, and exit status 1.
#[test]
fn empty_wait_ends_with_advice() {
    let port = common::free_port().to_string();
    let (mut child, mut term) = partner(&["tcp", "--listen", &port, "--wait", "0.5"]);
    term.expect(&format!(
        "Nothing connected to port {port} in 0.5 s: did you run  nc 127.0.0.1 {port}"
    ));
    term.expect_end();
    assert_eq!(child.wait().unwrap().code(), Some(1));
}

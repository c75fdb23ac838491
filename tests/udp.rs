//! Activity 2 (udp_serv): the Rust reference chats with a real OpenBSD `nc -u`, and a
//! program that is not a UDP server is told so plainly.

mod common;

use std::io::{Read, Write};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::socklab;

const OPENBSD_NC: &str = "/bin/nc.openbsd";

/// Reads a child's stdout on a thread of its own, so waits can have deadlines.
struct Output {
    chunks: mpsc::Receiver<Vec<u8>>,
    seen: Vec<u8>,
}

impl Output {
    fn of(mut stdout: ChildStdout) -> Output {
        let (tx, chunks) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Output {
            chunks,
            seen: Vec::new(),
        }
    }

    /// Waits (at most 5 s) until `want` has appeared.
    fn expect(&mut self, want: &[u8]) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !self.seen.windows(want.len()).any(|w| w == want) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.chunks.recv_timeout(left) {
                Ok(chunk) => self.seen.extend_from_slice(&chunk),
                Err(_) => panic!(
                    "waited for {:?}, saw {:?}",
                    String::from_utf8_lossy(want),
                    String::from_utf8_lossy(&self.seen)
                ),
            }
        }
    }
}

impl Output {
    /// Waits (at most 5 s) for end of file: the process has closed its stdout, i.e. ended.
    fn expect_end(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.chunks.recv_timeout(left) {
                Ok(chunk) => self.seen.extend_from_slice(&chunk),
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
                Err(mpsc::RecvTimeoutError::Timeout) => panic!("still running after 5 s"),
            }
        }
    }
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn piped(cmd: &mut Command) -> KillOnDrop {
    KillOnDrop(
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e} (is netcat-openbsd installed?)")),
    )
}

/// `socklab ref udp_serv PORT` and OpenBSD `nc -u 127.0.0.1 PORT`: a line each way, byte
/// for byte, and the reference ends at end of its input.
#[test]
fn reference_chats_with_openbsd_nc_u() {
    let port = common::free_port().to_string();
    let mut server = piped(socklab().args(["ref", "udp_serv", &port]));
    let mut server_out = Output::of(server.0.stdout.take().unwrap());

    // Until the server has bound its port, a datagram to it draws "port unreachable", which
    // ends a connected `nc -u`. So probe from a socket of our own (unconnected, so it does
    // not mind) until the server prints a probe, and only then start nc.
    let probe = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !String::from_utf8_lossy(&server_out.seen).contains("probe") {
        assert!(
            Instant::now() < deadline,
            "the reference never bound UDP {port}"
        );
        probe
            .send_to(b"probe\n", format!("127.0.0.1:{port}"))
            .unwrap();
        if let Ok(chunk) = server_out.chunks.recv_timeout(Duration::from_millis(100)) {
            server_out.seen.extend_from_slice(&chunk);
        }
    }

    let mut client = piped(Command::new(OPENBSD_NC).args(["-u", "127.0.0.1", &port]));
    let mut client_out = Output::of(client.0.stdout.take().unwrap());
    let mut client_in = client.0.stdin.take().unwrap();
    client_in.write_all(b"hello from nc\n").unwrap();
    server_out.expect(b"hello from nc\n");

    let mut server_in = server.0.stdin.take().unwrap();
    server_in.write_all(b"hi nc\n").unwrap();
    client_out.expect(b"hi nc\n");

    drop(server_in);
    server_out.expect_end();
    let status = server.0.wait().unwrap();
    assert!(status.success());
}

/// A TCP server graded as Activity 2 is told it is not UDP, in those words.
#[test]
fn tcp_server_is_told_it_is_not_udp() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("tcp.py");
    std::fs::write(
        &script,
        "import socket\ns = socket.socket(); s.bind(('0.0.0.0', 9000)); s.listen(); s.accept()\n",
    )
    .unwrap();
    let output = socklab()
        .args(["check", "activity2", "--timeout", "1", "--", "python3"])
        .arg(&script)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(common::exit_code(&output), 1, "{stdout}");
    assert!(
        stdout.contains("nothing receives on UDP 9000; a TCP listener is on 9000"),
        "{stdout}"
    );
}

//! `socklab nc` against the real netcats: byte-exact with OpenBSD nc in both directions and
//! both roles, TCP and UDP, OpenBSD's -v lines word for word (compared with what the real
//! one prints in the same session), and one-line errors with exit status 1. Real processes
//! over loopback only; every wait ends on an event or a deadline.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use rstest::rstest;

/// Long enough for a slow, shared machine; correct runs end long before, on events.
const DEADLINE: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------
// The netcats

#[derive(Clone, Copy, Debug, PartialEq)]
enum Nc {
    Socklab,
    OpenBsd,
    Ncat,
}

impl Nc {
    /// The command with `args`, netcat-style.
    fn cmd(self, args: &[&str]) -> Command {
        let mut cmd = match self {
            Nc::Socklab => {
                let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("socklab"));
                cmd.arg("nc");
                cmd
            }
            Nc::OpenBsd => Command::new(openbsd_nc()),
            Nc::Ncat => Command::new(ncat()),
        };
        cmd.args(args);
        cmd
    }

    /// Connects to 127.0.0.1:`port`, shutting down sending at end of stdin (OpenBSD nc
    /// needs -N for that; socklab nc and ncat always do it).
    fn connect(self, port: u16, extra: &[&str]) -> Command {
        let port = port.to_string();
        let mut args: Vec<&str> = extra.to_vec();
        if self == Nc::OpenBsd {
            args.push("-N");
        }
        args.extend(["127.0.0.1", port.as_str()]);
        self.cmd(&args)
    }

    /// Listens on `port` with -v (its first line says it is ready).
    fn listen(self, port: u16) -> Command {
        let port = port.to_string();
        match self {
            // ncat's -v says "Ncat: Listening on 0.0.0.0:PORT"; -4, or it listens on :: too.
            Nc::Ncat => self.cmd(&["-4", "-l", "-v", &port]),
            _ => self.cmd(&["-lnv", &port]),
        }
    }
}

/// The OpenBSD netcat binary: tests that need it fail with this message when it is absent.
fn openbsd_nc() -> &'static str {
    static FOUND: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    FOUND.get_or_init(|| {
        for candidate in ["/bin/nc.openbsd", "/usr/bin/nc.openbsd", "nc"] {
            if let Ok(out) = Command::new(candidate).arg("-h").output()
                && String::from_utf8_lossy(&out.stderr).contains("OpenBSD netcat")
            {
                return candidate.to_string();
            }
        }
        panic!("OpenBSD netcat is needed (apt-get install netcat-openbsd; .ci/run does it)")
    })
}

fn ncat() -> &'static str {
    static FOUND: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    FOUND.get_or_init(|| {
        which::which("ncat")
            .unwrap_or_else(|_| panic!("ncat is needed (apt-get install ncat; .ci/run does it)"))
            .display()
            .to_string()
    })
}

fn free_port() -> u16 {
    common::free_port()
}

/// `len` bytes holding every byte value, in an order that repeats no short cycle.
fn binary(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut data: Vec<u8> = (0..=255u8).collect();
    data.extend((256..len).map(|_| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 24) as u8
    }));
    data.truncate(len);
    data
}

// ---------------------------------------------------------------------------------------
// Processes under test: output gathered as it comes, every wait bounded by a deadline

#[derive(Default)]
struct Gathered {
    bytes: Vec<u8>,
    ended: bool,
}

/// One output stream of a process, read on a thread until its end.
#[derive(Clone)]
struct Output(Arc<(Mutex<Gathered>, Condvar)>);

impl Output {
    fn gather(mut reader: impl Read + Send + 'static) -> Output {
        let output = Output(Arc::default());
        let shared = output.0.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = reader.read(&mut buf).unwrap_or(0);
                let mut gathered = shared.0.lock().unwrap();
                if n == 0 {
                    gathered.ended = true;
                } else {
                    gathered.bytes.extend_from_slice(&buf[..n]);
                }
                shared.1.notify_all();
                if n == 0 {
                    return;
                }
            }
        });
        output
    }

    /// Waits until `done` holds for what came so far; panics at the deadline with it.
    fn wait(&self, what: &str, done: impl Fn(&Gathered) -> bool) -> Vec<u8> {
        let deadline = Instant::now() + DEADLINE;
        let (lock, changed) = &*self.0;
        let mut gathered = lock.lock().unwrap();
        while !done(&gathered) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero() && !gathered.ended,
                "waited for {what}; got {:?}{}",
                String::from_utf8_lossy(&gathered.bytes),
                if gathered.ended {
                    " and the end"
                } else {
                    " by the deadline"
                }
            );
            gathered = changed.wait_timeout(gathered, left).unwrap().0;
        }
        gathered.bytes.clone()
    }

    fn wait_for(&self, needle: &[u8]) -> Vec<u8> {
        let what = format!("{:?}", String::from_utf8_lossy(needle));
        self.wait(&what, |g| {
            g.bytes.windows(needle.len()).any(|w| w == needle)
        })
    }

    /// Waits for a whole line holding `needle` (its newline arrived too).
    fn wait_for_line(&self, needle: &[u8]) -> Vec<u8> {
        let what = format!("a line with {:?}", String::from_utf8_lossy(needle));
        self.wait(&what, |g| {
            g.bytes.split_inclusive(|&b| b == b'\n').any(|line| {
                line.ends_with(b"\n") && line.windows(needle.len()).any(|w| w == needle)
            })
        })
    }

    fn wait_len(&self, len: usize) -> Vec<u8> {
        self.wait(&format!("{len} bytes"), |g| g.bytes.len() >= len)
    }

    /// Everything, once the stream has ended.
    fn all(&self) -> Vec<u8> {
        let deadline = Instant::now() + DEADLINE;
        let (lock, changed) = &*self.0;
        let mut gathered = lock.lock().unwrap();
        while !gathered.ended {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "the output did not end by the deadline");
            gathered = changed.wait_timeout(gathered, left).unwrap().0;
        }
        gathered.bytes.clone()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.0.lock().unwrap().bytes).into_owned()
    }
}

/// What a process gets as stdin.
enum Input {
    /// A pipe the test writes to and closes when it likes.
    Held,
    /// These bytes, written on a thread, then end of input.
    Bytes(Vec<u8>),
    Null,
    /// A terminal (the slave side of a pty the test holds).
    Terminal(OwnedFd),
}

/// A process under test; killed if the test ends while it still runs.
struct Proc {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    out: Output,
    err: Output,
}

impl Proc {
    fn start(name: &str, mut cmd: Command, input: Input) -> Proc {
        cmd.stdin(match &input {
            Input::Null => Stdio::null(),
            Input::Terminal(fd) => Stdio::from(fd.try_clone().unwrap()),
            Input::Held | Input::Bytes(_) => Stdio::piped(),
        });
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        let out = Output::gather(child.stdout.take().unwrap());
        let err = Output::gather(child.stderr.take().unwrap());
        let mut stdin = child.stdin.take();
        if let Input::Bytes(bytes) = input {
            let mut pipe = stdin.take().unwrap();
            // A netcat that stops reading early makes this fail; the test sees the loss.
            std::thread::spawn(move || pipe.write_all(&bytes));
        }
        Proc {
            name: name.to_string(),
            child,
            stdin,
            out,
            err,
        }
    }

    /// Starts a listener and waits for its first -v line, so that it is ready.
    fn listening(name: &str, cmd: Command, input: Input) -> Proc {
        let proc = Proc::start(name, cmd, input);
        proc.err.wait(&format!("{name} to listen"), |g| {
            let text = String::from_utf8_lossy(&g.bytes);
            text.contains("Listening on") || text.contains("Bound on")
        });
        proc
    }

    fn type_in(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is held");
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    fn close_stdin(&mut self) {
        self.stdin.take();
    }

    /// Waits for the exit (through a pidfd: an event, not a poll loop), then for the end of
    /// its output.
    fn finish(mut self) -> Finished {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        assert!(fd >= 0, "pidfd_open: {}", std::io::Error::last_os_error());
        // SAFETY: the descriptor was just opened and is owned here only.
        let pidfd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
        let ready = poll(
            &mut [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)],
            PollTimeout::try_from(DEADLINE).unwrap(),
        )
        .unwrap();
        assert!(
            ready > 0,
            "{} still running after {DEADLINE:?}; stderr: {:?}",
            self.name,
            self.err.text()
        );
        let status = self.child.wait().unwrap();
        Finished {
            name: self.name.clone(),
            status,
            stdout: self.out.all(),
            stderr: String::from_utf8_lossy(&self.err.all()).into_owned(),
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Finished {
    name: String,
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: String,
}

impl Finished {
    fn assert_success(&self) -> &Self {
        assert!(
            self.status.success(),
            "{} exited with {}; stderr: {}",
            self.name,
            self.status,
            self.stderr
        );
        self
    }

    fn assert_stdout(&self, expected: &[u8]) -> &Self {
        assert!(
            self.stdout == expected,
            "{} printed {} bytes, expected {} (first difference at byte {:?})",
            self.name,
            self.stdout.len(),
            expected.len(),
            self.stdout.iter().zip(expected).position(|(a, b)| a != b)
        );
        self
    }
}

/// `socklab nc ARGS` run to its end with stdin closed.
fn socklab_nc(args: &[&str]) -> Finished {
    Proc::start("socklab nc", Nc::Socklab.cmd(args), Input::Null).finish()
}

/// Asserts a netcat error: status 1 and exactly one line on stderr, which is returned.
fn one_line_error(done: &Finished) -> String {
    assert_eq!(
        done.status.code(),
        Some(1),
        "{}: {}",
        done.name,
        done.stderr
    );
    assert_eq!(
        done.stderr.lines().count(),
        1,
        "not one line: {:?}",
        done.stderr
    );
    done.stderr.trim_end().to_string()
}

// ---------------------------------------------------------------------------------------
// TCP, byte for byte, both roles, both directions

const BULK: usize = 4 << 20;

/// A listener receives a few MB of every byte value from a connecting netcat, after sending
/// it a line: each prints exactly what the other sent, and both exit 0.
#[rstest]
#[case::socklab_listens_openbsd_connects(Nc::Socklab, Nc::OpenBsd)]
#[case::openbsd_listens_socklab_connects(Nc::OpenBsd, Nc::Socklab)]
#[case::socklab_listens_ncat_connects(Nc::Socklab, Nc::Ncat)]
fn tcp_bulk_to_the_listener(#[case] listener: Nc, #[case] connector: Nc) {
    let port = free_port();
    let data = binary(BULK, 1);
    let answer = b"send it\n";
    let mut server = Proc::listening("listener", listener.listen(port), Input::Held);
    let mut client = Proc::start("connector", connector.connect(port, &[]), Input::Held);
    server.type_in(answer);
    client.out.wait_for(answer);
    client.type_in(&data);
    client.close_stdin();
    server.out.wait_len(BULK);
    // socklab nc, with its stdin a pipe, sends all of it before it ends; OpenBSD nc has
    // ended already, at the connector's end of stream.
    server.close_stdin();
    server.finish().assert_success().assert_stdout(&data);
    client.finish().assert_success().assert_stdout(answer);
}

/// A listener sends a few MB from its stdin to a connecting netcat, which sent a line and
/// holds its stdin open until all arrived (real netcats end at their peer's end of stream,
/// whatever their stdin still holds): each prints exactly what the other sent.
#[rstest]
#[case::socklab_listens_openbsd_connects(Nc::Socklab, Nc::OpenBsd)]
#[case::openbsd_listens_socklab_connects(Nc::OpenBsd, Nc::Socklab)]
#[case::ncat_listens_socklab_connects(Nc::Ncat, Nc::Socklab)]
fn tcp_bulk_from_the_listener(#[case] listener: Nc, #[case] connector: Nc) {
    let port = free_port();
    let data = binary(BULK, 2);
    let hello = b"hello\n";
    let server = Proc::listening(
        "listener",
        listener.listen(port),
        Input::Bytes(data.clone()),
    );
    let mut client = Proc::start("connector", connector.connect(port, &[]), Input::Held);
    client.type_in(hello);
    server.out.wait_for(hello);
    client.out.wait_len(BULK);
    client.close_stdin();
    client.finish().assert_success().assert_stdout(&data);
    server.finish().assert_success().assert_stdout(hello);
}

/// The end of the socket ends socklab nc once everything is written, its input included: a
/// peer that half-closed first (OpenBSD nc -N) still gets all of the listener's stdin.
/// (OpenBSD nc and ncat as listeners end at once here, and the peer gets a part.)
#[test]
fn tcp_listener_sends_all_after_the_peer_half_closed() {
    let port = free_port();
    let data = binary(BULK, 3);
    let mut server = Proc::listening("socklab nc -l", Nc::Socklab.listen(port), Input::Held);
    let mut client = Proc::start("OpenBSD nc -N", Nc::OpenBsd.connect(port, &[]), Input::Held);
    client.type_in(b"bye\n");
    client.close_stdin();
    server.out.wait_for(b"bye\n");
    server.type_in(&data);
    server.close_stdin();
    client.finish().assert_success().assert_stdout(&data);
    server.finish().assert_success().assert_stdout(b"bye\n");
}

/// socklab nc on both ends, a few MB each way at the same time: both outputs are exact.
#[test]
fn tcp_both_ways_at_once() {
    let port = free_port();
    let up = binary(BULK, 4);
    let down = binary(BULK, 5);
    let server = Proc::listening(
        "listener",
        Nc::Socklab.listen(port),
        Input::Bytes(down.clone()),
    );
    let client = Proc::start(
        "connector",
        Nc::Socklab.connect(port, &[]),
        Input::Bytes(up.clone()),
    );
    client.finish().assert_success().assert_stdout(&down);
    server.finish().assert_success().assert_stdout(&up);
}

/// Traditional netcat's `-l -p PORT`, and `-p` as the source port when connecting.
#[test]
fn traditional_listen_with_p_and_source_port() {
    let port = free_port();
    let source = free_port();
    let data = binary(100_000, 6);
    let server = Proc::listening(
        "socklab nc -l -p",
        Nc::Socklab.cmd(&["-nv", "-l", "-p", &port.to_string()]),
        Input::Null,
    );
    let client = Proc::start(
        "OpenBSD nc -p",
        Nc::OpenBsd.connect(port, &["-p", &source.to_string()]),
        Input::Bytes(data.clone()),
    );
    let done = server.finish();
    done.assert_success().assert_stdout(&data);
    assert!(
        done.stderr
            .ends_with(&format!("Connection received on 127.0.0.1 {source}\n")),
        "{}",
        done.stderr
    );
    client.finish().assert_success().assert_stdout(b"");
}

/// With stdin at a terminal, the end of the connection ends socklab nc at once: a person
/// chatting is done when the peer hangs up, without typing ^D.
#[test]
fn peer_hang_up_ends_a_terminal_session() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let pty = nix::pty::openpty(None, None).unwrap();
    let client = Proc::start(
        "socklab nc on a terminal",
        Nc::Socklab.connect(port, &[]),
        Input::Terminal(pty.slave),
    );
    let (mut conn, _) = listener.accept().unwrap();
    conn.write_all(b"bye\n").unwrap();
    drop(conn);
    // The terminal stays open and silent: only the hang-up can end the program.
    client.finish().assert_success().assert_stdout(b"bye\n");
    drop(pty.master);
}

// ---------------------------------------------------------------------------------------
// UDP

/// A UDP listener answers the netcat that sent the first datagram: a line each way, then
/// one more, each printed as sent.
#[rstest]
#[case::socklab_listens_openbsd_sends(Nc::Socklab, Nc::OpenBsd)]
#[case::openbsd_listens_socklab_sends(Nc::OpenBsd, Nc::Socklab)]
fn udp_a_line_each_way(#[case] listener: Nc, #[case] connector: Nc) {
    let port = free_port().to_string();
    let mut server = Proc::listening("listener", listener.cmd(&["-ulnv", &port]), Input::Held);
    let mut client = Proc::start(
        "connector",
        connector.cmd(&["-u", "127.0.0.1", &port]),
        Input::Held,
    );
    client.type_in(b"first line\n");
    server.out.wait_for(b"first line\n");
    server.type_in(b"answer\n");
    client.out.wait_for(b"answer\n");
    client.type_in(b"second line\n");
    assert_eq!(
        server.out.wait_for(b"second line\n"),
        b"first line\nsecond line\n"
    );
    assert_eq!(client.out.text(), "answer\n");
}

/// A UDP listener hears only the peer of its first datagram, keeps printing after its own
/// stdin ended, and sends nothing the user did not type. Datagrams on loopback are queued
/// as they are sent, so the intruder's would show before the peer's second one.
#[test]
fn udp_listener_hears_only_its_first_peer() {
    let port = free_port();
    let server = Proc::listening(
        "socklab nc -ulnv",
        Nc::Socklab.cmd(&["-ulnv", &port.to_string()]),
        Input::Null,
    );
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    let intruder = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.send_to(b"first\n", ("127.0.0.1", port)).unwrap();
    server.out.wait_for(b"first\n");
    intruder
        .send_to(b"intruder\n", ("127.0.0.1", port))
        .unwrap();
    peer.send_to(b"second\n", ("127.0.0.1", port)).unwrap();
    assert_eq!(server.out.wait_for(b"second\n"), b"first\nsecond\n");
    let peer_port = peer.local_addr().unwrap().port();
    let said = server
        .err
        .wait_for_line(format!("Connection received on 127.0.0.1 {peer_port}").as_bytes());
    assert!(String::from_utf8_lossy(&said).ends_with(&format!("{peer_port}\n")));
    peer.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 16];
    assert!(
        peer.recv(&mut buf).is_err(),
        "the listener sent something unasked"
    );
}

/// UDP to a port where nothing listens: the refusal is one line and status 1.
#[test]
fn udp_refused_is_one_line() {
    let port = free_port();
    let client = Proc::start(
        "socklab nc -u",
        Nc::Socklab.cmd(&["-u", "127.0.0.1", &port.to_string()]),
        Input::Bytes(b"anyone?\n".to_vec()),
    );
    let done = client.finish();
    assert_eq!(
        one_line_error(&done),
        format!("socklab nc: 127.0.0.1 port {port} (udp): Connection refused")
    );
}

// ---------------------------------------------------------------------------------------
// -v: the same lines as OpenBSD nc in the same session

/// The -v lines of one session with `nc` on both ends, ports replaced by names: the
/// listener's, and the connector's (TCP only: OpenBSD nc -uv first probes the port with "X"
/// datagrams, so UDP connectors run without -v).
fn verbose_session(nc: Nc, udp: bool, named: bool) -> (String, String) {
    let (port, source) = (free_port().to_string(), free_port().to_string());
    let mut listen_args = vec![if udp { "-ulv" } else { "-lv" }];
    let mut connect_args = vec![if udp { "-u" } else { "-v" }, "-p", &source];
    if named {
        listen_args.push("127.0.0.1");
        connect_args.push("localhost");
    } else {
        listen_args.push("-n");
        connect_args.extend(["-n", "127.0.0.1"]);
    }
    listen_args.push(&port);
    connect_args.push(&port);
    let server = Proc::listening("listener", nc.cmd(&listen_args), Input::Held);
    let mut client = Proc::start("connector", nc.cmd(&connect_args), Input::Held);
    client.type_in(b"hi\n");
    server.out.wait_for(b"hi\n");
    server.err.wait_for_line(b"Connection received");
    if !udp {
        client.err.wait_for(b"succeeded!\n");
    }
    let clean = |text: String| text.replace(&port, "PORT").replace(&source, "SOURCE");
    (clean(server.err.text()), clean(client.err.text()))
}

/// -v lines as OpenBSD nc prints them: TCP and UDP, with -n, and with names (127.0.0.1 is
/// `localhost` through /etc/hosts, so no DNS is asked).
#[rstest]
fn verbose_lines_match_openbsd(
    #[values(false, true)] udp: bool,
    #[values(false, true)] named: bool,
) {
    let ours = verbose_session(Nc::Socklab, udp, named);
    let theirs = verbose_session(Nc::OpenBsd, udp, named);
    assert_eq!(ours, theirs);
    let expected_first = if udp { "Bound on " } else { "Listening on " };
    assert!(ours.0.starts_with(expected_first), "{ours:?}");
    assert!(ours.0.ends_with(" SOURCE\n"), "{ours:?}");
}

/// The UDP connector's -v line, as OpenBSD nc prints it (after its probes).
#[test]
fn udp_connector_verbose_line() {
    let port = free_port();
    let _server = Proc::listening(
        "listener",
        Nc::Socklab.cmd(&["-ulnv", &port.to_string()]),
        Input::Held,
    );
    let client = Proc::start(
        "socklab nc -uvn",
        Nc::Socklab.cmd(&["-uvn", "127.0.0.1", &port.to_string()]),
        Input::Held,
    );
    client
        .err
        .wait_for(format!("Connection to 127.0.0.1 {port} port [udp/*] succeeded!\n").as_bytes());
}

// ---------------------------------------------------------------------------------------
// Errors: one line on stderr, status 1

/// A refused connection is one line, with or without -v, worded as OpenBSD nc -v words it
/// (OpenBSD nc says nothing without -v).
#[test]
fn refused_connection_is_one_line_like_openbsd() {
    let port = free_port().to_string();
    let ours = one_line_error(&socklab_nc(&["127.0.0.1", &port]));
    assert_eq!(
        ours,
        one_line_error(&socklab_nc(&["-v", "127.0.0.1", &port]))
    );
    let theirs = Proc::start(
        "OpenBSD nc",
        Nc::OpenBsd.cmd(&["-v", "127.0.0.1", &port]),
        Input::Null,
    )
    .finish();
    let theirs = one_line_error(&theirs);
    assert_eq!(
        ours.split_once(": ").unwrap().1,
        theirs.split_once(": ").unwrap().1
    );
    assert_eq!(
        ours,
        format!("socklab nc: connect to 127.0.0.1 port {port} (tcp) failed: Connection refused")
    );
}

/// Bad usage is one line and status 1 (netcat's convention, not socklab's 2).
#[rstest]
#[case::port_too_large(&["127.0.0.1", "70000"], "port number too large: 70000")]
#[case::port_not_a_number(&["127.0.0.1", "abc"], "port number invalid: abc")]
#[case::port_zero(&["-l", "0"], "port number too small: 0")]
#[case::no_port(&["-lnv"], "missing port number")]
#[case::no_host(&["9000"], "missing host or port")]
#[case::unknown_option(&["-lY", "9000"], "invalid option -- 'Y'")]
#[case::name_with_n(&["-n", "localhost", "9000"], "-n forbids looking names up")]
fn bad_usage_is_one_line(#[case] args: &[&str], #[case] message: &str) {
    let line = one_line_error(&socklab_nc(args));
    assert!(
        line.starts_with("socklab nc: ") && line.contains(message),
        "{line}"
    );
}

/// A port already in use: one line naming it, status 1.
#[test]
fn port_in_use_is_one_line() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let line = one_line_error(&socklab_nc(&["-l", "127.0.0.1", &port]));
    assert_eq!(
        line,
        format!("socklab nc: bind to 127.0.0.1 port {port} (tcp) failed: Address already in use")
    );
}

/// `socklab nc -h` prints the help on stdout and exits 0.
#[test]
fn help_lists_the_lesson_forms() {
    let done = socklab_nc(&["-h"]);
    done.assert_success();
    let help = String::from_utf8_lossy(&done.stdout);
    for form in ["-lnv 9000", "-l -p 9000", "-ulnv 9000", "Exit status"] {
        assert!(help.contains(form), "{form} missing from {help}");
    }
}

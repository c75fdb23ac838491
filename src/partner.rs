//! `socklab partner`: the other terminal, for a student practising Activity 1 or 2 alone.
//! socklab plays the other side of the chat on this machine's loopback, says what it waits
//! for, shows each message with its exact bytes, sends a few lines on its own and whatever
//! is typed into its terminal, and ends with a short verdict.
//!
//! It runs on the host, not in a namespace of its own: the student's netcat runs in another
//! terminal, on the host. So the commands it suggests use 127.0.0.1 where the lesson's
//! drawing has Bob's 222.222.222.222.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

use crate::error::{EXIT_LOST_MARKS, Error, Result, exit_for};
use crate::escape;
use crate::poll;
use crate::script::Proto;

/// What the partner does.
#[derive(Debug, Clone)]
pub struct Partner {
    pub proto: Proto,
    pub role: Role,
    /// How long to wait for the other side to show up.
    pub wait: Duration,
    /// How long the chat may stay silent before the partner ends it.
    pub idle: Duration,
}

#[derive(Debug, Clone)]
pub enum Role {
    /// Listen on this port (the student connects, as Alice).
    Listen(u16),
    /// Connect to the student's listener (the student is Bob).
    Connect(String, u16),
}

/// Lines the partner sends on its own: one when the chat starts, then one answer to each of
/// the first messages it gets.
const GREETING: &str = "hello from socklab's partner: type a line and press Enter\n";
const ANSWERS: [&str; 2] = [
    "got your first line, thanks\n",
    "got your second line too\n",
];

/// The connection, whichever protocol.
enum Link {
    Tcp(TcpStream),
    /// A UDP socket and the peer it answers (the last sender, or the server it targets).
    Udp(UdpSocket, Option<SocketAddr>),
}

impl Link {
    fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Link::Tcp(s) => s.as_fd(),
            Link::Udp(s, _) => s.as_fd(),
        }
    }

    fn send(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Link::Tcp(s) => s.write_all(data),
            Link::Udp(s, Some(to)) => s.send_to(data, *to).map(drop),
            Link::Udp(_, None) => Err(io::Error::other("no one has sent anything yet")),
        }
    }
}

/// Counts for the verdict.
#[derive(Default)]
struct Tally {
    received: usize,
    /// Received messages that were not whole lines (no newline at the end).
    partial: usize,
    sent: usize,
    from_keyboard: usize,
}

pub fn run(partner: &Partner) -> Result<i32> {
    let mut out = io::stdout();
    say(&mut out, &introduction(partner));
    let Some(mut link) = establish(partner, &mut out)? else {
        return Ok(EXIT_LOST_MARKS);
    };
    let mut tally = Tally::default();
    // Over UDP a listener can answer only once someone has sent; everyone else greets now.
    if !matches!(link, Link::Udp(_, None)) {
        send_line(&mut link, GREETING, &mut out, &mut tally, false);
    }
    say(
        &mut out,
        "Type a line here and press Enter to send it; ^D ends the chat.\n",
    );
    let ended = chat(partner, &mut link, &mut out, &mut tally);
    say(&mut out, &format!("{ended}\n"));
    say(&mut out, &verdict(partner.proto, &tally));
    Ok(exit_for(
        tally.received > 0 && tally.sent > 0 && tally.partial == 0,
    ))
}

fn say(out: &mut impl Write, text: &str) {
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// What the partner is and the command to run in the other terminal.
fn introduction(partner: &Partner) -> String {
    match (&partner.role, partner.proto) {
        (Role::Listen(port), Proto::Tcp) => format!(
            "socklab partner: Bob, listening on TCP port {port} (as `nc -lnv {port}` would).\n\
             In your other terminal, be Alice:  nc 127.0.0.1 {port}\n\
             (the lesson writes nc 222.222.222.222 {port}: on one machine Bob is 127.0.0.1)\n"
        ),
        (Role::Listen(port), Proto::Udp) => format!(
            "socklab partner: Bob, on UDP port {port} (as `nc -ulnv {port}` would).\n\
             In your other terminal, be Alice:  nc -u 127.0.0.1 {port}   and type a line first:\n\
             over UDP, Bob learns where Alice is from her first datagram.\n"
        ),
        (Role::Connect(host, port), Proto::Tcp) => format!(
            "socklab partner: Alice, connecting to TCP {host} port {port}.\n\
             In your other terminal, be Bob first:  nc -lnv {port}\n"
        ),
        (Role::Connect(host, port), Proto::Udp) => format!(
            "socklab partner: Alice, sending UDP datagrams to {host} port {port}.\n\
             In your other terminal, run your UDP server (Activity 2) or  nc -ulnv {port}\n"
        ),
    }
}

/// Listens or connects, waiting at most `partner.wait`; `None` (after advice) if nobody came.
fn establish(partner: &Partner, out: &mut impl Write) -> Result<Option<Link>> {
    let deadline = Instant::now() + partner.wait;
    let secs = seconds(partner.wait);
    match (&partner.role, partner.proto) {
        (Role::Listen(port), Proto::Tcp) => {
            let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, *port))
                .map_err(|e| Error::Usage(format!("cannot listen on TCP port {port}: {e}")))?;
            say(out, &format!("Waiting up to {secs} s for a connection…\n"));
            if !wait_readable(listener.as_fd(), deadline) {
                say(
                    out,
                    &format!(
                        "Nothing connected to port {port} in {secs} s: did you run  nc 127.0.0.1 {port}  in another terminal?\n"
                    ),
                );
                return Ok(None);
            }
            let (stream, from) = listener.accept().map_err(Error::io("accepting"))?;
            say(out, &format!("Alice connected from {from}.\n"));
            Ok(Some(Link::Tcp(stream)))
        }
        (Role::Listen(port), Proto::Udp) => {
            let sock = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, *port))
                .map_err(|e| Error::Usage(format!("cannot bind UDP port {port}: {e}")))?;
            say(
                out,
                &format!("Waiting up to {secs} s for the first datagram…\n"),
            );
            if !wait_readable(sock.as_fd(), deadline) {
                say(
                    out,
                    &format!(
                        "No datagram reached port {port} in {secs} s: did you run  nc -u 127.0.0.1 {port}  and type a line?\n"
                    ),
                );
                return Ok(None);
            }
            Ok(Some(Link::Udp(sock, None)))
        }
        (Role::Connect(host, port), Proto::Tcp) => {
            let to = resolve(host, *port)?;
            say(
                out,
                &format!("Connecting to {to} (retrying for up to {secs} s)…\n"),
            );
            loop {
                match TcpStream::connect_timeout(&to, Duration::from_secs(1)) {
                    Ok(stream) => {
                        say(out, &format!("Connected to Bob at {to}.\n"));
                        return Ok(Some(Link::Tcp(stream)));
                    }
                    Err(_) if Instant::now() < deadline => {
                        // Nothing tells us when the other terminal starts listening: a short
                        // pause between attempts, bounded by the deadline.
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    Err(e) => {
                        say(
                            out,
                            &format!(
                                "Nothing listens on {to} after {secs} s ({e}): did you run  nc -lnv {port}  in another terminal?\n"
                            ),
                        );
                        return Ok(None);
                    }
                }
            }
        }
        (Role::Connect(host, port), Proto::Udp) => {
            let to = resolve(host, *port)?;
            let sock =
                UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).map_err(Error::io("binding UDP"))?;
            Ok(Some(Link::Udp(sock, Some(to))))
        }
    }
}

/// `60` or `0.5`: whole seconds without a fraction.
fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        d.as_secs().to_string()
    } else {
        format!("{:.1}", d.as_secs_f64())
    }
}

fn resolve(host: &str, port: u16) -> Result<SocketAddr> {
    (host, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.find(SocketAddr::is_ipv4))
        .ok_or_else(|| Error::Usage(format!("cannot resolve host '{host}'")))
}

fn wait_readable(fd: BorrowedFd<'_>, deadline: Instant) -> bool {
    loop {
        match poll::wait(&[fd], poll::Ready::Read, Some(deadline)) {
            Ok(ready) if ready[0] => return true,
            Ok(_) if Instant::now() < deadline => {}
            _ => return false,
        }
    }
}

fn send_line(link: &mut Link, line: &str, out: &mut impl Write, tally: &mut Tally, typed: bool) {
    match link.send(line.as_bytes()) {
        Ok(()) => {
            tally.sent += 1;
            if typed {
                tally.from_keyboard += 1;
            }
            say(
                out,
                &format!("  sent     {}\n", escape::python_bytes(line.as_bytes())),
            );
        }
        Err(e) => say(out, &format!("  could not send: {e}\n")),
    }
}

/// The chat itself, until the other side hangs up, ^D, or silence; returns why it ended.
fn chat(partner: &Partner, link: &mut Link, out: &mut impl Write, tally: &mut Tally) -> String {
    let mut keyboard_open = true;
    let mut typed = Vec::new();
    let mut buf = vec![0u8; 65536];
    let mut last_activity = Instant::now();
    loop {
        let idle_deadline = last_activity + partner.idle;
        let left = idle_deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return format!(
                "Nothing happened for {} s, so the partner ends the chat.",
                seconds(partner.idle)
            );
        }
        let stdin = io::stdin();
        let mut fds = vec![link.fd()];
        if keyboard_open {
            fds.push(stdin.as_fd());
        }
        let Ok(ready) = poll::wait(&fds, poll::Ready::Read, Some(idle_deadline)) else {
            continue;
        };
        let (socket_ready, keyboard_ready) = (ready[0], ready.get(1).copied().unwrap_or(false));
        drop(fds);
        if socket_ready {
            last_activity = Instant::now();
            let (data, from) = match receive(link, &mut buf, out) {
                Ok(received) => received,
                Err(end) => return end,
            };
            take(link, &data, from, out, tally);
        }
        if keyboard_ready {
            last_activity = Instant::now();
            let n = io::stdin().lock().read(&mut buf).unwrap_or(0);
            if n == 0 {
                keyboard_open = false;
                if let Link::Tcp(s) = link {
                    // End of our input: say so to the other side, and let it hang up.
                    let _ = s.shutdown(std::net::Shutdown::Write);
                    say(
                        out,
                        "End of input: the partner stops sending and waits for Alice to hang up.\n",
                    );
                    continue;
                }
                return "End of input: the partner ends the chat.".to_string();
            }
            typed.extend_from_slice(&buf[..n]);
            while let Some(nl) = typed.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = typed.drain(..=nl).collect();
                send_line(link, &String::from_utf8_lossy(&line), out, tally, true);
            }
        }
    }
}

/// What came on the link, and from where; `Err` says how the chat ended. The first
/// datagram says where to answer.
fn receive(
    link: &mut Link,
    buf: &mut [u8],
    out: &mut impl Write,
) -> Result<(Vec<u8>, Option<std::net::SocketAddr>), String> {
    match link {
        Link::Tcp(s) => match s.read(buf) {
            Ok(0) | Err(_) => Err("Alice's side closed the connection.".to_string()),
            Ok(n) => Ok((buf[..n].to_vec(), s.peer_addr().ok())),
        },
        Link::Udp(s, peer) => match s.recv_from(buf) {
            Ok((n, from)) => {
                let first = peer.is_none();
                *peer = Some(from);
                if first {
                    say(
                        out,
                        &format!("First datagram from {from}; answering there.\n"),
                    );
                }
                Ok((buf[..n].to_vec(), Some(from)))
            }
            Err(e) => Err(format!("The socket failed: {e}")),
        },
    }
}

/// Shows what came, counts it, and answers as the lesson's partner does.
fn take(
    link: &mut Link,
    data: &[u8],
    from: Option<std::net::SocketAddr>,
    out: &mut impl Write,
    tally: &mut Tally,
) {
    tally.received += 1;
    if !data.ends_with(b"\n") {
        tally.partial += 1;
    }
    let from = from.map(|a| format!("  (from {a})")).unwrap_or_default();
    say(
        out,
        &format!("  received {}{from}\n", escape::python_bytes(data)),
    );
    if tally.received == 1 && matches!(link, Link::Udp(..)) && tally.sent == 0 {
        send_line(link, GREETING, out, tally, false);
    }
    if let Some(answer) = ANSWERS.get(tally.received - 1) {
        send_line(link, answer, out, tally, false);
    }
}

fn verdict(proto: Proto, tally: &Tally) -> String {
    let whole = tally.received - tally.partial;
    let mut text = format!(
        "{proto} chat: {} message{} from you arrived{}; {} sent to you ({} typed here).\n",
        tally.received,
        if tally.received == 1 { "" } else { "s" },
        if tally.partial == 0 {
            " intact, each a whole line".to_string()
        } else {
            format!(", {whole} of them whole lines")
        },
        tally.sent,
        tally.from_keyboard,
    );
    if tally.received == 0 {
        text.push_str(
            "Nothing arrived from you: type a line in your netcat's terminal and press Enter.\n",
        );
    }
    if tally.partial > 0 {
        text.push_str("Some messages had no newline at the end: netcat sends what you type when you press Enter.\n");
    }
    text
}

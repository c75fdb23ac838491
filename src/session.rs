//! The engine's event loop for one run: everything the program shows (screen, stderr, exit)
//! and everything the harness's peers receive is read as it happens into capped buffers and
//! a transcript, by one `poll` over all of them. Every wait ends on an event or a deadline;
//! nothing sleeps.

use std::io;

use nix::errno::Errno;
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::time::{Duration, Instant};

use crate::escape;
use crate::report::ProgramExit;
use crate::launch::{self, Launched, Program};
use crate::report::{Entry, Failure};
use crate::sandbox::{self, Hosts, Isolation, Listening};

/// How much of one stream is kept; the rest is counted. A program that prints without end
/// must not grow the harness.
const KEEP_BYTES: usize = 1 << 20;
/// How much data the transcript shows in all before it only counts.
const TRANSCRIPT_BYTES: usize = 64 << 10;
/// Bytes from one source within this long of the last make one transcript entry.
const MERGE_WITHIN: Duration = Duration::from_millis(10);
const MERGE_UP_TO: usize = 2048;
/// How long a stopped program has to go after SIGTERM before everything is killed.
const TERM_GRACE: Duration = Duration::from_millis(500);

/// Deadlines for waits. The first wait on a program that has shown no sign of life yet may
/// last `startup` (interpreters are slow to start, more so on a busy machine); every other
/// wait lasts `step`.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub step: Duration,
    pub startup: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            step: Duration::from_secs(3),
            startup: Duration::from_secs(10),
        }
    }
}

/// How a byte stream the harness reads has ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    Closed,
    Reset,
}

/// Bytes received on one stream: the first [`KEEP_BYTES`] kept, the rest counted, and a
/// cursor up to which steps have already matched.
#[derive(Debug, Default)]
pub struct Inbox {
    kept: Vec<u8>,
    matched_to: usize,
    dropped: u64,
    /// The last bytes received, kept or not: what a flood was printing at the end.
    tail: Vec<u8>,
    pub end: Option<StreamEnd>,
}

/// How many of the last bytes an inbox remembers beyond its cap.
const TAIL_BYTES: usize = 64;

impl Inbox {
    fn push(&mut self, data: &[u8]) {
        let room = KEEP_BYTES.saturating_sub(self.kept.len());
        let take = room.min(data.len());
        self.kept.extend_from_slice(&data[..take]);
        self.dropped += (data.len() - take) as u64;
        self.tail
            .extend_from_slice(&data[data.len().saturating_sub(TAIL_BYTES)..]);
        let excess = self.tail.len().saturating_sub(TAIL_BYTES);
        self.tail.drain(..excess);
    }

    /// The last bytes received (up to 64), even past the cap.
    pub fn tail(&self) -> &[u8] {
        &self.tail
    }

    /// Bytes received in all, kept or not.
    pub fn total(&self) -> u64 {
        self.kept.len() as u64 + self.dropped
    }

    /// What no step has matched yet.
    pub fn unmatched(&self) -> &[u8] {
        &self.kept[self.matched_to..]
    }

    pub fn consume(&mut self, n: usize) {
        self.matched_to = (self.matched_to + n).min(self.kept.len());
    }

    pub fn all(&self) -> &[u8] {
        &self.kept
    }

    /// Bytes received but not kept.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    pub fn ended(&self) -> bool {
        self.end.is_some()
    }
}

/// The harness's end of a TCP connection with the program.
pub struct Connection {
    stream: TcpStream,
    pub inbox: Inbox,
    pub local: SocketAddr,
    pub remote: SocketAddr,
}

enum PeerState {
    Listening(TcpListener),
    Connected(Connection),
    /// The harness closed its end; the addresses stay known for reports.
    HungUp {
        local: SocketAddr,
    },
    Datagrams(DatagramPeer),
}

/// Most datagrams a peer keeps unread; more are counted, not kept.
const DATAGRAMS_KEPT: usize = 1024;

/// The harness's UDP socket: one source address and port for the whole run, so the program
/// can answer whoever sent last.
pub struct DatagramPeer {
    sock: UdpSocket,
    pub local: SocketAddr,
    /// Received and not yet matched, with their senders.
    pub inbox: VecDeque<(SocketAddr, Vec<u8>)>,
    /// Who sent the last datagram: where an answer goes.
    pub last_sender: Option<SocketAddr>,
    pub dropped: u64,
}

/// A socket the harness plays, named as in the lesson (alice, bob).
struct Peer {
    name: &'static str,
    state: PeerState,
}

/// The program while it runs: the harness's ends of its pty, stderr and status pipe.
struct Running {
    launched: Launched,
    status_line: Vec<u8>,
    status_closed: bool,
}

/// What a wait's probe says after looking at the session.
pub enum Probe<T> {
    Ready(T),
    Failed(Failure),
    /// Nothing yet; wake on any event.
    Pending,
    /// Nothing yet; try again at this instant even if no event comes (connect retries).
    RetryAt(Instant),
}

/// A wait that reached its deadline with the probe still pending.
#[derive(Debug, Clone, Copy)]
pub struct TimedOut {
    pub waited: Duration,
}

pub struct Session {
    started: Instant,
    launched_at: Option<Instant>,
    running: Option<Running>,
    pub isolation: Isolation,
    /// The port the program serves on or connects to.
    pub port: u16,
    /// Where the lesson's Alice and Bob are in this run.
    pub hosts: Hosts,
    /// The address at which the harness reached the server program: Bob's, as another host
    /// would, or only the one it bound (127.0.0.1). `None` until it was reached.
    pub reached_at: Option<IpAddr>,
    pub timeouts: Timeouts,
    pub screen: Inbox,
    pub stderr: Inbox,
    pub exit: Option<ProgramExit>,
    /// Whether the harness had to stop the program at the end.
    pub stopped_by_harness: bool,
    /// What init had to say about the run (confinement it could not set up).
    pub notices: Vec<String>,
    peers: Vec<Peer>,
    transcript: Vec<Entry>,
    transcript_bytes: usize,
    transcript_omitted: u64,
    /// The raw bytes of the last transcript entry, while it may still grow.
    last_raw: Option<Vec<u8>>,
    /// The program has shown a sign of life (output, a connection, a listening socket), so
    /// waits no longer get the start-up allowance.
    alive: bool,
}

impl Session {
    pub fn new(isolation: Isolation, port: u16, timeouts: Timeouts) -> Session {
        Session {
            started: Instant::now(),
            launched_at: None,
            running: None,
            hosts: isolation.hosts(),
            reached_at: None,
            isolation,
            port,
            timeouts,
            screen: Inbox::default(),
            stderr: Inbox::default(),
            exit: None,
            stopped_by_harness: false,
            notices: Vec::new(),
            peers: Vec::new(),
            transcript: Vec::new(),
            transcript_bytes: 0,
            transcript_omitted: 0,
            last_raw: None,
            alive: false,
        }
    }

    pub fn launch(
        &mut self,
        program: &Program,
        init_exe: &std::path::Path,
        confinement: &crate::confine::Confinement,
    ) -> io::Result<()> {
        let args = program.args_for(self.port);
        let pid_namespace = self.isolation == Isolation::Namespace;
        let launched = launch::launch(program, &args[1..], init_exe, pid_namespace, confinement)?;
        self.note("harness", format!("starts {}", args.join(" ")));
        self.launched_at = Some(Instant::now());
        self.running = Some(Running {
            launched,
            status_line: Vec::new(),
            status_closed: false,
        });
        Ok(())
    }

    // ----- transcript -------------------------------------------------------------------

    pub fn transcript(&self) -> &[Entry] {
        &self.transcript
    }

    pub fn transcript_omitted(&self) -> u64 {
        self.transcript_omitted
    }

    pub fn note(&mut self, who: impl Into<String>, text: impl Into<String>) {
        let at = self.started.elapsed();
        self.last_raw = None;
        self.transcript.push(Entry {
            at,
            who: who.into(),
            text: text.into(),
        });
    }

    fn record_bytes(&mut self, who: impl Into<String>, data: &[u8]) {
        let who = who.into();
        if self.transcript_bytes >= TRANSCRIPT_BYTES {
            self.transcript_omitted += data.len() as u64;
            return;
        }
        let take = (TRANSCRIPT_BYTES - self.transcript_bytes).min(data.len());
        self.transcript_bytes += take;
        self.transcript_omitted += (data.len() - take) as u64;
        let data = &data[..take];
        // A burst from one source (a flood, a line split across reads) reads best as one
        // entry.
        let now = self.started.elapsed();
        if let Some((last, raw)) = self.transcript.last_mut().zip(self.last_raw.as_mut())
            && last.who == who
            && now - last.at < MERGE_WITHIN
            && raw.len() + data.len() <= MERGE_UP_TO
        {
            raw.extend_from_slice(data);
            last.text = escape::python_bytes(raw);
            return;
        }
        self.note(who, escape::python_bytes(data));
        self.last_raw = Some(data.to_vec());
    }

    // ----- the program ------------------------------------------------------------------

    pub fn program_running(&self) -> bool {
        self.running.is_some() && !self.program_ended()
    }

    /// Whether the program has ended (its exit is known, or init is gone). A program that
    /// only closed its terminal may still serve the network.
    pub fn program_ended(&self) -> bool {
        self.exit.is_some() || self.running.as_ref().is_some_and(|r| r.status_closed)
    }

    /// Whether the program can no longer show anything: its terminal is closed.
    pub fn screen_closed(&self) -> bool {
        self.screen.ended()
    }

    /// Types on the program's keyboard.
    pub fn type_bytes(&mut self, data: &[u8]) -> Result<(), String> {
        self.record_bytes("keyboard", data);
        let Some(running) = &self.running else {
            return Err("the program was never started".into());
        };
        write_all_by(
            &running.launched.screen,
            data,
            self.deadline_from(Instant::now()),
        )
        .map_err(|e| format!("the keyboard could not be written ({e})"))
    }

    /// The last lines the program wrote on stderr (a traceback, usually), for reports.
    pub fn stderr_tail(&self, lines: usize) -> String {
        let text = escape::readable_lines(self.stderr.all());
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Once the terminal has closed, the exit status follows within moments: wait for it
    /// (bounded) so that a report says "exited with status 1" rather than guessing.
    pub fn settle_exit(&mut self) {
        if self.exit.is_none() && self.screen_closed() {
            self.pump_until(Instant::now() + Duration::from_secs(2), |s| {
                s.exit.is_some() || s.running.as_ref().is_none_or(|r| r.status_closed)
            });
        }
    }

    /// How the program ended, in a few words, with the line of stderr that says why.
    pub fn how_program_ended_briefly(&self) -> String {
        let mut text = match self.exit {
            Some(exit) => format!("the program exited with {exit}"),
            None => "the program closed its terminal".to_string(),
        };
        if let Some(gist) = self.stderr_gist() {
            text.push_str(&format!(" ({gist})"));
        }
        text
    }

    /// The line of stderr that says what went wrong: the last that reads like an error
    /// (a traceback ends with it, a usage message starts with it), else the last.
    pub fn stderr_gist(&self) -> Option<String> {
        // Stronger words first: a usage message follows the line that says what was wrong.
        const TELLING: [&[&str]; 2] = [
            &[
                "error", "invalid", "unknown", "not ", "cannot", "refused", "no such",
            ],
            &["usage"],
        ];
        let text = escape::readable_lines(self.stderr.all());
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        TELLING
            .iter()
            .find_map(|words| {
                lines.iter().rev().find(|l| {
                    let lower = l.to_lowercase();
                    words.iter().any(|w| lower.contains(w))
                })
            })
            .or(lines.last())
            .map(|l| l.to_string())
    }

    /// A sentence saying how the program ended, with its traceback if it crashed.
    pub fn how_program_ended(&self) -> String {
        let mut text = match self.exit {
            Some(exit) => format!("the program exited with {exit}"),
            None if self.screen_closed() => "the program closed its terminal".to_string(),
            None => "the program is still running".to_string(),
        };
        let tail = self.stderr_tail(8);
        if !tail.is_empty() && self.exit.is_some_and(|e| !e.is_success()) {
            text.push_str("; the end of its stderr:\n");
            text.push_str(&tail);
        }
        text
    }

    /// Stops the program if it is still running (SIGTERM, a grace period while its output
    /// is still read, then SIGKILL to all of it) and reads what is left.
    pub fn finish(&mut self) {
        let Some(running) = &self.running else {
            return;
        };
        let init = nix::unistd::Pid::from_raw(running.launched.init.id() as i32);
        use nix::sys::signal::{Signal, kill};
        if self.program_running() {
            self.stopped_by_harness = true;
            self.note("harness", "stops the program (SIGTERM)");
            let _ = kill(init, Signal::SIGTERM);
            self.pump_until(Instant::now() + TERM_GRACE, |s| !s.program_running());
        }
        if self.program_running() {
            self.note("harness", "kills the program (SIGKILL)");
            let _ = kill(init, Signal::SIGUSR1);
            self.pump_until(Instant::now() + Duration::from_secs(2), |s| {
                s.running.as_ref().is_some_and(|r| r.status_closed)
            });
        }
        let running = self.running.as_mut().expect("checked above");
        if !running.status_closed {
            let _ = kill(init, Signal::SIGKILL);
        }
        let init_status = running.launched.init.wait();
        if self.exit.is_none()
            && let Ok(status) = init_status
            && !self.stopped_by_harness
        {
            self.exit = ProgramExit::from_status(status);
        }
        // Everything of the program is gone now; read the last of its output.
        self.pump_until(Instant::now() + Duration::from_millis(500), |s| {
            s.screen.ended() && s.stderr.ended()
        });
    }

    // ----- peers ------------------------------------------------------------------------

    fn peer_mut(&mut self, name: &str) -> Option<&mut Peer> {
        self.peers.iter_mut().find(|p| p.name == name)
    }

    pub fn connection(&self, name: &str) -> Option<&Connection> {
        self.peers.iter().find_map(|p| match &p.state {
            PeerState::Connected(c) if p.name == name => Some(c),
            _ => None,
        })
    }

    pub fn connection_mut(&mut self, name: &str) -> Option<&mut Connection> {
        self.peer_mut(name).and_then(|p| match &mut p.state {
            PeerState::Connected(c) => Some(c),
            _ => None,
        })
    }

    /// The peer's own address (its port is what the program should print).
    pub fn peer_local_addr(&self, name: &str) -> Option<SocketAddr> {
        self.peers
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| match &p.state {
                PeerState::Connected(c) => Some(c.local),
                PeerState::HungUp { local } => Some(*local),
                PeerState::Listening(l) => l.local_addr().ok(),
                PeerState::Datagrams(d) => Some(d.local),
            })
    }

    /// Listens for the program on all addresses at the session's port, as the lesson's
    /// `nc -l 8000` does.
    pub fn listen(&mut self, name: &'static str) -> io::Result<()> {
        let addr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, self.port));
        let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
        sock.set_reuse_address(true)?;
        sock.bind(&addr.into())?;
        sock.listen(16)?;
        sock.set_nonblocking(true)?;
        self.note(name, format!("listens on {addr}"));
        self.peers.push(Peer {
            name,
            state: PeerState::Listening(sock.into()),
        });
        Ok(())
    }

    /// One attempt to connect to the program from `from` (a host's address, any port);
    /// `Ok(None)` means refused (nothing listens there yet).
    pub fn try_connect(
        &mut self,
        name: &'static str,
        from: IpAddr,
        to: SocketAddr,
    ) -> io::Result<Option<()>> {
        let sock = socket2::Socket::new(
            socket2::Domain::for_address(to),
            socket2::Type::STREAM,
            None,
        )?;
        sock.bind(&SocketAddr::new(from, 0).into())?;
        // A refused connect on loopback answers at once; the bound only guards a full
        // backlog.
        match sock.connect_timeout(&to.into(), Duration::from_millis(200)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => return Ok(None),
            Err(e) => return Err(e),
        }
        sock.set_nonblocking(true)?;
        let stream: TcpStream = sock.into();
        let local = stream.local_addr()?;
        self.note(name, format!("connects from {local} to {to}"));
        self.alive = true;
        self.add_connection(name, stream, local, to);
        Ok(Some(()))
    }

    fn add_connection(
        &mut self,
        name: &'static str,
        stream: TcpStream,
        local: SocketAddr,
        remote: SocketAddr,
    ) {
        let conn = Connection {
            stream,
            inbox: Inbox::default(),
            local,
            remote,
        };
        match self.peer_mut(name) {
            Some(peer) => peer.state = PeerState::Connected(conn),
            None => self.peers.push(Peer {
                name,
                state: PeerState::Connected(conn),
            }),
        }
    }

    pub fn send(&mut self, name: &'static str, data: &[u8]) -> Result<(), String> {
        self.record_bytes(format!("{name} → program"), data);
        let deadline = self.deadline_from(Instant::now());
        let Some(conn) = self.connection_mut(name) else {
            return Err(format!("{name} has no connection"));
        };
        write_all_by(&conn.stream, data, deadline)
            .map_err(|e| format!("{name} could not send ({e})"))
    }

    /// Closes the peer's end of the connection, as a client quitting `nc` would.
    pub fn hang_up(&mut self, name: &'static str) {
        if let Some(peer) = self.peer_mut(name)
            && let PeerState::Connected(conn) = &peer.state
        {
            let local = conn.local;
            peer.state = PeerState::HungUp { local };
            self.note(name, "hangs up");
        }
    }

    /// Binds the peer's UDP socket on all addresses at the session's port, as `nc -ul` does,
    /// for a program that sends first.
    pub fn bind_datagrams(&mut self, name: &'static str) -> io::Result<()> {
        self.add_datagram_peer(name, SocketAddr::from((Ipv4Addr::UNSPECIFIED, self.port)))?;
        self.note(name, format!("binds UDP 0.0.0.0:{}", self.port));
        Ok(())
    }

    fn add_datagram_peer(&mut self, name: &'static str, bind: SocketAddr) -> io::Result<()> {
        let sock = UdpSocket::bind(bind)?;
        sock.set_nonblocking(true)?;
        let local = sock.local_addr()?;
        self.peers.push(Peer {
            name,
            state: PeerState::Datagrams(DatagramPeer {
                sock,
                local,
                inbox: VecDeque::new(),
                last_sender: None,
                dropped: 0,
            }),
        });
        Ok(())
    }

    /// Sends one datagram from the peer's UDP socket (made on first use, bound to `from`).
    pub fn send_datagram(
        &mut self,
        name: &'static str,
        from: IpAddr,
        to: SocketAddr,
        data: &[u8],
    ) -> io::Result<()> {
        if !self.peers.iter().any(|p| p.name == name) {
            self.add_datagram_peer(name, SocketAddr::new(from, 0))?;
        }
        let Some(peer) = self.datagrams_mut(name) else {
            return Err(io::Error::other(format!("{name} is not a UDP peer")));
        };
        let local = peer.local;
        peer.sock.send_to(data, to)?;
        self.record_datagram(format!("{name} → program"), data, format!("{local} → {to}"));
        Ok(())
    }

    /// A datagram gets an entry of its own, saying where it went: datagrams are units.
    fn record_datagram(&mut self, who: String, data: &[u8], route: String) {
        self.record_bytes(who, data);
        if let Some(last) = self.transcript.last_mut() {
            last.text = format!("{} (datagram {route})", last.text);
        }
        self.last_raw = None;
    }

    pub fn datagrams(&self, name: &str) -> Option<&DatagramPeer> {
        self.peers
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| match &p.state {
                PeerState::Datagrams(d) => Some(d),
                _ => None,
            })
    }

    pub fn datagrams_mut(&mut self, name: &str) -> Option<&mut DatagramPeer> {
        self.peer_mut(name).and_then(|p| match &mut p.state {
            PeerState::Datagrams(d) => Some(d),
            _ => None,
        })
    }

    /// What listens in the run's namespace (nothing known on the host).
    pub fn listening(&self) -> Vec<Listening> {
        if self.isolation != Isolation::Namespace {
            return Vec::new();
        }
        sandbox::listening_sockets()
    }

    pub fn listening_elsewhere(&self) -> Vec<Listening> {
        let ours: Vec<u16> = self
            .peers
            .iter()
            .filter_map(|p| match &p.state {
                PeerState::Listening(l) => l.local_addr().ok().map(|a| a.port()),
                _ => None,
            })
            .collect();
        self.listening()
            .into_iter()
            .filter(|l| !ours.contains(&l.port))
            .collect()
    }

    /// Marks the program alive if it listens anywhere (it has started, only elsewhere).
    pub fn note_life_from_listeners(&mut self, listeners: &[Listening]) {
        if !listeners.is_empty() {
            self.alive = true;
        }
    }

    // ----- waiting ----------------------------------------------------------------------

    /// The deadline of a wait that begins at `begun`.
    fn deadline_from(&self, begun: Instant) -> Instant {
        let step = begun + self.timeouts.step;
        match self.launched_at {
            Some(launched) if !self.alive => step.max(launched + self.timeouts.startup),
            _ => step,
        }
    }

    /// Waits until `probe` is ready or fails, reading every event as it comes. The probe is
    /// asked again after each event and once more at the deadline (with `last` true) before
    /// the wait times out.
    pub fn wait_for<T>(
        &mut self,
        mut probe: impl FnMut(&mut Session, bool) -> Probe<T>,
    ) -> Result<Result<T, Failure>, TimedOut> {
        let begun = Instant::now();
        loop {
            let deadline = self.deadline_from(begun);
            let now = Instant::now();
            let last = now >= deadline;
            let wake = match probe(self, last) {
                Probe::Ready(value) => return Ok(Ok(value)),
                Probe::Failed(failure) => return Ok(Err(failure)),
                _ if last => {
                    return Err(TimedOut {
                        waited: now - begun,
                    });
                }
                Probe::Pending => deadline,
                Probe::RetryAt(at) => at.min(deadline),
            };
            self.pump(wake);
        }
    }

    /// Reads events for at most `window`, or until `done`: for "and nothing else after it"
    /// checks, which only the absence of an event can settle.
    pub fn watch_for(&mut self, window: Duration, done: impl FnMut(&Session) -> bool) {
        self.pump_until(Instant::now() + window, done);
    }

    fn pump_until(&mut self, deadline: Instant, mut done: impl FnMut(&Session) -> bool) {
        while !done(self) && Instant::now() < deadline {
            if !self.pump(deadline) {
                return;
            }
        }
    }

    /// Waits for events until `wake` and reads everything that is ready. Returns false when
    /// nothing is left that could ever become ready.
    fn pump(&mut self, wake: Instant) -> bool {
        #[derive(Clone, Copy)]
        enum Source {
            Screen,
            Stderr,
            Status,
            Peer(usize),
        }
        let mut sources = Vec::new();
        let mut fds = Vec::new();
        let mut watch = |fd: RawFd, source: Source| {
            fds.push(libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            });
            sources.push(source);
        };
        if let Some(running) = &self.running {
            if !self.screen.ended() {
                watch(running.launched.screen.as_raw_fd(), Source::Screen);
            }
            if !self.stderr.ended() {
                watch(running.launched.stderr.as_raw_fd(), Source::Stderr);
            }
            if !running.status_closed {
                watch(running.launched.status.as_raw_fd(), Source::Status);
            }
        }
        for (i, peer) in self.peers.iter().enumerate() {
            match &peer.state {
                PeerState::Listening(l) => watch(l.as_raw_fd(), Source::Peer(i)),
                PeerState::Connected(c) if !c.inbox.ended() => {
                    watch(c.stream.as_raw_fd(), Source::Peer(i))
                }
                PeerState::Datagrams(d) => watch(d.sock.as_raw_fd(), Source::Peer(i)),
                _ => {}
            }
        }
        if fds.is_empty() {
            return false;
        }
        let timeout = wake.saturating_duration_since(Instant::now());
        // Round up so that a wait never wakes just before its deadline and spins.
        let millis = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
        // SAFETY: fds is a valid array of pollfd for its length.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, millis) };
        if n <= 0 {
            return true;
        }
        for (pfd, source) in fds.iter().zip(sources) {
            if pfd.revents == 0 {
                continue;
            }
            match source {
                Source::Screen => self.read_screen(),
                Source::Stderr => self.read_stderr(),
                Source::Status => self.read_status(),
                Source::Peer(i) => self.read_peer(i),
            }
        }
        true
    }

    fn read_screen(&mut self) {
        let Some(running) = &self.running else { return };
        let (data, end) = drain(&running.launched.screen);
        if !data.is_empty() {
            self.alive = true;
            self.screen.push(&data);
            self.record_bytes("screen", &data);
        }
        if let Some(end) = end {
            // EIO: every holder of the terminal's other end has closed it.
            self.screen.end = Some(end);
        }
    }

    fn read_stderr(&mut self) {
        let Some(running) = &self.running else { return };
        let (data, end) = drain(&running.launched.stderr);
        if !data.is_empty() {
            self.alive = true;
            self.stderr.push(&data);
            self.record_bytes("stderr", &data);
        }
        self.stderr.end = self.stderr.end.or(end);
    }

    fn read_status(&mut self) {
        let Some(running) = &mut self.running else {
            return;
        };
        let (data, end) = drain(&running.launched.status);
        running.status_line.extend_from_slice(&data);
        if end.is_some() {
            running.status_closed = true;
        }
        // Whole lines from init: `note …` (before the program starts), then `exit N`,
        // `signal N` or `error …`.
        let mut lines = Vec::new();
        while let Some(nl) = running.status_line.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = running.status_line.drain(..=nl).collect();
            lines.push(String::from_utf8_lossy(&line).trim().to_string());
        }
        for line in lines {
            if let Some(note) = line.strip_prefix("note ") {
                self.note("harness", note);
                self.notices.push(note.to_string());
            } else if let Some(error) = line.strip_prefix("error ") {
                self.note("harness", format!("could not start the program: {error}"));
            } else if let Some(exit) = ProgramExit::parse(&line).filter(|_| self.exit.is_none()) {
                self.exit = Some(exit);
                self.note("program", format!("exits with {exit}"));
            }
        }
    }

    fn read_peer(&mut self, index: usize) {
        let name = self.peers[index].name;
        match &mut self.peers[index].state {
            PeerState::Listening(listener) => {
                if let Ok((stream, remote)) = listener.accept() {
                    let _ = stream.set_nonblocking(true);
                    let local = stream.local_addr().unwrap_or(remote);
                    self.note(name, format!("accepts a connection from {remote}"));
                    self.alive = true;
                    // One connection per peer, as in the lesson; the listener closes.
                    self.add_connection(name, stream, local, remote);
                }
            }
            PeerState::Connected(conn) => {
                let (data, end) = drain(&conn.stream);
                // Acknowledge at once: with delayed ACKs, a program's second small send in a
                // row (Nagle) would wait ~40 ms for our ACK. Linux clears this after use.
                let _ = socket2::SockRef::from(&conn.stream).set_tcp_quickack(true);
                conn.inbox.push(&data);
                if end.is_some() && conn.inbox.end.is_none() {
                    conn.inbox.end = end;
                }
                if !data.is_empty() {
                    self.record_bytes(format!("program → {name}"), &data);
                }
                match end {
                    Some(StreamEnd::Closed) => self.note(name, "sees end of stream"),
                    Some(StreamEnd::Reset) => self.note(name, "sees the connection reset"),
                    None => {}
                }
            }
            PeerState::Datagrams(peer) => {
                let mut buf = vec![0u8; 65536];
                let mut received = Vec::new();
                while let Ok((n, from)) = peer.sock.recv_from(&mut buf) {
                    peer.last_sender = Some(from);
                    if peer.inbox.len() < DATAGRAMS_KEPT {
                        peer.inbox.push_back((from, buf[..n].to_vec()));
                        received.push((from, buf[..n].to_vec()));
                    } else {
                        peer.dropped += 1;
                    }
                }
                for (from, data) in received {
                    self.record_datagram(
                        format!("program → {name}"),
                        &data,
                        format!("from {from}"),
                    );
                }
            }
            PeerState::HungUp { .. } => {}
        }
    }
}

/// Reads all that is ready without blocking. A pty master reports the other end's close as
/// EIO; sockets report a reset as ECONNRESET.
fn drain(fd: &impl AsFd) -> (Vec<u8>, Option<StreamEnd>) {
    let mut data = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        match nix::unistd::read(fd.as_fd(), &mut buf) {
            Ok(0) => return (data, Some(StreamEnd::Closed)),
            Ok(n) => {
                data.extend_from_slice(&buf[..n]);
                // Bound one pump's work so a flood cannot starve the deadline checks.
                if data.len() >= 4 * buf.len() {
                    return (data, None);
                }
            }
            Err(Errno::EAGAIN) => return (data, None),
            Err(Errno::EINTR) => {}
            Err(Errno::ECONNRESET) => return (data, Some(StreamEnd::Reset)),
            // EIO on a pty master, or any other error: nothing more will come.
            Err(_) => return (data, Some(StreamEnd::Closed)),
        }
    }
}

/// Writes all of `data` to a non-blocking fd, waiting for room until `deadline`.
fn write_all_by(fd: &impl AsFd, mut data: &[u8], deadline: Instant) -> io::Result<()> {
    while !data.is_empty() {
        match nix::unistd::write(fd.as_fd(), data) {
            Ok(n) => data = &data[n..],
            Err(Errno::EAGAIN) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the program is not reading",
                    ));
                }
                let mut pfd = libc::pollfd {
                    fd: fd.as_fd().as_raw_fd(),
                    events: libc::POLLOUT,
                    revents: 0,
                };
                let millis = left.as_millis().min(i32::MAX as u128) as i32;
                // SAFETY: one valid pollfd.
                unsafe { libc::poll(&mut pfd, 1, millis.max(1)) };
            }
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

//! One run of the program as the engine holds it. A step sees only [`Session`]'s methods:
//! what to give the program, what it did, and waits that end on an event. Inside, it is
//! pieces that each own one thing:
//!
//! - [`program`]: the program's I/O and lifecycle (screen, keyboard, stderr, its end);
//! - [`peers`]: the harness's sockets (Alice, Bob) and what they received;
//! - [`transcript`]: what happened, in order;
//! - [`clock`]: when a wait ends at the latest, and what counts as a sign of life;
//! - [`stuck_check`]: whether the program can still act at all;
//! - [`attribution`]: what the program did, attributed to what caused it: settling, epochs,
//!   and what it left unread;
//! - [`wait`]: the event loop that ties them together, where every wait ends on an event,
//!   on the program becoming unable to act, or on its deadline. Nothing sleeps.

mod attribution;
mod clock;
mod inbox;
mod peers;
mod program;
mod stuck_check;
mod transcript;
mod wait;

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::init::protocol::Request;
use crate::launch::{self, Enclosure};
use crate::program::Program;
use crate::limits::{Enforced, RunLimits};
use crate::report::Entry;
use crate::sandbox::sockets::{self, Owner};
use crate::sandbox::{Hosts, Isolation, Listening, account, procs};

pub use attribution::{Accepted, Channel, Unread};
pub use clock::Timeouts;
pub use inbox::{Inbox, StreamEnd};
pub use peers::{Connection, DatagramPeer};
pub use program::Output;
pub use wait::{Probe, Unmet, Wait};

use attribution::Conversation;
use clock::Clock;
use peers::Peers;
use program::{ProgramIo, Start};
use stuck_check::StuckCheck;
use transcript::Transcript;

/// How long a stopped program has to go after SIGTERM before everything is killed.
const TERM_GRACE: Duration = Duration::from_millis(500);
/// How long init may take to start the program (its own start, mounts, exec) on a machine
/// however busy; it ends as soon as init says.
const START_PATIENCE: Duration = Duration::from_secs(30);
/// How long init may take to kill and reap what is left of the program.
const INIT_SWEEP: Duration = Duration::from_secs(6);

/// Where the harness reached a server program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reached {
    pub at: IpAddr,
    /// Whether another host could have reached it too: in a namespace, it answered at Bob's
    /// address; on the host, it bound all addresses (or a non-loopback one).
    pub from_other_hosts: bool,
}

/// One run of the program: what steps need of it, as methods; its parts its own.
pub struct Session {
    isolation: Isolation,
    /// The port the program serves on or connects to.
    port: u16,
    /// Where the lesson's Alice and Bob are in this run.
    hosts: Hosts,
    /// Where the harness reached the server program. `None` until it was reached.
    reached: Option<Reached>,
    /// What the program may use, and whether it ran into a limit.
    limits: RunLimits,
    program: ProgramIo,
    peers: Peers,
    clock: Clock,
    conversation: Conversation,
    transcript: Transcript,
    stuck: StuckCheck,
    given: attribution::Given,
}

impl Session {
    pub fn new(isolation: Isolation, port: u16, timeouts: Timeouts, limits: RunLimits) -> Session {
        Session {
            hosts: isolation.hosts(),
            isolation,
            port,
            reached: None,
            limits,
            program: ProgramIo::default(),
            peers: Peers::default(),
            clock: Clock::new(timeouts),
            conversation: Conversation::default(),
            transcript: Transcript::default(),
            stuck: StuckCheck::new(),
            given: attribution::Given::default(),
        }
    }

    pub fn timeouts(&self) -> Timeouts {
        self.clock.timeouts
    }

    // ----- where the run happens --------------------------------------------------------

    /// The port the program serves on or connects to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where the lesson's Alice and Bob are in this run.
    pub fn hosts(&self) -> Hosts {
        self.hosts
    }

    /// On the host's shared loopback rather than in a namespace of the run's own.
    pub fn on_host(&self) -> bool {
        self.isolation.on_host()
    }

    /// Where the harness reached the server program, once it did.
    pub fn reached(&self) -> Option<Reached> {
        self.reached
    }

    pub fn set_reached(&mut self, reached: Reached) {
        self.reached = Some(reached);
    }

    /// Starts the program and waits until init says it runs. One that never ran (exec
    /// refused, confinement or limits that could not be set up) is socklab's error, never a
    /// failed check.
    pub fn launch(&mut self, program: &Program, enclosure: &Enclosure) -> crate::error::Result<()> {
        use crate::error::Error;
        let args = program.args_for(self.port);
        let launched = launch::launch(program, &args[1..], enclosure).map_err(Error::io(
            "starting socklab's init (its own binary, /proc/self/exe)",
        ))?;
        self.note("harness", format!("starts {}", args.join(" ")));
        self.clock.launched();
        self.program.started(launched);
        self.pump_until(Instant::now() + START_PATIENCE, |s| {
            s.program.start.is_some() || s.program.init_gone()
        });
        let cannot_start = |reason: String| Error::CannotStart {
            program: program.argv[0].clone(),
            reason,
        };
        let start = self.program.start.clone();
        if start != Some(Start::Running) {
            // Init ends on its own after a failed start: reap it.
            self.finish();
        }
        match &start {
            Some(Start::Running) => Ok(()),
            Some(Start::Failed(reason)) => Err(cannot_start(reason.clone())),
            None if self.program.init_gone() => Err(cannot_start(
                "socklab's init ended before it could start it".into(),
            )),
            None => Err(cannot_start(format!(
                "socklab's init did not start it within {} s",
                START_PATIENCE.as_secs()
            ))),
        }
    }

    // ----- what the program did ---------------------------------------------------------

    /// Whether the program has ended (its exit is known, or its init is gone).
    pub fn program_ended(&self) -> bool {
        self.program.ended()
    }

    /// Everything of the program is gone: its init has ended.
    pub fn init_gone(&self) -> bool {
        self.program.init_gone()
    }

    /// How the program ended, once known.
    pub fn exit(&self) -> Option<crate::report::ProgramExit> {
        self.program.exit
    }

    /// Whether the program can no longer show anything: its terminal is closed.
    pub fn screen_closed(&self) -> bool {
        self.program.screen_closed()
    }

    /// Whether the harness had to stop the program at the end.
    pub fn stopped_by_harness(&self) -> bool {
        self.program.stopped_by_harness
    }

    /// What the program showed on its screen or stderr.
    pub fn output(&self, output: Output) -> &Inbox {
        self.program.output(output)
    }

    /// What the program showed, for a step that matches it.
    pub fn output_mut(&mut self, output: Output) -> &mut Inbox {
        self.program.output_mut(output)
    }

    /// A sentence saying how the program ended, with its traceback if it crashed.
    pub fn how_ended(&self) -> String {
        self.program.how_ended()
    }

    /// How the program ended, in a few words, with the line of stderr that says why.
    pub fn how_ended_briefly(&self) -> String {
        self.program.how_ended_briefly()
    }

    /// The last lines the program wrote on stderr (a traceback, usually), for reports.
    pub fn stderr_tail(&self, lines: usize) -> String {
        self.program.stderr_tail(lines)
    }

    // ----- the peers --------------------------------------------------------------------

    /// The peer's connection with the program, while it is open.
    pub fn connection(&self, peer: &str) -> Option<&Connection> {
        self.peers.connection(peer)
    }

    pub fn connection_mut(&mut self, peer: &str) -> Option<&mut Connection> {
        self.peers.connection_mut(peer)
    }

    /// The peer's UDP socket, once it has one.
    pub fn datagrams(&self, peer: &str) -> Option<&DatagramPeer> {
        self.peers.datagrams(peer)
    }

    pub fn datagrams_mut(&mut self, peer: &str) -> Option<&mut DatagramPeer> {
        self.peers.datagrams_mut(peer)
    }

    /// The peer's own address (its port is what the program should print).
    pub fn peer_addr(&self, peer: &str) -> Option<SocketAddr> {
        self.peers.local_addr(peer)
    }

    /// Every peer the run has made.
    pub fn peer_names(&self) -> Vec<&'static str> {
        self.peers.names()
    }

    // ----- the conversation -------------------------------------------------------------

    /// A check begins: it has not acted yet, and nothing of its part is missing.
    pub fn begin_check(&mut self) {
        self.conversation.begin_check();
    }

    /// The current check acts (see [`Session::unfinished_conversation`]).
    pub fn check_acts(&mut self) {
        self.conversation.acted = true;
    }

    /// A step found its part of the conversation missing: `what` did not happen.
    pub fn missing(&mut self, what: impl Into<String>) {
        self.conversation.missing(what);
    }

    /// The current check has ended; `not_reached` says why, if it never ran although it is
    /// part of the conversation.
    pub fn end_check(&mut self, check: &str, not_reached: Option<&str>) {
        self.conversation.end_check(check, not_reached);
    }

    /// Why an ending judged now (the program closing a connection, or exiting) would not
    /// end a conversation that took place, if so.
    pub fn unfinished_conversation(&self) -> Option<&str> {
        self.conversation.unfinished()
    }

    // ----- transcript -------------------------------------------------------------------

    pub fn transcript(&self) -> &[Entry] {
        self.transcript.entries()
    }

    pub fn transcript_omitted(&self) -> u64 {
        self.transcript.omitted()
    }

    pub fn note(&mut self, who: impl Into<String>, text: impl Into<String>) {
        self.transcript.note(who, text);
    }

    // ----- what the harness gives the program -------------------------------------------

    /// Types on the program's keyboard.
    pub fn type_bytes(&mut self, data: &[u8]) -> Result<(), String> {
        self.transcript.bytes("keyboard", data);
        self.given.record(Channel::Keyboard, data);
        self.stuck.input_given();
        let deadline = self.clock.deadline_from(Instant::now());
        self.program.type_keys(data, deadline)
    }

    /// Listens for the program on all addresses at the session's port.
    pub fn listen(&mut self, name: &'static str) -> io::Result<()> {
        let addr = self.peers.listen(name, self.port)?;
        self.note(name, format!("listens on {addr}"));
        Ok(())
    }

    /// One attempt to connect to the program; `Ok(false)` means refused.
    pub fn try_connect(
        &mut self,
        name: &'static str,
        from: IpAddr,
        to: SocketAddr,
    ) -> io::Result<bool> {
        let Some(local) = self.peers.try_connect(name, from, to)? else {
            return Ok(false);
        };
        self.note(name, format!("connects from {local} to {to}"));
        self.clock.saw_life();
        self.stuck.input_given();
        Ok(true)
    }

    pub fn send(&mut self, name: &'static str, data: &[u8]) -> Result<(), String> {
        self.transcript.bytes(format!("{name} → program"), data);
        self.given.record(Channel::Peer(name), data);
        self.stuck.input_given();
        let deadline = self.clock.deadline_from(Instant::now());
        self.peers.send(name, data, deadline)
    }

    /// Ends the peer's side of the connection: the program reads end of stream.
    pub fn hang_up(&mut self, name: &'static str) {
        if self.peers.hang_up(name) {
            self.note(name, "hangs up");
            self.stuck.input_given();
        }
    }

    /// Binds the peer's UDP socket on all addresses at the session's port, as `nc -ul` does,
    /// for a program that sends first.
    pub fn bind_datagrams(&mut self, name: &'static str) -> io::Result<()> {
        let any = SocketAddr::from((std::net::Ipv4Addr::UNSPECIFIED, self.port));
        self.peers.add_datagrams(name, any)?;
        self.note(name, format!("binds UDP 0.0.0.0:{}", self.port));
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
        if !self.peers.exists(name) {
            self.peers.add_datagrams(name, SocketAddr::new(from, 0))?;
        }
        let local = self.peers.send_datagram(name, to, data)?;
        self.transcript
            .datagram(format!("{name} → program"), data, format!("{local} → {to}"));
        self.given.record(Channel::Peer(name), data);
        self.stuck.input_given();
        Ok(())
    }

    // ----- what the program holds -------------------------------------------------------

    /// What the program listens on: everything in the run's namespace but the harness's
    /// own listeners (see [`Session::listening_elsewhere`]), or on the host, what the
    /// program's own sockets are.
    fn listening(&self) -> Vec<Listening> {
        match &self.isolation {
            Isolation::Namespaces => sockets::listening_sockets(Owner::Anyone),
            Isolation::Uid { uid, .. } => sockets::listening_sockets(Owner::User(*uid)),
            Isolation::None { .. } => {
                sockets::listening_sockets(Owner::Processes(&self.program_processes()))
            }
        }
    }

    /// What the program listens on, the harness's own listeners left out.
    pub fn listening_elsewhere(&self) -> Vec<Listening> {
        let ours = self.peers.listening_ports();
        self.listening()
            .into_iter()
            .filter(|l| !ours.contains(&l.port))
            .collect()
    }

    /// A program listening anywhere has started.
    pub fn note_life_from_listeners(&mut self, listeners: &[Listening]) {
        if !listeners.is_empty() {
            self.clock.saw_life();
        }
    }

    /// Every process of the program, while it runs.
    fn program_processes(&self) -> Vec<i32> {
        program_processes(&self.isolation, &self.program)
    }

    /// The limit the program ran into, if any, in the student's terms. Where only resource
    /// limits keep them, the processes it has now, or (once it has ended) those init swept
    /// away at its end, are the evidence; so an ended program's sweep is waited for.
    pub fn limit_hit(&mut self) -> Option<String> {
        let now = match self.limits.processes {
            Enforced::Rlimit => {
                if self.program.ended() {
                    self.pump_until(Instant::now() + INIT_SWEEP, |s| s.program.init_gone());
                }
                let left = self.program.swept.map_or(0, |n| n + 1);
                self.program_processes().len().max(left)
            }
            _ => 0,
        };
        self.limits
            .hit(self.program.stderr.all(), self.program.exit, now)
    }

    // ----- the end ----------------------------------------------------------------------

    /// Once the terminal has closed, the exit status follows within moments: wait for it
    /// (bounded) so that a report says "exited with status 1" rather than guessing.
    pub fn settle_exit(&mut self) {
        if self.program.exit.is_none() && self.program.screen_closed() {
            self.pump_until(Instant::now() + Duration::from_secs(2), |s| {
                s.program.exit.is_some() || s.program.init_gone()
            });
        }
    }

    /// Stops the program if it is still running (SIGTERM, a grace period while its output
    /// is still read, cut short if it is blocked for good; then SIGKILL to all of it) and
    /// reads what is left.
    pub fn finish(&mut self) {
        if !self.program.was_started() {
            return;
        }
        if self.program.running() {
            self.program.stopped_by_harness = true;
            self.note("harness", "stops the program (SIGTERM)");
            self.program.ask_init(Request::Stop);
            self.stuck.input_given();
            self.pump_until_or_stuck(Instant::now() + TERM_GRACE, |s| !s.program.running());
        }
        if self.program.running() {
            self.note("harness", "kills the program (SIGKILL)");
            self.program.ask_init(Request::KillAll);
        }
        // Init ends once every process of the program is gone and reaped (it gives up after
        // 5 s on one stuck in the kernel). Killed sooner, it would leave orphans to the
        // machine's own init, which in a container may never reap them.
        self.pump_until(Instant::now() + INIT_SWEEP, |s| s.program.init_gone());
        self.program.reap_init();
        // Everything of the program is gone now; read the last of its output.
        self.pump_until(Instant::now() + Duration::from_millis(500), |s| {
            s.program.screen.ended() && s.program.stderr.ended()
        });
        self.peers.reset_connections();
        // Init killed them all; should init itself have been killed, the sandbox user's
        // processes are still exactly the program's.
        if let Some((uid, _)) = self.isolation.sandbox_user() {
            let _ = account::kill_all(uid);
        }
    }
}

/// Every process of a program: the sandbox user's (whose processes only root with
/// CAP_SYS_PTRACE could look into), or init's descendants.
fn program_processes(isolation: &Isolation, program: &ProgramIo) -> Vec<i32> {
    match (isolation.sandbox_user(), program.init_pid()) {
        (_, None) => Vec::new(),
        (Some((uid, _)), Some(_)) => procs::of_user(uid),
        (None, Some(init)) => procs::descendants(init),
    }
}

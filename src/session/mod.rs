//! One run of the program as the engine holds it. A step sees only [`Session`]'s methods:
//! a few of its own (the program's start and end, the waits that end on an event, the
//! epochs), and small accessors to its parts, each with the handful of methods steps need:
//!
//! - [`place`](Session::place): where the run happens (port, Alice and Bob, where the
//!   program was reached);
//! - [`program`](Session::program): the program's I/O and lifecycle (screen, stderr, its
//!   end);
//! - [`peers`](Session::peers): the harness's sockets (Alice, Bob) and what they received;
//! - [`give`](Session::give): what the harness gives the program (keys, connections, bytes,
//!   datagrams, hang-ups), each written in the transcript and counted as given;
//! - [`conversation`](Session::conversation) and [`attribution`](Session::attribution):
//!   what the program did, attributed to what caused it: settling, epochs, and what it
//!   left unread;
//! - [`transcript`](Session::transcript): what happened, in order.
//!
//! Inside, `clock` says when a wait ends at the latest and what counts as a sign of life,
//! `stuck_check` whether the program can still act at all, and `wait` is the event loop
//! that ties them together, where every wait ends on an event, on the program becoming
//! unable to act, or on its deadline. Nothing sleeps. The parts' own workings are
//! `pub(super)`: only this module reaches them.

mod attribution;
mod clock;
mod evidence;
mod give;
mod inbox;
mod peers;
mod place;
mod program;
mod stuck_check;
mod transcript;
mod wait;

use std::time::{Duration, Instant};

use crate::init::protocol::Request;
use crate::launch::{self, Enclosure};
use crate::program::Program;
use crate::limits::{Enforced, RunLimits};
use crate::sandbox::sockets::{self, Owner};
use crate::sandbox::{Isolation, Listening, procs, users};

pub use attribution::{Accepted, Attribution, Channel, Conversation, Unread};
pub use clock::Timeouts;
pub use evidence::{Evidence, ProgramFacts};
pub use inbox::{Inbox, StreamEnd};
pub use give::Give;
pub use peers::{Connection, DatagramPeer, Peers};
pub use place::{Reached, RunPlace};
pub use program::{Output, ProgramIo};
pub use transcript::Transcript;
pub use wait::{Probe, Unmet, Wait};

use clock::Clock;
use program::Start;
use stuck_check::StuckCheck;

/// How long a stopped program has to go after SIGTERM before everything is killed.
const TERM_GRACE: Duration = Duration::from_millis(500);
/// How long init may take to start the program (its own start, mounts, exec) on a machine
/// however busy; it ends as soon as init says.
const START_PATIENCE: Duration = Duration::from_secs(30);
/// How long init may take to kill and reap what is left of the program.
const INIT_SWEEP: Duration = Duration::from_secs(6);

/// One run of the program: what steps need of it, as methods; its parts its own.
pub struct Session {
    place: RunPlace,
    /// What the program may use, and whether it ran into a limit.
    limits: RunLimits,
    program: ProgramIo,
    peers: Peers,
    clock: Clock,
    conversation: Conversation,
    transcript: Transcript,
    stuck: StuckCheck,
    given: attribution::Given,
    evidence: Evidence,
}

impl Session {
    pub fn new(isolation: Isolation, port: u16, timeouts: Timeouts, limits: RunLimits) -> Session {
        Session {
            place: RunPlace::new(isolation, port),
            limits,
            program: ProgramIo::default(),
            peers: Peers::default(),
            clock: Clock::new(timeouts),
            conversation: Conversation::default(),
            transcript: Transcript::default(),
            stuck: StuckCheck::new(),
            given: attribution::Given::default(),
            evidence: Evidence::default(),
        }
    }

    pub fn timeouts(&self) -> Timeouts {
        self.clock.timeouts
    }

    /// Where the run happens: its port, Alice's and Bob's addresses, where the harness
    /// reached the server program.
    pub fn place(&self) -> &RunPlace {
        &self.place
    }

    pub fn place_mut(&mut self) -> &mut RunPlace {
        &mut self.place
    }

    /// Starts the program and waits until init says it runs. One that never ran (exec
    /// refused, confinement or limits that could not be set up) is socklab's error, never a
    /// failed check.
    pub fn launch(&mut self, program: &Program, enclosure: &Enclosure) -> crate::error::Result<()> {
        use crate::error::Error;
        let args = program.args_for(self.place.port);
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

    // ----- its parts, each with what steps may ask of it ---------------------------------

    /// The program's side: its screen and stderr, and how it ended.
    pub fn program(&self) -> &ProgramIo {
        &self.program
    }

    /// The program's side, for a step that matches (consumes) what it showed.
    pub fn program_mut(&mut self) -> &mut ProgramIo {
        &mut self.program
    }

    /// The peers' side: their connections with the program and their UDP sockets.
    pub fn peers(&self) -> &Peers {
        &self.peers
    }

    /// The peers' side, for a step that matches (consumes) what a peer received.
    pub fn peers_mut(&mut self) -> &mut Peers {
        &mut self.peers
    }

    /// How the conversation with the peers has gone so far.
    pub fn conversation(&self) -> &Conversation {
        &self.conversation
    }

    pub fn conversation_mut(&mut self) -> &mut Conversation {
        &mut self.conversation
    }

    /// What a failure's reason is told from: the moment, what was typed and sent, what the
    /// program is (see [`crate::reasons`]).
    pub fn evidence(&self) -> &Evidence {
        &self.evidence
    }

    pub fn evidence_mut(&mut self) -> &mut Evidence {
        &mut self.evidence
    }

    /// This host's addresses, where the program runs, Alice's and Bob's among them.
    pub fn host_addresses(&mut self) -> Vec<std::net::IpAddr> {
        let hosts = self.place.hosts();
        self.evidence.host_addresses([hosts.alice, hosts.bob]).to_vec()
    }

    /// What happened, in order.
    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    pub fn note(&mut self, who: impl Into<String>, text: impl Into<String>) {
        self.transcript.note(who, text);
    }

    // ----- what the program holds -------------------------------------------------------

    /// What the program listens on: everything in the run's namespace but the harness's
    /// own listeners (see [`Session::listening_elsewhere`]), or on the host, what the
    /// program's own sockets are.
    fn listening(&self) -> Vec<Listening> {
        match &self.place.isolation {
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
        program_processes(&self.place.isolation, &self.program)
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
        if let Some((uid, _)) = self.place.isolation.sandbox_user() {
            let _ = users::kill_all(uid);
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

//! Where a run happens, and what keeps it apart from everything else. Three levels, best
//! first; a run gets the best the system allows:
//!
//! - **namespaces**: a fresh network and PID namespace ([`netns`]), so the lesson's
//!   hard-coded port is free every time, parallel runs never meet, and every process the
//!   program starts dies with it; init adds IPC and mount namespaces of the run's own
//!   ([`crate::confine`]). As root, the program runs as a user of its own too ([`account`]),
//!   and the way to what it needs is opened in its view ([`reach`]).
//! - **uid** (namespaces refused, socklab is root: Gradescope's Docker containers): the
//!   host's loopback, with the program running as a user of its own that nothing else uses
//!   ([`account`]; the range of such users and acting as one: [`users`]), as the IOI's
//!   isolate does. It cannot signal or trace socklab, write
//!   root's files or read hidden ones, and every process of that user is killed when the
//!   run ends.
//! - **none** (namespaces refused, socklab is an ordinary user: a student's laptop): the
//!   host's loopback, the program as the student. There is no adversary there.
//!
//! On the host's loopback the program's own sockets are found through its processes
//! ([`sockets`]), so verdicts are the same at every level, and runs that need the lesson's
//! fixed port queue for it ([`ports`]).

pub mod account;
pub mod guard;
pub mod hidden;
mod locks;
pub mod netns;
pub mod place;
pub mod ports;
pub mod procs;
mod reach;
pub mod sockets;
mod sweep;
pub mod users;

use std::net::Ipv4Addr;

pub use crate::report::IsolationLevel;
pub use netns::{ALICE_IP, BOB_IP, prepare_process, real_ids};
pub use sockets::Listening;

/// `SOCKLAB_ISOLATION=host` grades on the host's loopback even where namespaces work: the
/// fallback path, on purpose (for systems where namespaces misbehave, and for its tests).
pub const ISOLATION_ENV: &str = "SOCKLAB_ISOLATION";

/// Where a run's sockets live and who its program runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Isolation {
    /// Its own network and PID namespaces, loopback up.
    Namespaces,
    /// The host's loopback (namespaces refused, for `reason`), the program as a user of
    /// its own.
    Uid { reason: String, uid: u32, gid: u32 },
    /// The host's loopback (namespaces refused, for `reason`), the program as socklab's
    /// own user.
    None { reason: String },
}

/// The lesson's two hosts as a run has them: their own addresses in a namespace, both
/// 127.0.0.1 on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hosts {
    pub alice: Ipv4Addr,
    pub bob: Ipv4Addr,
}

impl Isolation {
    pub fn level(&self) -> IsolationLevel {
        match self {
            Isolation::Namespaces => IsolationLevel::Namespaces,
            Isolation::Uid { .. } => IsolationLevel::Uid,
            Isolation::None { .. } => IsolationLevel::None,
        }
    }

    /// On the host's shared loopback rather than in a namespace of the run's own.
    pub fn on_host(&self) -> bool {
        !matches!(self, Isolation::Namespaces)
    }

    /// Why there are no namespaces, if there are none.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Isolation::Namespaces => None,
            Isolation::Uid { reason, .. } | Isolation::None { reason } => Some(reason),
        }
    }

    /// What a report says of a run on the host's loopback, and why (`None` in namespaces).
    pub fn notice(&self) -> Option<String> {
        let reason = self.reason()?;
        Some(format!(
            "{reason}: grading on the host's loopback ({} isolation)",
            self.level()
        ))
    }

    /// The user the program runs as, when it is not socklab's own.
    pub fn sandbox_user(&self) -> Option<(u32, u32)> {
        match self {
            Isolation::Uid { uid, gid, .. } => Some((*uid, *gid)),
            _ => None,
        }
    }

    pub fn hosts(&self) -> Hosts {
        match self {
            Isolation::Namespaces => Hosts {
                alice: ALICE_IP,
                bob: BOB_IP,
            },
            Isolation::Uid { .. } | Isolation::None { .. } => Hosts {
                alice: Ipv4Addr::LOCALHOST,
                bob: Ipv4Addr::LOCALHOST,
            },
        }
    }
}

/// socklab is about to exit on a signal, its runs unfinished: every program it runs as a
/// sandbox user is killed, then what was hidden from them is given back.
pub fn stop_every_run() {
    account::kill_every_run();
    hidden::give_back_all();
}

/// What the calling thread got: namespaces of its own, or the host's loopback and why.
pub enum Entered {
    Namespaces,
    Host { reason: String },
}

/// Moves the calling thread into a network namespace of its own where the system allows it (and
/// `SOCKLAB_ISOLATION=host` does not say otherwise). An error means namespaces were made
/// but could not be set up: that thread must not grade.
pub fn enter() -> Result<Entered, String> {
    if std::env::var_os(ISOLATION_ENV).is_some_and(|v| v == "host") {
        return Ok(Entered::Host {
            reason: format!("{ISOLATION_ENV}=host"),
        });
    }
    match netns::enter() {
        Ok(()) => Ok(Entered::Namespaces),
        Err(netns::NotEntered::Refused(reason)) => Ok(Entered::Host { reason }),
        Err(netns::NotEntered::Broken(reason)) => Err(reason),
    }
}

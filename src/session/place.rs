//! Where a run happens: the port, the lesson's Alice and Bob, the host's loopback or a
//! namespace of the run's own, and where the harness reached the server program.

use std::net::IpAddr;

use crate::sandbox::{Hosts, Isolation};

/// Where the harness reached a server program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reached {
    pub at: IpAddr,
    /// Whether another host could have reached it too: in a namespace, it answered at Bob's
    /// address; on the host, it bound all addresses (or a non-loopback one).
    pub from_other_hosts: bool,
}

/// Where a run happens ([`super::Session::place`]).
pub struct RunPlace {
    pub(super) isolation: Isolation,
    /// The port the program serves on or connects to.
    pub(super) port: u16,
    /// Where the lesson's Alice and Bob are in this run.
    hosts: Hosts,
    /// Where the harness reached the server program. `None` until it was reached.
    reached: Option<Reached>,
}

impl RunPlace {
    pub(super) fn new(isolation: Isolation, port: u16) -> RunPlace {
        RunPlace {
            hosts: isolation.hosts(),
            isolation,
            port,
            reached: None,
        }
    }

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
}

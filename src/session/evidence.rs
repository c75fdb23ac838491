//! What the harness keeps so that a failure can say what a student can act on (see
//! [`crate::reasons`]): the last thing it did to the program (the moment), the line typed in
//! this check, what each peer last sent the program and what it received for the line typed
//! before; and what the program is: its language, its arguments, its source, and this
//! host's addresses. Plain values, set where the harness acts ([`super::Give`]) and read by
//! the steps when they fail.

use std::net::{IpAddr, Ipv4Addr};
use std::ops::RangeInclusive;

use crate::reasons::{Language, Moment, bind};

/// The last thing the harness did to the program, as [`Moment`] tells it.
#[derive(Debug, Clone, Default)]
enum Act {
    #[default]
    Start,
    Connected(&'static str),
    ConnectedTo(&'static str),
    Received {
        peer: &'static str,
        data: Vec<u8>,
        datagram: bool,
        first: bool,
    },
    Typed(String),
    HungUp(&'static str),
    EndOfInput,
}

/// What one peer gave the program and got back.
#[derive(Debug)]
struct PeerEvidence {
    name: &'static str,
    /// What it last sent the program.
    sent: Vec<u8>,
    datagrams_sent: usize,
    /// The line typed the last time it received bytes it was judged on, and those bytes.
    reply: Option<(String, Vec<u8>)>,
}

/// What the program is, known before it runs.
#[derive(Debug, Clone)]
pub struct ProgramFacts {
    pub language: Language,
    /// Its arguments after its own name (a netcat's `-lnv 9000`).
    pub args: Vec<String>,
    /// Its source, capped, where a failed bind()'s address may be written.
    pub source: Option<String>,
}

impl Default for ProgramFacts {
    fn default() -> ProgramFacts {
        ProgramFacts {
            language: Language::Other,
            args: Vec::new(),
            source: None,
        }
    }
}

/// The evidence a run keeps for its reasons ([`super::Session::evidence`]).
#[derive(Debug, Default)]
pub struct Evidence {
    act: Act,
    /// The last act before the program's end was known: what its end came right after,
    /// whatever the harness did after it.
    act_before_end: Option<Act>,
    typed: Option<String>,
    peers: Vec<PeerEvidence>,
    facts: ProgramFacts,
    /// This host's addresses, looked up once when first needed.
    host_addresses: Option<Vec<IpAddr>>,
}

impl Evidence {
    /// What had just happened, as the program met it: before its end, once it has ended.
    pub fn moment(&self) -> Moment<'_> {
        match self.act_before_end.as_ref().unwrap_or(&self.act) {
            Act::Start => Moment::Start,
            Act::Connected(peer) => Moment::Connected { peer },
            Act::ConnectedTo(peer) => Moment::ConnectedTo { peer },
            Act::Received {
                peer,
                data,
                datagram,
                first,
            } => Moment::Received {
                peer,
                data,
                datagram: *datagram,
                first: *first,
            },
            Act::Typed(line) => Moment::Typed(line),
            Act::HungUp(peer) => Moment::HungUp { peer },
            Act::EndOfInput => Moment::EndOfInput,
        }
    }

    /// The line typed in this check, if any.
    pub fn typed(&self) -> Option<&str> {
        self.typed.as_deref()
    }

    /// What `peer` last sent the program.
    pub fn sent_by(&self, peer: &str) -> Option<&[u8]> {
        self.peer(peer).map(|p| p.sent.as_slice()).filter(|s| !s.is_empty())
    }

    /// The line typed the time before `peer` last received bytes, and those bytes.
    pub fn earlier_reply(&self, peer: &str) -> Option<(&str, &[u8])> {
        let (typed, got) = self.peer(peer)?.reply.as_ref()?;
        Some((typed.as_str(), got.as_slice()))
    }

    pub fn language(&self) -> Language {
        self.facts.language
    }

    pub fn facts(&self) -> &ProgramFacts {
        &self.facts
    }

    /// What the program is, said once before it runs.
    pub fn set_facts(&mut self, facts: ProgramFacts) {
        self.facts = facts;
    }

    /// The addresses this host has, where the program runs (the grading thread's network
    /// namespace), with the lesson's Alice and Bob.
    pub fn host_addresses(&mut self, alice_and_bob: [Ipv4Addr; 2]) -> &[IpAddr] {
        self.host_addresses.get_or_insert_with(|| {
            let mut found: Vec<IpAddr> = alice_and_bob.into_iter().map(IpAddr::V4).collect();
            found.push(Ipv4Addr::LOCALHOST.into());
            if let Ok(addresses) = nix::ifaddrs::getifaddrs() {
                found.extend(
                    addresses
                        .filter_map(|a| a.address?.as_sockaddr_in().map(|s| IpAddr::V4(s.ip()))),
                );
            }
            found
        })
    }

    /// The ports the kernel picks for a socket no bind() bound.
    pub fn ephemeral_ports() -> RangeInclusive<u16> {
        let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
            .ok()
            .and_then(|text| {
                let mut ports = text.split_whitespace().map(|p| p.parse::<u16>().ok());
                Some(ports.next()??..=ports.next()??)
            });
        range.unwrap_or(bind::EPHEMERAL_PORTS)
    }

    // ----- set where the harness acts ------------------------------------------------

    /// The program has ended: its moment stays the one before.
    pub(super) fn program_ended(&mut self) {
        if self.act_before_end.is_none() {
            self.act_before_end = Some(self.act.clone());
        }
    }

    /// A new check: nothing typed in it yet.
    pub fn begin_check(&mut self) {
        self.typed = None;
    }

    pub(super) fn typed_keys(&mut self, data: &[u8]) {
        if data == b"\x04" {
            self.act = Act::EndOfInput;
        } else if let Some(line) = data.strip_suffix(b"\n") {
            let line = String::from_utf8_lossy(line).into_owned();
            self.typed = Some(line.clone());
            self.act = Act::Typed(line);
        }
    }

    pub(super) fn connected(&mut self, peer: &'static str) {
        self.act = Act::Connected(peer);
    }

    pub(super) fn connected_to(&mut self, peer: &'static str) {
        self.act = Act::ConnectedTo(peer);
    }

    pub(super) fn hung_up(&mut self, peer: &'static str) {
        self.act = Act::HungUp(peer);
    }

    pub(super) fn sent(&mut self, peer: &'static str, data: &[u8], datagram: bool) {
        let p = self.peer_mut(peer);
        p.sent = data.to_vec();
        p.datagrams_sent += usize::from(datagram);
        let first = datagram && p.datagrams_sent == 1;
        self.act = Act::Received {
            peer,
            data: data.to_vec(),
            datagram,
            first,
        };
    }

    /// `peer` received `got`, judged against the line typed in this check.
    pub fn received(&mut self, peer: &'static str, got: &[u8]) {
        let typed = self.typed.clone().unwrap_or_default();
        self.peer_mut(peer).reply = Some((typed, got.to_vec()));
    }

    fn peer(&self, name: &str) -> Option<&PeerEvidence> {
        self.peers.iter().find(|p| p.name == name)
    }

    fn peer_mut(&mut self, name: &'static str) -> &mut PeerEvidence {
        if let Some(at) = self.peers.iter().position(|p| p.name == name) {
            return &mut self.peers[at];
        }
        self.peers.push(PeerEvidence {
            name,
            sent: Vec::new(),
            datagrams_sent: 0,
            reply: None,
        });
        self.peers.last_mut().expect("just pushed")
    }
}

//! What the harness gives the program: keystrokes, connections, bytes and datagrams from
//! the peers, hang-ups. Each gift is written in the transcript, counted as given (for
//! attribution), and wakes the check of whether the program is stuck.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use super::{Channel, Session};

/// The harness acting on the program, for the length of one step's action
/// ([`Session::give`]).
pub struct Give<'a>(pub(super) &'a mut Session);

impl Give<'_> {
    /// Types on the program's keyboard.
    pub fn type_bytes(&mut self, data: &[u8]) -> Result<(), String> {
        self.0.transcript.bytes("keyboard", data);
        self.0.evidence.typed_keys(data);
        self.0.given.record(Channel::Keyboard, data);
        self.0.stuck.input_given();
        let deadline = self.0.clock.deadline_from(Instant::now());
        self.0.program.type_keys(data, deadline)
    }

    /// Listens for the program on all addresses at the session's port.
    pub fn listen(&mut self, name: &'static str) -> io::Result<()> {
        let addr = self.0.peers.listen(name, self.0.place.port)?;
        self.0.note(name, format!("listens on {addr}"));
        Ok(())
    }

    /// One attempt to connect to the program; `Ok(false)` means refused.
    pub fn try_connect(
        &mut self,
        name: &'static str,
        from: IpAddr,
        to: SocketAddr,
    ) -> io::Result<bool> {
        let Some(local) = self.0.peers.try_connect(name, from, to)? else {
            return Ok(false);
        };
        self.0.note(name, format!("connects from {local} to {to}"));
        self.0.evidence.connected(name);
        self.0.clock.saw_life();
        self.0.stuck.input_given();
        Ok(true)
    }

    pub fn send(&mut self, name: &'static str, data: &[u8]) -> Result<(), String> {
        self.0.transcript.bytes(format!("{name} → program"), data);
        self.0.given.record(Channel::Peer(name), data);
        self.0.evidence.sent(name, data, false);
        self.0.stuck.input_given();
        let deadline = self.0.clock.deadline_from(Instant::now());
        self.0.peers.send(name, data, deadline)
    }

    /// Ends the peer's side of the connection: the program reads end of stream.
    pub fn hang_up(&mut self, name: &'static str) {
        if self.0.peers.hang_up(name) {
            self.0.note(name, "hangs up");
            self.0.evidence.hung_up(name);
            self.0.stuck.input_given();
        }
    }

    /// Binds the peer's UDP socket on all addresses at the session's port, as `nc -ul` does,
    /// for a program that sends first.
    pub fn bind_datagrams(&mut self, name: &'static str) -> io::Result<()> {
        let any = SocketAddr::from((std::net::Ipv4Addr::UNSPECIFIED, self.0.place.port));
        self.0.peers.add_datagrams(name, any)?;
        self.0.note(name, format!("binds UDP 0.0.0.0:{}", self.0.place.port));
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
        if !self.0.peers.exists(name) {
            self.0.peers.add_datagrams(name, SocketAddr::new(from, 0))?;
        }
        let local = self.0.peers.send_datagram(name, to, data)?;
        self.0.transcript
            .datagram(format!("{name} → program"), data, format!("{local} → {to}"));
        self.0.given.record(Channel::Peer(name), data);
        self.0.evidence.sent(name, data, true);
        self.0.stuck.input_given();
        Ok(())
    }
}

impl Session {
    /// The harness acting on the program (see [`Give`]).
    pub fn give(&mut self) -> Give<'_> {
        Give(self)
    }
}

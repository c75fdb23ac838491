//! The sockets the harness plays, named after the lesson's hosts (alice, bob): a listener
//! for a client program, a connection with it, or a UDP socket; what each has received.

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

use super::inbox::{Inbox, StreamEnd};
use super::program::{READ_AT_ONCE, drain, write_all_by};

/// Most datagrams a peer keeps unmatched; more go to the transcript only (which shows what it
/// has room for, and counts the rest).
const DATAGRAMS_KEPT: usize = 1024;

/// The harness's end of a TCP connection with the program.
pub struct Connection {
    stream: TcpStream,
    pub inbox: Inbox,
    pub local: SocketAddr,
    pub remote: SocketAddr,
}

/// The harness's UDP socket: one source address and port for the whole run, so the program
/// can answer whoever sent last.
pub struct DatagramPeer {
    sock: UdpSocket,
    pub local: SocketAddr,
    /// Received and not yet matched, with their senders: each datagram one message.
    pub inbox: VecDeque<(SocketAddr, Vec<u8>)>,
    /// How many at the front of `inbox` came before the current epoch (see
    /// [`super::attribution`]).
    pub from_earlier_epochs: usize,
    /// Who sent the last datagram: where an answer goes.
    pub last_sender: Option<SocketAddr>,
    /// The program's socket, once the peer has sent to it or heard from it.
    pub program: Option<SocketAddr>,
}

impl DatagramPeer {
    /// The next datagram not matched yet, and whether it came before the current epoch.
    pub fn take_next(&mut self) -> Option<(SocketAddr, Vec<u8>, bool)> {
        let (from, data) = self.inbox.pop_front()?;
        let earlier = self.from_earlier_epochs > 0;
        self.from_earlier_epochs = self.from_earlier_epochs.saturating_sub(1);
        Some((from, data, earlier))
    }

}

/// The program's end of a conversation with a peer, as the kernel's tables can find it.
pub enum ProgramEnd {
    /// A TCP connection: the program's address and the peer's, and how the peer saw it end.
    Stream {
        program: SocketAddr,
        peer: SocketAddr,
        end: Option<StreamEnd>,
    },
    /// The program's UDP socket.
    Datagrams(SocketAddr),
}

enum PeerState {
    Listening(TcpListener),
    Connected(Connection),
    /// The harness sent its end of stream; the socket stays open until the run ends, when
    /// it is reset (see [`Peers::reset_connections`]).
    HungUp {
        stream: TcpStream,
        local: SocketAddr,
        remote: SocketAddr,
        end: Option<StreamEnd>,
    },
    /// Closed at the end of the run; the address stays known for reports.
    Closed {
        local: SocketAddr,
    },
    Datagrams(DatagramPeer),
}

struct Peer {
    name: &'static str,
    state: PeerState,
}

/// What reading a peer brought.
pub(super) enum PeerEvent {
    Nothing,
    /// A client program connected to the peer's listener.
    Accepted {
        name: &'static str,
        remote: SocketAddr,
    },
    /// Bytes from the program on a connection, and whether it ended.
    Bytes {
        name: &'static str,
        data: Vec<u8>,
        end: Option<StreamEnd>,
    },
    /// Datagrams from the program, with their senders.
    Datagrams {
        name: &'static str,
        got: Vec<(SocketAddr, Vec<u8>)>,
    },
}

#[derive(Default)]
pub struct Peers {
    list: Vec<Peer>,
}

impl Peers {
    fn peer_mut(&mut self, name: &str) -> Option<&mut Peer> {
        self.list.iter_mut().find(|p| p.name == name)
    }

    pub fn connection(&self, name: &str) -> Option<&Connection> {
        self.list.iter().find_map(|p| match &p.state {
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

    pub fn datagrams(&self, name: &str) -> Option<&DatagramPeer> {
        self.list
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

    /// Every peer's name.
    pub fn names(&self) -> Vec<&'static str> {
        self.list.iter().map(|p| p.name).collect()
    }

    pub(super) fn exists(&self, name: &str) -> bool {
        self.list.iter().any(|p| p.name == name)
    }

    /// The peer's own address (its port is what the program should print).
    pub fn local_addr(&self, name: &str) -> Option<SocketAddr> {
        self.list
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| match &p.state {
                PeerState::Connected(c) => Some(c.local),
                PeerState::HungUp { local, .. } | PeerState::Closed { local } => Some(*local),
                PeerState::Listening(l) => l.local_addr().ok(),
                PeerState::Datagrams(d) => Some(d.local),
            })
    }

    /// The ports the harness listens on itself (not the program's).
    pub(super) fn listening_ports(&self) -> Vec<u16> {
        self.list
            .iter()
            .filter_map(|p| match &p.state {
                PeerState::Listening(l) => l.local_addr().ok().map(|a| a.port()),
                _ => None,
            })
            .collect()
    }

    /// Listens on all addresses at `port`, as the lesson's `nc -l 8000` does.
    pub(super) fn listen(&mut self, name: &'static str, port: u16) -> io::Result<SocketAddr> {
        let addr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port));
        let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
        sock.set_reuse_address(true)?;
        sock.bind(&addr.into())?;
        sock.listen(16)?;
        sock.set_nonblocking(true)?;
        self.list.push(Peer {
            name,
            state: PeerState::Listening(sock.into()),
        });
        Ok(addr)
    }

    /// One attempt to connect to the program from `from` (a host's address, any port);
    /// `Ok(None)` means refused (nothing listens there yet).
    pub(super) fn try_connect(
        &mut self,
        name: &'static str,
        from: IpAddr,
        to: SocketAddr,
    ) -> io::Result<Option<SocketAddr>> {
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
        self.add_connection(name, stream, local, to);
        Ok(Some(local))
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
            None => self.list.push(Peer {
                name,
                state: PeerState::Connected(conn),
            }),
        }
    }

    pub(super) fn send(
        &mut self,
        name: &'static str,
        data: &[u8],
        deadline: Instant,
    ) -> Result<(), String> {
        let Some(conn) = self.connection_mut(name) else {
            return Err(format!("{name} has no connection"));
        };
        write_all_by(&conn.stream, data, deadline)
            .map_err(|e| format!("{name} could not send ({e})"))
    }

    /// Ends the peer's side of the connection, as a client quitting `nc` would: the program
    /// reads end of stream. Returns whether there was a connection to end.
    pub(super) fn hang_up(&mut self, name: &'static str) -> bool {
        let Some(peer) = self.peer_mut(name) else {
            return false;
        };
        let PeerState::Connected(conn) = &peer.state else {
            return false;
        };
        let closed = PeerState::Closed { local: conn.local };
        let PeerState::Connected(conn) = std::mem::replace(&mut peer.state, closed) else {
            unreachable!("matched above")
        };
        let _ = conn.stream.shutdown(std::net::Shutdown::Write);
        peer.state = PeerState::HungUp {
            stream: conn.stream,
            local: conn.local,
            remote: conn.remote,
            end: conn.inbox.end,
        };
        true
    }

    /// Every peer's conversation as the program holds it, by peer.
    pub(super) fn program_ends(&self) -> Vec<(&'static str, ProgramEnd)> {
        self.list
            .iter()
            .filter_map(|p| {
                let end = match &p.state {
                    PeerState::Connected(c) => ProgramEnd::Stream {
                        program: c.remote,
                        peer: c.local,
                        end: c.inbox.end,
                    },
                    PeerState::HungUp {
                        local, remote, end, ..
                    } => ProgramEnd::Stream {
                        program: *remote,
                        peer: *local,
                        end: *end,
                    },
                    PeerState::Datagrams(d) => ProgramEnd::Datagrams(d.program?),
                    PeerState::Listening(_) | PeerState::Closed { .. } => return None,
                };
                Some((p.name, end))
            })
            .collect()
    }

    /// From now on, what the peers receive belongs to a new epoch.
    pub(super) fn begin_epoch(&mut self) {
        for peer in &mut self.list {
            match &mut peer.state {
                PeerState::Connected(c) => c.inbox.begin_epoch(),
                PeerState::Datagrams(d) => d.from_earlier_epochs = d.inbox.len(),
                _ => {}
            }
        }
    }

    /// Closes every connection of the harness with a reset rather than end of stream. A
    /// program that closed first would otherwise keep its end, on the lesson's port, in
    /// FIN_WAIT or TIME_WAIT for a minute, and the next run of a program that binds that
    /// port without SO_REUSEADDR would fail.
    pub(super) fn reset_connections(&mut self) {
        for peer in &mut self.list {
            let (stream, local) = match &peer.state {
                PeerState::Connected(c) => (&c.stream, c.local),
                PeerState::HungUp { stream, local, .. } => (stream, *local),
                _ => continue,
            };
            let _ = socket2::SockRef::from(stream).set_linger(Some(Duration::ZERO));
            peer.state = PeerState::Closed { local };
        }
    }

    /// Binds a UDP socket for the peer at `bind` (made on first use).
    pub(super) fn add_datagrams(
        &mut self,
        name: &'static str,
        bind: SocketAddr,
    ) -> io::Result<SocketAddr> {
        let sock = UdpSocket::bind(bind)?;
        sock.set_nonblocking(true)?;
        let local = sock.local_addr()?;
        self.list.push(Peer {
            name,
            state: PeerState::Datagrams(DatagramPeer {
                sock,
                local,
                inbox: VecDeque::new(),
                from_earlier_epochs: 0,
                last_sender: None,
                program: None,
            }),
        });
        Ok(local)
    }

    /// Sends one datagram from the peer's UDP socket; returns the peer's address.
    pub(super) fn send_datagram(
        &mut self,
        name: &str,
        to: SocketAddr,
        data: &[u8],
    ) -> io::Result<SocketAddr> {
        let Some(peer) = self.datagrams_mut(name) else {
            return Err(io::Error::other(format!("{name} is not a UDP peer")));
        };
        peer.sock.send_to(data, to)?;
        peer.program = Some(to);
        Ok(peer.local)
    }

    /// The descriptors to wait on, by peer index.
    pub(super) fn pollable(&self) -> Vec<(BorrowedFd<'_>, usize)> {
        self.list
            .iter()
            .enumerate()
            .filter_map(|(i, peer)| match &peer.state {
                PeerState::Listening(l) => Some((l.as_fd(), i)),
                PeerState::Connected(c) if !c.inbox.ended() => Some((c.stream.as_fd(), i)),
                PeerState::Datagrams(d) => Some((d.sock.as_fd(), i)),
                _ => None,
            })
            .collect()
    }

    /// Reads what is ready on peer `index`.
    pub(super) fn read(&mut self, index: usize) -> PeerEvent {
        let name = self.list[index].name;
        match &mut self.list[index].state {
            PeerState::Listening(listener) => {
                let Ok((stream, remote)) = listener.accept() else {
                    return PeerEvent::Nothing;
                };
                let _ = stream.set_nonblocking(true);
                let local = stream.local_addr().unwrap_or(remote);
                // One connection per peer, as in the lesson; the listener closes.
                self.add_connection(name, stream, local, remote);
                PeerEvent::Accepted { name, remote }
            }
            PeerState::Connected(conn) => {
                let (data, end) = drain(&conn.stream);
                // Acknowledge at once: with delayed ACKs, a program's second small send in a
                // row (Nagle) would wait ~40 ms for our ACK. Linux clears this after use.
                let _ = socket2::SockRef::from(&conn.stream).set_tcp_quickack(true);
                conn.inbox.push(&data);
                let end = end.filter(|_| conn.inbox.end.is_none());
                conn.inbox.end = conn.inbox.end.or(end);
                PeerEvent::Bytes { name, data, end }
            }
            PeerState::Datagrams(peer) => {
                let mut buf = vec![0u8; 65536];
                let mut got = Vec::new();
                let mut read = 0;
                // Bounded as a stream's read is, so that a flood cannot starve the deadlines.
                while read < READ_AT_ONCE
                    && let Ok((n, from)) = peer.sock.recv_from(&mut buf)
                {
                    read += n.max(1);
                    peer.last_sender = Some(from);
                    peer.program = Some(from);
                    if peer.inbox.len() < DATAGRAMS_KEPT {
                        peer.inbox.push_back((from, buf[..n].to_vec()));
                    }
                    got.push((from, buf[..n].to_vec()));
                }
                PeerEvent::Datagrams { name, got }
            }
            PeerState::HungUp { .. } | PeerState::Closed { .. } => PeerEvent::Nothing,
        }
    }
}

//! UDP: no connection and no end. Each read of stdin goes out as one datagram; each datagram
//! that comes in goes to stdout. As listener, socklab nc waits for a first datagram, then
//! talks only to its sender, as OpenBSD nc does (it connects the socket to that peer, and
//! drops anything else already queued). End of stdin stops the sending and nothing more: UDP
//! has nothing to tell the peer, so socklab nc keeps printing what arrives until killed.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsFd;

use super::args::Options;
use super::names::{self, Proto};
use super::{NcError, pump};

/// At most this much of stdin per datagram, as OpenBSD nc reads it.
const SEND_SIZE: usize = 16 * 1024;
/// Room for the largest datagram.
const RECEIVE_SIZE: usize = 64 * 1024;

pub fn run(opts: &Options) -> Result<(), NcError> {
    let (socket, peer) = if opts.listen {
        first_peer(opts)?
    } else {
        connect(opts)?
    };
    let sending = socket.try_clone().map_err(NcError::io("dup"))?;
    std::thread::spawn(move || send_stdin(&sending, peer));
    Err(receive(&socket, peer))
}

/// Binds, waits for the first datagram, and from then on hears and answers only its sender.
fn first_peer(opts: &Options) -> Result<(UdpSocket, SocketAddr), NcError> {
    let local = names::listen_addr(opts.host.as_deref(), opts.port, opts.numeric)?;
    let socket = UdpSocket::bind(local).map_err(|e| names::bind_failed(local, Proto::Udp, &e))?;
    if opts.verbose {
        eprintln!("{}", names::listening(local, Proto::Udp, opts.numeric));
    }
    let mut buf = vec![0u8; RECEIVE_SIZE];
    let (n, peer) = loop {
        match socket.recv_from(&mut buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => break other.map_err(NcError::io("receiving"))?,
        }
    };
    socket.connect(peer).map_err(NcError::io("connect"))?;
    if opts.verbose {
        eprintln!("{}", names::received(peer, opts.numeric));
    }
    pump::write_all(io::stdout().as_fd(), &buf[..n]).map_err(stdout_failed)?;
    Ok((socket, peer))
}

/// A socket that sends to and hears from the host's first address only.
fn connect(opts: &Options) -> Result<(UdpSocket, SocketAddr), NcError> {
    let host = opts
        .host
        .as_deref()
        .expect("connecting needs a host (args checks)");
    let addr = names::resolve(host, opts.port, opts.numeric)?[0];
    let local = super::unspecified(addr, opts.source_port.unwrap_or(0));
    let socket = UdpSocket::bind(local).map_err(|e| names::bind_failed(local, Proto::Udp, &e))?;
    socket
        .connect(addr)
        .map_err(|e| names::connect_failed(host, addr, Proto::Udp, opts.numeric, &e))?;
    if opts.verbose {
        // OpenBSD nc first sends four "X" datagrams to probe the port; socklab nc sends the
        // peer nothing it was not given.
        eprintln!("{}", names::succeeded(host, addr, Proto::Udp, opts.numeric));
    }
    Ok((socket, addr))
}

/// Each read of stdin as one datagram, until end of stdin.
fn send_stdin(socket: &UdpSocket, peer: SocketAddr) {
    let mut buf = vec![0u8; SEND_SIZE];
    loop {
        let n = match pump::read_some(io::stdin().as_fd(), &mut buf) {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) => super::die(&NcError::Failed(format!(
                "reading stdin: {}",
                names::plain(&e)
            ))),
        };
        loop {
            match socket.send(&buf[..n]) {
                Ok(_) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => super::die(&peer_failed(peer, &e)),
            }
        }
    }
}

/// Writes each datagram from the peer to stdout until something fails.
fn receive(socket: &UdpSocket, peer: SocketAddr) -> NcError {
    let mut buf = vec![0u8; RECEIVE_SIZE];
    loop {
        match socket.recv_from(&mut buf) {
            Ok((n, from)) if from == peer => {
                if let Err(e) = pump::write_all(io::stdout().as_fd(), &buf[..n]) {
                    return stdout_failed(e);
                }
            }
            // Queued before we connected to the peer: not for us.
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return peer_failed(peer, &e),
        }
    }
}

/// `127.0.0.1 port 9000 (udp): Connection refused`: an ICMP answer to an earlier datagram,
/// which on loopback means nothing listens on that port.
fn peer_failed(peer: SocketAddr, e: &io::Error) -> NcError {
    NcError::Failed(format!(
        "{} port {} (udp): {}",
        peer.ip(),
        peer.port(),
        names::plain(e)
    ))
}

fn stdout_failed(e: io::Error) -> NcError {
    NcError::Failed(format!("writing to stdout: {}", names::plain(&e)))
}

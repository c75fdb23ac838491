//! TCP: one connection, made or accepted, then stdin to the socket and the socket to stdout
//! at once, each on its own thread so neither direction ever waits for the other.
//!
//! End of stdin shuts down our sending side and keeps reading. End of the socket ends the
//! program once everything is written: all that came is on stdout (there is no buffer of
//! ours to flush, [`pump::copy`] hands each chunk on before it takes the next), and stdin,
//! unless it is a terminal, has gone out to its end.

use std::io;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::fd::AsFd;

use socket2::{Domain, Protocol, Socket, Type};

use super::args::Options;
use super::names::{self, Proto};
use super::{NcError, pump};

pub fn run(opts: &Options) -> Result<(), NcError> {
    let stream = if opts.listen {
        accept_one(opts)?
    } else {
        connect(opts)?
    };
    talk(stream)
}

/// Listens, takes the first connection and stops listening.
fn accept_one(opts: &Options) -> Result<TcpStream, NcError> {
    let local = names::listen_addr(opts.host.as_deref(), opts.port, opts.numeric)?;
    let socket = new_socket(local).map_err(NcError::io("socket"))?;
    // As OpenBSD nc: a port left in TIME_WAIT by the last run is free to listen on again.
    socket
        .set_reuse_address(true)
        .map_err(NcError::io("SO_REUSEADDR"))?;
    socket
        .bind(&local.into())
        .map_err(|e| names::bind_failed(local, Proto::Tcp, &e))?;
    socket.listen(1).map_err(NcError::io("listen"))?;
    if opts.verbose {
        eprintln!("{}", names::listening(local, Proto::Tcp, opts.numeric));
    }
    let (conn, peer) = loop {
        match socket.accept() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => break other.map_err(NcError::io("accept"))?,
        }
    };
    drop(socket);
    if opts.verbose {
        let peer = peer.as_socket().expect("a TCP peer has an IP address");
        eprintln!("{}", names::received(peer, opts.numeric));
    }
    Ok(conn.into())
}

/// Connects to the first of the host's addresses that answers.
fn connect(opts: &Options) -> Result<TcpStream, NcError> {
    let host = opts
        .host
        .as_deref()
        .expect("connecting needs a host (args checks)");
    let mut failure = None;
    for addr in names::resolve(host, opts.port, opts.numeric)? {
        match connect_one(addr, opts.source_port) {
            Ok(stream) => {
                if opts.verbose {
                    eprintln!("{}", names::succeeded(host, addr, Proto::Tcp, opts.numeric));
                }
                return Ok(stream);
            }
            Err(e) => {
                failure = Some(names::connect_failed(
                    host,
                    addr,
                    Proto::Tcp,
                    opts.numeric,
                    &e,
                ))
            }
        }
    }
    Err(failure.expect("resolve returns at least one address"))
}

fn connect_one(addr: SocketAddr, source_port: Option<u16>) -> io::Result<TcpStream> {
    let socket = new_socket(addr)?;
    if let Some(port) = source_port {
        socket.set_reuse_address(true)?;
        socket.bind(&super::unspecified(addr, port).into())?;
    }
    socket.connect(&addr.into())?;
    Ok(socket.into())
}

fn new_socket(addr: SocketAddr) -> io::Result<Socket> {
    Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
}

/// Both directions at once, until the socket has ended and all of stdin is sent.
fn talk(stream: TcpStream) -> Result<(), NcError> {
    let sending = stream.try_clone().map_err(NcError::io("dup"))?;
    let sender = std::thread::spawn(move || {
        match pump::copy(io::stdin().as_fd(), sending.as_fd()) {
            // Tell the peer we are done; it may still answer.
            Ok(_) => {
                let _ = sending.shutdown(Shutdown::Write);
            }
            // The peer is gone and wants no more: the conversation is over.
            Err(e) if super::peer_gone(&e) => {}
            Err(e) => super::die(&NcError::Failed(format!("sending: {}", names::plain(&e)))),
        }
    });
    match pump::copy(stream.as_fd(), io::stdout().as_fd()) {
        Ok(_) => {}
        Err(e) if e.raw_os_error() == Some(libc::EPIPE) => {
            return Err(NcError::Failed("writing to stdout: Broken pipe".into()));
        }
        Err(e) => return Err(NcError::Failed(format!("receiving: {}", names::plain(&e)))),
    }
    // The peer has finished sending, and all it sent is on stdout. A person at a terminal
    // is done too. Input from a file or a pipe still goes out to its end, so that a peer
    // that half-closed first (a listener whose stdin is /dev/null, `nc -N`) gets all of it;
    // a peer that closed altogether makes the next send fail, which ends the sender.
    if !nix::unistd::isatty(io::stdin()).unwrap_or(false) {
        let _ = sender.join();
    }
    Ok(())
}

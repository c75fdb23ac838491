//! A run's port on the host's one shared loopback. Two runs of programs with port 8000
//! written in them cannot both have it, so they queue (a lock per port, shared by every
//! socklab process of this user, then one shared by every user's: an instructor grading as
//! root and a student checking as themselves share the loopback); a port some other program holds is waited for, a bounded
//! time, rather than given up on at once; and a program that takes `{port}` gets one
//! chosen for it.
//!
//! Under uid isolation with the guard, the port is also held for the run's own user from
//! the moment it is claimed to the end of the run: placeholder sockets owned by that user
//! are bound to it with SO_REUSEPORT (and nothing else), which the kernel lets only sockets
//! of the same user, with SO_REUSEPORT, share. The guard makes every socket of the program
//! so, and no other program's, so no classmate can bind the port first, and the program's
//! own bind goes through. A placeholder never listens, and a UDP one hands every datagram
//! to the program's socket; the tables of listening sockets leave them out
//! ([`is_placeholder`]). What the program leaves in TIME_WAIT carries SO_REUSEPORT too,
//! which lets the next run's placeholder bind, and SO_REUSEADDR, which lets its program.

use std::collections::HashSet;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::report::Proto;

use super::locks;
use super::place::Wanted;

/// The longest pause between two looks at a port someone else holds.
const RECHECK_MAX: Duration = Duration::from_millis(50);

/// Where chosen ports come from: below the ephemeral range, where no connection takes one
/// by chance.
const CHOSEN: std::ops::Range<u16> = 15_000..25_000;

/// Whether `port` is one socklab may give a run (a guarded program may not take it first).
pub fn given_to_runs(port: u16) -> bool {
    CHOSEN.contains(&port)
}

/// How long a run waits for other users' runs of the same port, at most: long enough for
/// a whole lab of theirs; bounded, since anyone may hold that lock.
const OTHER_USERS_PATIENCE: Duration = Duration::from_secs(60);

/// Who binds a run's port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binder {
    /// The harness (a client program's lab), with SO_REUSEADDR.
    Harness,
    /// The program, maybe without SO_REUSEADDR, as the lesson's programs.
    Program,
    /// The program of this user, under the guard: the port is held for it.
    Guarded(u32),
}

impl Binder {
    pub fn of(harness_binds: bool, guarded_user: Option<u32>) -> Binder {
        match (harness_binds, guarded_user) {
            (true, _) => Binder::Harness,
            (false, Some(uid)) => Binder::Guarded(uid),
            (false, None) => Binder::Program,
        }
    }
}

/// The port, held for one run; dropping it lets the next run have it.
#[derive(Debug)]
pub struct PortClaim {
    _lock: Option<locks::Held>,
    _machine_wide: Option<locks::Held>,
    _placeholders: Vec<Placeholder>,
}

/// The run's port: the lesson's where the program has it written in, else one chosen now
/// (where the run has its own namespace, or on the host for a program of the student's).
pub fn pick(wanted: &Wanted) -> Result<u16> {
    if wanted.fixed_port {
        return Ok(wanted.port);
    }
    portpicker::pick_unused_port().ok_or_else(|| Error::Internal("no free port".into()))
}

/// Claims `port` for a run: waits while other socklab runs use it, then up to `patience`
/// for whatever else holds it to let go (nothing tells when a port frees, so it is looked
/// at again, more and more seldom). For a guarded program, the port is held for its user.
pub fn claim(proto: Proto, port: u16, patience: Duration, binder: Binder) -> Result<PortClaim> {
    // Ports belong to a network namespace: runs in two containers do not queue.
    let netns = std::fs::metadata("/proc/thread-self/ns/net").map_or(0, |m| m.ino());
    let name = format!("{}-{port}-{netns}.lock", proto.to_string().to_lowercase());
    let lock =
        locks::wait_for(&name).map_err(Error::io(format!("waiting for {proto} port {port}")))?;
    // Always after this user's own lock, so that no two runs wait on each other's.
    let machine_wide = locks::wait_for_shared(&name, OTHER_USERS_PATIENCE);
    let deadline = Instant::now() + patience;
    let mut pause = Duration::from_millis(1);
    loop {
        let held = match binder {
            Binder::Guarded(uid) => hold(proto, port, uid).ok(),
            Binder::Harness => is_free(proto, port, true).then(Vec::new),
            Binder::Program => is_free(proto, port, false).then(Vec::new),
        };
        if let Some(placeholders) = held {
            return Ok(PortClaim {
                _lock: Some(lock),
                _machine_wide: machine_wide,
                _placeholders: placeholders,
            });
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(Error::PortTaken { port });
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(RECHECK_MAX);
    }
}

/// A port chosen for a run that takes `{port}`, held for a guarded program's user.
pub fn give(proto: Proto, binder: Binder) -> Result<(u16, PortClaim)> {
    let Binder::Guarded(uid) = binder else {
        let port =
            portpicker::pick_unused_port().ok_or_else(|| Error::Internal("no free port".into()))?;
        let claim = PortClaim {
            _lock: None,
            _machine_wide: None,
            _placeholders: Vec::new(),
        };
        return Ok((port, claim));
    };
    for _ in 0..100 {
        let port = CHOSEN.start + (random() % u64::from(CHOSEN.len() as u16)) as u16;
        if let Ok(placeholders) = hold(proto, port, uid) {
            let claim = PortClaim {
                _lock: None,
                _machine_wide: None,
                _placeholders: placeholders,
            };
            return Ok((port, claim));
        }
    }
    Err(Error::Internal(format!(
        "no free {proto} port from {} to {}",
        CHOSEN.start,
        CHOSEN.end - 1
    )))
}

/// A number that differs from run to run (the ports chosen need not be secret: held, they
/// cannot be taken).
fn random() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(Instant::now().elapsed().as_nanos());
    hasher.finish()
}

/// Whether `port` could be bound on all addresses: as the lesson's programs do, without
/// SO_REUSEADDR (so that a connection left in TIME_WAIT counts as taking it), or as the
/// harness does, with it.
pub fn is_free(proto: Proto, port: u16, reuse: bool) -> bool {
    socket2::Socket::new(socket2::Domain::IPV4, kind(proto), None)
        .and_then(|s| {
            s.set_reuse_address(reuse)?;
            s.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)).into())
        })
        .is_ok()
}

fn kind(proto: Proto) -> socket2::Type {
    match proto {
        Proto::Tcp => socket2::Type::STREAM,
        Proto::Udp => socket2::Type::DGRAM,
    }
}

/// A socket holding a port for a run's user.
#[derive(Debug)]
struct Placeholder {
    _socket: OwnedFd,
    inode: u64,
}

/// The inodes of the placeholders this process holds.
static PLACEHOLDERS: Mutex<Option<HashSet<u64>>> = Mutex::new(None);

/// Whether the socket with this inode is a placeholder, not a program's.
pub fn is_placeholder(inode: u64) -> bool {
    PLACEHOLDERS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .is_some_and(|held| held.contains(&inode))
}

/// Holds `port` (IPv4 and IPv6) for `uid`: placeholders bound there, owned by that user.
fn hold(proto: Proto, port: u16, uid: u32) -> std::io::Result<Vec<Placeholder>> {
    let mut held = Vec::new();
    for addr in [
        SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)),
        SocketAddr::from((Ipv6Addr::UNSPECIFIED, port)),
    ] {
        let socket = socket2::Socket::new(socket2::Domain::for_address(addr), kind(proto), None)?;
        if addr.is_ipv6() {
            socket.set_only_v6(true)?;
        }
        socket.set_reuse_port(true)?;
        // Owned by the run's user before it binds: the kernel lets only that user share it.
        std::os::unix::fs::fchown(&socket, Some(uid), Some(uid))?;
        if proto == Proto::Udp {
            every_datagram_to_the_program(&socket)?;
        }
        match socket.bind(&addr.into()) {
            Ok(()) => {}
            // A machine without IPv6 has no IPv6 port to take.
            Err(e) if addr.is_ipv6() && e.raw_os_error() == Some(libc::EADDRNOTAVAIL) => continue,
            Err(e) => return Err(e),
        }
        let socket: OwnedFd = socket.into();
        let inode = std::fs::File::from(socket.try_clone()?).metadata()?.ino();
        PLACEHOLDERS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(HashSet::new)
            .insert(inode);
        held.push(Placeholder {
            _socket: socket,
            inode,
        });
    }
    Ok(held)
}

impl Drop for Placeholder {
    fn drop(&mut self) {
        if let Some(held) = PLACEHOLDERS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            held.remove(&self.inode);
        }
    }
}

/// `SO_ATTACH_REUSEPORT_CBPF`.
const SO_ATTACH_REUSEPORT_CBPF: libc::c_int = 51;

/// A UDP port's datagrams go to one socket of its group: with this filter, to the second
/// (the program's, bound after the placeholder), never to the placeholder while the program
/// has one.
fn every_datagram_to_the_program(socket: &socket2::Socket) -> std::io::Result<()> {
    let mut program = [libc::sock_filter {
        code: (libc::BPF_RET | libc::BPF_K) as u16,
        jt: 0,
        jf: 0,
        k: 1,
    }];
    let fprog = libc::sock_fprog {
        len: 1,
        filter: program.as_mut_ptr(),
    };
    // SAFETY: a filter program of one instruction that outlives the call.
    let ret = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_ATTACH_REUSEPORT_CBPF,
            (&fprog as *const libc::sock_fprog).cast(),
            std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    };
    if ret != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

//! The lesson's fixed ports on the host's one shared loopback. Two runs of programs with
//! port 8000 written in them cannot both have it, so they queue (a lock per port, shared by
//! every socklab process of this user, then one shared by every user's); and a port some
//! other program holds is waited for, a bounded time, rather than given up on at once.

use std::net::{Ipv4Addr, SocketAddr};
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::report::Proto;

use super::locks;

/// The longest pause between two looks at a port someone else holds.
const RECHECK_MAX: Duration = Duration::from_millis(50);

/// How long a run waits for other users' runs of the same port, at most: long enough for
/// a whole lab of theirs; bounded, since anyone may hold that lock.
const OTHER_USERS_PATIENCE: Duration = Duration::from_secs(60);

/// The port, held for one run; dropping it lets the next run have it.
#[derive(Debug)]
pub struct PortClaim {
    _lock: locks::Held,
    _machine_wide: Option<locks::Held>,
}

/// Claims `port` for a run: waits while other socklab runs use it, then up to `patience`
/// for whatever else holds it to let go (nothing tells when a port frees, so it is looked
/// at again, more and more seldom).
pub fn claim(proto: Proto, port: u16, patience: Duration) -> Result<PortClaim> {
    // Ports belong to a network namespace: runs in two containers do not queue.
    let netns = std::fs::metadata("/proc/thread-self/ns/net").map_or(0, |m| m.ino());
    let name = format!("{}-{port}-{netns}.lock", proto.to_string().to_lowercase());
    let lock =
        locks::wait_for(&name).map_err(Error::io(format!("waiting for {proto} port {port}")))?;
    // Always after this user's own lock, so that no two runs wait on each other's.
    let machine_wide = locks::wait_for_shared(&name, OTHER_USERS_PATIENCE);
    let deadline = Instant::now() + patience;
    let mut pause = Duration::from_millis(1);
    while !is_free(proto, port) {
        let now = Instant::now();
        if now >= deadline {
            return Err(Error::PortTaken { port });
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(RECHECK_MAX);
    }
    Ok(PortClaim {
        _lock: lock,
        _machine_wide: machine_wide,
    })
}

/// Whether a program could bind `port` on all addresses as the lesson's do: without
/// SO_REUSEADDR, so that a connection left in TIME_WAIT counts as taking it.
pub fn is_free(proto: Proto, port: u16) -> bool {
    let kind = match proto {
        Proto::Tcp => socket2::Type::STREAM,
        Proto::Udp => socket2::Type::DGRAM,
    };
    socket2::Socket::new(socket2::Domain::IPV4, kind, None)
        .and_then(|s| s.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)).into()))
        .is_ok()
}

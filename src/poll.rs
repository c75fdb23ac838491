//! Waiting for descriptors to be ready: the one helper over poll(2) (through nix) that every
//! wait on a descriptor goes through, so that each ends on an event or its deadline and
//! none sleeps.

use std::os::fd::BorrowedFd;
use std::time::Instant;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};

/// What a wait is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ready {
    /// Something to read, or the other end's close.
    Read,
    /// Room to write.
    Write,
}

/// Waits until one of `fds` is ready as `ready` says, or `until` passes (`None`: no end);
/// returns which are ready (all false when the time ran out, or a signal came).
pub fn wait(fds: &[BorrowedFd<'_>], ready: Ready, until: Option<Instant>) -> Result<Vec<bool>, Errno> {
    let flags = match ready {
        Ready::Read => PollFlags::POLLIN,
        Ready::Write => PollFlags::POLLOUT,
    };
    let mut polled: Vec<PollFd> = fds.iter().map(|fd| PollFd::new(*fd, flags)).collect();
    let timeout = match until {
        // Rounded up, so that a wait never wakes just before its deadline and spins.
        Some(until) => {
            let left = until.saturating_duration_since(Instant::now());
            let millis = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
            PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX)
        }
        None => PollTimeout::NONE,
    };
    match nix::poll::poll(&mut polled, timeout) {
        Ok(_) => Ok(polled
            .iter()
            // Flags nix does not know are an event too.
            .map(|p| p.revents().is_none_or(|r| !r.is_empty()))
            .collect()),
        Err(Errno::EINTR) => Ok(vec![false; fds.len()]),
        Err(e) => Err(e),
    }
}

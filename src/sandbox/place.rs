//! The place one run happens, set up on the run's own thread before the program starts:
//! namespaces where the system allows them; otherwise the host's loopback, with the run's
//! port claimed (the lesson's fixed port, or one chosen for it), and (as root) a sandbox
//! user of the run's own, the guard over its sockets, what it must not see hidden from it,
//! what it must see copied where it can, and a check that it can reach its program at all.
//! Everything a run holds here is let go when the place drops.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::confine::Confinement;
use crate::error::{Error, Result};
use crate::program::Program;
use crate::report::Proto;

use super::account::{self, Access, SandboxAccount, WorkDir};
use super::guard::{self, GuardSpec};
use super::hidden::{self, Hidden};
use super::ports::{self, Binder, PortClaim};
use super::{Entered, Isolation, IsolationLevel};
pub use crate::report::IsolationFloor;

/// What a run asks of its place.
pub struct Wanted<'a> {
    pub floor: IsolationFloor,
    pub proto: Proto,
    pub port: u16,
    /// The port is the lesson's, written in the program (not one socklab chose for it).
    pub fixed_port: bool,
    /// The harness itself binds the port (a client program's lab), not the program.
    pub harness_binds: bool,
    /// How long to wait for a fixed port that something else holds.
    pub patience: Duration,
    pub confinement: &'a Confinement,
}

/// A run's place, held while the run lasts.
#[derive(Debug)]
pub struct Place {
    pub isolation: Isolation,
    /// Things the report should say about the place (why no namespaces, what was hidden).
    pub notices: Vec<String>,
    /// The port the run's program uses: the lesson's, or one chosen for it.
    pub port: u16,
    /// The guard over the program's sockets (uid isolation, where it works).
    pub guard: Option<GuardSpec>,
    /// The program's home and working folder when it is not socklab's.
    pub home: Option<PathBuf>,
    pub cwd: Option<PathBuf>,
    // Held for the run; dropped after the program is gone, in this order: its folder, then
    // its user (whose leftovers go with it), then what was hidden from it, then the port.
    _workdir: Option<WorkDir>,
    _account: Option<SandboxAccount>,
    _hidden: Vec<Hidden>,
    _claim: Option<PortClaim>,
}

impl Place {
    /// A place where the program runs as socklab's own user, in socklab's folders.
    fn shared(isolation: Isolation, port: u16, claim: Option<PortClaim>) -> Place {
        Place {
            notices: isolation.notice().into_iter().collect(),
            isolation,
            port,
            guard: None,
            home: None,
            cwd: None,
            _workdir: None,
            _account: None,
            _hidden: Vec::new(),
            _claim: claim,
        }
    }

    /// Sets up the place for `program` on the calling thread, and returns the program as
    /// it is to be run there (folders it must see may have moved).
    pub fn set_up(wanted: &Wanted, program: &Program) -> Result<(Place, Program)> {
        let entered = super::enter().map_err(|reason| {
            Error::Internal(format!("setting up the run's namespaces: {reason}"))
        })?;
        let reason = match entered {
            Entered::Namespaces => {
                let port = ports::pick(wanted)?;
                let place = Place::shared(Isolation::Namespaces, port, None);
                return Ok((place, program.clone()));
            }
            Entered::Host { reason } => reason,
        };
        let root = nix::unistd::geteuid().is_root();
        let level = if root {
            IsolationLevel::Uid
        } else {
            IsolationLevel::None
        };
        if !wanted.floor.allows(level) {
            return Err(Error::IsolationBelowFloor {
                wanted: wanted.floor,
                got: level,
                reason,
            });
        }
        if !root {
            // Claimed before anything else: runs queue here, and hold nothing else meanwhile.
            let binder = Binder::of(wanted.harness_binds, None);
            let claim = wanted
                .fixed_port
                .then(|| ports::claim(wanted.proto, wanted.port, wanted.patience, binder))
                .transpose()?;
            let port = ports::pick(wanted)?;
            let place = Place::shared(Isolation::None { reason }, port, claim);
            return Ok((place, program.clone()));
        }

        let account = SandboxAccount::take()?;
        let (uid, gid) = (account.uid, account.gid);
        let isolation = Isolation::Uid { reason, uid, gid };
        let mut notices: Vec<String> = isolation.notice().into_iter().collect();
        let guarded = guard::available().map_err(|why| {
            notices.push(format!(
                "outbound connections are not refused, and other programs may take this run's port, here: {why}"
            ));
        });
        // The port is held for the program's user alone, where the guard lets only its own
        // program in (see ports); runs that need a fixed port queue for it.
        let binder = Binder::of(wanted.harness_binds, guarded.is_ok().then_some(uid));
        let (port, claim) = if wanted.fixed_port {
            let claim = ports::claim(wanted.proto, wanted.port, wanted.patience, binder)?;
            (wanted.port, claim)
        } else {
            ports::give(wanted.proto, binder)?
        };
        let guard = guarded.ok().map(|()| GuardSpec { ports: vec![port] });
        let workdir = WorkDir::create(uid, gid)?;
        hidden::tidy();
        let mut hidden = Vec::new();
        for path in &wanted.confinement.hide {
            let (held, notice) = hidden::hide(uid, gid, path)?;
            hidden.extend(held);
            notices.extend(notice);
        }
        let mut program = program.clone();
        for shown in &wanted.confinement.show {
            let copy = workdir.copy_in(shown, uid, gid)?;
            program = program.moved(shown, &copy);
        }
        let cwd = std::env::current_dir().map_err(Error::io("finding the working folder"))?;
        let cwd = check_reach(uid, gid, &program, &cwd, &wanted.confinement.hide)?
            .unwrap_or(workdir.path().to_path_buf());
        let place = Place {
            isolation,
            notices,
            port,
            guard,
            home: Some(workdir.path().to_path_buf()),
            cwd: Some(cwd),
            _workdir: Some(workdir),
            _account: Some(account),
            _hidden: hidden,
            _claim: Some(claim),
        };
        Ok((place, program))
    }
}

/// Checks that the sandbox user can run the program and read the files its arguments
/// name (those not hidden from it on purpose), so that a program it cannot reach is
/// socklab's clear error (exit 2), not the student's failed grade. Returns `cwd` if the
/// program may work there, `None` if it may not and need not (no argument is a path
/// relative to it).
fn check_reach(
    uid: u32,
    gid: u32,
    program: &Program,
    cwd: &Path,
    hidden: &[PathBuf],
) -> Result<Option<PathBuf>> {
    let mut needed = vec![(program.path.clone(), Access::Run)];
    let mut relative = false;
    for arg in program.argv.iter().skip(1) {
        let path = Path::new(arg);
        let hidden_on_purpose = hidden.iter().any(|h| cwd.join(path).starts_with(h));
        if arg.is_empty() || !path.exists() || hidden_on_purpose {
            continue;
        }
        relative |= path.is_relative();
        let access = if path.is_dir() {
            Access::Enter
        } else {
            Access::Read
        };
        needed.push((cwd.join(path), access));
    }
    let cwd_reachable =
        account::first_unreachable(uid, gid, &[(cwd.to_path_buf(), Access::Enter)])?.is_none();
    if relative && !cwd_reachable {
        needed.insert(0, (cwd.to_path_buf(), Access::Enter));
    }
    if let Some((path, access)) = account::first_unreachable(uid, gid, &needed)? {
        return Err(Error::SandboxCannotReach {
            uid,
            path: path.clone(),
            why: account::why_unreachable(uid, gid, path, *access),
        });
    }
    Ok(cwd_reachable.then(|| cwd.to_path_buf()))
}

//! The place one run happens, set up on the run's own thread before the program starts:
//! namespaces where the system allows them, otherwise the host's loopback with the run's
//! port claimed (the lesson's fixed port, or one chosen for it). Either way a folder of the
//! run's own (its work folder); and where socklab is root, a sandbox user of the run's own
//! that the program runs as, the folders it must see copied where that user can read them,
//! what it must not see hidden from it, and a check that it can reach its program at all;
//! on the host, the guard over its sockets. Everything a run holds here is let go when the
//! place drops.

use std::path::PathBuf;
use std::time::Duration;

use crate::confine::Confinement;
use crate::error::{Error, Result};
use crate::limits::{Limits, RunLimits};
use crate::program::Program;
use crate::report::Proto;

use super::account::{FIRST_UID, Reach, SLOTS, SandboxAccount, WorkDir};
use super::guard::{self, GuardSpec};
use super::hidden::{self, Hidden};
use super::ports::{self, Binder, PortClaim};
use super::{Entered, Isolation, IsolationLevel, reach};
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
    /// Ports other runs may need (every lab's fixed port): not the program's to take, where
    /// runs share the host's loopback.
    pub others_ports: Vec<u16>,
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
    /// The user the program runs as when it is not socklab's own: the run's sandbox user.
    pub user: Option<(u32, u32)>,
    /// The run's own folder, its user's alone: the program's home and working folder,
    /// where its submission is copied and a C file built.
    pub workdir: PathBuf,
    /// What the program sees in namespaces: what it was given, the way to what it needs,
    /// its work folder writable.
    pub confinement: Confinement,
    // Held for the run; dropped after the program is gone, in this order: its folder, then
    // its user (whose leftovers go with it), then what was hidden from it, then the port.
    _workdir: Folder,
    _account: Option<SandboxAccount>,
    _hidden: Vec<Hidden>,
    _claim: Option<PortClaim>,
}

/// Who the run's program runs as, and its folder.
struct Own {
    account: Option<SandboxAccount>,
    workdir: Folder,
}

/// The run's own folder: its sandbox user's, or socklab's own user's (already its owner,
/// who may not give it away: in a user namespace without a mapping, even to itself).
#[derive(Debug)]
enum Folder {
    Sandbox(WorkDir),
    Own(tempfile::TempDir),
}

impl Folder {
    fn path(&self) -> &std::path::Path {
        match self {
            Folder::Sandbox(dir) => dir.path(),
            Folder::Own(dir) => dir.path(),
        }
    }
}

impl Own {
    /// In namespaces: a sandbox user of the run's own if `sandboxed`, else socklab's own
    /// user; and a work folder of that user's alone.
    fn take(sandboxed: bool) -> Result<Own> {
        let account = || SandboxAccount::take_for(Reach::OwnNamespaces);
        Own::of(sandboxed.then(account).transpose()?)
    }

    /// The program runs as `account`'s user, or socklab's own; a work folder of its own.
    fn of(account: Option<SandboxAccount>) -> Result<Own> {
        let workdir = match &account {
            Some(account) => Folder::Sandbox(WorkDir::create(account.uid, account.gid)?),
            None => Folder::Own(
                tempfile::Builder::new()
                    .prefix("socklab-run-")
                    .tempdir()
                    .map_err(Error::io("making the program's own folder"))?,
            ),
        };
        Ok(Own { account, workdir })
    }

    fn user(&self) -> Option<(u32, u32)> {
        self.account.as_ref().map(|a| (a.uid, a.gid))
    }

    /// `program` with the folders it must see (its submission) copied into the work folder,
    /// owned by the run's user, who may not read them in place.
    fn copy_in(&self, shown: &[PathBuf], program: Program) -> Result<Program> {
        let (Some((uid, gid)), Folder::Sandbox(workdir)) = (self.user(), &self.workdir) else {
            return Ok(program);
        };
        let mut program = program;
        for folder in shown {
            let copy = workdir.copy_in(folder, uid, gid)?;
            program = program.moved(folder, &copy);
        }
        Ok(program)
    }

    /// The place of a run here, on `port`, which `claim` holds; what it says, sees and
    /// hides besides is set after.
    fn into_place(self, isolation: Isolation, port: u16, claim: Option<PortClaim>) -> Place {
        Place {
            notices: isolation.notice().into_iter().collect(),
            isolation,
            port,
            guard: None,
            user: self.user(),
            workdir: self.workdir.path().to_path_buf(),
            confinement: Confinement::default(),
            _workdir: self.workdir,
            _account: self.account,
            _hidden: Vec::new(),
            _claim: claim,
        }
    }
}

/// Whether socklab may give the program a sandbox user: it is root on the host, and the
/// sandbox uids exist where it is (a container's user namespace may map only a few).
fn sandbox_users_here() -> bool {
    let mapped = std::fs::read_to_string("/proc/self/uid_map").is_ok_and(|map| {
        map.lines().any(|line| {
            let numbers: Vec<u64> = line
                .split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect();
            matches!(numbers[..], [inside, _, count]
                if inside <= u64::from(FIRST_UID)
                    && u64::from(FIRST_UID + SLOTS) <= inside + count)
        })
    });
    super::real_ids().0 == 0 && nix::unistd::geteuid().is_root() && mapped
}

impl Place {
    /// Sets up the place for `program` on the calling thread, and returns the program as
    /// it is to be run there (its paths absolute; folders it must see may have moved).
    pub fn set_up(wanted: &Wanted, program: &Program) -> Result<(Place, Program)> {
        let entered = super::enter().map_err(|reason| {
            Error::Internal(format!("setting up the run's namespaces: {reason}"))
        })?;
        let program = program.absolute();
        match entered {
            Entered::Namespaces => Place::in_namespaces(wanted, program),
            Entered::Host { reason } => Place::on_host(wanted, program, reason),
        }
    }

    /// Namespaces: as root, the program runs as a sandbox user, so that what only root may
    /// open stays closed to it by ordinary permissions as well as by the mounts.
    fn in_namespaces(wanted: &Wanted, program: Program) -> Result<(Place, Program)> {
        let own = Own::take(sandbox_users_here())?;
        let port = ports::pick(wanted)?;
        let program = own.copy_in(&wanted.confinement.show, program)?;
        let mut confinement = wanted.confinement.clone();
        confinement.writable.push(own.workdir.path().to_path_buf());
        reach::open_ways(&mut confinement, &program, own.user())?;
        let mut place = own.into_place(Isolation::Namespaces, port, None);
        place.confinement = confinement;
        Ok((place, program))
    }

    /// The host's loopback: the run's port claimed first; as root, the program runs as a
    /// sandbox user, under the guard where it works, what it must not see closed to other
    /// users.
    fn on_host(wanted: &Wanted, program: Program, reason: String) -> Result<(Place, Program)> {
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
            let place = Own::of(None)?.into_place(Isolation::None { reason }, port, claim);
            return Ok((place, program));
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
        let own = Own::of(Some(account))?;
        hidden::tidy();
        let mut hidden = Vec::new();
        for path in &wanted.confinement.hide {
            let (held, notice) = hidden::hide(uid, gid, path)?;
            hidden.extend(held);
            notices.extend(notice);
        }
        let program = own.copy_in(&wanted.confinement.show, program)?;
        reach::check(uid, gid, &program, &wanted.confinement.hide)?;
        let mut place = own.into_place(isolation, port, Some(claim));
        place.notices = notices;
        place.guard = guarded.ok().map(|()| GuardSpec {
            ports: vec![port],
            others: wanted.others_ports.clone(),
        });
        place._hidden = hidden;
        Ok((place, program))
    }

    /// The limits of a run here: under uid isolation they hold for the program's user as a
    /// whole, and init forks a helper, as that user, to kill its every process, which must
    /// fit within its process limit.
    pub fn limits(&self, limits: Limits) -> RunLimits {
        let own_user = self.isolation.sandbox_user().map(|(uid, _)| uid);
        RunLimits::set_up(limits, own_user, u32::from(own_user.is_some()))
    }
}

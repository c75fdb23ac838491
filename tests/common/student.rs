//! A student's own machine, for a command the tests run: an ordinary user (a spare uid when
//! the tests run as root), with only PATH, HOME and LANG in its environment, as a new
//! user's shell has, in one of the states an ordinary user's system leaves it in:
//!
//! - user namespaces allowed (Debian, Fedora, WSL2);
//! - refused at creation, as `user.max_user_namespaces=0` does: a seccomp filter makes
//!   `unshare` and `clone` with CLONE_NEWUSER fail with ENOSPC, the kernel's own answer
//!   there (and `clone3` ENOSYS, so that glibc falls back to `clone`);
//! - the state Ubuntu 24.04's AppArmor rule (`kernel.apparmor_restrict_unprivileged_userns`)
//!   leaves a process in: inside a user namespace with no uid mapping and no capabilities
//!   (`unshare -U` and nothing written to its maps), where a network namespace is refused.
//!
//! socklab and what it grades must be reachable by that user wherever the checkout lies (a
//! clone under /root, mode 0700): [`Student::home`] is a world-readable folder with copies
//! of the socklab binary and the example labs.

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

/// The uid (and gid) the student runs as when the tests run as root: no account on this
/// machine names it, and it lies below socklab's sandbox users (61000 and up).
pub const STUDENT_UID: u32 = 4242;

/// What the system lets an ordinary user do with user namespaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Userns {
    Allowed,
    /// `user.max_user_namespaces=0`.
    Refused,
    /// AppArmor's restriction: created, but unmapped and without capabilities.
    Unmapped,
}

/// What the student's runs share: a folder every user may read, holding socklab and the
/// example labs, and a home of the student's own.
pub struct Student {
    pub dir: tempfile::TempDir,
}

impl Student {
    /// The one per test process.
    pub fn get() -> &'static Student {
        static STUDENT: OnceLock<Student> = OnceLock::new();
        STUDENT.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            super::open_to_all(dir.path());
            let bin = dir.path().join("socklab");
            std::fs::copy(assert_cmd::cargo::cargo_bin("socklab"), &bin).unwrap();
            let labs = dir.path().join("labs");
            std::fs::create_dir(&labs).unwrap();
            super::open_to_all(&labs);
            for entry in std::fs::read_dir("grading/labs").unwrap().flatten() {
                std::fs::copy(entry.path(), labs.join(entry.file_name())).unwrap();
            }
            let home = dir.path().join("home");
            std::fs::create_dir(&home).unwrap();
            if nix::unistd::geteuid().is_root() {
                std::os::unix::fs::chown(&home, Some(STUDENT_UID), Some(STUDENT_UID)).unwrap();
            }
            Student { dir }
        })
    }

    pub fn socklab_bin(&self) -> PathBuf {
        self.dir.path().join("socklab")
    }

    pub fn labs(&self) -> PathBuf {
        self.dir.path().join("labs")
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }
}

/// socklab as the student runs it, in `state`; `cwd` must be a folder the student may enter.
pub fn socklab_as_student(state: Userns, cwd: &Path) -> Command {
    let student = Student::get();
    let mut cmd = Command::new(student.socklab_bin());
    as_student(&mut cmd, state);
    cmd.current_dir(cwd);
    cmd
}

/// Makes `cmd` run as the student would run it, in `state`.
pub fn as_student(cmd: &mut Command, state: Userns) -> &mut Command {
    let student = Student::get();
    cmd.env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", student.home())
        .env("LANG", "C.UTF-8");
    let drop_to = nix::unistd::geteuid()
        .is_root()
        .then_some(STUDENT_UID as libc::uid_t);
    let filters = match state {
        Userns::Refused => refuse_user_namespaces(),
        _ => Vec::new(),
    };
    // SAFETY: only raw system calls between fork and exec; everything allocated before.
    unsafe {
        cmd.pre_exec(move || {
            if let Some(id) = drop_to {
                check(libc::setgroups(0, std::ptr::null()))?;
                check(libc::setresgid(id, id, id))?;
                check(libc::setresuid(id, id, id))?;
            }
            if state == Userns::Unmapped {
                // A user namespace, and nothing written to its uid_map or gid_map.
                check(libc::unshare(libc::CLONE_NEWUSER))?;
            }
            if !filters.is_empty() {
                check(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))?;
                for filter in &filters {
                    seccompiler::apply_filter(filter).map_err(std::io::Error::other)?;
                }
            }
            Ok(())
        });
    }
    cmd
}

fn check(ret: libc::c_int) -> std::io::Result<()> {
    if ret < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// ENOSPC for `unshare` and `clone` with CLONE_NEWUSER, as with no user namespaces left to
/// make; ENOSYS for `clone3`.
fn refuse_user_namespaces() -> Vec<BpfProgram> {
    let newuser = || {
        let flag = libc::CLONE_NEWUSER as u64;
        let cond = SeccompCondition::new(
            0,
            SeccompCmpArgLen::Qword,
            SeccompCmpOp::MaskedEq(flag),
            flag,
        )
        .expect("condition");
        vec![SeccompRule::new(vec![cond]).expect("rule")]
    };
    let refused: BTreeMap<i64, Vec<SeccompRule>> =
        [(libc::SYS_unshare, newuser()), (libc::SYS_clone, newuser())]
            .into_iter()
            .collect();
    let clone3 = [(libc::SYS_clone3, Vec::new())].into_iter().collect();
    [(refused, libc::ENOSPC), (clone3, libc::ENOSYS)]
        .into_iter()
        .map(|(rules, errno)| {
            SeccompFilter::new(
                rules,
                SeccompAction::Allow,
                SeccompAction::Errno(errno as u32),
                TargetArch::x86_64,
            )
            .and_then(|f| f.try_into())
            .expect("a valid seccomp filter")
        })
        .collect()
}

//! What keeps a student's program from forging its grade. Its PID namespace already hides
//! socklab's processes (it cannot signal what it cannot name) and its network namespace has
//! loopback only. Here, for the rest:
//!
//! - [`enter`] (run by init, as PID 1 of the run's namespaces, before the program starts):
//!   a private mount namespace where the whole filesystem is read-only, `/proc` shows only
//!   the run's own processes, `/run` (where host daemons keep their sockets) is empty, and
//!   the paths to hide (other submissions, results) are covered by empty tmpfs, except the
//!   paths to show (the submission's own folder).
//! - [`drop_privileges`] (in the program, just before exec): no capabilities at all and no
//!   way to gain any, so it cannot undo those mounts.
//!
//! In namespaces the program keeps uid 0 on purpose: interpreters may live where no other
//! user can reach them (pyenv under /root). Without capabilities, uid 0 is an ordinary user
//! whose every write meets a read-only filesystem. Without namespaces there is no read-only
//! filesystem to lean on, so [`become_user`] makes it the run's sandbox user instead (see
//! [`crate::sandbox::account`]).

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Paths to cover with an empty tmpfs, and paths under them to leave visible.
#[derive(Debug, Clone, Default)]
pub struct Confinement {
    pub hide: Vec<PathBuf>,
    pub show: Vec<PathBuf>,
}

/// Host paths a program never needs and must not reach (daemons' sockets live there).
const ALWAYS_HIDDEN: &[&str] = &["/run"];

/// `mount_setattr(2)`: the same number on every architecture (added in Linux 5.12).
const SYS_MOUNT_SETATTR: libc::c_long = 442;
const MOUNT_ATTR_RDONLY: u64 = 0x1;

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

fn cstr(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| io::Error::other("a path with NUL"))
}

fn check(ret: libc::c_int) -> io::Result<()> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn mount(
    source: &str,
    target: &Path,
    fstype: &str,
    flags: libc::c_ulong,
    data: &str,
) -> io::Result<()> {
    let (source, target, fstype, data) = (
        CString::new(source)?,
        cstr(target)?,
        CString::new(fstype)?,
        CString::new(data)?,
    );
    // SAFETY: all pointers are valid NUL-terminated strings for the call.
    check(unsafe {
        libc::mount(
            source.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            flags,
            data.as_ptr().cast(),
        )
    })
}

/// Sets up the mount namespace of the calling process (init). Errors say which step
/// failed; the caller reports them and the run goes on less confined.
pub fn enter(confinement: &Confinement) -> io::Result<()> {
    let cwd = std::env::current_dir()?;
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)?;
    // Nothing done here may reach the host's mounts.
    mount(
        "none",
        Path::new("/"),
        "",
        libc::MS_REC | libc::MS_PRIVATE,
        "",
    )?;

    // Shown paths are opened before their parents disappear under tmpfs, then bound back.
    let mut shown = Vec::new();
    for path in &confinement.show {
        if let Ok(dir) = std::fs::File::open(path) {
            shown.push((path.clone(), dir));
        }
    }
    let hidden = ALWAYS_HIDDEN
        .iter()
        .map(PathBuf::from)
        .chain(confinement.hide.iter().cloned());
    for path in hidden {
        if !path.is_dir() {
            continue;
        }
        mount(
            "tmpfs",
            &path,
            "tmpfs",
            libc::MS_NOSUID | libc::MS_NODEV,
            "size=1m,mode=755",
        )
        .map_err(|e| io::Error::new(e.kind(), format!("hiding {}: {e}", path.display())))?;
        for (shown_path, dir) in &shown {
            if let Ok(rest) = shown_path.strip_prefix(&path) {
                let target = path.join(rest);
                std::fs::create_dir_all(&target)?;
                let source = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(dir));
                mount(&source, &target, "", libc::MS_BIND | libc::MS_REC, "")?;
            }
        }
    }

    // A /proc of the run's own PID namespace: socklab and the host's processes vanish.
    mount(
        "proc",
        Path::new("/proc"),
        "proc",
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
        "",
    )
    .map_err(|e| io::Error::new(e.kind(), format!("mounting /proc: {e}")))?;

    // Everything read-only, at once and recursively.
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_RDONLY,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    let root = CString::new("/").expect("no NUL");
    // SAFETY: a valid path and a mount_attr of the size passed.
    let ret = unsafe {
        libc::syscall(
            SYS_MOUNT_SETATTR,
            libc::AT_FDCWD,
            root.as_ptr(),
            libc::AT_RECURSIVE as libc::c_uint,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if ret < 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(
            e.kind(),
            format!("making the filesystem read-only: {e}"),
        ));
    }

    // The working directory may lie under a hidden path: look it up again through the new
    // mounts (a hidden one ends on the empty tmpfs, or at /).
    if std::env::set_current_dir(&cwd).is_err() {
        std::env::set_current_dir("/")?;
    }
    Ok(())
}

/// Drops every capability the process has, for good: bounding set, ambient, effective,
/// permitted and inheritable, with no_new_privs so that no exec (setuid or not) brings any
/// back. A process with no capabilities (an ordinary user on the host, or in a user
/// namespace that gave it none, as AppArmor's restriction does) has nothing to drop and may
/// not touch its bounding set: no_new_privs alone keeps it from gaining any.
/// Async-signal-safe: only prctl, capget and capset, for use between fork and exec.
pub fn drop_privileges() -> io::Result<()> {
    const CAP_SETPCAP: u32 = 8;
    // SAFETY: prctl with plain integer arguments.
    unsafe {
        check(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))?;
        if effective_capabilities()? & (1 << CAP_SETPCAP) != 0 {
            let mut cap = 0;
            // Dropping past the last capability the kernel knows fails with EINVAL: done.
            while libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) == 0 {
                cap += 1;
            }
            if cap == 0 {
                return Err(io::Error::last_os_error());
            }
        }
        // Clearing the ambient set needs no privilege.
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        );
    }
    // Lowering one's capabilities to none is always allowed.
    set_capabilities(0)
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const CAP_VERSION_3: u32 = 0x2008_0522;

/// The calling process's effective capabilities (bit N is capability N): capget(2).
fn effective_capabilities() -> io::Result<u64> {
    let header = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: a header and two data structs of the layout capget(2) fills.
    if unsafe {
        libc::syscall(
            libc::SYS_capget,
            &header as *const CapHeader,
            data.as_mut_ptr(),
        )
    } < 0
    {
        return Err(io::Error::last_os_error());
    }
    Ok(u64::from(data[0].effective) | u64::from(data[1].effective) << 32)
}

/// Sets the calling process's effective and permitted capabilities to `mask` (bit N is
/// capability N) and its inheritable ones to none: capset(2), async-signal-safe.
pub fn set_capabilities(mask: u64) -> io::Result<()> {
    let header = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let half = |bits: u32| CapData {
        effective: bits,
        permitted: bits,
        inheritable: 0,
    };
    let data = [half(mask as u32), half((mask >> 32) as u32)];
    // SAFETY: a header and two data structs of the layout capset(2) takes.
    if unsafe { libc::syscall(libc::SYS_capset, &header as *const CapHeader, data.as_ptr()) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Makes the calling process `uid`:`gid` with no supplementary groups and no way back: the
/// bounding set emptied and no_new_privs (so no setuid binary gives root back), then the
/// switch of user, which clears every capability. Async-signal-safe, for use between fork
/// and exec.
pub fn become_user(uid: u32, gid: u32) -> io::Result<()> {
    // SAFETY: prctl and the set*id calls take plain integers.
    unsafe {
        check(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))?;
        let mut cap = 0;
        while libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) == 0 {
            cap += 1;
        }
        check(libc::setgroups(0, std::ptr::null()))?;
        check(libc::setresgid(gid, gid, gid))?;
        check(libc::setresuid(uid, uid, uid))?;
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        );
        // The switch cleared every capability; a process that kept any must not run.
        if libc::geteuid() != uid || libc::setresuid(0, 0, 0) == 0 {
            return Err(io::Error::other(
                "the switch of user left a way back to root",
            ));
        }
    }
    Ok(())
}

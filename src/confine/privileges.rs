//! What the program may do as a process: no capabilities and no way to gain any, the run's
//! own user where it has one, and a session keyring of its own. Everything here is for use
//! between fork and exec: only system calls, nothing allocated.

use std::io;

fn check(ret: libc::c_int) -> io::Result<()> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
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

/// Gives the calling process a new, empty session keyring, so that nothing socklab's own
/// session holds (tokens, keys) reaches the program. Where this process may not use
/// keyrings at all (Docker's seccomp profile refuses keyctl), neither may the program:
/// nothing to do. Otherwise a failure is an error only when `strict` (the program runs as a
/// user of its own); running as socklab's own user, the keyring is that user's anyway.
pub fn own_keyring(strict: bool) -> io::Result<()> {
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    // SAFETY: keyctl with a NULL name: a new anonymous session keyring.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_JOIN_SESSION_KEYRING,
            std::ptr::null::<libc::c_char>(),
        )
    };
    if ret >= 0 {
        return Ok(());
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::ENOSYS | libc::EPERM) => Ok(()),
        _ if !strict => Ok(()),
        _ => Err(e),
    }
}

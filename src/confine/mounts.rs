//! The mount system calls a confinement is made of, each returning an `io::Result` that says
//! which path it was about.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

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

/// The error of the last call, saying what it was doing and where.
fn failed(what: &str, path: &Path) -> io::Error {
    let e = io::Error::last_os_error();
    io::Error::new(e.kind(), format!("{what} {}: {e}", path.display()))
}

fn mount(
    source: &CString,
    target: &Path,
    fstype: &str,
    flags: libc::c_ulong,
    data: &str,
    what: &str,
) -> io::Result<()> {
    let (c_target, fstype, data) = (cstr(target)?, CString::new(fstype)?, CString::new(data)?);
    // SAFETY: all pointers are valid NUL-terminated strings for the call.
    let ret = unsafe {
        libc::mount(
            source.as_ptr(),
            c_target.as_ptr(),
            fstype.as_ptr(),
            flags,
            data.as_ptr().cast(),
        )
    };
    if ret < 0 {
        return Err(failed(what, target));
    }
    Ok(())
}

/// Makes every mount below `/` private to this mount namespace: nothing done here reaches
/// the host's.
pub fn make_private() -> io::Result<()> {
    mount(
        &CString::from(c"none"),
        Path::new("/"),
        "",
        libc::MS_REC | libc::MS_PRIVATE,
        "",
        "making private",
    )
}

/// A fresh tmpfs at `target`, with `options` (`mode=755,size=1m`).
pub fn tmpfs(target: &Path, options: &str) -> io::Result<()> {
    mount(
        &CString::from(c"tmpfs"),
        target,
        "tmpfs",
        libc::MS_NOSUID | libc::MS_NODEV,
        options,
        "covering",
    )
}

/// Binds what `source` (opened before anything covered it) is onto `target`, with what is
/// mounted below it.
pub fn bind(source: BorrowedFd, target: &Path) -> io::Result<()> {
    let from = CString::new(format!("/proc/self/fd/{}", source.as_raw_fd()))?;
    mount(
        &from,
        target,
        "",
        libc::MS_BIND | libc::MS_REC,
        "",
        "binding",
    )
}

/// A /proc of the calling process's PID namespace at /proc, with `options`.
pub fn proc(options: &str) -> io::Result<()> {
    mount(
        &CString::from(c"proc"),
        Path::new("/proc"),
        "proc",
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
        options,
        "mounting",
    )
}

/// Makes the mount at `target` read-only or writable; with `recursive`, every mount below
/// it too.
pub fn set_read_only(target: &Path, read_only: bool, recursive: bool) -> io::Result<()> {
    let attr = MountAttr {
        attr_set: if read_only { MOUNT_ATTR_RDONLY } else { 0 },
        attr_clr: if read_only { 0 } else { MOUNT_ATTR_RDONLY },
        propagation: 0,
        userns_fd: 0,
    };
    let flags = if recursive { libc::AT_RECURSIVE } else { 0 };
    let c_target = cstr(target)?;
    // SAFETY: a valid path and a mount_attr of the size passed.
    let ret = unsafe {
        libc::syscall(
            SYS_MOUNT_SETATTR,
            libc::AT_FDCWD,
            c_target.as_ptr(),
            flags as libc::c_uint,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if ret < 0 {
        let what = if read_only {
            "making read-only"
        } else {
            "making writable"
        };
        return Err(failed(what, target));
    }
    Ok(())
}

//! The sandbox users socklab runs programs as (at the uid level, and under user namespaces
//! too): their range of uids, and acting as one of them (signalling every process of a
//! user is done as that user, so that nothing else can be reached).

use std::io;

/// The first sandbox uid (and gid).
pub const FIRST_UID: u32 = 61_000;
/// How many sandbox users there are: how many runs may be graded at once this way, and how
/// many runs go by before a uid is used again.
pub const SLOTS: u32 = 1_000;

/// Runs `body` in a forked child that has become `uid`:`gid` with no supplementary groups,
/// and returns its exit code. `body` may make only async-signal-safe calls (no allocation).
pub(super) fn as_user(uid: u32, gid: u32, body: &dyn Fn() -> i32) -> io::Result<i32> {
    // SAFETY: the child makes raw system calls only, then _exit; the parent waits for it.
    unsafe {
        match libc::fork() {
            -1 => Err(io::Error::last_os_error()),
            0 => {
                let code = if libc::syscall(libc::SYS_setgroups, 0, std::ptr::null::<u32>()) != 0
                    || libc::syscall(libc::SYS_setresgid, gid, gid, gid) != 0
                    || libc::syscall(libc::SYS_setresuid, uid, uid, uid) != 0
                {
                    126
                } else {
                    body()
                };
                libc::_exit(code)
            }
            child => {
                let mut status = 0;
                while libc::waitpid(child, &mut status, 0) < 0 {
                    let e = io::Error::last_os_error();
                    if e.kind() != io::ErrorKind::Interrupted {
                        return Err(e);
                    }
                }
                match libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)) {
                    Some(126) => Err(io::Error::other(format!("cannot become uid {uid}"))),
                    Some(code) => Ok(code),
                    None => Err(io::Error::other("the helper process was killed")),
                }
            }
        }
    }
}

/// Sends `signal` to every process of `uid`.
pub fn signal_all(uid: u32, signal: i32) -> io::Result<()> {
    // kill(-1) reaches every process the sender may signal: for an unprivileged user, its
    // own (the sender aside).
    // SAFETY: kill is async-signal-safe.
    as_user(uid, uid, &|| unsafe {
        libc::kill(-1, signal);
        0
    })
    .map(drop)
}

/// Kills every process of `uid`. One SIGKILL to them all is enough: a dying process cannot
/// fork, and one forking at that moment has its child killed too. Sent three times to be
/// sure; the dead are reaped by whoever is their parent (init, as a subreaper).
pub fn kill_all(uid: u32) -> io::Result<()> {
    // SAFETY: kill is async-signal-safe.
    as_user(uid, uid, &|| unsafe {
        for _ in 0..3 {
            libc::kill(-1, libc::SIGKILL);
        }
        0
    })
    .map(drop)
}

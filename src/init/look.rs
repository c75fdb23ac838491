//! Looking at the program's threads on the harness's behalf (see [`crate::stuck`]), where
//! the harness may not: as root without CAP_SYS_PTRACE (Docker's default, Gradescope's
//! case), it may not read another user's `/proc/PID/syscall` or descriptors, nor take a
//! duplicate of a socket to read its timeout. Init may: it is the program's ancestor (as
//! Yama's ptrace_scope 1 wants), and for the moment of a look it takes the program's user as
//! its real and filesystem ids, which is what the kernel compares (its effective uid stays
//! root, so it can switch back). The program could signal init during that moment; it would
//! gain nothing, since init's end is the end of the program's own run.
//!
//! The harness asks with SIGUSR2; init answers with [`super::protocol::Status::Looked`] (see [`super::protocol::Request::Look`]).

use crate::stuck::{self, Look};

/// One look at `pids`, as `user` where the program runs as a user of its own.
pub fn look_at(pids: &[i32], user: Option<(u32, u32)>) -> Option<Look> {
    let _as_program = user.map(|(uid, gid)| AsProgram::enter(uid, gid));
    stuck::look(pids)
}

/// Init's real and filesystem ids set to the program's until dropped.
struct AsProgram;

impl AsProgram {
    fn enter(uid: u32, gid: u32) -> AsProgram {
        // SAFETY: plain system calls on init's own credentials (init is single-threaded);
        // -1 leaves an id as it is.
        unsafe {
            libc::syscall(libc::SYS_setresgid, gid, u32::MAX, u32::MAX);
            libc::syscall(libc::SYS_setresuid, uid, u32::MAX, u32::MAX);
            libc::syscall(libc::SYS_setfsgid, gid);
            libc::syscall(libc::SYS_setfsuid, uid);
        }
        AsProgram
    }
}

impl Drop for AsProgram {
    fn drop(&mut self) {
        // SAFETY: as above; the effective uid stayed 0, so root's ids may be taken back.
        unsafe {
            libc::syscall(libc::SYS_setfsuid, 0);
            libc::syscall(libc::SYS_setfsgid, 0);
            libc::syscall(libc::SYS_setresuid, 0, u32::MAX, u32::MAX);
            libc::syscall(libc::SYS_setresgid, 0, u32::MAX, u32::MAX);
        }
    }
}

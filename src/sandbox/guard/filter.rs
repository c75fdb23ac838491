//! The seccomp filter the program runs under at the uid level: classic BPF, written out
//! here (seccompiler, the filter crate the tests use, has no user-notification action). It
//! hands the guard ([`super`]) every socket of the Internet families to make, every bind
//! and every sendmsg to look at; keeps SO_REUSEADDR and SO_REUSEPORT as the guard set them
//! (a program's setsockopt of them succeeds and changes nothing); refuses io_uring, whose
//! operations would bypass all of it; and refuses any system call of another ABI (i386's,
//! x32's), which would bypass it too.
//!
//! The filter's listener goes to the guard over a unix socket, with sendmsg, which the
//! filter hands to the guard: so sendmsg on that socket's descriptor is let through, and
//! a second filter, put on once it is sent, refuses sendmsg on that descriptor number for
//! good (a filter refusing outranks one asking the guard).

use libc::sock_filter;

/// `AUDIT_ARCH_X86_64`.
const ARCH_X86_64: u32 = 0xC000_003E;
/// x32 system calls are x86_64's numbers with this bit set.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;
/// Offsets in `struct seccomp_data`: the call's number, its ABI, its arguments (the low
/// 32 bits of each, on a little-endian machine).
const NR: u32 = 0;
const ARCH: u32 = 4;
fn arg(i: u32) -> u32 {
    16 + 8 * i
}

const LD_W_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
const JEQ_K: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
const JGE_K: u16 = (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16;
const RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;

/// Where a test leads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Label {
    Next,
    Sending,
    Refuse,
    Socket,
    Setsockopt,
    Allow,
    Notify,
    NoSuchCall,
    Unchanged,
}

enum Op {
    Load(u32),
    /// Jump to the first label if the loaded word is `k` (or at least `k`), else the second.
    Eq(u32, Label, Label),
    AtLeast(u32, Label, Label),
    Here(Label),
    Return(u32),
}

/// SO_RCVTIMEO's two numbers on x86_64: the `timeval` one and the 64-bit time one.
const SO_RCVTIMEO_OLD: u32 = 20;
const SO_RCVTIMEO_NEW: u32 = 66;

/// The filter, ready for `seccomp(SECCOMP_SET_MODE_FILTER)`; sendmsg on `handoff`, the
/// descriptor the listener leaves by, goes through.
pub fn program(handoff: i32) -> Vec<sock_filter> {
    use Label::*;
    use Op::*;
    let syscall = |nr: libc::c_long| nr as u32;
    let ops = [
        Load(ARCH),
        Eq(ARCH_X86_64, Next, NoSuchCall),
        Load(NR),
        AtLeast(X32_SYSCALL_BIT, NoSuchCall, Next),
        Eq(syscall(libc::SYS_socket), Socket, Next),
        Eq(syscall(libc::SYS_bind), Notify, Next),
        Eq(syscall(libc::SYS_sendmsg), Sending, Next),
        Eq(syscall(libc::SYS_sendmmsg), Notify, Next),
        Eq(syscall(libc::SYS_io_uring_setup), NoSuchCall, Next),
        Eq(syscall(libc::SYS_setsockopt), Setsockopt, Allow),
        Here(Sending),
        Load(arg(0)),
        Eq(handoff as u32, Allow, Notify),
        Here(Socket),
        Load(arg(0)),
        Eq(libc::AF_INET as u32, Notify, Next),
        Eq(libc::AF_INET6 as u32, Notify, Allow),
        Here(Setsockopt),
        Load(arg(1)),
        Eq(libc::SOL_SOCKET as u32, Next, Allow),
        Load(arg(2)),
        Eq(libc::SO_REUSEADDR as u32, Unchanged, Next),
        Eq(libc::SO_REUSEPORT as u32, Unchanged, Next),
        // A receive timeout is the guard's to witness (see `guard::receive_timeouts`).
        Eq(SO_RCVTIMEO_OLD, Notify, Next),
        Eq(SO_RCVTIMEO_NEW, Notify, Allow),
        Here(Allow),
        Return(libc::SECCOMP_RET_ALLOW),
        Here(Notify),
        Return(libc::SECCOMP_RET_USER_NOTIF),
        Here(NoSuchCall),
        Return(libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32),
        Here(Unchanged),
        // An error of 0: the call returns success without being made.
        Return(libc::SECCOMP_RET_ERRNO),
    ];
    assemble(&ops)
}

/// The second filter: sendmsg and sendmmsg on `handoff` refused from now on.
pub fn after_handoff(handoff: i32) -> Vec<sock_filter> {
    use Label::*;
    use Op::*;
    let ops = [
        Load(NR),
        Eq(libc::SYS_sendmsg as u32, Sending, Next),
        Eq(libc::SYS_sendmmsg as u32, Sending, Allow),
        Here(Sending),
        Load(arg(0)),
        Eq(handoff as u32, Refuse, Allow),
        Here(Allow),
        Return(libc::SECCOMP_RET_ALLOW),
        Here(Refuse),
        Return(libc::SECCOMP_RET_ERRNO | libc::EBADF as u32),
    ];
    assemble(&ops)
}

/// Turns labels into the relative jumps BPF takes.
fn assemble(ops: &[Op]) -> Vec<sock_filter> {
    // Where each label lands: the index of the next instruction after it.
    let mut at = Vec::new();
    let mut index = 0u32;
    for op in ops {
        match op {
            Op::Here(label) => at.push((*label, index)),
            _ => index += 1,
        }
    }
    let target = |label: Label, me: u32| -> u8 {
        let to = match label {
            Label::Next => me + 1,
            other => at.iter().find(|(l, _)| *l == other).expect("a label placed").1,
        };
        u8::try_from(to - me - 1).expect("a short jump")
    };
    let mut program = Vec::new();
    for op in ops {
        let me = program.len() as u32;
        let (code, k, jt, jf) = match *op {
            Op::Here(_) => continue,
            Op::Load(offset) => (LD_W_ABS, offset, 0, 0),
            Op::Eq(k, yes, no) => (JEQ_K, k, target(yes, me), target(no, me)),
            Op::AtLeast(k, yes, no) => (JGE_K, k, target(yes, me), target(no, me)),
            Op::Return(action) => (RET_K, action, 0, 0),
        };
        program.push(sock_filter { code, jt, jf, k });
    }
    program
}

//! A Docker-like container for a command the tests run, built from the same kernel features
//! Docker's defaults use, so that socklab meets what it meets on Gradescope (one container
//! per submission, socklab as root):
//!
//! - its own network namespace with loopback up (a container's loopback is its own) and its
//!   own mount namespace, where the cgroup filesystems are read-only (Docker mounts
//!   /sys/fs/cgroup read-only);
//! - capabilities cut to Docker's default set (in the bounding set too, so exec gives no
//!   more), and no_new_privs;
//! - a seccomp filter that refuses, as Docker's default profile does, `unshare`, `setns`,
//!   the mount system calls (old and new API), `pivot_root`, `pidfd_getfd` and `kcmp`, and
//!   `clone` with any namespace flag (EPERM), and `clone3` (ENOSYS, so that glibc falls back
//!   to `clone`).
//!
//! Docker's profile refuses far more (keyctl, bpf, ...); these are the calls that decide
//! how socklab isolates a run.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::Command;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

/// Docker's default capabilities (moby's `oci/caps/defaults.go`).
const DOCKER_CAPS: &[u32] = &[
    0,  // CAP_CHOWN
    1,  // CAP_DAC_OVERRIDE
    3,  // CAP_FOWNER
    4,  // CAP_FSETID
    5,  // CAP_KILL
    6,  // CAP_SETGID
    7,  // CAP_SETUID
    8,  // CAP_SETPCAP
    10, // CAP_NET_BIND_SERVICE
    13, // CAP_NET_RAW
    18, // CAP_SYS_CHROOT
    27, // CAP_MKNOD
    29, // CAP_AUDIT_WRITE
    31, // CAP_SETFCAP
];

/// Every namespace flag `clone` takes.
const NAMESPACE_FLAGS: &[u64] = &[
    libc::CLONE_NEWNS as u64,
    libc::CLONE_NEWUTS as u64,
    libc::CLONE_NEWIPC as u64,
    libc::CLONE_NEWUSER as u64,
    libc::CLONE_NEWPID as u64,
    libc::CLONE_NEWNET as u64,
    libc::CLONE_NEWCGROUP as u64,
];

/// System calls Docker's profile refuses without CAP_SYS_ADMIN (or, the first two,
/// CAP_SYS_PTRACE: no taking another process's descriptors).
const REFUSED: &[i64] = &[
    libc::SYS_pidfd_getfd,
    libc::SYS_kcmp,
    libc::SYS_unshare,
    libc::SYS_setns,
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_mount_setattr,
    libc::SYS_open_tree,
    libc::SYS_move_mount,
    libc::SYS_fsopen,
    libc::SYS_fsconfig,
    libc::SYS_fsmount,
    libc::SYS_fspick,
];

fn filter(rules: BTreeMap<i64, Vec<SeccompRule>>, errno: i32) -> BpfProgram {
    SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(errno as u32),
        TargetArch::x86_64,
    )
    .and_then(|f| f.try_into())
    .expect("a valid seccomp filter")
}

/// The two filters: EPERM for the refused calls and namespaced clones, ENOSYS for clone3.
fn filters() -> Vec<BpfProgram> {
    let mut refused: BTreeMap<i64, Vec<SeccompRule>> =
        REFUSED.iter().map(|&call| (call, Vec::new())).collect();
    refused.insert(
        libc::SYS_clone,
        NAMESPACE_FLAGS
            .iter()
            .map(|&flag| {
                let cond = SeccompCondition::new(
                    0,
                    SeccompCmpArgLen::Qword,
                    SeccompCmpOp::MaskedEq(flag),
                    flag,
                )
                .expect("condition");
                SeccompRule::new(vec![cond]).expect("rule")
            })
            .collect(),
    );
    let clone3 = [(libc::SYS_clone3, Vec::new())].into_iter().collect();
    vec![filter(refused, libc::EPERM), filter(clone3, libc::ENOSYS)]
}

/// Mount points of the cgroup filesystems (and /sys/fs/cgroup itself), to make read-only.
fn cgroup_mounts() -> Vec<CString> {
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    let mut found: Vec<CString> = mounts
        .lines()
        .filter_map(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            let dir = fields.get(1)?;
            dir.starts_with("/sys/fs/cgroup")
                .then(|| CString::new(*dir).unwrap())
        })
        .collect();
    // Deepest first: remounting a parent read-only does not touch mounts below it anyway.
    found.sort_by_key(|d| std::cmp::Reverse(d.as_bytes().len()));
    found
}

fn check(ret: libc::c_int) -> std::io::Result<()> {
    if ret < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Makes `cmd` run as in a Docker container with its default confinement. The caller must
/// be root (as socklab is on Gradescope).
pub fn docker_like(cmd: &mut Command) -> &mut Command {
    docker_like_in(cmd, None)
}

/// [`docker_like`], in the network namespace at `netns` (one `ip netns add` made, joined to
/// another by a link) rather than a new one with loopback only.
pub fn docker_like_in<'a>(
    cmd: &'a mut Command,
    netns: Option<&std::path::Path>,
) -> &'a mut Command {
    let netns = netns.map(|p| std::fs::File::open(p).expect("the network namespace"));
    let filters = filters();
    let cgroups = cgroup_mounts();
    let keep: u64 = DOCKER_CAPS.iter().map(|&c| 1u64 << c).sum();
    // SAFETY: only raw system calls between fork and exec; everything allocated before.
    unsafe {
        cmd.pre_exec(move || {
            match &netns {
                Some(netns) => {
                    check(libc::setns(netns.as_raw_fd(), libc::CLONE_NEWNET))?;
                    check(libc::unshare(libc::CLONE_NEWNS))?;
                }
                None => check(libc::unshare(libc::CLONE_NEWNS | libc::CLONE_NEWNET))?,
            }
            check(libc::mount(
                c"none".as_ptr(),
                c"/".as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ))?;
            for dir in &cgroups {
                check(libc::mount(
                    std::ptr::null(),
                    dir.as_ptr(),
                    std::ptr::null(),
                    libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY,
                    std::ptr::null(),
                ))?;
            }
            loopback_up()?;
            // The bounding set first (dropping needs CAP_SETPCAP, which Docker keeps).
            let mut cap = 0;
            while libc::prctl(libc::PR_CAPBSET_READ, cap, 0, 0, 0) >= 0 {
                if keep & (1 << cap) == 0 {
                    check(libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0))?;
                }
                cap += 1;
            }
            socklab::confine::set_capabilities(keep)?;
            check(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))?;
            for filter in &filters {
                seccompiler::apply_filter(filter).map_err(std::io::Error::other)?;
            }
            Ok(())
        });
    }
    cmd
}

/// Brings the new network namespace's loopback up, as a container's is.
unsafe fn loopback_up() -> std::io::Result<()> {
    // SAFETY: a socket and two ioctls on a zeroed ifreq naming "lo".
    unsafe {
        let sock = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        check(sock)?;
        let mut ifr: libc::ifreq = std::mem::zeroed();
        for (dst, src) in ifr.ifr_name.iter_mut().zip(b"lo\0") {
            *dst = *src as libc::c_char;
        }
        check(libc::ioctl(sock, libc::SIOCGIFFLAGS, &mut ifr))?;
        ifr.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        check(libc::ioctl(sock, libc::SIOCSIFFLAGS, &ifr))?;
        libc::close(sock);
    }
    Ok(())
}

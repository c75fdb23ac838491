//! No way out of a run. Programs that serve serv_simple correctly while making one attempt
//! to reach outside their run (fixtures/hostile/attempt.py), graded by root in namespaces
//! and in a Docker-like container (uid isolation, as on Gradescope). After each, nothing
//! moved: what the attempt was after is in no report format, the program still got full
//! marks (an attempt that got anything prints it in place of the client's message), and
//! whatever it tried to write is unchanged. (C files that try it when compiled:
//! tests/compiling_in_the_run.rs.)

mod common;

use std::ffi::CString;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use common::Place;
use common::attempts::{at, attempt, file_of_roots, open_folder, secret};
use rstest::rstest;

/// A root-only file (mode 0600), in a folder everyone may enter, read and printed.
#[rstest]
fn a_root_only_file_is_closed(#[values(Place::Namespaces, Place::Docker)] place: Place) {
    let secret = secret();
    let dir = open_folder();
    let file = file_of_roots(dir.path(), "root-only.txt", &secret, 0o600);
    attempt(place, "read", &[at(&file)], &[], |_| {}).assert_held(&secret);
}

/// A secret in socklab's own environment printed. The program's environment is the
/// documented one, it is not uid 0, and its working folder is not socklab's.
#[rstest]
fn socklabs_environment_stays_socklabs(#[values(Place::Namespaces, Place::Docker)] place: Place) {
    let secret = secret();
    let graded = attempt(place, "env", &["SOCKLAB_TEST_SECRET".into()], &[], |cmd| {
        cmd.env("SOCKLAB_TEST_SECRET", &secret);
    });
    graded.assert_held(&secret);
    assert_eq!(graded.info("env"), "HOME,LANG,PATH,TERM");
    let uid: u32 = graded.info("uid").parse().unwrap();
    assert_ne!(uid, 0, "the program ran as root");
    let cwd = graded.info("cwd");
    let own = std::env::current_dir().unwrap();
    assert_ne!(
        Path::new(&cwd),
        own,
        "the program works in socklab's folder"
    );
    if place == Place::Namespaces {
        assert_eq!(
            graded.info("dev"),
            "fd,null,pts,random,shm,stderr,stdin,stdout,tty,urandom,zero"
        );
    }
}

/// A descriptor socklab's parent left open (a root-only file, fd 7) written through.
#[rstest]
fn a_descriptor_left_open_is_closed(#[values(Place::Namespaces, Place::Docker)] place: Place) {
    let dir = open_folder();
    let file = file_of_roots(dir.path(), "log.txt", "root's log\n", 0o600);
    let open = std::fs::OpenOptions::new()
        .append(true)
        .open(&file)
        .unwrap();
    let fd = open.as_raw_fd();
    let graded = attempt(place, "write-fd", &["7".into()], &[], |cmd| {
        // SAFETY: dup2 between fork and exec; the new descriptor is not close-on-exec.
        unsafe {
            cmd.pre_exec(move || {
                if libc::dup2(fd, 7) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    });
    graded.assert_held("WROTE");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "root's log\n");
}

/// A unix socket in a folder only root may enter (as a root tmux's is): connected to and
/// written to.
#[rstest]
fn a_root_only_unix_socket_is_closed(#[values(Place::Namespaces, Place::Docker)] place: Place) {
    let dir = open_folder();
    let private = dir.path().join("tmux-0");
    std::fs::create_dir(&private).unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
    let path = private.join("default");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    listener.set_nonblocking(true).unwrap();
    let graded = attempt(place, "unix-socket", &[at(&path)], &[], |_| {});
    graded.assert_held("SENT");
    let accepted = listener.accept();
    assert!(
        accepted
            .as_ref()
            .is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock),
        "the program connected to root's socket: {accepted:?}"
    );
}

/// A terminal of root's (a pty whose slave only root may write) given a fake score.
#[rstest]
fn a_root_terminal_is_closed(#[values(Place::Namespaces, Place::Docker)] place: Place) {
    use nix::fcntl::OFlag;
    let master = nix::pty::posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY).unwrap();
    nix::pty::grantpt(&master).unwrap();
    nix::pty::unlockpt(&master).unwrap();
    let name = nix::pty::ptsname_r(&master).unwrap();
    let _slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&name)
        .unwrap();
    let graded = attempt(place, "terminal", &[format!("@{name}")], &[], |_| {});
    graded.assert_held("WROTE");
    let flags = nix::fcntl::fcntl(&master, nix::fcntl::FcntlArg::F_GETFL).unwrap();
    nix::fcntl::fcntl(
        &master,
        nix::fcntl::FcntlArg::F_SETFL(OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK),
    )
    .unwrap();
    let mut buf = [0u8; 256];
    let read = nix::unistd::read(&master, &mut buf);
    assert_eq!(
        read.map(|n| String::from_utf8_lossy(&buf[..n]).into_owned()),
        Err(nix::errno::Errno::EAGAIN),
        "the program wrote on root's terminal"
    );
}

/// A block device of the machine (its own node in /dev, or one made in a folder everyone
/// may enter where /dev has none), read and opened for writing (never written).
fn a_block_device(dir: &Path) -> PathBuf {
    let mut names: Vec<String> = std::fs::read_dir("/sys/class/block")
        .expect("/sys/class/block")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in &names {
        let node = Path::new("/dev").join(name);
        if std::fs::metadata(&node).is_ok_and(|m| m.file_type().is_block_device()) {
            return node;
        }
    }
    let name = names.first().expect("a block device on this machine");
    let numbers = std::fs::read_to_string(format!("/sys/class/block/{name}/dev")).unwrap();
    let (major, minor) = numbers.trim().split_once(':').unwrap();
    let node = dir.join(name);
    nix::sys::stat::mknod(
        &node,
        nix::sys::stat::SFlag::S_IFBLK,
        nix::sys::stat::Mode::from_bits_truncate(0o660),
        nix::sys::stat::makedev(major.parse().unwrap(), minor.parse().unwrap()),
    )
    .unwrap();
    node
}

#[rstest]
fn block_devices_are_closed(#[values(Place::Namespaces, Place::Docker)] place: Place) {
    let dir = open_folder();
    let device = a_block_device(dir.path());
    attempt(place, "block-device", &[at(&device)], &[], |_| {}).assert_held("BYTES");
}

/// A System V shared memory segment of root's (mode 0600), removed when dropped.
struct Segment(i32);

impl Segment {
    fn holding(key: i32, text: &str) -> Segment {
        // SAFETY: a new segment of 64 bytes, attached, written within its size, detached.
        unsafe {
            let id = libc::shmget(key, 64, libc::IPC_CREAT | libc::IPC_EXCL | 0o600);
            assert!(id >= 0, "shmget: {}", std::io::Error::last_os_error());
            let at = libc::shmat(id, std::ptr::null(), 0);
            assert_ne!(
                at as isize,
                -1,
                "shmat: {}",
                std::io::Error::last_os_error()
            );
            std::ptr::copy_nonoverlapping(text.as_ptr(), at.cast::<u8>(), text.len().min(63));
            libc::shmdt(at);
            Segment(id)
        }
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        // SAFETY: removes the segment this test made.
        unsafe { libc::shmctl(self.0, libc::IPC_RMID, std::ptr::null_mut()) };
    }
}

/// A key no other test of this process uses.
fn ipc_key() -> i32 {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    (0x5c00_0000 | (std::process::id() & 0xffff) << 8 | NEXT.fetch_add(1, Ordering::Relaxed)) as i32
}

#[rstest]
fn root_only_shared_memory_is_closed(#[values(Place::Namespaces, Place::Docker)] place: Place) {
    let secret = secret();
    let key = ipc_key();
    let _segment = Segment::holding(key, &secret);
    attempt(place, "shm", &[key.to_string()], &[], |_| {}).assert_held(&secret);
}

/// A key in the session keyring socklab was started with, searched for and read.
#[rstest]
fn the_session_keyring_stays_socklabs(#[values(Place::Namespaces, Place::Docker)] place: Place) {
    let secret = secret();
    let (kind, name, payload) = (
        CString::new("user").unwrap(),
        CString::new("socklab-test-key").unwrap(),
        secret.clone(),
    );
    let graded = attempt(place, "keyring", &["socklab-test-key".into()], &[], |cmd| {
        // SAFETY: keyctl and add_key between fork and exec, on strings made before.
        unsafe {
            cmd.pre_exec(move || {
                const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
                const KEY_SPEC_SESSION_KEYRING: libc::c_long = -3;
                let joined = libc::syscall(
                    libc::SYS_keyctl,
                    KEYCTL_JOIN_SESSION_KEYRING,
                    std::ptr::null::<libc::c_char>(),
                );
                let added = libc::syscall(
                    libc::SYS_add_key,
                    kind.as_ptr(),
                    name.as_ptr(),
                    payload.as_ptr(),
                    payload.len(),
                    KEY_SPEC_SESSION_KEYRING,
                );
                if joined < 0 || added < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    });
    graded.assert_held(&secret);
}

/// A file given to `--hide` (readable by everyone on the host), read.
#[rstest]
fn a_hidden_file_is_hidden(#[values(Place::Namespaces, Place::Docker)] place: Place) {
    let secret = secret();
    let dir = open_folder();
    let file = file_of_roots(dir.path(), "answers.txt", &secret, 0o644);
    let hide = file.display().to_string();
    attempt(place, "read", &[at(&file)], &["--hide", &hide], |_| {}).assert_held(&secret);
}

/// The instructor's notes in socklab's working folder, read by their name alone.
#[rstest]
fn the_working_folder_is_the_programs_own(
    #[values(Place::Namespaces, Place::Docker)] place: Place,
) {
    let secret = secret();
    let grading = open_folder();
    file_of_roots(grading.path(), "instructor_notes.txt", &secret, 0o644);
    let dir = grading.path().to_path_buf();
    attempt(
        place,
        "read",
        &["@instructor_notes.txt".into()],
        &[],
        |cmd| {
            cmd.current_dir(dir);
        },
    )
    .assert_held(&secret);
}

/// A run leaves its token in /tmp, /var/tmp, /dev/shm and a shared memory segment; the
/// next run finds none of it, and neither does the host. (At the uid level this is the
/// sandbox accounts' to keep: a fresh uid per run, its files and objects removed.)
#[test]
fn nothing_a_run_leaves_reaches_the_next_run() {
    let token = format!("{:08x}", ipc_key());
    let key = i64::from_str_radix(&token, 16).unwrap() as i32 & 0x7fff_ffff;
    let left = attempt(
        Place::Namespaces,
        "leave",
        std::slice::from_ref(&token),
        &[],
        |_| {},
    );
    let found = attempt(
        Place::Namespaces,
        "find",
        std::slice::from_ref(&token),
        &[],
        |_| {},
    );
    let on_host: Vec<PathBuf> = ["/tmp", "/var/tmp", "/dev/shm"]
        .iter()
        .map(|dir| Path::new(dir).join(&token))
        .filter(|file| file.exists())
        .collect();
    // SAFETY: looks up a segment by key, and removes it if the run left it.
    let segment = unsafe { libc::shmget(key, 0, 0) };
    if segment >= 0 {
        unsafe { libc::shmctl(segment, libc::IPC_RMID, std::ptr::null_mut()) };
    }
    for file in &on_host {
        let _ = std::fs::remove_file(file);
    }
    // (The token is in both reports, as the program's argument.)
    left.assert_held("LOOT ");
    found.assert_held("LOOT ");
    assert_eq!(on_host, Vec::<PathBuf>::new(), "files left on the host");
    assert!(segment < 0, "a shared memory segment left on the host");
}

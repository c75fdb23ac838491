//! No way out of a run. Programs that serve serv_simple correctly while making one attempt
//! to reach outside their run (fixtures/hostile/attempt.py), and C submissions that try it
//! when compiled, graded by root in namespaces and in a Docker-like container (uid
//! isolation, as on Gradescope). After each, nothing moved: what the attempt was after is in
//! no report format, the program still got full marks (an attempt that got anything prints
//! it in place of the client's message), and whatever it tried to write is unchanged.

mod common;

use std::ffi::CString;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use common::{Place, exit_code, open_to_all};
use rstest::rstest;
use serde_json::Value;

/// The formats written besides JSON (on stdout), from the same run.
const OTHER_FORMATS: [&str; 5] = ["human", "gradescope", "junit", "classroom", "markdown"];

/// A string found nowhere else: what an attempt is after.
fn secret() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "SECRET-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A temporary folder every user may enter.
fn open_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    open_to_all(dir.path());
    dir
}

/// A file of root's holding `text`, with `mode`.
fn file_of_roots(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
    file
}

/// One grading: socklab's exit code, its JSON report, and every format's text.
struct Graded {
    code: i32,
    json: Value,
    reports: Vec<(String, String)>,
}

impl Graded {
    /// `secret` is in no report.
    fn assert_secret_absent(&self, secret: &str) {
        for (format, text) in &self.reports {
            assert!(
                !text.contains(secret),
                "the {format} report carries {secret}:\n{text}"
            );
        }
    }

    /// The attempt got nothing (`secret` in no report), and the program still served.
    fn assert_held(&self, secret: &str) {
        self.assert_secret_absent(secret);
        assert_eq!(
            (self.code, &self.json["score"]),
            (0, &self.json["max_score"]),
            "{:#}",
            self.json
        );
    }

    /// What the program said of itself on stderr: `uid=... cwd=... env=... dev=...`.
    fn info(&self, key: &str) -> String {
        let tail = self.json["stderr_tail"].as_str().unwrap_or_default();
        let line = tail
            .lines()
            .find_map(|l| l.strip_prefix("INFO "))
            .unwrap_or_else(|| panic!("no INFO line on stderr: {tail}"));
        line.split(' ')
            .find_map(|field| field.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no {key} in {line}"))
            .to_string()
    }
}

/// What `socklab check serv_simple` grades: a student's file, or a command.
enum Subject<'a> {
    File(&'a Path),
    Command(&'a [String]),
}

/// Grades `subject` against serv_simple at `place`, with socklab `options`, `set_up` adding
/// what the test needs to socklab's command.
fn grade(
    place: Place,
    options: &[&str],
    subject: Subject,
    set_up: impl FnOnce(&mut Command),
) -> Graded {
    let out = tempfile::tempdir().unwrap();
    let mut cmd = place.socklab();
    cmd.args(["check", "serv_simple"]);
    if let Subject::File(file) = subject {
        cmd.arg(file);
    }
    cmd.args(["--format", "json"]).args(options);
    for format in OTHER_FORMATS {
        cmd.arg("--also")
            .arg(format!("{format}={}", out.path().join(format).display()));
    }
    if let Subject::Command(argv) = subject {
        cmd.arg("--").args(argv);
    }
    set_up(&mut cmd);
    let output = cmd.output().unwrap();
    let code = exit_code(&output);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let json: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}), exit {code}: {stdout}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let mut reports = vec![("json".to_string(), stdout)];
    reports.push((
        "stderr".into(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    ));
    for format in OTHER_FORMATS {
        let text = std::fs::read_to_string(out.path().join(format)).unwrap_or_default();
        reports.push((format.to_string(), text));
    }
    Graded {
        code,
        json,
        reports,
    }
}

/// Grades fixtures/hostile/attempt.py making `attempt` with `args`.
fn attempt(
    place: Place,
    attempt: &str,
    args: &[String],
    options: &[&str],
    set_up: impl FnOnce(&mut Command),
) -> Graded {
    let build = tempfile::tempdir().unwrap();
    let fixture = std::fs::canonicalize("fixtures/hostile/attempt.py").unwrap();
    let mut argv = place.command_for(&fixture, build.path());
    // An interpreter started as it is (a launcher such as pyenv's adds its own variables).
    argv[0] = common::shared_python();
    argv.push(attempt.to_string());
    argv.extend(args.iter().cloned());
    grade(place, options, Subject::Command(&argv), set_up)
}

/// A path as the attempt takes it: `@` in front, so that socklab does not take it for a
/// file the program needs.
fn at(path: &Path) -> String {
    format!("@{}", path.display())
}

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
/// sandbox accounts' to keep: see tests/without_namespaces.rs.)
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

/// serv_simple in C, printing `loot` in place of the client's message when it has any;
/// `prelude` comes first (what defines `loot`).
fn serv_simple_c(prelude: &str, before_listening: &str) -> String {
    let lesson = std::fs::read_to_string("fixtures/serv_simple/pass/stdio_no_flush.c").unwrap();
    let body = lesson
        .replace(
            "        printf(\"%s\", buf);",
            "        if (loot[0]) printf(\"LOOT %s\\n\", loot); else printf(\"%s\", buf);",
        )
        .replace(
            "    int sock = socket(",
            &format!("    {before_listening}\n    int sock = socket("),
        );
    assert_ne!(
        body, lesson,
        "the lesson's C program changed: adapt this test"
    );
    format!("{prelude}\n{body}")
}

/// A C program that embeds the file at `path` (as the assembler finds it) as its loot.
fn embedding(path: &str) -> String {
    serv_simple_c(
        &format!(
            "__asm__(\".section .rodata\\n.globl loot\\nloot:\\n.incbin \\\"{path}\\\"\\n.byte 0\\n.previous\\n\");\nextern const char loot[];"
        ),
        "",
    )
}

/// A C program with nothing to show.
fn honest_c() -> String {
    serv_simple_c("static const char loot[] = \"\";", "")
}

/// A `.c` that embeds a file given to `--hide`, or the instructor's notes in socklab's
/// working folder (by their name alone, as the assembler looks in its working folder),
/// and prints it: it does not compile, and the file's text is in no report.
#[rstest]
fn the_compiler_cannot_embed_hidden_or_instructors_files(
    #[values(Place::Namespaces, Place::Docker)] place: Place,
    #[values("hidden", "next to the grading folder")] whose: &str,
) {
    let secret = secret();
    let grading = open_folder();
    let notes = file_of_roots(grading.path(), "instructor_notes.txt", &secret, 0o644);
    let student = open_folder();
    let source = student.path().join("serv_simple.c");
    let (embedded, options) = match whose {
        "hidden" => (
            notes.display().to_string(),
            vec!["--hide".to_string(), notes.display().to_string()],
        ),
        _ => ("instructor_notes.txt".to_string(), Vec::new()),
    };
    std::fs::write(&source, embedding(&embedded)).unwrap();
    let options: Vec<&str> = options.iter().map(String::as_str).collect();
    let dir = grading.path().to_path_buf();
    let graded = grade(place, &options, Subject::File(&source), |cmd| {
        cmd.current_dir(dir);
    });
    graded.assert_secret_absent(&secret);
    assert_eq!(graded.json["score"], 0, "{:#}", graded.json);
}

/// A C program that looks, for six seconds, for a classmate's compiled serv_simple where
/// socklab builds them (its temporary folders), and runs the first it finds as its own.
const THIEF_C: &str = r#"
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *patterns[] = {
        "/tmp/socklab-*/serv_simple", "/tmp/socklab-*/*/serv_simple",
        "/tmp/socklab-*/*/*/serv_simple", "/tmp/socklab-*/.*/serv_simple",
    };
    char self[PATH_MAX], found[PATH_MAX];
    if (realpath("/proc/self/exe", self) == NULL)
        return 1;
    for (int round = 0; round < 120; round++) {
        for (size_t p = 0; p < sizeof patterns / sizeof *patterns; p++) {
            glob_t g;
            if (glob(patterns[p], 0, NULL, &g) != 0)
                continue;
            for (size_t i = 0; i < g.gl_pathc; i++)
                if (realpath(g.gl_pathv[i], found) && strcmp(found, self) != 0
                    && access(found, X_OK) == 0)
                    execv(found, argv);
            globfree(&g);
        }
        usleep(50000);
    }
    return 1;
}
"#;

/// `socklab grade` on a class of C submissions, all graded at once: ann and bea are
/// correct (bea takes four seconds to start, so that her program is there to be found);
/// copycat `#include`s ann's file, solver the instructor's reference solution (outside the
/// class: in namespaces nothing hides it but the compiler's own view; in a container it is
/// given to `--hide`, as run_autograder does with source/), and thief runs whichever
/// classmate's compiled program it finds. Only ann and bea get marks.
#[rstest]
fn submissions_cannot_include_or_run_each_others_work(
    #[values(Place::Namespaces, Place::Docker)] place: Place,
) {
    let instructor = tempfile::Builder::new()
        .prefix("instructor-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    open_to_all(instructor.path());
    let solution = instructor.path().join("serv_simple.c");
    std::fs::write(&solution, honest_c()).unwrap();
    let class = open_folder();
    let include = |path: &Path| format!("#include \"{}\"\n", path.display());
    for (id, source) in [
        ("ann", honest_c()),
        (
            "bea",
            serv_simple_c("static const char loot[] = \"\";", "sleep(4);"),
        ),
        ("copycat", include(&class.path().join("ann/serv_simple.c"))),
        ("solver", include(&solution)),
        ("thief", THIEF_C.to_string()),
    ] {
        let folder = class.path().join(id);
        std::fs::create_dir(&folder).unwrap();
        open_to_all(&folder);
        std::fs::write(folder.join("serv_simple.c"), source).unwrap();
    }
    let mut cmd = place.socklab();
    cmd.args(["grade", "serv_simple"]).arg(class.path()).args([
        "serv_simple.c",
        "--jobs",
        "5",
        "--format",
        "json",
    ]);
    if place == Place::Docker {
        cmd.arg("--hide").arg(instructor.path());
    }
    let output = cmd.output().unwrap();
    let graded: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    let scores = common::class_scores(&graded);
    let want: Vec<(String, u64)> = [
        ("ann", 10),
        ("bea", 10),
        ("copycat", 0),
        ("solver", 0),
        ("thief", 0),
    ]
    .map(|(id, score)| (id.to_string(), score))
    .to_vec();
    assert_eq!(scores, want, "{graded:#}");
}

/// A compile that never ends (`#include "/dev/zero"`: cc1 reads without end and grows) is
/// stopped by the run's memory limit: a file that did not compile, and no process of the
/// run ever larger than the limit.
#[rstest]
fn a_compile_that_never_ends_is_stopped_by_its_limits(
    #[values(Place::Namespaces, Place::Docker)] place: Place,
) {
    let student = open_folder();
    let source = student.path().join("serv_simple.c");
    std::fs::write(&source, "#include \"/dev/zero\"\n").unwrap();
    let began = std::time::Instant::now();
    let (code, stdout, peak_kib) = common::run_measured(
        place
            .socklab()
            .args(["check", "serv_simple"])
            .arg(&source)
            .args(["--max-memory", "128", "--format", "json"]),
    );
    let report: Value = serde_json::from_slice(&stdout).unwrap();
    assert_eq!(code, 1, "{report:#}");
    assert!(
        report["notices"][0]
            .as_str()
            .is_some_and(|n| n.contains("did not compile")),
        "{report:#}"
    );
    assert!(
        peak_kib < 200 << 10,
        "a process of the run grew to {} MiB",
        peak_kib >> 10
    );
    assert!(
        began.elapsed() < std::time::Duration::from_secs(60),
        "stopped after {:?}",
        began.elapsed()
    );
}

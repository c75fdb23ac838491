//! Nothing of a run reaches another run or the world, and nothing outlives it: each test is
//! a program that makes one attempt, graded where the attempt could work (the `uid` level
//! of a Docker-like container above all, as on Gradescope), and the assertion that nothing
//! moved.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

use common::{Place, grade_json_at, lesson, open_to_all};
use rstest::rstest;

/// What the program said on stderr (the end of it), from a JSON report.
fn stderr_of(report: &serde_json::Value) -> String {
    report["stderr_tail"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// A program that tries to hold socklab's lock files (here, the one runs on the host's
/// loopback queue on for port 8000) gets none: at the namespaces level a lock file is
/// write-only to its owner and the filesystem read-only; at the uid level the folder is
/// root's alone. So no run ever waits for it.
#[rstest]
fn lock_files_cannot_be_held(#[values(Place::Namespaces, Place::Docker)] place: Place) {
    // A run on the host's loopback makes (or opens) the lock of port 8000 there.
    let build = tempfile::tempdir().unwrap();
    let lesson = Place::Host.command_for(Path::new(&lesson("serv_simple")[1]), build.path());
    let (code, report) = grade_json_at(Place::Host, "serv_simple", &lesson);
    assert_eq!(code, 0, "{report:#}");
    let netns = std::fs::metadata("/proc/self/ns/net").unwrap().ino();
    let lock = std::env::temp_dir().join(format!("socklab-0/tcp-8000-{netns}.lock"));
    assert!(lock.exists(), "{}", lock.display());

    let mut argv = place.command_for(Path::new("fixtures/hostile/holds_locks.py"), build.path());
    argv.push(format!("lock:{}", lock.display()));
    let (code, report) = grade_json_at(place, "serv_simple", &argv);
    let said = stderr_of(&report);
    assert!(
        said.contains("locks: locked 0 refused 1"),
        "{said}\n{report:#}"
    );
    assert_eq!(code, 0, "{report:#}");
}

/// A serv_simple program that first says it runs (the file `ready` in the folder it is
/// given), waits there for `go` (a minute at most), then tries to read `secret` and says on
/// stderr whether it could (READ-OK, READ-FAILED), and serves. Returns its command, to run
/// at `place` from `build`.
fn reader_waiting_for_go(build: &Path, place: Place) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("reader.py");
    std::fs::write(
        &script,
        "import os, socket, sys, time\n\
         folder, secret = sys.argv[1], sys.argv[2]\n\
         s = socket.socket(); s.bind(('0.0.0.0', 8000)); s.listen()\n\
         open(os.path.join(folder, 'ready'), 'w').close()\n\
         deadline = time.time() + 60\n\
         while not os.path.exists(os.path.join(folder, 'go')) and time.time() < deadline:\n\
         \x20   time.sleep(0.01)\n\
         try:\n\
         \x20   open(secret).read(); print('READ-OK', file=sys.stderr, flush=True)\n\
         except OSError as e:\n\
         \x20   print('READ-FAILED', e.strerror, file=sys.stderr, flush=True)\n\
         c, a = s.accept(); print('connection from', a, flush=True)\n\
         print(c.recv(1024), flush=True); c.send(input().encode()); c.close()\n",
    )
    .unwrap();
    place.command_for(&script, build)
}

/// A folder to hide, holding a secret, open to everyone (mode 0755, the file 0644).
fn folder_to_hide() -> tempfile::TempDir {
    let hidden = tempfile::tempdir().unwrap();
    open_to_all(hidden.path());
    let secret = hidden.path().join("secret.txt");
    std::fs::write(&secret, "the solution").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    hidden
}

/// A folder everyone may write to, where a program says it is ready and the test says go.
fn meeting_point() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

/// Waits (a minute at most) until `file` exists.
fn wait_for_file(file: &Path, child: &mut std::process::Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !file.exists() {
        assert!(child.try_wait().unwrap().is_none(), "socklab ended first");
        assert!(Instant::now() < deadline, "{} never came", file.display());
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn others_bits(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o007
}

/// `--hide` at the uid level takes "other users" permissions away for as long as any run
/// needs the path hidden, and gives them back when the last one ends: a run that ends while
/// another still runs leaves the path hidden (the other still cannot read it), and when
/// that one ends the folder is open again as it was.
#[test]
fn hidden_paths_are_given_back_after_the_last_run() {
    let hidden = folder_to_hide();
    let build = tempfile::tempdir().unwrap();
    let reader = reader_waiting_for_go(build.path(), Place::Docker);
    let secret = hidden.path().join("secret.txt").display().to_string();
    let check = |meeting: &Path| {
        let mut socklab = Place::Docker.socklab();
        socklab
            .args([
                "check",
                "serv_simple",
                "--timeout",
                "10",
                "--format",
                "json",
            ])
            .arg("--hide")
            .arg(hidden.path())
            .arg("--")
            .args(&reader)
            .args([&meeting.display().to_string(), &secret])
            .stdout(std::process::Stdio::piped());
        socklab
    };
    let long = meeting_point();
    let mut long_run = check(long.path()).spawn().unwrap();
    wait_for_file(&long.path().join("ready"), &mut long_run);
    assert_eq!(others_bits(hidden.path()), 0, "hidden while it runs");

    let short = meeting_point();
    std::fs::write(short.path().join("go"), "").unwrap();
    let output = check(short.path()).output().unwrap();
    assert_eq!(
        common::exit_code(&output),
        0,
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_eq!(
        others_bits(hidden.path()),
        0,
        "still hidden: a run still needs it so"
    );

    std::fs::write(long.path().join("go"), "").unwrap();
    let output = long_run.wait_with_output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(stderr_of(&report).contains("READ-FAILED"), "{report:#}");
    assert_eq!(common::exit_code(&output), 0, "{report:#}");
    assert_eq!(others_bits(hidden.path()), 0o005, "given back as it was");
}

/// socklab stopped by a signal (Ctrl-C, SIGTERM) gives hidden paths back before it exits;
/// killed outright (SIGKILL), the next socklab at the uid level gives them back.
#[test]
fn hidden_paths_are_given_back_when_socklab_is_stopped() {
    let hidden = folder_to_hide();
    let build = tempfile::tempdir().unwrap();
    let reader = reader_waiting_for_go(build.path(), Place::Docker);
    for signal in [libc::SIGINT, libc::SIGKILL] {
        let meeting = meeting_point();
        let mut run = Place::Docker
            .socklab()
            .args(["check", "serv_simple", "--hide"])
            .arg(hidden.path())
            .arg("--")
            .args(&reader)
            .arg(meeting.path())
            .arg(hidden.path().join("secret.txt"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        wait_for_file(&meeting.path().join("ready"), &mut run);
        assert_eq!(others_bits(hidden.path()), 0, "hidden while it runs");
        // SAFETY: a signal to the child this test started.
        unsafe { libc::kill(run.id() as i32, signal) };
        run.wait().unwrap();
        if signal == libc::SIGKILL {
            assert_eq!(others_bits(hidden.path()), 0, "no time to give it back");
            let lesson =
                Place::Docker.command_for(Path::new(&lesson("serv_simple")[1]), build.path());
            let (code, report) = grade_json_at(Place::Docker, "serv_simple", &lesson);
            assert_eq!(code, 0, "{report:#}");
        }
        assert_eq!(others_bits(hidden.path()), 0o005, "after {signal}");
    }
}

/// The uid a program said it ran as, and the number after `word` (`left`, `found`), from
/// its line `traces: uid U WORD N...`.
fn traces(report: &serde_json::Value, word: &str) -> (u32, usize) {
    let said = stderr_of(report);
    let line = said
        .lines()
        .find_map(|l| l.strip_prefix("traces: uid "))
        .unwrap_or_else(|| panic!("no traces line: {report:#}"));
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(fields[1], word, "{line}");
    (
        fields[0].parse().unwrap(),
        fields[2].trim_end_matches(':').parse().unwrap(),
    )
}

/// A program at the uid level leaves files everyone may read in /tmp, /var/tmp and
/// /dev/shm, and System V shared memory, semaphores and a message queue; the next run
/// (another program, run as another user: a fresh uid each run) finds none of it, and none
/// of it is left on the machine.
#[test]
fn nothing_a_run_leaves_is_there_for_the_next() {
    let token = format!("socklab-traces-{}", std::process::id());
    let build = tempfile::tempdir().unwrap();
    let argv = |mode: &str| {
        let mut argv =
            Place::Docker.command_for(Path::new("fixtures/hostile/leaves_traces.py"), build.path());
        argv.extend([mode.to_string(), token.clone()]);
        argv
    };
    let (code, report) = grade_json_at(Place::Docker, "serv_simple", &argv("leave"));
    assert_eq!(code, 0, "{report:#}");
    let (leaver, left) = traces(&report, "left");
    assert_eq!(left, 7, "{report:#}");
    let (code, report) = grade_json_at(Place::Docker, "serv_simple", &argv("look"));
    assert_eq!(code, 0, "{report:#}");
    let (looker, found) = traces(&report, "found");
    assert_eq!(found, 0, "{}", stderr_of(&report));
    assert_ne!(leaver, looker, "a fresh uid each run");

    for folder in ["/tmp", "/var/tmp", "/dev/shm"] {
        let left: Vec<_> = std::fs::read_dir(folder)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains(&token))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
    for table in ["shm", "sem", "msg"] {
        let text = std::fs::read_to_string(format!("/proc/sysvipc/{table}")).unwrap();
        let of_leaver = text
            .lines()
            .skip(1)
            .filter(|l| l.split_whitespace().any(|f| f == leaver.to_string()))
            .count();
        assert_eq!(of_leaver, 0, "{table}: {text}");
    }
}

/// Two network namespaces of the test's own, joined by a link: a container's, where socklab
/// runs, and a remote host's, at 198.18.0.2 (a range for tests), listening for whatever
/// arrives on port 7777. Removed when dropped.
struct Remote {
    names: [String; 2],
    listener: std::process::Child,
}

impl Remote {
    const ADDRESS: &str = "198.18.0.2";
    const PORT: u16 = 7777;

    fn start() -> Remote {
        let id = std::process::id();
        let names = [format!("socklab-c{id}"), format!("socklab-r{id}")];
        let links = [format!("sl{id}c"), format!("sl{id}r")];
        let ip = |args: &[&str]| {
            let status = std::process::Command::new("ip")
                .args(args)
                .status()
                .unwrap();
            assert!(status.success(), "ip {args:?}");
        };
        for name in &names {
            ip(&["netns", "add", name]);
        }
        let remote = Remote {
            names: names.clone(),
            listener: std::process::Command::new("true").spawn().unwrap(),
        };
        ip(&[
            "link", "add", &links[0], "type", "veth", "peer", "name", &links[1],
        ]);
        for ((name, link), address) in names
            .iter()
            .zip(&links)
            .zip(["198.18.0.1/24", "198.18.0.2/24"])
        {
            ip(&["link", "set", link, "netns", name]);
            ip(&["-n", name, "addr", "add", address, "dev", link]);
            ip(&["-n", name, "link", "set", link, "up"]);
            ip(&["-n", name, "link", "set", "lo", "up"]);
        }
        let mut remote = remote;
        let _ = remote.listener.wait();
        remote.listener = std::process::Command::new("ip")
            .args(["netns", "exec", &names[1], &common::shared_python(), "-c"])
            .arg(format!(
                "import select, socket, sys\n\
                 t = socket.socket(); t.bind(('0.0.0.0', {port})); t.listen()\n\
                 u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('0.0.0.0', {port}))\n\
                 print('ready', flush=True)\n\
                 while True:\n\
                 \x20   ready, _, _ = select.select([t, u, sys.stdin], [], [])\n\
                 \x20   if t in ready: print('tcp connection', t.accept()[1], flush=True)\n\
                 \x20   if u in ready: print('udp datagram', u.recvfrom(100), flush=True)\n\
                 \x20   if sys.stdin in ready: break\n",
                port = Remote::PORT
            ))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        let stdout = remote.listener.stdout.as_mut().unwrap();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
        assert_eq!(line, "ready\n");
        remote
    }

    fn container(&self) -> std::path::PathBuf {
        Path::new("/run/netns").join(&self.names[0])
    }

    /// What reached the remote host.
    fn arrived(mut self) -> String {
        drop(self.listener.stdin.take());
        let mut out = String::new();
        let stdout = self.listener.stdout.as_mut().unwrap();
        std::io::Read::read_to_string(stdout, &mut out).unwrap();
        out
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        let _ = self.listener.kill();
        let _ = self.listener.wait();
        for name in &self.names {
            let _ = std::process::Command::new("ip")
                .args(["netns", "del", name])
                .status();
        }
    }
}

/// In a Docker-like container with a route to another host, a program connecting out over
/// TCP, sending a UDP datagram, and sending one with IP_PKTINFO naming the outward
/// interface reaches nothing: its sockets are bound to the loopback device (a datagram to
/// elsewhere is sent into it and goes no further). It still gets full marks for serving
/// the harness on the loopback.
#[test]
fn nothing_reaches_another_host() {
    let remote = Remote::start();
    let build = tempfile::tempdir().unwrap();
    let mut argv =
        Place::Docker.command_for(Path::new("fixtures/hostile/connects_out.py"), build.path());
    argv.extend([Remote::ADDRESS.to_string(), Remote::PORT.to_string()]);
    let mut socklab = common::socklab();
    common::docker::docker_like_in(&mut socklab, Some(&remote.container()));
    socklab
        .args(["check", "serv_simple", "--format", "json", "--"])
        .args(&argv);
    let output = socklab.output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let arrived = remote.arrived();
    let said = stderr_of(&report);
    assert!(arrived.is_empty(), "the remote host got: {arrived}\n{said}");
    assert!(!said.contains("CONNECTED"), "{said}");
    assert_eq!(common::exit_code(&output), 0, "{report:#}");
}

/// Under `socklab grade` in a Docker-like container, a submission graded first tries to
/// take every port socklab chooses for `{port}` (leaving each in TIME_WAIT, which a probe
/// with SO_REUSEADDR still finds free); the classmates graded after it all get full marks.
#[test]
fn ports_given_to_runs_are_their_own() {
    let class = tempfile::tempdir().unwrap();
    open_to_all(class.path());
    let serve_on_argv = std::fs::read_to_string("fixtures/serv_simple/pass/lesson_serv_simple.py")
        .unwrap()
        .replace("import *", "import *\nimport sys")
        .replace("8000", "int(sys.argv[1])");
    for id in ["a-taker", "b", "c", "d"] {
        let folder = class.path().join(id);
        std::fs::create_dir(&folder).unwrap();
        open_to_all(&folder);
        let program = folder.join("serv.py");
        if id == "a-taker" {
            std::fs::copy("fixtures/hostile/takes_chosen_ports.py", &program).unwrap();
        } else {
            std::fs::write(&program, &serve_on_argv).unwrap();
        }
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let output = Place::Docker
        .socklab()
        .args(["grade", "serv_simple"])
        .arg(class.path())
        .args(["--jobs", "1", "--format", "json", "--"])
        .args([&common::shared_python(), "{dir}/serv.py", "{port}"])
        .output()
        .unwrap();
    let graded: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    let scores: Vec<(String, u64)> = graded["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_string(),
                s["score"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let classmates: Vec<&(String, u64)> = scores.iter().filter(|(id, _)| id != "a-taker").collect();
    assert!(
        classmates.iter().all(|(_, score)| *score == 10),
        "{scores:?}\n{graded:#}"
    );
}

/// A program that leaves the lesson's port in TIME_WAIT (connections to itself, its side
/// closed first): the next run in the same Docker-like container, the lesson's own
/// serv_simple (no SO_REUSEADDR), still gets the port and full marks.
#[test]
fn the_lesson_port_is_free_for_the_next_run() {
    let build = tempfile::tempdir().unwrap();
    let leaver = Place::Docker.command_for(
        Path::new("fixtures/hostile/leaves_time_wait.py"),
        build.path(),
    );
    let lesson = Place::Docker.command_for(Path::new(&lesson("serv_simple")[1]), build.path());
    let socklab = assert_cmd::cargo::cargo_bin("socklab");
    let mut script = String::from("set -e\n");
    for (name, argv) in [("leaver", &leaver), ("lesson", &lesson)] {
        script.push_str(&format!(
            "{} check serv_simple --format json -- {} > {}/{name}.json || true\n",
            socklab.display(),
            argv.join(" "),
            build.path().display()
        ));
    }
    let mut cmd = std::process::Command::new("bash");
    cmd.args(["-c", &script]).env_remove("PYTHONUNBUFFERED");
    let output = common::docker::docker_like(&mut cmd).output().unwrap();
    assert_eq!(
        common::exit_code(&output),
        0,
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = |name: &str| -> serde_json::Value {
        let text = std::fs::read(build.path().join(format!("{name}.json"))).unwrap();
        serde_json::from_slice(&text).unwrap()
    };
    assert_eq!(report("leaver")["score"], 10, "{:#}", report("leaver"));
    assert_eq!(report("lesson")["score"], 10, "{:#}", report("lesson"));
}

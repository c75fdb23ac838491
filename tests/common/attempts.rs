//! One grading of a program that makes an attempt to reach outside its run, with every
//! report format kept to look for what it was after (tests/no_way_out.rs, and
//! tests/compiling_in_the_run.rs for C files).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;

use super::{Place, exit_code, open_to_all};

/// The formats written besides JSON (on stdout), from the same run.
const OTHER_FORMATS: [&str; 5] = ["human", "gradescope", "junit", "classroom", "markdown"];

/// A string found nowhere else: what an attempt is after.
pub fn secret() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "SECRET-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A temporary folder every user may enter.
pub fn open_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    open_to_all(dir.path());
    dir
}

/// A file of root's holding `text`, with `mode`.
pub fn file_of_roots(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
    file
}

/// One grading: socklab's exit code, its JSON report, and every format's text.
pub struct Graded {
    pub code: i32,
    pub json: Value,
    pub reports: Vec<(String, String)>,
}

impl Graded {
    /// `secret` is in no report.
    pub fn assert_secret_absent(&self, secret: &str) {
        for (format, text) in &self.reports {
            assert!(
                !text.contains(secret),
                "the {format} report carries {secret}:\n{text}"
            );
        }
    }

    /// The attempt got nothing (`secret` in no report), and the program still served.
    pub fn assert_held(&self, secret: &str) {
        self.assert_secret_absent(secret);
        assert_eq!(
            (self.code, &self.json["score"]),
            (0, &self.json["max_score"]),
            "{:#}",
            self.json
        );
    }

    /// What the program said of itself on stderr: `uid=... cwd=... env=... dev=...`.
    pub fn info(&self, key: &str) -> String {
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
pub enum Subject<'a> {
    File(&'a Path),
    Command(&'a [String]),
}

/// Grades `subject` against serv_simple at `place`, with socklab `options`, `set_up` adding
/// what the test needs to socklab's command.
pub fn grade(
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
pub fn attempt(
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
    argv[0] = super::shared_python();
    argv.push(attempt.to_string());
    argv.extend(args.iter().cloned());
    grade(place, options, Subject::Command(&argv), set_up)
}

/// A path as the attempt takes it: `@` in front, so that socklab does not take it for a
/// file the program needs.
pub fn at(path: &Path) -> String {
    format!("@{}", path.display())
}

//! Gradescope's autograder as the tests run it: the zip built with this build's socklab and
//! unpacked into a temporary /autograder, run_autograder run there (in a Docker-like
//! container where asked), and what its results.json says, to whom.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::lab_checks;

pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

pub fn socklab_bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("socklab")
}

/// Runs `cmd`, which must succeed; returns its stdout.
pub fn succeed(cmd: &mut Command) -> String {
    let output = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        output.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

pub fn python(code: &str, args: &[&Path]) -> String {
    succeed(Command::new("python3").arg("-c").arg(code).args(args))
}

/// Builds the zip with this build's socklab and unpacks it as Gradescope does into
/// `root/source`; returns each entry of the zip with its Unix mode.
pub fn autograder_from_zip(root: &Path) -> BTreeMap<String, u32> {
    let zip = root.join("autograder.zip");
    succeed(
        Command::new(Path::new(ROOT).join("grading/gradescope/make_zip.sh"))
            .arg(&zip)
            .env("SOCKLAB_BIN", socklab_bin()),
    );
    let listing = python(
        "import json, sys, zipfile\n\
         z = zipfile.ZipFile(sys.argv[1])\n\
         print(json.dumps({i.filename: i.external_attr >> 16 for i in z.infolist()}))\n\
         z.extractall(sys.argv[2])",
        &[&zip, &root.join("source")],
    );
    // setup.sh's own chmod: zipfile does not restore modes when it extracts.
    for exe in ["socklab", "run_autograder"] {
        succeed(
            Command::new("chmod")
                .arg("+x")
                .arg(root.join("source").join(exe)),
        );
    }
    serde_json::from_str(&listing).unwrap()
}

/// run_autograder from the unpacked zip with `root` as /autograder, as Gradescope runs it
/// (Python from /usr/bin), in a Docker-like container where `docker`.
pub fn run_autograder_command(root: &Path, docker: bool) -> Command {
    let mut cmd = Command::new(root.join("source/run_autograder"));
    cmd.env("AUTOGRADER_ROOT", root)
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .env_remove("SOCKLAB")
        .env_remove("PYTHONUNBUFFERED")
        .current_dir(root);
    if docker {
        super::docker::docker_like(&mut cmd);
    }
    cmd
}

/// Runs run_autograder (see [`run_autograder_command`]), which must succeed; returns
/// results/results.json, and its stdout, which Gradescope shows staff.
pub fn run_autograder(root: &Path, docker: bool) -> (Value, String) {
    let stdout = succeed(&mut run_autograder_command(root, docker));
    let text = std::fs::read_to_string(root.join("results/results.json")).unwrap();
    let results = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (results, stdout)
}

/// What students read of `results`: the top-level output and the tests shown to them now,
/// their names and outputs, as one text.
pub fn students_read(results: &Value) -> String {
    let mut said = vec![results["output"].as_str().unwrap().to_string()];
    for t in results["tests"].as_array().unwrap() {
        if t["visibility"] == "visible" {
            said.push(t["name"].as_str().unwrap().to_string());
            said.push(t["output"].as_str().unwrap().to_string());
        }
    }
    said.join("\n")
}

/// Words of socklab's to staff that `text` must not hold: how it isolated the run and
/// why, errno names, and paths under the autograder's folder `root`.
pub fn assert_no_staff_words(text: &str, root: &Path) {
    let words = [
        "namespace",
        "EPERM",
        "isolation",
        "socklab could not",
        "cannot start",
    ];
    for word in words {
        assert!(!text.contains(word), "students read {word:?}: {text}");
    }
    let uid = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| w == "uid");
    assert!(!uid, "students read \"uid\": {text}");
    let root = root.display().to_string();
    assert!(!text.contains(&root), "students read {root}: {text}");
}

pub fn submit(root: &Path, fixture: &str, name: &str) {
    std::fs::create_dir_all(root.join("submission")).unwrap();
    std::fs::copy(
        Path::new(ROOT).join(fixture),
        root.join("submission").join(name),
    )
    .unwrap();
}

/// What a test of results.json says: (name, score, max_score, status).
pub fn tests_of(results: &Value) -> Vec<(String, u64, u64, String)> {
    results["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_string(),
                t["score"].as_u64().unwrap(),
                t["max_score"].as_u64().unwrap(),
                t["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The tests a lab should have in results.json: every check, `failing` ones at 0, with
/// points changed by `points`.
pub fn expected_tests(
    lab: &str,
    failing: &[&str],
    points: &[(&str, u64)],
) -> Vec<(String, u64, u64, String)> {
    lab_checks(lab)
        .into_iter()
        .map(|(id, max)| {
            let max = points
                .iter()
                .find(|(p, _)| *p == id)
                .map_or(u64::from(max), |(_, p)| *p);
            let failed = failing.contains(&id.as_str()) || failing == ["*"];
            let (score, status) = if failed {
                (0, "failed")
            } else {
                (max, "passed")
            };
            (format!("{lab}: {id}"), score, max, status.to_string())
        })
        .collect()
}

/// An autograder in `root` without the zip, for what needs no zip: run_autograder,
/// `labs_conf` and `files` (path under source/, text), and a correct serv_simple.py
/// submitted. Returns the command that runs it in a Docker-like container, with this
/// build's socklab.
pub fn autograder_without_zip(root: &Path, labs_conf: &str, files: &[(&str, &str)]) -> Command {
    super::open_to_all(root);
    let source = root.join("source");
    std::fs::create_dir_all(&source).unwrap();
    // Copied by another process: a file this one wrote could be held open by a child
    // another test forks meanwhile, and running it would then fail with ETXTBSY.
    succeed(
        Command::new("cp")
            .arg(Path::new(ROOT).join("grading/gradescope/run_autograder"))
            .arg(&source),
    );
    std::fs::write(source.join("labs.conf"), labs_conf).unwrap();
    for (path, text) in files {
        let path = source.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    submit(
        root,
        "fixtures/serv_simple/pass/lesson_serv_simple.py",
        "serv_simple.py",
    );
    super::open_to_all(&root.join("submission"));
    let mut cmd = run_autograder_command(root, true);
    cmd.env("SOCKLAB", socklab_bin());
    cmd
}

//! No forged grades: the program cannot write the results, signal anything outside its
//! run, see other processes, or read what is hidden from it (other submissions).

mod common;

use std::path::Path;
use std::process::{Child, Command};

use common::socklab;

/// What the forger fixture printed about its attempts.
fn forger_says(report: &serde_json::Value) -> String {
    report["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["who"] == "screen")
        .map(|e| e["text"].as_str().unwrap().to_string())
        .collect()
}

/// A process of the host that the program will try to kill.
struct Bystander(Child);

impl Bystander {
    fn start() -> Bystander {
        Bystander(Command::new("sleep").arg("60").spawn().unwrap())
    }

    fn alive(&mut self) -> bool {
        self.0.try_wait().unwrap().is_none()
    }
}

impl Drop for Bystander {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn forger_args(results: &Path, bystander: &Bystander, secret: &Path) -> Vec<String> {
    vec![
        "python3".into(),
        std::fs::canonicalize("fixtures/hostile/forger.py")
            .unwrap()
            .display()
            .to_string(),
        results.display().to_string(),
        bystander.0.id().to_string(),
        secret.display().to_string(),
    ]
}

#[test]
fn program_cannot_write_results_signal_the_host_or_read_hidden_paths() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results.json");
    std::fs::write(&results, "{\"score\": 0}").unwrap();
    let hidden = dir.path().join("others");
    std::fs::create_dir(&hidden).unwrap();
    let secret = hidden.join("secret.txt");
    std::fs::write(&secret, "the other student's work").unwrap();
    let mut bystander = Bystander::start();

    let output = socklab()
        .args([
            "check",
            "serv_simple",
            "--timeout",
            "1",
            "--format",
            "json",
            "--hide",
        ])
        .arg(&hidden)
        .arg("--")
        .args(forger_args(&results, &bystander, &secret))
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let says = forger_says(&report);
    assert!(
        says.contains("WRITE-FAILED Read-only file system"),
        "{says}"
    );
    assert!(says.contains("KILL-FAILED No such process"), "{says}");
    assert!(
        says.contains("READ-FAILED No such file or directory"),
        "{says}"
    );
    // Its own /proc: init and itself, nothing of the host.
    assert!(says.contains("PROCS 2"), "{says}");
    assert!(!says.contains("the other student's work"), "{says}");
    assert_eq!(std::fs::read_to_string(&results).unwrap(), "{\"score\": 0}");
    assert!(
        bystander.alive(),
        "the program killed a process outside its run"
    );
}

/// In a class, each program sees its own folder and none of the others.
#[test]
fn submissions_cannot_read_each_other() {
    let class = tempfile::tempdir().unwrap();
    let alice = class.path().join("alice");
    let bob = class.path().join("bob");
    std::fs::create_dir_all(&alice).unwrap();
    std::fs::create_dir_all(&bob).unwrap();
    std::fs::copy(
        "fixtures/serv_simple/pass/lesson_serv_simple.py",
        alice.join("serv_simple.py"),
    )
    .unwrap();
    std::fs::write(alice.join("notes.txt"), "alice's answers").unwrap();
    std::fs::copy("fixtures/hostile/forger.py", bob.join("serv_simple.py")).unwrap();
    let results = class.path().join("results.json");
    std::fs::write(&results, "{}").unwrap();
    let bystander = Bystander::start();

    let output = socklab()
        .args(["grade", "serv_simple"])
        .arg(class.path())
        .args([
            "--format",
            "json",
            "--timeout",
            "1",
            "--",
            "python3",
            "{dir}/serv_simple.py",
        ])
        .arg(&results)
        .arg(bystander.0.id().to_string())
        .arg(alice.join("notes.txt"))
        .output()
        .unwrap();
    let class_report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    let text = class_report.to_string();
    assert!(
        text.contains("READ-FAILED No such file or directory"),
        "{text}"
    );
    assert!(!text.contains("alice's answers"), "bob read alice's folder");
    let alice_report = class_report["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "alice")
        .unwrap();
    assert_eq!(
        alice_report["score"], alice_report["max_score"],
        "{alice_report:#}"
    );
    assert_eq!(std::fs::read_to_string(&results).unwrap(), "{}");
}

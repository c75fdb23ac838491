//! Nothing of a run reaches another run or the world, and nothing outlives it: each test is
//! a program that makes one attempt, graded where the attempt could work (the `uid` level
//! of a Docker-like container above all, as on Gradescope), and the assertion that nothing
//! moved.

mod common;

use std::path::Path;

use common::{Place, grade_json_at, lesson};
use rstest::rstest;
use std::os::unix::fs::MetadataExt;

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

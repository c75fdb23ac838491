//! The release artifacts, built for real: `grading/gradescope/make_zip.sh` (through
//! `grading/make_dist.sh`) leaves a wheel tagged for glibc 2.17 (auditwheel agrees) and a
//! binary that asks for no newer glibc symbol, the very one the zip packs; a fresh venv
//! installs the wheel without building anything, and from a clone with cargo; either
//! `socklab` gives the lesson's serv_tcp.py full marks.
//!
//! Each takes minutes and needs PyPI, so `cargo test` and .ci/run skip them. A maintainer
//! runs them before a release:
//!
//! ```sh
//! cargo test --test dist -- --ignored --nocapture
//! ```

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// The oldest glibc the artifacts must run on (manylinux2014).
const GLIBC_FLOOR: (u32, u32) = (2, 17);

/// Runs `cmd`, which must succeed; returns its stdout.
fn succeed(cmd: &mut Command) -> String {
    let output = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        output.status.success(),
        "{cmd:?}: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `2.17` as (2, 17).
fn version(text: &str) -> (u32, u32) {
    let (major, minor) = text.split_once('.').unwrap();
    (major.parse().unwrap(), minor.parse().unwrap())
}

/// Whether a platform tag (`manylinux_2_17_x86_64`, `manylinux2014_x86_64`) runs on the
/// floor's glibc.
fn tag_fits_the_floor(tag: &str) -> bool {
    let glibc = match tag.trim_end_matches("_x86_64") {
        "manylinux1" => (2, 5),
        "manylinux2010" => (2, 12),
        "manylinux2014" => (2, 17),
        other => {
            let Some(rest) = other.strip_prefix("manylinux_") else {
                return false;
            };
            version(&rest.replace('_', "."))
        }
    };
    glibc <= GLIBC_FLOOR
}

/// The newest `GLIBC_x.y` symbol version `binary` asks for; `None` if it is static.
fn newest_glibc(binary: &Path) -> Option<(u32, u32)> {
    let symbols = succeed(Command::new("objdump").arg("-T").arg(binary));
    symbols
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .filter_map(|word| word.strip_prefix("GLIBC_"))
        .filter(|v| v.matches('.').count() >= 1)
        .map(|v| {
            let mut parts = v.split('.');
            let major = parts.next().unwrap().parse().unwrap();
            let minor = parts.next().unwrap().parse().unwrap();
            (major, minor)
        })
        .max()
}

/// A folder holding the lesson's serv_tcp program as a student names it.
fn student_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        Path::new(ROOT).join("fixtures/serv_tcp/pass/lesson_serv_tcp.py"),
        dir.path().join("serv_tcp.py"),
    )
    .unwrap();
    dir
}

/// A fresh venv under `dir`; returns its bin folder.
fn venv(dir: &Path) -> PathBuf {
    let venv = dir.join("venv");
    succeed(Command::new("python3").args(["-m", "venv"]).arg(&venv));
    venv.join("bin")
}

/// The `socklab` a venv installed grades the lesson's serv_tcp.py as a student types it:
/// full marks, exit 0.
fn grades_the_lesson(bin: &Path) {
    let student = student_folder();
    let output = Command::new(bin.join("socklab"))
        .args(["check", "serv_tcp", "serv_tcp.py"])
        .current_dir(student.path())
        .env_remove("PYTHONUNBUFFERED")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("score: 10/10"), "{stdout}");
}

#[test]
#[ignore = "builds the release artifacts (minutes, PyPI): cargo test --test dist -- --ignored"]
fn make_zip_packs_a_binary_for_glibc_2_17_and_the_wheel_installs_without_rust() {
    let work = tempfile::tempdir().unwrap();
    let zip = work.path().join("autograder.zip");
    let started = Instant::now();
    let said = succeed(
        Command::new(Path::new(ROOT).join("grading/gradescope/make_zip.sh"))
            .arg(&zip)
            .env_remove("SOCKLAB_BIN"),
    );
    println!("{said}");
    println!(
        "make_zip.sh (make_dist.sh within): {:.0?}",
        started.elapsed()
    );

    let dist = Path::new(ROOT).join("target/dist");
    let wheel = std::fs::read_dir(&dist)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .expect("a wheel in target/dist");
    let name = wheel.file_name().unwrap().to_string_lossy().into_owned();
    let tags = name.trim_end_matches(".whl").rsplit('-').next().unwrap();
    assert!(
        tags.split('.').all(tag_fits_the_floor),
        "{name}: a platform tag newer than glibc 2.17"
    );
    let audit = succeed(
        Command::new(Path::new(ROOT).join("target/dist-tools/bin/auditwheel"))
            .arg("show")
            .arg(&wheel),
    );
    let consistent = audit
        .split('"')
        .nth(1)
        .expect("auditwheel names the tag the wheel is consistent with");
    assert!(tag_fits_the_floor(consistent), "{audit}");

    let binary = dist.join("socklab");
    let newest = newest_glibc(&binary);
    println!("{name}; auditwheel: {consistent}; newest glibc symbol: {newest:?}");
    assert!(newest.is_none_or(|v| v <= GLIBC_FLOOR), "{newest:?}");

    // The zip packs that very binary.
    let unpacked = work.path().join("unpacked");
    succeed(
        Command::new("python3")
            .args(["-m", "zipfile", "-e"])
            .arg(&zip)
            .arg(&unpacked),
    );
    assert_eq!(
        std::fs::read(unpacked.join("socklab")).unwrap(),
        std::fs::read(&binary).unwrap()
    );

    // Installs from the file alone: nothing fetched, nothing built.
    let bin = venv(work.path());
    succeed(
        Command::new(bin.join("pip"))
            .args(["install", "--no-index", "--quiet"])
            .arg(&wheel),
    );
    grades_the_lesson(&bin);
}

#[test]
#[ignore = "builds socklab from a clone with pip (minutes, PyPI): cargo test --test dist -- --ignored"]
fn pip_install_from_a_clone_gives_the_socklab_command() {
    let work = tempfile::tempdir().unwrap();
    let clone = work.path().join("socklab");
    succeed(Command::new("git").arg("clone").arg(ROOT).arg(&clone));
    let bin = venv(work.path());
    let started = Instant::now();
    succeed(Command::new(bin.join("pip")).arg("install").arg(&clone));
    println!("pip install <clone>: {:.0?}", started.elapsed());
    grades_the_lesson(&bin);
}

//! How a fixture is run, shared by the tests and the benches (`benches/common` includes this
//! file by its path).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The command that runs a fixture: `python3 FILE`, or a C file compiled into `build_dir`.
pub fn command_for(fixture: &Path, build_dir: &Path) -> Vec<String> {
    match fixture.extension().and_then(|e| e.to_str()) {
        Some("py") => vec!["python3".into(), fixture.display().to_string()],
        Some("c") => {
            let binary: PathBuf = build_dir.join(fixture.file_stem().unwrap());
            let status = Command::new("cc")
                .args(["-O1", "-o"])
                .arg(&binary)
                .arg(fixture)
                .status()
                .expect("run cc");
            assert!(status.success(), "cc failed on {}", fixture.display());
            vec![binary.display().to_string()]
        }
        other => panic!(
            "no way to run a fixture ending in {other:?}: {}",
            fixture.display()
        ),
    }
}

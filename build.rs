//! Compiles every lab file under `src/labs/` into the binary: adding a built-in lab is
//! adding its file there, and nothing else.

use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/labs");
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("src/labs")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".toml"))
        .collect();
    files.sort();
    let mut out = String::from(
        "/// Every built-in lab file: its name and its text.\npub const BUILT_IN: &[(&str, &str)] = &[\n",
    );
    for name in &files {
        out.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            dir.join(name).display().to_string()
        ));
    }
    out.push_str("];\n");
    let target = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("built_in_labs.rs");
    std::fs::write(target, out).expect("writing the built-in labs' list");
}

//! The labs: the built-in ones, every `src/labs/*.toml` compiled into the binary (see
//! `build.rs`), and an instructor's own lab files, which the command line adds (`--labs-dir
//! DIR`, `SOCKLAB_LABS=DIR`, `--lab-file FILE`) to the [`Labs`] it hands to what it runs. A
//! lab file of a built-in lab's name takes its place. Lab files are read and checked by
//! [`crate::labfile`].

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::labfile;
use crate::script::Lab;

include!(concat!(env!("OUT_DIR"), "/built_in_labs.rs"));

/// Where a lab came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    BuiltIn,
    File(PathBuf),
}

#[derive(Debug, Clone)]
struct Known {
    lab: Lab,
    source: Source,
}

/// The labs one command knows: the built-in ones, with an instructor's in their place, in
/// the order `socklab labs` lists them.
#[derive(Debug, Clone)]
pub struct Labs {
    known: Vec<Known>,
}

impl Labs {
    /// The built-in labs alone.
    pub fn built_in() -> Labs {
        // The built-in files are checked by the tests: one that did not load is a bug.
        let known = built_in().unwrap_or_else(|e| panic!("a built-in lab does not load: {e}"));
        Labs::sorted(known)
    }

    /// The built-in labs with the lab files in the folders `dirs` and the files `files` added.
    /// A lab file that does not load is an error naming it.
    pub fn with(dirs: &[PathBuf], files: &[PathBuf]) -> Result<Labs> {
        let mut known = built_in()?;
        let mut paths = Vec::new();
        for dir in dirs {
            let entries = std::fs::read_dir(dir)
                .map_err(Error::io(format!("reading the labs folder {}", dir.display())))?;
            let mut found: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect();
            found.sort();
            paths.extend(found);
        }
        paths.extend(files.iter().cloned());
        for path in paths {
            let lab = load_file(&path)?;
            known.retain(|k| k.lab.name != lab.name);
            known.push(Known {
                lab,
                source: Source::File(path),
            });
        }
        Ok(Labs::sorted(known))
    }

    /// The lesson's order first, then by name.
    fn sorted(mut known: Vec<Known>) -> Labs {
        known.sort_by(|a, b| {
            (a.lab.order.is_none(), a.lab.order, &a.lab.name)
                .cmp(&(b.lab.order.is_none(), b.lab.order, &b.lab.name))
        });
        Labs { known }
    }

    /// Every lab, in the order `socklab labs` lists them.
    pub fn all(&self) -> Vec<Lab> {
        self.known.iter().map(|k| k.lab.clone()).collect()
    }

    /// The lab called `name` or having it as an alias.
    pub fn find(&self, name: &str) -> Result<Lab> {
        self.known
            .iter()
            .find(|k| k.lab.is_called(name))
            .map(|k| k.lab.clone())
            .ok_or_else(|| Error::UnknownLab {
                name: name.to_string(),
                known: self.names(),
            })
    }

    /// Where the lab called `name` came from.
    pub fn source(&self, name: &str) -> Option<Source> {
        self.known
            .iter()
            .find(|k| k.lab.is_called(name))
            .map(|k| k.source.clone())
    }

    /// The text of the built-in lab file of `name` (for `socklab labs --show`).
    pub fn built_in_text(&self, name: &str) -> Option<&'static str> {
        let file = format!("{}.toml", self.find(name).ok()?.name);
        BUILT_IN
            .iter()
            .find(|(built_in, _)| *built_in == file)
            .map(|(_, text)| *text)
    }

    /// `serv_simple, conn_simple, ...` for error messages.
    pub fn names(&self) -> String {
        self.known
            .iter()
            .map(|k| k.lab.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Every lab's lesson port: the ports no run but that lab's may take.
    pub fn lesson_ports(&self) -> Vec<u16> {
        self.known.iter().map(|k| k.lab.lesson_port).collect()
    }
}

fn built_in() -> Result<Vec<Known>> {
    BUILT_IN
        .iter()
        .map(|(file, text)| {
            Ok(Known {
                lab: labfile::load(&format!("src/labs/{file}"), text)?,
                source: Source::BuiltIn,
            })
        })
        .collect()
}

/// Loads one lab file.
pub fn load_file(path: &Path) -> Result<Lab> {
    let text = std::fs::read_to_string(path)
        .map_err(Error::io(format!("reading the lab file {}", path.display())))?;
    labfile::load(&path.display().to_string(), &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every built-in lab file loads, through the same checks as an instructor's.
    #[test]
    fn every_built_in_lab_loads() {
        let labs = built_in().unwrap();
        let mut names: Vec<&str> = labs.iter().map(|k| k.lab.name.as_str()).collect();
        names.sort();
        assert_eq!(names, ["conn_simple", "netcat", "serv_simple", "serv_tcp", "udp_serv"]);
        for (file, _) in BUILT_IN {
            let lab = labs.iter().find(|k| format!("{}.toml", k.lab.name) == *file);
            assert!(lab.is_some(), "{file} is named after its lab");
        }
    }
}

//! The program as the user gave it (`python3 serv.py {port}`, or a C file to build first):
//! found and checked before any run, and moved, built or given arguments as a run needs.
//! Plain data: the sandbox and the launcher both take it.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::reasons::Language;

/// How much of a program's source is read for its reasons.
pub const SOURCE_READ_BYTES: u64 = 64 * 1024;

/// The placeholder in a program's arguments that the harness replaces with its port.
pub const PORT_PLACEHOLDER: &str = "{port}";

/// The program as the user gave it (`python3 serv.py {port}`), checked before any run.
#[derive(Debug, Clone)]
pub struct Program {
    pub argv: Vec<String>,
    /// What is executed; for a program still to build, its source file until it is built.
    pub path: PathBuf,
    /// The C file the program is built from, in its run's own place, before it runs (see
    /// [`crate::build`]).
    pub source: Option<Source>,
}

/// A C file, and the compiler that builds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub file: PathBuf,
    /// The file as the user named it, for reports, wherever a run moved it.
    pub named: String,
    pub compiler: PathBuf,
}

impl Program {
    /// The language it is written in: C for a file compiled in its run, else what its
    /// command says (`python3 serv.py`, a script whose `#!` line names python).
    pub fn language(&self) -> Language {
        if self.source.is_some() {
            return Language::C;
        }
        Language::of_command(&self.argv, |arg| {
            let text = read_start(Path::new(arg), 256)?;
            text.lines().next().map(str::to_string)
        })
    }

    /// Its source, where the harness can read it (the C file, or the script its command
    /// names), up to [`SOURCE_READ_BYTES`]: a reason may quote what it binds.
    pub fn source_text(&self) -> Option<String> {
        let file = match &self.source {
            Some(source) => source.file.clone(),
            None => self
                .argv
                .iter()
                .map(PathBuf::from)
                .find(|arg| Language::of_file(&arg.to_string_lossy(), "") != Language::Other)?,
        };
        read_start(&file, SOURCE_READ_BYTES)
    }

    /// Resolves `argv[0]` as a shell would (PATH unless it has a slash) and checks that it
    /// can be run, so that a typo is one plain error line rather than a failed grade.
    pub fn resolve(argv: &[String]) -> Result<Program> {
        let first = argv.first().ok_or(Error::NoProgram)?;
        let path = if first.contains('/') {
            let path = PathBuf::from(first);
            let meta =
                std::fs::metadata(&path).map_err(|_| Error::ProgramNotFound(first.clone()))?;
            if !meta.is_file() {
                return Err(Error::ProgramNotFound(format!("{first} (not a file)")));
            }
            if meta.permissions().mode() & 0o111 == 0 {
                return Err(Error::NotExecutable(path));
            }
            path
        } else {
            which::which(first).map_err(|_| Error::ProgramNotFound(first.clone()))?
        };
        Ok(Program {
            argv: argv.to_vec(),
            path,
            source: None,
        })
    }

    /// The program built from the C file `file` (`named` as the user named it) by `compiler`.
    pub fn from_source(file: &Path, named: &str, compiler: PathBuf) -> Program {
        Program {
            argv: vec![file.display().to_string()],
            path: file.to_path_buf(),
            source: Some(Source {
                file: file.to_path_buf(),
                named: named.to_string(),
                compiler,
            }),
        }
    }

    /// The same program, its command named `name` in what is said about it (a student's
    /// file as they name it, not the folder socklab found it in).
    pub fn named(self, name: &str) -> Program {
        let mut argv = self.argv;
        argv[0] = name.to_string();
        Program { argv, ..self }
    }

    /// The program once built into `binary`: that is what runs, with the same arguments.
    pub fn built(&self, binary: &Path) -> Program {
        let mut argv = self.argv.clone();
        argv[0] = binary.display().to_string();
        Program {
            argv,
            path: binary.to_path_buf(),
            source: None,
        }
    }

    /// The same program with every path in it absolute (its own, its source's, and the
    /// arguments that name a file or folder), so that it runs the same from any working
    /// folder: a run's is its own, never socklab's.
    pub fn absolute(&self) -> Program {
        let absolute = |path: &Path| std::path::absolute(path).unwrap_or(path.to_path_buf());
        let argv = self
            .argv
            .iter()
            .enumerate()
            .map(|(i, arg)| {
                let path = Path::new(arg);
                if i > 0 && path.is_relative() && !arg.is_empty() && path.exists() {
                    absolute(path).display().to_string()
                } else {
                    arg.clone()
                }
            })
            .collect();
        Program {
            argv,
            path: absolute(&self.path),
            source: self.source.as_ref().map(|s| Source {
                file: absolute(&s.file),
                ..s.clone()
            }),
        }
    }

    /// Whether the program takes the harness's port (`{port}` in its arguments) rather than
    /// using the lesson's port written in its code.
    pub fn takes_port(&self) -> bool {
        self.argv.iter().any(|a| a.contains(PORT_PLACEHOLDER))
    }

    /// The same program with `extra` arguments after the user's (a lab's role arguments).
    pub fn with_args(&self, extra: impl IntoIterator<Item = String>) -> Program {
        let mut argv = self.argv.clone();
        argv.extend(extra);
        Program {
            argv,
            ..self.clone()
        }
    }

    /// The same program with the folder `from` moved to `to` (in its path and arguments):
    /// a submission copied where the program's sandbox user may read it.
    pub fn moved(&self, from: &Path, to: &Path) -> Program {
        let (from, to) = (from.display().to_string(), to.display().to_string());
        let move_arg = |a: &String| match a.strip_prefix(&from) {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => format!("{to}{rest}"),
            _ => a.clone(),
        };
        let move_path = |path: &Path| PathBuf::from(move_arg(&path.display().to_string()));
        Program {
            argv: self.argv.iter().map(move_arg).collect(),
            path: move_path(&self.path),
            source: self.source.as_ref().map(|s| Source {
                file: move_path(&s.file),
                ..s.clone()
            }),
        }
    }

    /// The arguments with `{port}` replaced.
    pub fn args_for(&self, port: u16) -> Vec<String> {
        self.argv
            .iter()
            .map(|a| a.replace(PORT_PLACEHOLDER, &port.to_string()))
            .collect()
    }
}

/// The start of the text file at `path`, up to `bytes`; nothing if it cannot be read.
fn read_start(path: &Path, bytes: u64) -> Option<String> {
    use std::io::Read;
    let mut start = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(bytes)
        .read_to_end(&mut start)
        .ok()?;
    Some(String::from_utf8_lossy(&start).into_owned())
}

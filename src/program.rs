//! The program as the user gave it (`python3 serv.py {port}`): found and checked before any
//! run, and moved or given arguments as a run needs. Plain data: the sandbox and the
//! launcher both take it.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The placeholder in a program's arguments that the harness replaces with its port.
pub const PORT_PLACEHOLDER: &str = "{port}";

/// The program as the user gave it (`python3 serv.py {port}`), checked before any run.
#[derive(Debug, Clone)]
pub struct Program {
    pub argv: Vec<String>,
    pub path: PathBuf,
}

impl Program {
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
        })
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
            path: self.path.clone(),
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
        Program {
            argv: self.argv.iter().map(move_arg).collect(),
            path: PathBuf::from(move_arg(&self.path.display().to_string())),
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

//! The harness's own errors and the process exit codes.
//!
//! Exit codes (the whole contract lives here):
//! - 0: the program got full marks.
//! - 1: the program lost marks: its fault, and the report says why.
//! - 2: the harness could not grade: bad usage, unknown lab, a program that cannot be run,
//!   or trouble of the harness's own. Never a panic.
//!
//! `socklab nc` is a netcat, not a grading command, and exits as netcats do: 0, or 1 for any
//! error, bad usage included (`netcat::EXIT_OK`, `netcat::EXIT_ERROR`).

use std::path::PathBuf;

pub const EXIT_FULL_MARKS: i32 = 0;
pub const EXIT_LOST_MARKS: i32 = 1;
pub const EXIT_CANNOT_GRADE: i32 = 2;

/// The exit code of a grading that took place: full marks or not.
pub fn exit_for(full_marks: bool) -> i32 {
    if full_marks {
        EXIT_FULL_MARKS
    } else {
        EXIT_LOST_MARKS
    }
}

/// Why the harness could not grade. Each variant prints as one plain line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("unknown lab '{name}'; the labs are: {known}")]
    UnknownLab { name: String, known: String },
    #[error(
        "no program given: put it after --, e.g. socklab check serv_simple -- python3 serv_simple.py"
    )]
    NoProgram,
    #[error("program not found: {0}")]
    ProgramNotFound(String),
    #[error("{} is not executable (chmod +x it, or run it through its interpreter, e.g. python3 {})", .0.display(), .0.display())]
    NotExecutable(PathBuf),
    #[error("{0}")]
    Usage(String),
    /// A lab file's mistake: `FILE:LINE: what`.
    #[error("lab file {0}")]
    LabFile(String),
    #[error("rubric {file}: {message}")]
    Rubric { file: String, message: String },
    #[error(
        "port {port} is already in use on this machine, and without a network namespace socklab cannot give the program a port of its own; stop what uses it, or pass {{port}} to the program"
    )]
    PortTaken { port: u16 },
    #[error(
        "--isolation {wanted}: namespaces are refused here ({reason}), so the program would run with {got} isolation; grade where namespaces are allowed, or lower --isolation"
    )]
    IsolationBelowFloor {
        wanted: crate::report::IsolationFloor,
        got: crate::report::IsolationLevel,
        reason: String,
    },
    #[error(
        "the program's sandbox user (uid {uid}) cannot reach {}: {why}; put it where every user may read and run it (e.g. python3 from /usr/bin)", .path.display()
    )]
    SandboxCannotReach {
        uid: u32,
        path: PathBuf,
        why: String,
    },
    /// A C file the compiler refused: the student's mistake, not socklab's, graded as every
    /// check lost (see [`crate::submission::CompileError`]).
    #[error("{file} did not compile")]
    DidNotCompile { file: String, message: String },
    /// The program never ran: socklab's failure to start it, not the student's mistake.
    #[error("cannot start {program}: {reason}")]
    CannotStart { program: String, reason: String },
    /// Some of several gradings failed on socklab's side; the report says which.
    #[error(
        "could not grade {failed} of {total} {what} (first, {first}); they are not graded, not scored as zeros"
    )]
    NotGraded {
        what: &'static str,
        failed: usize,
        total: usize,
        first: String,
    },
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Wraps an I/O error with what the harness was doing at the time.
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let what = what.into();
        move |source| Error::Io { what, source }
    }
}

impl From<nix::Error> for Error {
    fn from(e: nix::Error) -> Self {
        Error::Io {
            what: "system call".into(),
            source: e.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

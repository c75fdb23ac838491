//! Where reports go: stdout (coloured for a person, or a CI log that asks for it) or a file.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anstream::{AutoStream, ColorChoice};

use crate::error::{Error, Result};

/// Colour for a person reading stdout, by anstream's rule (`NO_COLOR` never; `CLICOLOR_FORCE`
/// always; else a terminal whose `TERM` has colour), and with `FORCE_COLOR`, which anstream
/// does not read but CI services and GitHub Classroom's own graders set, to get colour in a
/// log that is not a terminal.
pub(super) fn stdout_color() -> ColorChoice {
    let value = |name| std::env::var(name).unwrap_or_default();
    let forced = !["", "0", "false"].contains(&value("FORCE_COLOR").as_str());
    if forced && value("NO_COLOR").is_empty() {
        ColorChoice::Always
    } else {
        AutoStream::choice(&io::stdout())
    }
}

/// `path` created now, so that a path that cannot be written stops socklab before any
/// grading.
pub(super) fn create(path: &Path) -> Result<Box<dyn Write>> {
    let file =
        std::fs::File::create(path).map_err(Error::io(format!("creating {}", path.display())))?;
    Ok(Box::new(io::BufWriter::new(file)))
}

/// Where a report goes, and whether it may be coloured: FILE for `--output FILE` (never in
/// colour), else stdout.
pub(super) fn report_output(output: Option<PathBuf>) -> Result<(Box<dyn Write>, ColorChoice)> {
    Ok(match output {
        Some(path) => (create(&path)?, ColorChoice::Never),
        None => (Box::new(io::stdout()), stdout_color()),
    })
}

/// The first error writing a report; a reader that went away (`| head`) is no error.
#[derive(Default)]
pub(super) struct WriteError(Option<io::Error>);

impl WriteError {
    pub(super) fn note(&mut self, result: io::Result<()>) {
        if let Err(e) = result
            && self.0.is_none()
        {
            self.0 = Some(e);
        }
    }

    pub(super) fn into_result(self) -> Result<()> {
        match self.0 {
            Some(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                Err(Error::io("writing the report")(e))
            }
            _ => Ok(()),
        }
    }
}


/// socklab's own stderr, kept in a file while it grades rather than shown where students may
/// read it (run_autograder's stdout, when a rubric shows it to them).
pub(super) struct StderrKept {
    saved: std::os::fd::OwnedFd,
    file: std::fs::File,
}

impl StderrKept {
    pub(super) fn start() -> Result<StderrKept> {
        use std::os::fd::AsFd;
        let file = tempfile::tempfile().map_err(Error::io("creating a file for stderr"))?;
        let saved = nix::unistd::dup(io::stderr().as_fd())?;
        nix::unistd::dup2_stderr(&file)?;
        Ok(StderrKept { saved, file })
    }

    /// Puts stderr back; returns what was written meanwhile.
    pub(super) fn finish(mut self) -> Result<String> {
        use std::io::{Read, Seek};
        nix::unistd::dup2_stderr(&self.saved)?;
        let mut said = String::new();
        self.file
            .rewind()
            .and_then(|_| self.file.read_to_string(&mut said))
            .map_err(Error::io("reading what socklab said on stderr"))?;
        Ok(said)
    }
}

/// Prints `text` for a person on stdout; a reader that went away (`| head`) is no error.
pub(super) fn print_out(text: &str) -> Result<()> {
    let mut out = io::stdout().lock();
    let mut written = WriteError::default();
    written.note(out.write_all(text.as_bytes()).and_then(|()| out.flush()));
    written.into_result()
}

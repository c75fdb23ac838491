//! `socklab check LAB FILE --watch`: grades, then grades again each time FILE is saved, so
//! that a student can edit, save and read the verdict. The screen is cleared before each new
//! verdict when stdout is a terminal.

use std::io::{IsTerminal, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use notify::{EventKind, RecursiveMode, Watcher};

use crate::error::{Error, Result};

/// Editors save in several steps (truncate, write, rename): the file counts as saved once
/// this long has passed without another event.
const SETTLE: Duration = Duration::from_millis(150);

/// Clears the screen and its scrollback, and homes the cursor.
const CLEAR_SCREEN: &str = "\x1b[H\x1b[2J\x1b[3J";

/// Calls `grade` now and after each save of `file`, until socklab is interrupted. An error
/// from `grade` (the file gone for a moment) is said on stderr, and the watch goes on.
pub fn run(file: &Path, mut grade: impl FnMut() -> Result<i32>) -> Result<i32> {
    let watched = std::path::absolute(file)
        .map_err(Error::io(format!("finding {}", file.display())))?;
    let (tx, events) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(tx).map_err(watch_error(file))?;
    // The folder rather than the file: an editor that saves by renaming a new file over
    // the old one would end a watch on the old file's inode.
    let folder = watched.parent().unwrap_or(Path::new("/"));
    watcher
        .watch(folder, RecursiveMode::NonRecursive)
        .map_err(watch_error(file))?;
    let clear = std::io::stdout().is_terminal();
    loop {
        let graded = Saved::of(&watched);
        if let Err(e) = grade() {
            eprintln!("socklab: {e}");
        }
        // What the person watching reads; a stdout gone is no reason to stop watching.
        let _ = writeln!(
            std::io::stdout(),
            "socklab: watching {}: save it to grade again (Ctrl-C to stop)",
            file.display()
        );
        wait_for_save(&events, &watched, graded)?;
        if clear {
            let _ = write!(std::io::stdout(), "{CLEAR_SCREEN}");
        }
        let _ = std::io::stdout().flush();
    }
}

fn watch_error(file: &Path) -> impl FnOnce(notify::Error) -> Error + '_ {
    move |e| Error::Usage(format!("cannot watch {}: {e}", file.display()))
}

/// What tells one saved version of a file from another.
#[derive(Debug, PartialEq, Eq)]
struct Saved {
    modified: (i64, i64),
    size: u64,
    inode: u64,
    mode: u32,
}

impl Saved {
    /// `None` while the file is missing (between an editor's delete and its rename).
    fn of(file: &Path) -> Option<Saved> {
        let meta = std::fs::metadata(file).ok()?;
        Some(Saved {
            modified: (meta.mtime(), meta.mtime_nsec()),
            size: meta.size(),
            inode: meta.ino(),
            mode: meta.mode(),
        })
    }
}

/// Waits until `file` differs from the version `graded`. Events on other files of the
/// folder, and those that change nothing graded (a program reading the file), are passed.
fn wait_for_save(
    events: &mpsc::Receiver<notify::Result<notify::Event>>,
    file: &Path,
    graded: Option<Saved>,
) -> Result<()> {
    loop {
        let event = events
            .recv()
            .map_err(|_| Error::Internal("the file watcher stopped".into()))?;
        if !touches(&event, file) {
            continue;
        }
        // Let the editor finish: each further event moves the deadline on.
        let mut settled = Instant::now() + SETTLE;
        while let Ok(more) = events.recv_timeout(settled.saturating_duration_since(Instant::now())) {
            if touches(&more, file) {
                settled = Instant::now() + SETTLE;
            }
        }
        let now = Saved::of(file);
        if now.is_some() && now != graded {
            return Ok(());
        }
    }
}

/// Whether `event` may have changed `file`'s content, mode or place.
fn touches(event: &notify::Result<notify::Event>, file: &Path) -> bool {
    let Ok(event) = event else {
        // Events lost (the queue overflowed): look at the file.
        return true;
    };
    let changes = matches!(
        event.kind,
        EventKind::Create(_) | EventKind::Modify(_) | EventKind::Any | EventKind::Other
    ) || matches!(
        event.kind,
        EventKind::Access(notify::event::AccessKind::Close(
            notify::event::AccessMode::Write
        ))
    );
    // The folder is watched alone, so the name tells the file.
    changes && event.paths.iter().any(|p| p.file_name() == file.file_name())
}

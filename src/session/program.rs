//! The program's side of a run as the harness holds it: its screen and keyboard (the pty),
//! its stderr, and its init's status pipe, which says how it ended.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::Instant;

use nix::errno::Errno;

use crate::escape;
use crate::launch::Launched;
use crate::init::protocol::{Decoder, Request, Status};
use crate::report::ProgramExit;

use super::inbox::{Inbox, StreamEnd};

/// The program while it runs: the harness's ends of its pty, stderr and status pipe.
struct Running {
    launched: Launched,
    status: Decoder,
    status_closed: bool,
}

/// Where a program shows text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Its terminal.
    Screen,
    Stderr,
}

/// Whether the program got started: what init said first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    Running,
    /// It never ran; why, in one line.
    Failed(String),
}

/// The program's I/O and lifecycle.
#[derive(Default)]
pub struct ProgramIo {
    running: Option<Running>,
    pub(super) screen: Inbox,
    pub(super) stderr: Inbox,
    pub(super) exit: Option<ProgramExit>,
    /// Whether the harness had to stop the program at the end.
    pub(super) stopped_by_harness: bool,
    /// Whether init started it, once init has said.
    pub(super) start: Option<Start>,
    /// How many of the program's processes init swept away at its end.
    pub(super) swept: Option<usize>,
}

impl ProgramIo {
    pub(super) fn started(&mut self, launched: Launched) {
        self.running = Some(Running {
            launched,
            status: Decoder::default(),
            status_closed: false,
        });
    }

    pub(super) fn was_started(&self) -> bool {
        self.running.is_some()
    }

    /// Still running: started, and its end not known.
    pub(super) fn running(&self) -> bool {
        self.running.is_some() && !self.ended()
    }

    /// Whether the program has ended (its exit is known, or init is gone). A program that
    /// only closed its terminal may still serve the network.
    pub fn ended(&self) -> bool {
        self.exit.is_some() || self.init_gone()
    }

    /// Init has ended: everything of the program is gone.
    pub fn init_gone(&self) -> bool {
        self.running.as_ref().is_some_and(|r| r.status_closed)
    }

    /// Whether the program can no longer show anything: its terminal is closed.
    pub fn screen_closed(&self) -> bool {
        self.screen.ended()
    }

    pub fn output(&self, output: Output) -> &Inbox {
        match output {
            Output::Screen => &self.screen,
            Output::Stderr => &self.stderr,
        }
    }

    pub fn output_mut(&mut self, output: Output) -> &mut Inbox {
        match output {
            Output::Screen => &mut self.screen,
            Output::Stderr => &mut self.stderr,
        }
    }

    /// The pid of the program's init, while it runs.
    /// How the program ended, once known.
    pub fn exit(&self) -> Option<ProgramExit> {
        self.exit
    }

    /// Whether the harness had to stop the program at the end.
    pub fn stopped_by_harness(&self) -> bool {
        self.stopped_by_harness
    }

    pub(super) fn init_pid(&self) -> Option<i32> {
        self.running.as_ref().map(|r| r.launched.init.id() as i32)
    }

    /// Types on the program's keyboard, waiting for room until `deadline`.
    pub(super) fn type_keys(&self, data: &[u8], deadline: Instant) -> Result<(), String> {
        let Some(running) = &self.running else {
            return Err("the program was never started".into());
        };
        write_all_by(&running.launched.screen, data, deadline)
            .map_err(|e| format!("the keyboard could not be written ({e})"))
    }

    /// How many typed bytes (whole lines) the program has not read yet; `None` once its
    /// terminal cannot be asked.
    pub(super) fn keyboard_unread(&self) -> Option<u64> {
        let running = self.running.as_ref()?;
        // A descriptor for the terminal's other end, just long enough to ask it: holding
        // one would keep the screen from closing when the program ends.
        // SAFETY: TIOCGPTPEER on the pty master makes a new descriptor, owned at once;
        // FIONREAD writes one int.
        unsafe {
            let fd = libc::ioctl(
                running.launched.screen.as_raw_fd(),
                libc::TIOCGPTPEER,
                libc::O_RDONLY | libc::O_NOCTTY | libc::O_CLOEXEC,
            );
            if fd < 0 {
                return None;
            }
            let peer = <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd);
            let mut queued: libc::c_int = 0;
            (libc::ioctl(peer.as_raw_fd(), libc::FIONREAD, &mut queued) == 0)
                .then_some(queued.max(0) as u64)
        }
    }

    /// The descriptors to wait on, with what each is.
    pub(super) fn pollable(&self) -> Vec<(BorrowedFd<'_>, Source)> {
        let mut fds = Vec::new();
        if let Some(running) = &self.running {
            if !self.screen.ended() {
                fds.push((running.launched.screen.as_fd(), Source::Screen));
            }
            if !self.stderr.ended() {
                fds.push((running.launched.stderr.as_fd(), Source::Stderr));
            }
            if !running.status_closed {
                fds.push((running.launched.status.as_fd(), Source::Status));
            }
        }
        fds
    }

    /// Reads what the program showed on `source` (screen or stderr); returns it.
    pub(super) fn read_output(&mut self, source: Source) -> Vec<u8> {
        let Some(running) = &self.running else {
            return Vec::new();
        };
        let (fd, inbox) = match source {
            Source::Screen => (&running.launched.screen, &mut self.screen),
            Source::Stderr => (&running.launched.stderr, &mut self.stderr),
            Source::Status => return Vec::new(),
        };
        let (data, end) = drain(fd);
        inbox.push(&data);
        // EIO on the screen: every holder of the terminal's other end has closed it.
        inbox.end = inbox.end.or(end);
        data
    }

    /// Reads init's messages (see [`crate::init::protocol`]).
    pub(super) fn read_status(&mut self) -> Vec<Status> {
        let Some(running) = &mut self.running else {
            return Vec::new();
        };
        let (data, end) = drain(&running.launched.status);
        if end.is_some() {
            running.status_closed = true;
        }
        let said = running.status.feed(&data);
        for status in &said {
            match status {
                Status::Started => self.start = Some(Start::Running),
                Status::CannotStart { stage, error } => {
                    self.start = Some(Start::Failed(format!("{stage}: {error}")))
                }
                Status::Exited(exit) if self.exit.is_none() => self.exit = Some((*exit).into()),
                Status::Exited(_) => {}
                Status::Swept(n) => self.swept = Some(*n),
                Status::Looked(_) => {}
            }
        }
        said
    }

    /// Asks init for `request` (see [`crate::init::protocol::Request`]).
    pub(super) fn ask_init(&self, request: Request) {
        if let Some(pid) = self.init_pid() {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), request.signal());
        }
    }

    /// Asks init what the program's threads are blocked in (answered on the status pipe);
    /// whether it could be asked.
    pub(super) fn ask_init_to_look(&self) -> bool {
        let asked = self.running();
        if asked {
            self.ask_init(Request::Look);
        }
        asked
    }

    /// Waits for init to end; the program's exit, if it was not reported and the harness
    /// did not stop it, is init's.
    pub(super) fn reap_init(&mut self) {
        let Some(running) = self.running.as_mut() else {
            return;
        };
        if !running.status_closed {
            let _ = running.launched.init.kill();
        }
        let init_status = running.launched.init.wait();
        if self.exit.is_none()
            && let Ok(status) = init_status
            && !self.stopped_by_harness
        {
            self.exit = ProgramExit::from_status(status);
        }
    }

    /// The last lines the program wrote on stderr (a traceback, usually), for reports.
    pub fn stderr_tail(&self, lines: usize) -> String {
        let text = escape::readable_lines(self.stderr.all());
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// How the program ended, in a few words, with the line of stderr that says why.
    pub fn how_ended_briefly(&self) -> String {
        let mut text = match self.exit {
            Some(exit) => format!("the program exited with {exit}"),
            None => "the program closed its terminal".to_string(),
        };
        if let Some(gist) = self.stderr_gist() {
            text.push_str(&format!(" ({gist})"));
        }
        text
    }

    /// The line of stderr that says what went wrong: the last that reads like an error
    /// (a traceback ends with it, a usage message starts with it), else the last.
    pub(super) fn stderr_gist(&self) -> Option<String> {
        // Stronger words first: a usage message follows the line that says what was wrong.
        const TELLING: [&[&str]; 2] = [
            &[
                "error", "invalid", "unknown", "not ", "cannot", "refused", "no such",
            ],
            &["usage"],
        ];
        let text = escape::readable_lines(self.stderr.all());
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        TELLING
            .iter()
            .find_map(|words| {
                lines.iter().rev().find(|l| {
                    let lower = l.to_lowercase();
                    words.iter().any(|w| lower.contains(w))
                })
            })
            .or(lines.last())
            .map(|l| l.to_string())
    }

    /// A sentence saying how the program ended, with its traceback if it crashed.
    pub fn how_ended(&self) -> String {
        let mut text = match self.exit {
            Some(exit) => format!("the program exited with {exit}"),
            None if self.screen_closed() => "the program closed its terminal".to_string(),
            None => "the program is still running".to_string(),
        };
        let tail = self.stderr_tail(8);
        if !tail.is_empty() && self.exit.is_some_and(|e| !e.is_success()) {
            text.push_str("; the end of its stderr:\n");
            text.push_str(&tail);
        }
        text
    }
}

/// What a descriptor the harness waits on is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Screen,
    Stderr,
    Status,
}

/// The most one read of a descriptor takes at once: a flood must not starve the deadline
/// checks of the loop that reads it.
pub(super) const READ_AT_ONCE: usize = 4 * 65536;

/// Reads all that is ready without blocking (up to [`READ_AT_ONCE`]). A pty master reports
/// the other end's close as EIO; sockets report a reset as ECONNRESET.
pub(super) fn drain(fd: &impl AsFd) -> (Vec<u8>, Option<StreamEnd>) {
    let mut data = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        match nix::unistd::read(fd.as_fd(), &mut buf) {
            Ok(0) => return (data, Some(StreamEnd::Closed)),
            Ok(n) => {
                data.extend_from_slice(&buf[..n]);
                if data.len() >= READ_AT_ONCE {
                    return (data, None);
                }
            }
            Err(Errno::EAGAIN) => return (data, None),
            Err(Errno::EINTR) => {}
            Err(Errno::ECONNRESET) => return (data, Some(StreamEnd::Reset)),
            // EIO on a pty master, or any other error: nothing more will come.
            Err(_) => return (data, Some(StreamEnd::Closed)),
        }
    }
}

/// Writes all of `data` to a non-blocking fd, waiting for room until `deadline`.
pub(super) fn write_all_by(fd: &impl AsFd, mut data: &[u8], deadline: Instant) -> io::Result<()> {
    while !data.is_empty() {
        match nix::unistd::write(fd.as_fd(), data) {
            Ok(n) => data = &data[n..],
            Err(Errno::EAGAIN) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the program is not reading",
                    ));
                }
                let _ = crate::poll::wait(&[fd.as_fd()], crate::poll::Ready::Write, Some(deadline));
            }
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

//! The pty that stands in for the student's keyboard and screen. With stdout on a terminal,
//! Python's print and C's printf line-buffer exactly as on a laptop, so no program needs
//! PYTHONUNBUFFERED or fflush to be graded fairly.

use std::io;
use std::os::fd::{AsFd, OwnedFd};

use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt};
use nix::sys::termios::{InputFlags, LocalFlags, OutputFlags, SetArg, tcgetattr, tcsetattr};

/// Both ends of a pty: the harness keeps `master`, the program gets `slave` as stdin and
/// stdout.
pub struct Terminal {
    pub master: OwnedFd,
    pub slave: OwnedFd,
}

/// Opens a pty set up for grading: no echo (or the harness would read back what it typed),
/// no output processing (or every `\n` would come back as `\r\n`), canonical input kept so
/// that `input()` and `fgets` get whole lines, and ^C / ^D keep their keyboard meaning.
/// Both ends are close-on-exec so that parallel runs never inherit each other's terminal.
pub fn open() -> io::Result<Terminal> {
    let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)?;
    grantpt(&master)?;
    unlockpt(&master)?;
    let slave_path = ptsname_r(&master)?;
    let slave: OwnedFd = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(slave_path)?
        .into();

    let mut termios = tcgetattr(&slave)?;
    termios.local_flags.remove(
        LocalFlags::ECHO
            | LocalFlags::ECHOE
            | LocalFlags::ECHOK
            | LocalFlags::ECHONL
            | LocalFlags::ECHOCTL,
    );
    termios
        .local_flags
        .insert(LocalFlags::ICANON | LocalFlags::ISIG);
    termios.output_flags.remove(OutputFlags::OPOST);
    // ^S and ^Q are data here, not flow control.
    termios.input_flags.remove(InputFlags::IXON);
    tcsetattr(&slave, SetArg::TCSANOW, &termios)?;

    let size = libc::winsize {
        ws_row: 24,
        ws_col: 80,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one winsize.
    unsafe {
        libc::ioctl(
            std::os::fd::AsRawFd::as_raw_fd(&master),
            libc::TIOCSWINSZ,
            &size,
        )
    };

    let master: OwnedFd = master.into();
    set_nonblocking(&master)?;
    Ok(Terminal { master, slave })
}

pub fn set_nonblocking(fd: impl AsFd) -> io::Result<()> {
    let flags = OFlag::from_bits_truncate(fcntl(fd.as_fd(), FcntlArg::F_GETFL)?);
    fcntl(fd.as_fd(), FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    Ok(())
}

use std::os::unix::fs::OpenOptionsExt;

//! Moving a byte stream from one file descriptor to another as fast as the kernel allows.
//!
//! - From a socket (or a file) to anything but a terminal: splice(2), which moves pages
//!   without copying them through user space. It needs a pipe at one end, and socklab nc
//!   always uses a pipe of its own, emptied after each fill: splice holds a pipe's lock for as
//!   long as the other end blocks (a socket with nothing to read), and on a pipe shared with
//!   another process that lock would stall its reads, even non-blocking ones.
//! - From a pipe (`head -c 1G /dev/zero | socklab nc`): read and write with a large buffer.
//!   Copying out leaves the writer's pages in the pipe, to be refilled while still in cache;
//!   splice would take them away and make the writer fill fresh ones. Measured on 1 GiB over
//!   loopback: about 20% faster than splicing through our pipe, which was itself faster
//!   than splicing from the shared pipe directly.
//! - Stdin and stdout pipes are grown to 1 MiB where allowed: fewer wake-ups on both sides.
//! - Where splice cannot work (a terminal, a file opened for appending), read and write take
//!   over, even halfway through. A descriptor left non-blocking by whoever started us is
//!   waited on with poll rather than spun on.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, SpliceFFlags, fcntl, splice};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::stat::{SFlag, fstat};
use nix::unistd::{isatty, pipe2, read, write};

/// The capacity asked for pipes: the default limit for unprivileged users
/// (/proc/sys/fs/pipe-max-size).
const PIPE_SIZE: usize = 1 << 20;
/// The buffer for read and write.
const BUFFER_SIZE: usize = 256 * 1024;

/// Copies from `src` until its end; returns how many bytes moved. An error is from either
/// side: `EPIPE` means `dst` is gone.
pub fn copy(src: BorrowedFd, dst: BorrowedFd) -> io::Result<u64> {
    for fd in [src, dst] {
        if is_pipe(fd) {
            grow(fd);
        }
    }
    if is_pipe(src) || isatty(src).unwrap_or(false) || isatty(dst).unwrap_or(false) {
        return read_write(src, dst, 0);
    }
    via_pipe(src, dst)
}

/// Splices `src` into a pipe of our own, then that pipe into `dst`, emptying it each time.
fn via_pipe(src: BorrowedFd, dst: BorrowedFd) -> io::Result<u64> {
    let (pipe_r, pipe_w): (OwnedFd, OwnedFd) = pipe2(OFlag::O_CLOEXEC)?;
    let capacity = grow(pipe_w.as_fd());
    let mut total = 0u64;
    loop {
        let n = match splice(
            src,
            None,
            &pipe_w,
            None,
            capacity,
            SpliceFFlags::SPLICE_F_MOVE,
        ) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(Errno::EINTR) => continue,
            Err(Errno::EAGAIN) => {
                wait(src, PollFlags::POLLIN)?;
                continue;
            }
            Err(Errno::EINVAL) if total == 0 => return read_write(src, dst, 0),
            Err(e) => return Err(e.into()),
        };
        let mut left = n;
        while left > 0 {
            match splice(&pipe_r, None, dst, None, left, SpliceFFlags::SPLICE_F_MOVE) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(m) => left -= m,
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => wait(dst, PollFlags::POLLOUT)?,
                Err(Errno::EINVAL) => {
                    // `dst` takes no splice: hand over what the pipe holds, then go on
                    // without splice.
                    let moved = total + (n - left) as u64;
                    let drained = read_write_n(pipe_r.as_fd(), dst, left)?;
                    return read_write(src, dst, moved + drained);
                }
                Err(e) => return Err(e.into()),
            }
        }
        total += n as u64;
    }
}

/// Plain read and write until the end of `src`; `total` is what already moved.
fn read_write(src: BorrowedFd, dst: BorrowedFd, mut total: u64) -> io::Result<u64> {
    let mut buf = vec![0u8; BUFFER_SIZE];
    loop {
        let n = read_some(src, &mut buf)?;
        if n == 0 {
            return Ok(total);
        }
        write_all(dst, &buf[..n])?;
        total += n as u64;
    }
}

/// Moves exactly `count` bytes that `src` is known to hold.
fn read_write_n(src: BorrowedFd, dst: BorrowedFd, count: usize) -> io::Result<u64> {
    let mut buf = vec![0u8; count.min(BUFFER_SIZE)];
    let mut left = count;
    while left > 0 {
        let want = left.min(buf.len());
        let n = read_some(src, &mut buf[..want])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        write_all(dst, &buf[..n])?;
        left -= n;
    }
    Ok(count as u64)
}

/// One read, retried on EINTR and waited for on a non-blocking descriptor.
pub fn read_some(fd: BorrowedFd, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match read(fd, buf) {
            Ok(n) => return Ok(n),
            Err(Errno::EINTR) => {}
            Err(Errno::EAGAIN) => wait(fd, PollFlags::POLLIN)?,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Writes all of `buf`, retried on EINTR and waited for on a non-blocking descriptor.
pub fn write_all(fd: BorrowedFd, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match write(fd, buf) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => buf = &buf[n..],
            Err(Errno::EINTR) => {}
            Err(Errno::EAGAIN) => wait(fd, PollFlags::POLLOUT)?,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Blocks until `fd` is ready for `events` (or has an error or hang-up to report).
fn wait(fd: BorrowedFd, events: PollFlags) -> io::Result<()> {
    loop {
        match poll(&mut [PollFd::new(fd, events)], PollTimeout::NONE) {
            Ok(_) => return Ok(()),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

fn is_pipe(fd: BorrowedFd) -> bool {
    fstat(fd)
        .is_ok_and(|st| SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFIFO)
}

/// Asks for a pipe of [`PIPE_SIZE`]; returns the capacity it has.
fn grow(fd: BorrowedFd) -> usize {
    let wanted = PIPE_SIZE as libc::c_int;
    match fcntl(fd, FcntlArg::F_SETPIPE_SZ(wanted)) {
        Ok(size) if size > 0 => size as usize,
        _ => fcntl(fd, FcntlArg::F_GETPIPE_SZ)
            .ok()
            .filter(|&size| size > 0)
            .map_or(64 * 1024, |size| size as usize),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 256) as u8).collect()
    }

    /// Socket to socket, through our pipe.
    #[test]
    fn socket_to_socket() {
        let data = pattern(3 << 20);
        let (mut feed, src) = UnixStream::pair().unwrap();
        let (dst, mut sink) = UnixStream::pair().unwrap();
        let writer = {
            let data = data.clone();
            std::thread::spawn(move || {
                feed.write_all(&data).unwrap();
            })
        };
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            sink.read_to_end(&mut got).unwrap();
            got
        });
        let moved = copy(src.as_fd(), dst.as_fd()).unwrap();
        drop(dst);
        writer.join().unwrap();
        assert_eq!(moved, data.len() as u64);
        assert!(reader.join().unwrap() == data, "bytes differ");
    }

    /// Pipe to socket, by read and write.
    #[test]
    fn pipe_to_socket() {
        let data = pattern(2 << 20);
        let (pipe_r, pipe_w) = pipe2(OFlag::O_CLOEXEC).unwrap();
        let (dst, mut sink) = UnixStream::pair().unwrap();
        let writer = {
            let data = data.clone();
            std::thread::spawn(move || {
                std::fs::File::from(pipe_w).write_all(&data).unwrap();
            })
        };
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            sink.read_to_end(&mut got).unwrap();
            got
        });
        assert_eq!(
            copy(pipe_r.as_fd(), dst.as_fd()).unwrap(),
            data.len() as u64
        );
        drop(dst);
        writer.join().unwrap();
        assert!(reader.join().unwrap() == data, "bytes differ");
    }

    /// A file opened for appending (`>> log`) refuses splice with EINVAL once our pipe
    /// already holds bytes (from a socket): plain writes take over from there, and every
    /// byte arrives once, in order; from a pipe, plain writes do it all.
    #[test]
    fn append_only_output_falls_back_to_writes() {
        let data = pattern(1 << 20);
        for from_socket in [false, true] {
            let file = tempfile::NamedTempFile::new().unwrap();
            std::fs::write(file.path(), b"head:").unwrap();
            let out = std::fs::OpenOptions::new()
                .append(true)
                .open(file.path())
                .unwrap();
            let (src, mut feed): (OwnedFd, Box<dyn Write + Send>) = if from_socket {
                let (feed, src) = UnixStream::pair().unwrap();
                (src.into(), Box::new(feed))
            } else {
                let (pipe_r, pipe_w) = pipe2(OFlag::O_CLOEXEC).unwrap();
                (pipe_r, Box::new(std::fs::File::from(pipe_w)))
            };
            let writer = {
                let data = data.clone();
                std::thread::spawn(move || feed.write_all(&data).unwrap())
            };
            assert_eq!(copy(src.as_fd(), out.as_fd()).unwrap(), data.len() as u64);
            writer.join().unwrap();
            let got = std::fs::read(file.path()).unwrap();
            assert!(
                got[..5] == *b"head:" && got[5..] == data,
                "from_socket={from_socket}"
            );
        }
    }
}

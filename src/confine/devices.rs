//! The run's /dev: null, zero, random, urandom and tty (its controlling terminal), its own
//! terminal at /dev/pts/N, and /dev/fd and the standard streams' links. No disk, no other
//! terminal, no device of the host's besides. (/dev/shm is a private folder of the run's:
//! see [`super::view`].)

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::mounts;

/// The devices every program may use, as the host has them.
const NODES: [&str; 5] = ["null", "zero", "random", "urandom", "tty"];
/// Links to the process's own descriptors, as a /dev has them.
const LINKS: [(&str, &str); 4] = [
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
];

/// The devices, opened before the host's /dev is covered.
pub struct Devices {
    nodes: Vec<(&'static str, File)>,
    /// The calling process's terminal (its stdin, the run's pty), by its name in /dev.
    terminal: Option<(PathBuf, File)>,
}

fn open_path(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_CLOEXEC)
        .open(path)
}

impl Devices {
    pub fn open() -> io::Result<Devices> {
        let mut nodes = Vec::new();
        for name in NODES {
            nodes.push((name, open_path(&Path::new("/dev").join(name))?));
        }
        let terminal = std::fs::read_link("/proc/self/fd/0")
            .ok()
            .filter(|name| name.starts_with("/dev/pts/"))
            .and_then(|name| Some((name.clone(), open_path(&name).ok()?)));
        Ok(Devices { nodes, terminal })
    }

    /// /dev/null, to put over a hidden file.
    pub fn null(&self) -> BorrowedFd<'_> {
        self.nodes[0].1.as_fd()
    }

    /// Covers `dev` with a folder holding these devices alone.
    pub fn populate(&self, dev: &Path) -> io::Result<()> {
        mounts::tmpfs(dev, "size=64k,mode=755")?;
        let bind = |file: &File, target: &Path| {
            File::create(target)?;
            mounts::bind(file.as_fd(), target)
        };
        for (name, file) in &self.nodes {
            bind(file, &dev.join(name))?;
        }
        std::fs::create_dir(dev.join("pts"))?;
        if let Some((name, file)) = &self.terminal
            && let Some(file_name) = name.file_name()
        {
            bind(file, &dev.join("pts").join(file_name))?;
        }
        for (name, to) in LINKS {
            std::os::unix::fs::symlink(to, dev.join(name))?;
        }
        Ok(())
    }
}

//! Whether the guarded program ever gave a socket a receive timeout (SO_RCVTIMEO), which
//! would end a blocked `recv()` or `accept()` by itself. Where socklab may read the
//! program's descriptors it asks each socket (`pidfd_getfd`, see [`crate::stuck`]); where it
//! may not (Docker's default profile refuses `pidfd_getfd` without CAP_SYS_PTRACE), the
//! guard, which sees every such `setsockopt` of the program's, says whether there was one.
//!
//! The word passes through a page shared by init and the guard (mapped by init before it
//! forks the program's process, so the same page in both): the guard sets it; init reads it
//! when it looks at the program's threads. The program never has the page (exec drops it).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

/// The shared page's flag, mapped on first use; `None` if it could not be.
fn flag() -> Option<&'static AtomicU8> {
    static PAGE: OnceLock<usize> = OnceLock::new();
    let address = *PAGE.get_or_init(|| {
        // SAFETY: a fresh anonymous shared mapping of one page, never unmapped; only the
        // first byte is used, as an atomic.
        let page = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                4096,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if page == libc::MAP_FAILED { 0 } else { page as usize }
    });
    // SAFETY: the page lives as long as the process, and is zeroed until witnessed.
    (address != 0).then(|| unsafe { &*(address as *const AtomicU8) })
}

/// Maps the page now (in init, before the program's process is forked).
pub fn prepare() {
    let _ = flag();
}

/// The guard saw the program set a receive timeout.
pub fn witness() {
    if let Some(flag) = flag() {
        flag.store(1, Ordering::SeqCst);
    }
}

/// Whether the program is known to have set no receive timeout on any socket: only where
/// the page was mapped before the program started (under the guard).
pub fn none_set() -> bool {
    flag().is_some_and(|flag| flag.load(Ordering::SeqCst) == 0)
}

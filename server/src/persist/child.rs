//! The fork()ed child that writes a snapshot (Redis's redisFork): the child sees the
//! dataset as it was at fork time while the parent keeps serving, and copy-on-write keeps
//! the pause to the page-table copy.
//!
//! The child runs only the snapshot writer: no locks other threads may hold (the caller
//! holds the keyspace lock across the fork; logging and tokio are not touched), then
//! `_exit` so no destructors or atexit handlers of the parent run twice.
#![allow(unsafe_code)]

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

/// INFO stats latest_fork_usec / total_forks: the fork pauses the server (page tables are
/// copied under the keyspace lock), so monitoring watches it.
pub static LATEST_FORK_USEC: AtomicU64 = AtomicU64::new(0);
pub static TOTAL_FORKS: AtomicU64 = AtomicU64::new(0);

/// How a child ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Exit {
    Ok,
    Failed(String),
    /// Killed by a signal (ours, when a save was cancelled).
    Signaled(i32),
}

/// Forks; in the child runs `f` and exits with its code, in the parent returns the pid.
pub fn spawn(f: impl FnOnce() -> i32) -> io::Result<i32> {
    // SAFETY: fork is async-signal-safe; in the child only the calling thread exists and
    // `f` touches memory the caller owns (it holds the keyspace lock), the allocator
    // (glibc's malloc re-initialises its locks in the child) and plain file I/O.
    let start = std::time::Instant::now();
    let pid = unsafe { libc::fork() };
    if pid > 0 {
        LATEST_FORK_USEC.store(start.elapsed().as_micros() as u64, Ordering::Relaxed);
        TOTAL_FORKS.fetch_add(1, Ordering::Relaxed);
    }
    match pid {
        -1 => Err(io::Error::last_os_error()),
        0 => {
            let code = f();
            // SAFETY: ends the child without running the parent's destructors.
            unsafe { libc::_exit(code) }
        }
        pid => Ok(pid),
    }
}

/// Non-blocking check of a child; `None` while it runs.
pub fn try_wait(pid: i32) -> Option<Exit> {
    let mut status = 0;
    // SAFETY: waitpid on our own child with a valid out-pointer.
    let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    if r == 0 {
        return None;
    }
    if r < 0 {
        return Some(Exit::Failed(io::Error::last_os_error().to_string()));
    }
    if libc::WIFEXITED(status) {
        match libc::WEXITSTATUS(status) {
            0 => Some(Exit::Ok),
            c => Some(Exit::Failed(format!("child exited with code {c}"))),
        }
    } else if libc::WIFSIGNALED(status) {
        Some(Exit::Signaled(libc::WTERMSIG(status)))
    } else {
        None
    }
}

/// Kills a child and reaps it.
pub fn kill(pid: i32) {
    // SAFETY: signalling and reaping our own child.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
    }
}

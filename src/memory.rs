//! Handing freed memory back to the system (glibc only; elsewhere these do nothing).

/// Large blocks (Argon2's 19 MiB) go straight back to the system when freed, instead of
/// staying in the per-thread arenas of every thread that ever hashed. Call once, first
/// thing in `main`, before any other thread exists.
pub fn return_large_blocks_on_free() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// Gives the free part of the heap back to the system: after a listing of every user,
/// megabytes of small freed blocks would otherwise keep the process's RSS high.
pub fn release_free_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases memory the allocator holds free.
    unsafe {
        libc::malloc_trim(0);
    }
}

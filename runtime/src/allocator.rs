//! The worker's memory allocator: mimalloc, which the `wasmconnect` binary
//! installs as its global allocator, tuned by [`tune`], which the binary
//! calls from `.init_array`, before Rust's start-up code first allocates.
//!
//! Why not glibc's: every record crosses several threads as a few small
//! buffers (the strings a guest's batch is lifted into, a delivery ticket,
//! converted payloads), and glibc's arenas spent about a fifth of a source
//! task's CPU in `malloc`, `free` and their consolidation. mimalloc's
//! thread-local free lists made the native source loop 1.6× and the 100 B
//! sink task 1.3× faster (docs/benchmarks.md).

use libmimalloc_sys::{mi_option_set, mi_option_t};

/// The allocator the binary installs.
pub use mimalloc::MiMalloc;

// mimalloc 3's option numbers (enum mi_option_e in its mimalloc.h); the
// Rust bindings name only mimalloc 2's. The unit test below checks them
// against the defaults its options.c sets.
const ARENA_EAGER_COMMIT: mi_option_t = 4;
const PURGE_DELAY: mi_option_t = 15;

/// Hands freed memory back to the system at once and commits arena memory
/// only as it is used. With mimalloc's defaults (eager commit, purging
/// a second late and only when the allocator is called again) an idle worker
/// kept about 20 MiB more resident than with glibc's allocator; with
/// these it keeps the same.
pub fn tune() {
    // SAFETY: setting an option has no preconditions; these two are read
    // whenever mimalloc commits or purges memory, so they apply from here on.
    unsafe {
        mi_option_set(ARENA_EAGER_COMMIT, 0);
        mi_option_set(PURGE_DELAY, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libmimalloc_sys::mi_option_get;

    fn option(option: mi_option_t) -> std::ffi::c_long {
        // SAFETY: reading an option has no preconditions.
        unsafe { mi_option_get(option) }
    }

    #[test]
    fn option_numbers_name_the_options_they_mean() {
        // options.c: arena_eager_commit defaults to 2, purge_delay to 1000.
        // The environment may set either (MIMALLOC_*); then there is
        // nothing to check against.
        if std::env::var_os("MIMALLOC_ARENA_EAGER_COMMIT").is_none()
            && std::env::var_os("MIMALLOC_PURGE_DELAY").is_none()
        {
            assert_eq!(option(ARENA_EAGER_COMMIT), 2);
            assert_eq!(option(PURGE_DELAY), 1000);
        }
        tune();
        assert_eq!(option(ARENA_EAGER_COMMIT), 0);
        assert_eq!(option(PURGE_DELAY), 0);
    }
}

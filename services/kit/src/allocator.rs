//! The allocator's settings for the hub's binaries: `ggzhub`, and `ggzhub-bench`, which measures
//! it. Both allocate with mimalloc v2 (the `#[global_allocator]` of each).
//!
//! mimalloc hands memory a thread has freed back to the operating system after
//! `MIMALLOC_PURGE_DELAY` milliseconds, 10 by default. A subgraph answering the hub scenario at 30
//! requests per second frees a request's memory and needs as much again 33 ms later: with 10 ms
//! the hub took about 90 page faults per request (memory the kernel had taken back, zeroed again
//! on first touch), and with 100 ms none, for about 2 MB more peak RSS in the gateway benchmark
//! (`infra/bench/README.md`, issue 18's fourteenth round).
//!
//! mimalloc reads its options from the environment as the process starts; setting one from Rust
//! afterwards takes an `unsafe` call (`mi_option_set`), which this workspace forbids. So a binary
//! started without the variable starts itself again with it ([`restart_with_defaults`]), in the
//! same process: `exec` keeps the process id, the open files and the arguments.

/// The variable mimalloc reads its purge delay from (milliseconds).
pub const PURGE_DELAY_VAR: &str = "MIMALLOC_PURGE_DELAY";

/// The hub's purge delay: longer than the time between two requests at a modest rate, short
/// enough that memory an idle service no longer needs goes back within a fraction of a second.
pub const PURGE_DELAY_MS: u32 = 100;

/// When the environment does not set [`PURGE_DELAY_VAR`], replaces this process with the same
/// binary, the same arguments and that variable set to [`PURGE_DELAY_MS`]; an operator's own value
/// is kept. Call it first thing in `main`, before threads or files are opened. It returns only
/// when there was nothing to do (`None`) or the new start failed (the error; the process then runs
/// on with mimalloc's own defaults, which is correct, only slower).
#[cfg(unix)]
pub fn restart_with_defaults() -> Option<std::io::Error> {
    use std::os::unix::process::CommandExt as _;

    if std::env::var_os(PURGE_DELAY_VAR).is_some() {
        return None;
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(error) => return Some(error),
    };
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(exe);
    if let Some(arg0) = args.next() {
        command.arg0(arg0);
    }
    Some(command.args(args).env(PURGE_DELAY_VAR, PURGE_DELAY_MS.to_string()).exec())
}

/// Elsewhere the binary runs with mimalloc's defaults.
#[cfg(not(unix))]
pub fn restart_with_defaults() -> Option<std::io::Error> {
    None
}

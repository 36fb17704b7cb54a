//! The allocator's settings for the hub's binaries: `ggzhub`, and `ggzhub-bench`, which measures
//! it. Both allocate with mimalloc v2 (the `#[global_allocator]` of each).
//!
//! mimalloc gives memory a thread has freed back to the operating system once it has stayed
//! unused for `MIMALLOC_PURGE_DELAY` milliseconds, 10 by default (whole freed segments ten times
//! as long), checked while the thread allocates and frees. A subgraph answering the hub scenario
//! at 30 requests per second frees a request's memory and needs as much again 33 ms later: with
//! 10 ms the hub took about 90 page faults per request (memory the kernel had taken back, zeroed
//! again on first touch), with 100 ms none, for about 2 MB more peak RSS in the gateway benchmark
//! (`infra/bench/README.md`, issue 18's fourteenth round).
//!
//! mimalloc reads its options from the environment as the process starts; setting one from Rust
//! afterwards takes an `unsafe` call (`mi_option_set`), which this workspace forbids. So a binary
//! started without the variable starts itself again with it ([`restart_with_defaults`]), in the
//! same process: `exec` keeps the process id, the open files and the arguments. Tools that do not
//! follow an `exec` (valgrind without `--trace-children=yes`) see only the first start: set the
//! variable for them.

/// The variable mimalloc reads its purge delay from (milliseconds).
pub const PURGE_DELAY_VAR: &str = "MIMALLOC_PURGE_DELAY";

/// The variable's older name, which mimalloc still reads when [`PURGE_DELAY_VAR`] is not set.
pub const LEGACY_PURGE_DELAY_VAR: &str = "MIMALLOC_RESET_DELAY";

/// The hub's purge delay: longer than the time between two requests at a modest rate, short
/// enough that a service whose load falls gives its memory back within a second or so.
pub const PURGE_DELAY_MS: u32 = 100;

/// When the environment sets neither [`PURGE_DELAY_VAR`] nor [`LEGACY_PURGE_DELAY_VAR`],
/// replaces this process with the same binary, the same arguments and [`PURGE_DELAY_VAR`] set to
/// [`PURGE_DELAY_MS`]; an operator's own value is kept. Call it first thing in `main`, before
/// threads start or files are opened. It returns only when there was nothing to do (`Ok`) or the
/// new start failed (the error; the process may run on with mimalloc's own defaults, which is
/// correct, only slower).
#[cfg(unix)]
pub fn restart_with_defaults() -> std::io::Result<()> {
    use std::os::unix::process::CommandExt as _;

    if [PURGE_DELAY_VAR, LEGACY_PURGE_DELAY_VAR].iter().any(|name| std::env::var_os(name).is_some()) {
        return Ok(());
    }
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(std::env::current_exe()?);
    if let Some(arg0) = args.next() {
        command.arg0(arg0);
    }
    Err(command.args(args).env(PURGE_DELAY_VAR, PURGE_DELAY_MS.to_string()).exec())
}

/// Elsewhere the binary runs with mimalloc's defaults.
#[cfg(not(unix))]
pub fn restart_with_defaults() -> std::io::Result<()> {
    Ok(())
}

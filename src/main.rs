//! `ggzhub`: the one CLI of the hub. Wiring only: every behaviour lives in the service crates.

mod cli;
mod dev;

use clap::Parser as _;

/// mimalloc instead of glibc's allocator: the gateway allocates per JSON value, and glibc's
/// malloc/free took a third of its instructions under the benchmark (callgrind).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // mimalloc's purge delay, which it reads from the environment at start: the process starts
    // again with it set unless the operator set it (ggzhub_kit::allocator says why).
    if let Err(error) = ggzhub_kit::allocator::restart_with_defaults() {
        eprintln!("warning: could not restart with {}: {error}", ggzhub_kit::allocator::PURGE_DELAY_VAR);
    }
    let args = cli::Cli::parse();
    // What `#[tokio::main]` builds, with the worker threads a subgraph may be given.
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(workers) = args.worker_threads() {
        runtime.worker_threads(workers);
    }
    let runtime = match runtime.enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

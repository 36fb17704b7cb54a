//! `ggzhub`: the one CLI of the hub. Wiring only: every behaviour lives in the service crates.

mod cli;
mod dev;

use clap::Parser as _;

/// mimalloc instead of glibc's allocator: the gateway allocates per JSON value, and glibc's
/// malloc/free took a third of its instructions under the benchmark (callgrind).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

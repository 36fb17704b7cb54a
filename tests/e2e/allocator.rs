//! The allocator setting `ggzhub` starts itself with (`ggzhub_kit::allocator`), as mimalloc in
//! the running binary reports it: with `MIMALLOC_VERBOSE=1` mimalloc prints its options on
//! stderr as each start of the process reads them.

use std::process::Command;

use ggzhub_kit::allocator::{LEGACY_PURGE_DELAY_VAR, PURGE_DELAY_MS, PURGE_DELAY_VAR};

/// The purge delays mimalloc reported, in the order the process started (`ggzhub --version`).
fn purge_delays_read(env: &[(&str, &str)]) -> Vec<String> {
    let output = Command::new(env!("CARGO_BIN_EXE_ggzhub"))
        .arg("--version")
        .env_remove(PURGE_DELAY_VAR)
        .env_remove(LEGACY_PURGE_DELAY_VAR)
        .env("MIMALLOC_VERBOSE", "1")
        .envs(env.iter().copied())
        .output()
        .expect("ggzhub runs");
    assert!(output.status.success(), "ggzhub --version: {output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("ggzhub "), "{output:?}");
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter_map(|line| line.split("option 'purge_delay': ").nth(1))
        .map(|value| value.trim().to_owned())
        .collect()
}

#[test]
fn without_the_variable_the_binary_starts_again_with_the_hubs_purge_delay() {
    // mimalloc's default on the first start, the hub's after it.
    assert_eq!(purge_delays_read(&[]), ["10".to_owned(), PURGE_DELAY_MS.to_string()]);
}

#[test]
fn an_operators_purge_delay_is_kept_and_the_binary_starts_once() {
    assert_eq!(purge_delays_read(&[(PURGE_DELAY_VAR, "25")]), ["25"]);
    // The older name too (mimalloc reads it when the new one is not set).
    assert_eq!(purge_delays_read(&[(LEGACY_PURGE_DELAY_VAR, "30")]), ["30"]);
}

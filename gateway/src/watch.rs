//! Files watched for changes while the gateway runs (the supergraph, the trusted documents).

use std::path::Path;
use std::time::{Duration, SystemTime};

/// Checks `path` every `interval` and calls `changed` when its modification time or size
/// changed; stops when `changed` returns false. Shared by the supergraph and the
/// trusted-documents watchers.
pub(crate) async fn poll_file(path: &Path, interval: Duration, mut changed: impl FnMut(&Path) -> bool) {
    let mut last = fingerprint(path);
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let now = fingerprint(path);
        if now == last {
            continue;
        }
        last = now;
        if !changed(path) {
            return;
        }
    }
}

fn fingerprint(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

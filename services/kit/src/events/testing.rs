//! A NATS server of a test's own (`nats-server` from Debian's package, as on the CI machine) with
//! JetStream, on a free port and a store directory of its own, that the test can stop and start
//! again on the same port and store: "NATS is down", then "it is back, with what it kept".
//!
//! A test that needs NATS fails loudly when `nats-server` is not installed; it never skips.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Where Debian installs the server; `NATS_SERVER` overrides it.
const DEFAULT_BINARY: &str = "/usr/sbin/nats-server";

pub struct NatsServer {
    pub port: u16,
    store: PathBuf,
    child: Option<Child>,
}

impl NatsServer {
    /// Starts a server on a free port with a fresh store.
    ///
    /// # Panics
    /// When `nats-server` cannot be started or does not listen within 10 s.
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let store = std::env::temp_dir().join(format!("ggzhub-nats-{}", uuid::Uuid::new_v4().simple()));
        let mut server = Self { port, store, child: None };
        server.resume().await;
        server
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Stops the server (kill; what JetStream stored stays in the store directory).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and store.
    ///
    /// # Panics
    /// As [`start`](Self::start).
    pub async fn resume(&mut self) {
        let binary = std::env::var("NATS_SERVER").unwrap_or_else(|_| DEFAULT_BINARY.to_owned());
        let child = Command::new(&binary)
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string(), "-js", "-sd"])
            .arg(&self.store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {binary} (Debian package nats-server) failed: {e}"));
        self.child = Some(child);
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{binary} did not listen on port {} within 10 s", self.port);
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.store);
    }
}

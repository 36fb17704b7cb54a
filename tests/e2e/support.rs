//! What the end-to-end tests share: the real `ggzhub dev` binary on random ports ([`DevHub`]), an
//! in-process app on `127.0.0.1:0` ([`serve`]), and the demo organisations they act as.

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

// Organisations of the demo data (services/region/data/demo/organisations.json) that more than
// one module acts as.

/// GGZ Kromme Rijn: the demo PROVIDER token; at the utrecht table, chair of utrecht.
pub const KROMME_RIJN: &str = "47ed3233-56c7-536b-aca1-44612422ab16";
/// Stichting Eemland Psychiatrie: another provider at the utrecht table, not its chair.
pub const EEMLAND: &str = "7c50861d-9493-580f-bb12-590e1d6c1336";
/// Zorgverzekeraar Polder: the demo INSURER token; at the utrecht table, coordinating insurer of
/// utrecht, flevoland and t-gooi, chair of flevoland.
pub const POLDER: &str = "982ac3d9-ff28-5ad1-ae5a-2eddea65a21f";
/// Cliëntenplatform Stemkracht Midden: the demo PATIENT_ORGANISATION token; utrecht, flevoland,
/// t-gooi.
pub const STEMKRACHT: &str = "41e5be88-509b-51de-90a5-2dfd2e806caf";
/// ggzhub beheer: the demo HUB_OPERATOR token.
pub const BEHEER: &str = "1e122aa6-9e3f-587d-aa63-158d558482d7";

/// `app` served on `127.0.0.1:0`; returns its `/graphql` URL.
pub async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/graphql", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// A running `ggzhub dev` (the real binary) with its demo data and demo tokens.
pub struct DevHub {
    pub child: Child,
    pub url: String,
    pub national_url: String,
    pub contracting_url: String,
    pub gateway_url: String,
    pub data_dir: PathBuf,
    pub tokens: Value,
}

impl DevHub {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts `ggzhub dev` with extra environment variables.
    pub fn start_with(env: &[(&str, &str)]) -> Self {
        let data_dir = std::env::temp_dir().join(format!("ggzhub-e2e-{}", uuid::Uuid::new_v4().simple()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_ggzhub"))
            .args([
                "dev",
                "--gateway-port",
                "0",
                "--region-port",
                "0",
                "--national-table-port",
                "0",
                "--contracting-port",
                "0",
                "--issuer-port",
                "0",
                "--data-dir",
            ])
            .arg(&data_dir)
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("ggzhub dev starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                for name in ["gateway", "region subgraph", "national-table subgraph", "contracting subgraph"] {
                    if let Some(url) = line.trim().strip_prefix(name).map(|s| s.trim().to_owned()) {
                        let _ = tx.send((name, url));
                    }
                }
            }
        });
        let mut urls = std::collections::HashMap::new();
        while urls.len() < 4 {
            let (name, url) = rx.recv_timeout(Duration::from_secs(120)).expect("ggzhub dev prints the subgraph URLs");
            urls.insert(name, url);
        }
        let url = urls["region subgraph"].clone();
        let national_url = urls["national-table subgraph"].clone();
        let contracting_url = urls["contracting subgraph"].clone();
        let gateway_url = urls["gateway"].clone();
        let tokens: Value = serde_json::from_str(
            &std::fs::read_to_string(data_dir.join("demo-tokens.json")).expect("demo-tokens.json is written"),
        )
        .expect("demo-tokens.json is JSON");
        Self { child, url, national_url, contracting_url, gateway_url, data_dir, tokens }
    }

    pub fn persona(&self, kind: &str) -> (String, String) {
        let t =
            self.tokens.as_array().expect("array").iter().find(|t| t["kind"] == kind).expect("a demo token per kind");
        (t["org"].as_str().expect("org").to_owned(), t["token"].as_str().expect("token").to_owned())
    }

    pub async fn gql(&self, token: &str, query: &str, variables: Value) -> Value {
        self.gql_at(&self.url, token, query, variables).await
    }

    /// Sends a query to `url`. Organisation tokens are for the gateway only; a request straight
    /// to a subgraph carries what the gateway would send it instead: an internal token with the
    /// same claims, signed with the hub's internal key.
    pub async fn gql_at(&self, url: &str, token: &str, query: &str, variables: Value) -> Value {
        let token = if url == self.gateway_url { token.to_owned() } else { self.internal_token(token) };
        // Longer than the hub's own request timeout (30 s, then 408): a request still unanswered
        // after it means the hub froze, and the test says so instead of waiting forever.
        let resp = reqwest::Client::new()
            .post(url)
            .bearer_auth(token)
            .timeout(Duration::from_secs(90))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap_or_else(|e| panic!("request to {url} reaches the hub and is answered within 90 s: {e}"));
        resp.json().await.expect("JSON response")
    }

    /// The internal token the gateway would mint for the caller of organisation token `token`:
    /// organisation, kind, regions and roles as the register holds them (demo-tokens.json says
    /// so for each demo token), the kind's scopes, the token's subject.
    pub fn internal_token(&self, token: &str) -> String {
        use base64::Engine as _;
        let payload = token.split('.').nth(1).expect("a JWT");
        let claims: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64url payload"),
        )
        .expect("JSON claims");
        let entry = self
            .tokens
            .as_array()
            .expect("array")
            .iter()
            .find(|t| t["identifier"] == claims["org_identifier"])
            .expect("a demo token's organisation");
        let key = ggzhub_kit::SigningKey::load_or_create(&self.data_dir.join("dev-signing-key.pem"))
            .expect("the hub's internal key");
        let strings = |v: &Value| -> Vec<String> {
            v.as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned)).collect()
        };
        key.signer().sign(&ggzhub_kit::token::TokenRequest {
            subject: claims["sub"].as_str().expect("sub").to_owned(),
            audience: vec!["region".into(), "national-table".into(), "contracting".into()],
            org: entry["org"].as_str().expect("org").parse().expect("uuid"),
            org_kind: ggzhub_kit::OrgKind::parse(entry["kind"].as_str().expect("kind")).expect("a kind"),
            regions: strings(&entry["regions"]),
            roles: strings(&entry["roles"]),
            scopes: strings(&entry["scopes"]),
            ttl: Duration::from_secs(300),
        })
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait works") {
                return status;
            }
            assert!(Instant::now() < deadline, "ggzhub dev did not stop within 20 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for DevHub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

//! Trusted documents per organisation: a partner integration can be locked to the operations it
//! registered.
//!
//! The manifest is one JSON file (`[trusted_documents] manifest`): an object from organisation
//! id (a UUID, or `"*"` for every organisation and for anonymous callers) to an object from
//! SHA-256 (lowercase hex of the exact query text) to that text:
//!
//! ```json
//! { "*": { "<sha256>": "{ regions { code } }" },
//!   "0190…-…": { "<sha256>": "query Offers { … }" } }
//! ```
//!
//! Every hash is checked against its text when the manifest is loaded. A request's query text is
//! hashed and looked up on the caller's list (its organisation's entries and `"*"`); a client may
//! also send only the hash, Apollo's persisted-query shape
//! (`extensions.persistedQuery = { version: 1, sha256Hash }`), and the registered text is then
//! served. In `log` mode unlisted operations are served and logged (organisation and hash); in
//! `enforce` mode they are refused before parsing. The manifest is polled for changes and swapped
//! in atomically; a broken one is logged and ignored.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::Duration;

use anyhow::{Context as _, bail};
use apollo_compiler::response::JsonValue;
use arc_swap::ArcSwap;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{GatewayError, GraphqlError};

/// What the gateway does with the trusted documents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrustedMode {
    /// Not consulted; a request that sends only a hash gets `PERSISTED_QUERY_NOT_SUPPORTED`.
    #[default]
    Off,
    /// Every operation is served; those not on the caller's list are logged.
    Log,
    /// Operations not on the caller's list are refused (`PERSISTED_QUERY_NOT_IN_LIST`).
    Enforce,
}

/// The key of the documents every caller may run.
pub const EVERYONE: &str = "*";

/// One registered text and who registered it.
struct Document {
    text: Arc<str>,
    everyone: bool,
    orgs: HashSet<Uuid>,
}

/// A loaded, verified manifest, indexed by hash.
#[derive(Default)]
pub struct Manifest {
    documents: HashMap<String, Document>,
}

impl fmt::Debug for Manifest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Manifest").field("documents", &self.documents.len()).finish()
    }
}

impl Manifest {
    /// Parses and verifies a manifest: keys are `"*"` or organisation UUIDs, each hash is 64 hex
    /// digits and the SHA-256 of its text.
    pub fn parse(json: &str) -> anyhow::Result<Self> {
        let lists: HashMap<String, HashMap<String, String>> = serde_json::from_str(json)
            .context("a trusted-documents manifest is {\"<organisation id or *>\": {\"<sha256>\": \"<query>\"}}")?;
        let mut documents: HashMap<String, Document> = HashMap::new();
        for (owner, entries) in lists {
            let org = if owner == EVERYONE {
                None
            } else {
                Some(
                    Uuid::parse_str(&owner)
                        .with_context(|| format!("{owner:?} is neither \"*\" nor an organisation id"))?,
                )
            };
            for (hash, text) in entries {
                let hash = hash.to_ascii_lowercase();
                if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                    bail!("{owner}: {hash:?} is not a SHA-256 in hex");
                }
                if sha256_hex(&text) != hash {
                    bail!("{owner}: {hash} is not the SHA-256 of its query text");
                }
                let document = documents.entry(hash).or_insert_with(|| Document {
                    text: Arc::from(text),
                    everyone: false,
                    orgs: HashSet::new(),
                });
                match org {
                    None => document.everyone = true,
                    Some(org) => {
                        document.orgs.insert(org);
                    }
                }
            }
        }
        Ok(Self { documents })
    }

    /// Reads and parses a manifest file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let json = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&json).with_context(|| format!("loading {}", path.display()))
    }

    /// Registered documents (distinct texts).
    pub fn len(&self) -> usize {
        self.documents.len()
    }

    pub fn is_empty(&self) -> bool {
        self.documents.is_empty()
    }

    /// The text registered under `hash` on the caller's list (`org`'s and `"*"`); anonymous
    /// callers (`None`) have `"*"` only.
    pub fn lookup(&self, hash: &str, org: Option<Uuid>) -> Option<&Arc<str>> {
        let document = self.documents.get(hash)?;
        let listed = document.everyone || org.is_some_and(|org| document.orgs.contains(&org));
        listed.then_some(&document.text)
    }
}

/// SHA-256 of `text`, lowercase hex.
pub fn sha256_hex(text: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest.as_ref() {
        use fmt::Write as _;
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// Why a request was refused: its kind in the gateway's error table (code and HTTP status) and
/// the error sent.
#[derive(Debug)]
pub struct Refusal {
    pub kind: GatewayError,
    pub error: GraphqlError,
}

impl Refusal {
    fn new(kind: GatewayError, message: &str) -> Self {
        Self { kind, error: kind.error(message) }
    }
}

/// The hash a request names in `extensions.persistedQuery` (Apollo's shape, version 1),
/// lowercased; `None` when it names none.
pub fn persisted_query_hash(extensions: Option<&JsonValue>) -> Result<Option<String>, GraphqlError> {
    let bad = |message: &str| GatewayError::BadRequest.error(message);
    let extensions = match extensions {
        None | Some(JsonValue::Null) => return Ok(None),
        Some(JsonValue::Object(map)) => map,
        Some(_) => return Err(bad("`extensions` must be an object")),
    };
    let persisted = match extensions.get("persistedQuery") {
        None | Some(JsonValue::Null) => return Ok(None),
        Some(JsonValue::Object(map)) => map,
        Some(_) => return Err(bad("`extensions.persistedQuery` must be an object")),
    };
    if persisted.get("version").and_then(JsonValue::as_i64) != Some(1) {
        return Err(bad("only version 1 of `extensions.persistedQuery` is supported"));
    }
    match persisted.get("sha256Hash").and_then(JsonValue::as_str) {
        Some(hash) if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(Some(hash.to_ascii_lowercase()))
        }
        _ => Err(bad("`extensions.persistedQuery.sha256Hash` must be a SHA-256 in hex")),
    }
}

/// The trusted documents of a running gateway: the mode and the current manifest, which a
/// watcher may replace while requests read it.
pub struct TrustedDocuments {
    mode: TrustedMode,
    path: Option<PathBuf>,
    watch_interval: Duration,
    manifest: ArcSwap<Manifest>,
}

impl fmt::Debug for TrustedDocuments {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustedDocuments")
            .field("mode", &self.mode)
            .field("path", &self.path)
            .field("documents", &self.manifest.load().len())
            .finish()
    }
}

impl Default for TrustedDocuments {
    fn default() -> Self {
        Self::off()
    }
}

impl TrustedDocuments {
    /// Trusted documents turned off.
    pub fn off() -> Self {
        Self::new(TrustedMode::Off, Manifest::default())
    }

    /// A fixed manifest (not watched).
    pub fn new(mode: TrustedMode, manifest: Manifest) -> Self {
        Self { mode, path: None, watch_interval: Duration::ZERO, manifest: ArcSwap::from_pointee(manifest) }
    }

    /// Loads the manifest at `path` (none: an empty manifest) for `mode`; with `mode` off nothing
    /// is read. [`Self::spawn_watch`] then reloads it every `watch_interval` (zero: never).
    pub fn load(mode: TrustedMode, path: Option<&Path>, watch_interval: Duration) -> anyhow::Result<Self> {
        if mode == TrustedMode::Off {
            return Ok(Self::off());
        }
        let manifest = match path {
            Some(path) => Manifest::load(path)?,
            None => Manifest::default(),
        };
        if mode == TrustedMode::Enforce && manifest.is_empty() {
            tracing::warn!("trusted documents are enforced with an empty manifest: every operation will be refused");
        }
        tracing::info!(mode = ?mode, documents = manifest.len(), "trusted documents loaded");
        Ok(Self { mode, path: path.map(Path::to_path_buf), watch_interval, manifest: ArcSwap::from_pointee(manifest) })
    }

    pub fn mode(&self) -> TrustedMode {
        self.mode
    }

    /// The manifest in use.
    pub fn manifest(&self) -> Arc<Manifest> {
        self.manifest.load_full()
    }

    /// Swaps in another manifest; requests in flight keep the one they started with.
    pub fn replace(&self, manifest: Manifest) {
        self.manifest.store(Arc::new(manifest));
    }

    /// Starts polling the manifest file for changes (when there is one to watch); the task ends
    /// when these trusted documents are dropped.
    pub fn spawn_watch(self: &Arc<Self>) {
        let Some(path) = self.path.clone() else { return };
        if self.mode == TrustedMode::Off || self.watch_interval.is_zero() {
            return;
        }
        tokio::spawn(watch(Arc::downgrade(self), path, self.watch_interval));
    }

    /// Decides on a request from `org` (`None`: anonymous). `query` is the text it sent (`None`:
    /// it sent only `persisted`, the hash from `extensions.persistedQuery`). `Ok(Some(text))`
    /// means: run this registered text.
    pub fn admit(
        &self,
        org: Option<Uuid>,
        query: Option<&str>,
        persisted: Option<&str>,
    ) -> Result<Option<Arc<str>>, Refusal> {
        if self.mode == TrustedMode::Off {
            return match query {
                Some(_) => Ok(None),
                None => Err(Refusal::new(
                    GatewayError::PersistedQueryNotSupported,
                    "persisted queries are not enabled on this gateway: send the query",
                )),
            };
        }
        let manifest = self.manifest.load();
        let caller = OrgLabel(org);
        let Some(text) = query else {
            let hash = persisted.unwrap_or_default();
            return match manifest.lookup(hash, org) {
                Some(text) => Ok(Some(text.clone())),
                None => {
                    tracing::info!(org = %caller, hash, "persisted query not found on the caller's list");
                    Err(Refusal::new(
                        GatewayError::PersistedQueryNotFound,
                        "no trusted document with this hash is registered for your organisation",
                    ))
                }
            };
        };
        let hash = sha256_hex(text);
        if persisted.is_some_and(|sent| sent != hash) {
            return Err(Refusal::new(
                GatewayError::PersistedQueryHashMismatch,
                "`extensions.persistedQuery.sha256Hash` is not the SHA-256 of the query",
            ));
        }
        if manifest.lookup(&hash, org).is_some() {
            return Ok(None);
        }
        match self.mode {
            TrustedMode::Enforce => {
                tracing::info!(org = %caller, hash, "operation refused: not on the caller's trusted documents");
                Err(Refusal::new(
                    GatewayError::PersistedQueryNotInList,
                    "this operation is not on your organisation's list of trusted documents",
                ))
            }
            _ => {
                tracing::warn!(org = %caller, hash, "operation not on the caller's trusted documents (log mode)");
                Ok(None)
            }
        }
    }
}

/// An organisation id in logs, or `anonymous`.
struct OrgLabel(Option<Uuid>);

impl fmt::Display for OrgLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(org) => write!(f, "{org}"),
            None => f.write_str("anonymous"),
        }
    }
}

/// Polls the manifest; a changed, valid file is swapped in, a broken one is logged and ignored
/// (the previous manifest keeps serving).
async fn watch(documents: Weak<TrustedDocuments>, path: PathBuf, interval: Duration) {
    crate::watch::poll_file(&path, interval, |path| {
        let Some(documents) = documents.upgrade() else { return false };
        match Manifest::load(path) {
            Ok(manifest) => {
                tracing::info!(manifest = %path.display(), documents = manifest.len(), "trusted documents reloaded");
                documents.replace(manifest);
            }
            Err(error) => tracing::error!(
                manifest = %path.display(),
                error = format!("{error:#}"),
                "trusted-documents manifest refused; the previous one stays in force"
            ),
        }
        true
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_is_lowercase_hex() {
        assert_eq!(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    #[test]
    fn the_manifest_is_verified_and_lists_are_per_organisation() {
        let org = Uuid::now_v7();
        let shared = "{ a }";
        let own = "{ b }";
        let json = serde_json::json!({
            "*": { sha256_hex(shared): shared },
            org.to_string(): { sha256_hex(own).to_uppercase(): own },
        })
        .to_string();
        let manifest = Manifest::parse(&json).expect("valid");
        assert_eq!(manifest.len(), 2);
        assert!(manifest.lookup(&sha256_hex(shared), None).is_some());
        assert!(manifest.lookup(&sha256_hex(own), Some(org)).is_some());
        assert!(manifest.lookup(&sha256_hex(own), Some(Uuid::now_v7())).is_none());
        assert!(manifest.lookup(&sha256_hex(own), None).is_none());

        let wrong = serde_json::json!({ "*": { sha256_hex(shared): own } }).to_string();
        assert!(Manifest::parse(&wrong).is_err(), "a hash must match its text");
        let not_an_org = serde_json::json!({ "acme": { sha256_hex(own): own } }).to_string();
        assert!(Manifest::parse(&not_an_org).is_err());
        assert!(Manifest::parse("[]").is_err());
    }

    #[test]
    fn persisted_query_extension() {
        let hash = sha256_hex("{ a }");
        let ext = |v: serde_json::Value| serde_json::from_value::<JsonValue>(v).expect("json");
        assert_eq!(persisted_query_hash(None).expect("none"), None);
        assert_eq!(persisted_query_hash(Some(&ext(serde_json::json!({})))).expect("none"), None);
        let named = ext(serde_json::json!({ "persistedQuery": { "version": 1, "sha256Hash": hash.to_uppercase() } }));
        assert_eq!(persisted_query_hash(Some(&named)).expect("some"), Some(hash.clone()));
        for bad in [
            serde_json::json!([]),
            serde_json::json!({ "persistedQuery": true }),
            serde_json::json!({ "persistedQuery": { "version": 2, "sha256Hash": hash } }),
            serde_json::json!({ "persistedQuery": { "version": 1, "sha256Hash": "abc" } }),
        ] {
            assert!(persisted_query_hash(Some(&ext(bad))).is_err());
        }
    }
}

//! The hub's internal token: the claims the gateway forwards to subgraphs, and how they are
//! signed (EdDSA / Ed25519) and verified.
//!
//! The algorithm is fixed by the key (Ed25519), never taken from a token's header: a token with
//! `alg: none`, an HMAC algorithm or any other algorithm is refused.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Issuer of internal tokens (the gateway, or the dev signer that stands in for it).
pub const INTERNAL_ISSUER: &str = "ggzhub";
/// Issuer of the organisation tokens of the development identity provider (`ggzhub dev`,
/// `ggzhub token issue`). Such tokens are for the gateway only (audience `gateway`); the demo
/// organisations are bound to this issuer in the region subgraph's register.
pub const DEV_ISSUER: &str = "http://127.0.0.1:4005";
/// Longest token we even try to decode; anything larger is refused before parsing.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Allowed clock skew in seconds for `exp`/`iat`.
pub const LEEWAY_SECONDS: u64 = 30;
/// Most tokens a signer keeps for reuse, and most verified tokens a verifier remembers. Past
/// this the expired ones are dropped, and if none had expired, all of them.
pub const TOKEN_CACHE_ENTRIES: usize = 4096;

/// Kinds of organisation (DOMAIN.md "Organisations and identity").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "graphql", graphql(rename_items = "SCREAMING_SNAKE_CASE"))]
pub enum OrgKind {
    /// Zorgaanbieder: a mental-health care provider.
    Provider,
    /// Zorgverzekeraar: a health insurer.
    Insurer,
    /// Patiëntvertegenwoordiger / cliëntenraad.
    PatientOrganisation,
    /// Gemeente.
    Municipality,
    /// Landelijke tafel cruciale ggz.
    NationalTable,
    /// The organisation that runs the hub.
    HubOperator,
}

impl OrgKind {
    /// The wire name, as in tokens and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Provider => "PROVIDER",
            Self::Insurer => "INSURER",
            Self::PatientOrganisation => "PATIENT_ORGANISATION",
            Self::Municipality => "MUNICIPALITY",
            Self::NationalTable => "NATIONAL_TABLE",
            Self::HubOperator => "HUB_OPERATOR",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "PROVIDER" => Self::Provider,
            "INSURER" => Self::Insurer,
            "PATIENT_ORGANISATION" => Self::PatientOrganisation,
            "MUNICIPALITY" => Self::Municipality,
            "NATIONAL_TABLE" => Self::NationalTable,
            "HUB_OPERATOR" => Self::HubOperator,
            _ => return None,
        })
    }

    /// Every kind, in a stable order.
    pub const ALL: [OrgKind; 6] = [
        Self::Provider,
        Self::Insurer,
        Self::PatientOrganisation,
        Self::Municipality,
        Self::NationalTable,
        Self::HubOperator,
    ];
}

/// Scopes a token can carry (space-separated in the `scope` claim).
pub mod scopes {
    /// Read the shared picture.
    pub const PICTURE_READ: &str = "picture:read";
    /// Create and change the caller's own care offers.
    pub const OFFERS_WRITE: &str = "offers:write";
    /// Raise and handle continuity signals.
    pub const SIGNALS_WRITE: &str = "signals:write";
    /// Write regional overviews (drafts, publishing).
    pub const OVERVIEW_WRITE: &str = "overview:write";
    /// Patient organisations' input on overviews.
    pub const INPUT_WRITE: &str = "input:write";
    /// Read own contracts.
    pub const CONTRACTS_READ: &str = "contracts:read";
    /// Write own contracts.
    pub const CONTRACTS_WRITE: &str = "contracts:write";
    /// National-table writes.
    pub const NATIONAL_WRITE: &str = "national:write";
    /// Hub administration (operator).
    pub const ADMIN: &str = "admin";
    /// The gateway's own scope for reading the register (the region subgraph's
    /// `registerResolution`). Never granted to an organisation: the gateway narrows every
    /// caller's scopes to [`super::default_scopes`] of its kind, none of which holds it, and it is
    /// not in [`ALL`], so `ggzhub token issue` refuses it.
    pub const REGISTER_RESOLVE: &str = "register:resolve";
    /// The gateway's own scope for delivering webhooks (the region subgraph's `claimWebhooks`
    /// and `reportWebhook`, which hand out signing secrets). Never granted to an organisation,
    /// like [`REGISTER_RESOLVE`].
    pub const WEBHOOKS_DELIVER: &str = "webhooks:deliver";
    /// The region subgraph's own scope for asking contracting which insurers contract an offer
    /// (contracting's `signalContractors`), to address a continuity-signal event to them when it
    /// is written. That answer is contract terms of every insurer: never granted to an
    /// organisation, like [`REGISTER_RESOLVE`].
    pub const SIGNALS_AUDIENCE: &str = "signals:audience";
    /// The hub's own service scopes: carried only by tokens a hub component signs for itself
    /// (subject naming the component), never by an organisation's.
    pub const SERVICE: [&str; 3] = [REGISTER_RESOLVE, WEBHOOKS_DELIVER, SIGNALS_AUDIENCE];
    /// Every scope an organisation can hold, in a stable order.
    pub const ALL: [&str; 9] = [
        PICTURE_READ,
        OFFERS_WRITE,
        SIGNALS_WRITE,
        OVERVIEW_WRITE,
        INPUT_WRITE,
        CONTRACTS_READ,
        CONTRACTS_WRITE,
        NATIONAL_WRITE,
        ADMIN,
    ];
}

/// The scopes an organisation of `kind` may ever hold: the gateway grants these, narrowed by the
/// hub scopes a token names (a token naming none gets all of them).
pub fn default_scopes(kind: OrgKind) -> &'static [&'static str] {
    use scopes::*;
    match kind {
        OrgKind::Provider => {
            &[PICTURE_READ, OFFERS_WRITE, SIGNALS_WRITE, OVERVIEW_WRITE, CONTRACTS_READ, CONTRACTS_WRITE]
        }
        OrgKind::Insurer => &[PICTURE_READ, SIGNALS_WRITE, OVERVIEW_WRITE, CONTRACTS_READ, CONTRACTS_WRITE],
        OrgKind::PatientOrganisation => &[PICTURE_READ, INPUT_WRITE],
        OrgKind::Municipality => &[PICTURE_READ],
        OrgKind::NationalTable => &[PICTURE_READ, NATIONAL_WRITE],
        OrgKind::HubOperator => &[PICTURE_READ, ADMIN],
    }
}

/// Claims of the internal token (DOMAIN.md: org, org_kind, regions, roles, scope, exp, iat, jti, aud).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InternalClaims {
    /// Issuer; always [`INTERNAL_ISSUER`].
    pub iss: String,
    /// The person or system acting for the organisation.
    pub sub: String,
    /// Audience: the subgraph(s) this token is for.
    pub aud: Audience,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Unique token id.
    pub jti: String,
    /// Organisation id.
    pub org: Uuid,
    /// Organisation kind.
    pub org_kind: OrgKind,
    /// Codes of the regional tables the organisation sits at.
    #[serde(default)]
    pub regions: Vec<String>,
    /// Roles such as `chair:<region>`.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Space-separated scopes.
    #[serde(default)]
    pub scope: String,
}

/// `aud` may be one string or a list (RFC 7519 §4.1.3).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Audience {
    /// A single audience.
    One(String),
    /// Several audiences.
    Many(Vec<String>),
}

/// Why a token was refused. Messages are safe to return to the caller.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// No `Authorization: Bearer` header.
    #[error("missing bearer token")]
    Missing,
    /// Larger than [`MAX_TOKEN_BYTES`].
    #[error("token too large")]
    TooLarge,
    /// Past `exp`.
    #[error("token expired")]
    Expired,
    /// Not for this subgraph.
    #[error("token not issued for this service")]
    WrongAudience,
    /// Bad signature, algorithm, key id, issuer or shape.
    #[error("invalid token")]
    Invalid(#[source] jsonwebtoken::errors::Error),
}

/// A key could not be created, read or parsed (startup only).
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// I/O on the key file.
    #[error("key file {path}: {source}")]
    Io {
        /// Which file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The key material is not a usable Ed25519 key.
    #[error("key file {path} does not hold an Ed25519 PKCS#8 private key")]
    Malformed {
        /// Which file.
        path: String,
    },
}

/// An Ed25519 signing key with its derived key id.
pub struct SigningKey {
    pkcs8_der: Vec<u8>,
    public_raw: Vec<u8>,
    kid: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a fresh random key.
    pub fn generate() -> Self {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let doc = Ed25519KeyPair::generate_pkcs8(&rng).expect("the system random source is available");
        Self::from_pkcs8(doc.as_ref().to_vec()).expect("a freshly generated key parses")
    }

    fn from_pkcs8(pkcs8_der: Vec<u8>) -> Option<Self> {
        let pair = Ed25519KeyPair::from_pkcs8(&pkcs8_der).ok()?;
        let public_raw = pair.public_key().as_ref().to_vec();
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &public_raw);
        let kid = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest.as_ref()[..12]);
        Some(Self { pkcs8_der, public_raw, kid })
    }

    /// Parses a PKCS#8 PEM private key.
    pub fn from_pem(pem: &str, path: &str) -> Result<Self, KeyError> {
        let malformed = || KeyError::Malformed { path: path.to_owned() };
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).map(str::trim).collect();
        let der = base64::engine::general_purpose::STANDARD.decode(body).map_err(|_| malformed())?;
        Self::from_pkcs8(der).ok_or_else(malformed)
    }

    /// The key as a PKCS#8 PEM document.
    pub fn to_pem(&self) -> String {
        pem_wrap("PRIVATE KEY", &self.pkcs8_der)
    }

    /// The public key as an SPKI PEM document (for subgraphs' `--token-public-key`).
    pub fn public_pem(&self) -> String {
        // SPKI prefix for Ed25519 (RFC 8410): SEQUENCE { SEQUENCE { OID 1.3.101.112 } BIT STRING }.
        let mut der = vec![0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
        der.extend_from_slice(&self.public_raw);
        pem_wrap("PUBLIC KEY", &der)
    }

    /// Loads the key at `path`, creating it (mode 0600) when it does not exist yet.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyError> {
        let shown = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(pem) => Self::from_pem(&pem, &shown),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate();
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|source| KeyError::Io { path: shown.clone(), source })?;
                }
                write_private(path, key.to_pem().as_bytes())
                    .map_err(|source| KeyError::Io { path: shown.clone(), source })?;
                tracing::info!(path = %shown, kid = %key.kid, "generated development signing key");
                Ok(key)
            }
            Err(source) => Err(KeyError::Io { path: shown, source }),
        }
    }

    /// The key id (`kid`) derived from the public key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// A signer for internal tokens.
    pub fn signer(&self) -> TokenSigner {
        self.signer_as(INTERNAL_ISSUER)
    }

    /// A signer whose tokens carry `issuer` as `iss` (the development identity provider uses
    /// this for organisation tokens).
    pub fn signer_as(&self, issuer: &str) -> TokenSigner {
        TokenSigner {
            key: EncodingKey::from_ed_der(&self.pkcs8_der),
            kid: self.kid.clone(),
            issuer: issuer.to_owned(),
            minted: Arc::default(),
        }
    }

    /// The public key as a JWKS document (RFC 7517), as an identity provider publishes it.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": [{
            "kty": "OKP",
            "crv": "Ed25519",
            "alg": "EdDSA",
            "use": "sig",
            "kid": self.kid,
            "x": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&self.public_raw),
        }]})
    }

    /// A verifier of tokens signed by this key, for `audience`.
    pub fn verifier(&self, audience: &str) -> TokenVerifier {
        TokenVerifier::new(vec![(self.kid.clone(), self.public_raw.clone())], audience)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

fn pem_wrap(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Parses an Ed25519 SPKI PEM public key into its raw 32 bytes.
pub fn public_key_from_pem(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).map(str::trim).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(body).ok()?;
    if der.len() != 44 || der[..12] != [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00] {
        return None;
    }
    Some(der[12..].to_vec())
}

/// Signs internal tokens.
#[derive(Clone)]
pub struct TokenSigner {
    key: EncodingKey,
    kid: String,
    issuer: String,
    /// Tokens signed by [`TokenSigner::sign_reused`], by what they say: the token and its `iat`.
    minted: Arc<Mutex<HashMap<TokenRequest, (String, i64)>>>,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSigner").field("kid", &self.kid).finish_non_exhaustive()
    }
}

/// What a new token says; `sign` fills in `iss`, `iat`, `exp` and `jti`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenRequest {
    /// Subject acting for the organisation.
    pub subject: String,
    /// Audiences (subgraph names).
    pub audience: Vec<String>,
    /// Organisation id.
    pub org: Uuid,
    /// Organisation kind.
    pub org_kind: OrgKind,
    /// Region codes.
    pub regions: Vec<String>,
    /// Roles.
    pub roles: Vec<String>,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Lifetime.
    pub ttl: std::time::Duration,
}

/// An organisation token as an identity provider issues it for the gateway: the organisation
/// named by an external identifier of the hub's register, never by hub id, kind, regions or
/// roles (the gateway takes those from the register).
#[derive(Debug, Clone)]
pub struct OrgTokenRequest {
    /// The person (or, for client credentials, the client) acting for the organisation.
    pub subject: String,
    /// Audiences (normally `gateway`).
    pub audience: Vec<String>,
    /// Identifier scheme: `URA`, `AGB`, `UZOVI`, `KVK` or `OIN`.
    pub scheme: String,
    /// The organisation's identifier in that scheme.
    pub identifier: String,
    /// Scopes (empty: the claim is sent empty, which narrows nothing).
    pub scopes: Vec<String>,
    /// The person's display name, when known.
    pub name: Option<String>,
    /// Lifetime.
    pub ttl: std::time::Duration,
}

/// Claim carrying the identifier scheme in tokens of the development identity provider.
pub const SCHEME_CLAIM: &str = "org_identifier_scheme";
/// Claim carrying the organisation identifier in tokens of the development identity provider.
pub const IDENTIFIER_CLAIM: &str = "org_identifier";

impl TokenSigner {
    /// Signs an organisation token (claims `org_identifier_scheme`, `org_identifier`, `sub`,
    /// `scope`, `iss`, `aud`, `iat`, `exp`, `jti`, optionally `name`), valid from now for
    /// `req.ttl`.
    pub fn sign_org(&self, req: &OrgTokenRequest) -> String {
        let now = chrono::Utc::now().timestamp();
        let ttl = i64::try_from(req.ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let mut claims = serde_json::json!({
            "iss": self.issuer,
            "sub": req.subject,
            "aud": match req.audience.as_slice() { [one] => serde_json::json!(one), many => serde_json::json!(many) },
            "iat": now,
            "exp": now.saturating_add(ttl),
            "jti": Uuid::new_v4().to_string(),
            "scope": req.scopes.join(" "),
            SCHEME_CLAIM: req.scheme,
            IDENTIFIER_CLAIM: req.identifier,
        });
        if let Some(name) = &req.name {
            claims["name"] = serde_json::json!(name);
        }
        self.sign_claims(&claims)
    }

    /// Signs a token for `req`, valid from now for `req.ttl`.
    pub fn sign(&self, req: &TokenRequest) -> String {
        self.sign_at(req, chrono::Utc::now().timestamp())
    }

    /// A token for `req` with at least half of `req.ttl` left: one signed earlier for exactly
    /// the same request (subject, audience, organisation, kind, regions, roles, scopes, lifetime)
    /// while it is in the first half of its life, else a fresh one. The gateway mints a token
    /// per subgraph call; signing (Ed25519, JSON, base64) was a measurable part of a request, and
    /// the subgraphs' verifiers remember a token they have checked ([`TokenVerifier::verify`]),
    /// which only pays off when the same token comes again. Tokens carry no per-request claim
    /// (`jti` is not checked for replay), so a reused token says exactly what a fresh one would.
    pub fn sign_reused(&self, req: &TokenRequest) -> String {
        let now = chrono::Utc::now().timestamp();
        let half_life = i64::try_from(req.ttl.as_secs() / 2).unwrap_or(i64::MAX / 4);
        let reusable = |iat: i64| iat <= now && now <= iat.saturating_add(half_life);
        let mut minted = self.minted.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((token, iat)) = minted.get(req)
            && reusable(*iat)
        {
            return token.clone();
        }
        let token = self.sign_at(req, now);
        if minted.len() >= TOKEN_CACHE_ENTRIES {
            minted.retain(|_, (_, iat)| reusable(*iat));
            if minted.len() >= TOKEN_CACHE_ENTRIES {
                minted.clear();
            }
        }
        minted.insert(req.clone(), (token.clone(), now));
        token
    }

    fn sign_at(&self, req: &TokenRequest, now: i64) -> String {
        let ttl = i64::try_from(req.ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let claims = InternalClaims {
            iss: self.issuer.clone(),
            sub: req.subject.clone(),
            aud: match req.audience.as_slice() {
                [one] => Audience::One(one.clone()),
                many => Audience::Many(many.to_vec()),
            },
            exp: now.saturating_add(ttl),
            iat: now,
            jti: Uuid::new_v4().to_string(),
            org: req.org,
            org_kind: req.org_kind,
            regions: req.regions.clone(),
            roles: req.roles.clone(),
            scope: req.scopes.join(" "),
        };
        self.sign_claims(&claims)
    }

    /// Signs arbitrary claims (tests use this to forge expired or odd tokens).
    pub fn sign_claims<T: Serialize>(&self, claims: &T) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key).expect("Ed25519 signing of serializable claims cannot fail")
    }
}

/// Verifies internal tokens for one audience.
#[derive(Clone)]
pub struct TokenVerifier {
    keys: Vec<(String, DecodingKey)>,
    validation: Validation,
    audience: String,
    /// Tokens that passed every check, with their claims, until their `exp`.
    verified: Arc<Mutex<HashMap<String, InternalClaims>>>,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier").field("audience", &self.audience).finish_non_exhaustive()
    }
}

impl TokenVerifier {
    /// A verifier trusting the given (kid, raw Ed25519 public key) pairs.
    pub fn new(keys: Vec<(String, Vec<u8>)>, audience: &str) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_audience(&[audience]);
        validation.set_issuer(&[INTERNAL_ISSUER]);
        validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
        validation.leeway = LEEWAY_SECONDS;
        let keys = keys.into_iter().map(|(kid, raw)| (kid, DecodingKey::from_ed_der(&raw))).collect();
        Self { keys, validation, audience: audience.to_owned(), verified: Arc::default() }
    }

    /// A verifier trusting one SPKI PEM public key.
    pub fn from_public_pem(pem: &str, audience: &str) -> Option<Self> {
        let raw = public_key_from_pem(pem)?;
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &raw);
        let kid = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest.as_ref()[..12]);
        Some(Self::new(vec![(kid, raw)], audience))
    }

    /// The audience this verifier accepts.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// Verifies signature, algorithm, issuer, audience and expiry.
    ///
    /// A token that passed is remembered (by its exact text) with its claims until its `exp`, not
    /// beyond, even though a fresh check would allow [`LEEWAY_SECONDS`] more: the gateway reuses
    /// a token for the calls of many requests ([`TokenSigner::sign_reused`]), and the signature
    /// check (Ed25519) and decoding were a measurable part of each call. The same text with the
    /// same keys and validation can only pass again, and the one check that depends on the time,
    /// `exp`, is kept.
    pub fn verify(&self, token: &str) -> Result<InternalClaims, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::TooLarge);
        }
        let now = chrono::Utc::now().timestamp();
        let mut verified = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(claims) = verified.get(token) {
            if now < claims.exp {
                return Ok(claims.clone());
            }
            verified.remove(token);
        }
        drop(verified);
        let claims = self.verify_signed(token)?;
        if now < claims.exp {
            let mut verified = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
            if verified.len() >= TOKEN_CACHE_ENTRIES {
                verified.retain(|_, c| now < c.exp);
                if verified.len() >= TOKEN_CACHE_ENTRIES {
                    verified.clear();
                }
            }
            verified.insert(token.to_owned(), claims.clone());
        }
        Ok(claims)
    }

    /// Every check of [`TokenVerifier::verify`], without remembering.
    fn verify_signed(&self, token: &str) -> Result<InternalClaims, TokenError> {
        use jsonwebtoken::errors::ErrorKind;
        let header = jsonwebtoken::decode_header(token).map_err(TokenError::Invalid)?;
        // The key decides the algorithm; a header naming anything else is refused outright.
        if header.alg != Algorithm::EdDSA {
            return Err(TokenError::Invalid(ErrorKind::InvalidAlgorithm.into()));
        }
        let key = match header.kid.as_deref() {
            Some(kid) => self.keys.iter().find(|(k, _)| k == kid).map(|(_, key)| key),
            None if self.keys.len() == 1 => self.keys.first().map(|(_, key)| key),
            None => None,
        }
        .ok_or_else(|| TokenError::Invalid(ErrorKind::InvalidKeyFormat.into()))?;
        match jsonwebtoken::decode::<InternalClaims>(token, key, &self.validation) {
            // A token issued in the future is forged or from a broken clock: refuse it too.
            Ok(data) if data.claims.iat > chrono::Utc::now().timestamp() + LEEWAY_SECONDS as i64 => {
                Err(TokenError::Invalid(ErrorKind::ImmatureSignature.into()))
            }
            Ok(data) => Ok(data.claims),
            Err(e) => Err(match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                ErrorKind::InvalidAudience => TokenError::WrongAudience,
                _ => TokenError::Invalid(e),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(aud: &str, ttl: u64) -> TokenRequest {
        TokenRequest {
            subject: "tester".into(),
            audience: vec![aud.into()],
            org: Uuid::nil(),
            org_kind: OrgKind::Provider,
            regions: vec!["utrecht".into()],
            roles: vec![],
            scopes: vec![scopes::PICTURE_READ.into()],
            ttl: std::time::Duration::from_secs(ttl),
        }
    }

    #[test]
    fn round_trips_claims() {
        let key = SigningKey::generate();
        let token = key.signer().sign(&request("region", 60));
        let claims = key.verifier("region").verify(&token).expect("valid token");
        assert_eq!(claims.org_kind, OrgKind::Provider);
        assert_eq!(claims.regions, vec!["utrecht".to_string()]);
        assert_eq!(claims.scope, "picture:read");
    }

    #[test]
    fn refuses_wrong_audience_other_key_and_expired() {
        let key = SigningKey::generate();
        let other = SigningKey::generate();
        let token = key.signer().sign(&request("contracting", 60));
        assert!(matches!(key.verifier("region").verify(&token), Err(TokenError::WrongAudience)));
        let token = other.signer().sign(&request("region", 60));
        assert!(matches!(key.verifier("region").verify(&token), Err(TokenError::Invalid(_))));
        let mut claims = key.verifier("region");
        claims.validation.leeway = 0;
        let expired = key.signer().sign_claims(&serde_json::json!({
            "iss": INTERNAL_ISSUER, "sub": "x", "aud": "region", "exp": 1_000, "iat": 900, "jti": "j",
            "org": Uuid::nil(), "org_kind": "PROVIDER"
        }));
        assert!(matches!(claims.verify(&expired), Err(TokenError::Expired)));
    }

    #[test]
    fn refuses_alg_none_and_hmac() {
        let key = SigningKey::generate();
        let b64 = |v: serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let body = b64(serde_json::json!({
            "iss": INTERNAL_ISSUER, "sub": "x", "aud": "region", "exp": 9_999_999_999i64, "iat": 1, "jti": "j",
            "org": Uuid::nil(), "org_kind": "HUB_OPERATOR"
        }));
        let none = format!("{}.{}.", b64(serde_json::json!({"alg": "none", "typ": "JWT"})), body);
        assert!(key.verifier("region").verify(&none).is_err());
        let hs = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &serde_json::json!({"iss": INTERNAL_ISSUER, "sub": "x", "aud": "region", "exp": 9_999_999_999i64}),
            &EncodingKey::from_secret(&key.public_raw),
        )
        .expect("hmac signs");
        assert!(key.verifier("region").verify(&hs).is_err());
    }

    #[test]
    fn a_token_is_reused_only_for_the_same_claims() {
        let key = SigningKey::generate();
        let signer = key.signer();
        let first = signer.sign_reused(&request("region", 60));
        assert_eq!(signer.sign_reused(&request("region", 60)), first, "same claims, first half of its life");
        assert_ne!(signer.sign_reused(&request("contracting", 60)), first, "another audience");
        let mut other_regions = request("region", 60);
        other_regions.regions.push("amsterdam".into());
        assert_ne!(signer.sign_reused(&other_regions), first, "other regions");
        let mut other_scopes = request("region", 60);
        other_scopes.scopes.push(scopes::CONTRACTS_READ.into());
        assert_ne!(signer.sign_reused(&other_scopes), first, "other scopes");
        assert_ne!(signer.sign(&request("region", 60)), first, "sign always signs afresh");
        // A token whose half-life is over (here: none) is signed afresh.
        let short = signer.sign_reused(&request("region", 0));
        let claims = key.verifier("region").verify(&short).expect("valid within the leeway");
        assert!(claims.exp <= chrono::Utc::now().timestamp());
        let reused = key.verifier("region").verify(&first).expect("valid");
        assert_eq!(reused.regions, vec!["utrecht".to_string()]);
    }

    #[test]
    fn a_verified_token_is_remembered_until_its_expiry_and_only_its_exact_text() {
        let key = SigningKey::generate();
        let verifier = key.verifier("region");
        let token = key.signer().sign(&request("region", 60));
        let fresh = verifier.verify(&token).expect("valid");
        assert_eq!(verifier.verify(&token).expect("still valid"), fresh);
        assert_eq!(verifier.verified.lock().expect("not poisoned").len(), 1);
        // Another signature on the same claims is checked, and refused, however the first passed.
        let (head_and_claims, signature) = token.rsplit_once('.').expect("three parts");
        let mut forged = signature.as_bytes().to_vec();
        forged[0] = if forged[0] == b'A' { b'B' } else { b'A' };
        let forged = format!("{head_and_claims}.{}", String::from_utf8(forged).expect("ascii"));
        assert!(matches!(verifier.verify(&forged), Err(TokenError::Invalid(_))));
        // Another verifier (audience) checks for itself.
        assert!(matches!(key.verifier("contracting").verify(&token), Err(TokenError::WrongAudience)));
        // A token past its `exp` but within the leeway passes as before, and is not remembered.
        let now = chrono::Utc::now().timestamp();
        let late = key.signer().sign_claims(&serde_json::json!({
            "iss": INTERNAL_ISSUER, "sub": "x", "aud": "region", "exp": now - 5, "iat": now - 65, "jti": "j",
            "org": Uuid::nil(), "org_kind": "PROVIDER"
        }));
        let late_claims = verifier.verify(&late).expect("within the leeway");
        assert!(verifier.verify(&late).is_ok());
        assert!(!verifier.verified.lock().expect("not poisoned").contains_key(&late));
        // Were it remembered, it would be checked afresh once past its `exp` (here: refused).
        let mut strict = key.verifier("region");
        strict.validation.leeway = 0;
        strict.verified.lock().expect("not poisoned").insert(late.clone(), late_claims);
        assert!(matches!(strict.verify(&late), Err(TokenError::Expired)));
        assert!(strict.verified.lock().expect("not poisoned").is_empty());
    }

    #[test]
    fn pem_round_trip_keeps_the_key() {
        let key = SigningKey::generate();
        let again = SigningKey::from_pem(&key.to_pem(), "mem").expect("parses");
        assert_eq!(again.kid(), key.kid());
        let verifier = TokenVerifier::from_public_pem(&key.public_pem(), "region").expect("public pem parses");
        assert!(verifier.verify(&key.signer().sign(&request("region", 60))).is_ok());
    }
}

//! The development identity provider of ggzhub: an OpenID Connect provider for demo accounts.
//!
//! It behaves as a production provider does towards its clients, so the dashboard and partner
//! systems that sign in with it need no change for a real one:
//! - discovery (`/.well-known/openid-configuration`) and keys (`/.well-known/jwks.json`);
//! - `/authorize`: Authorization Code with PKCE (S256 only), `state` required, `nonce` carried
//!   into the ID token, redirect URIs compared exactly, a plain page to pick a demo organisation
//!   and person (there are no passwords: it is for development and demonstrations only);
//! - `/token`: `authorization_code` (single-use codes, 60 s) and `client_credentials`
//!   (confidential clients, `client_secret_basic` or `client_secret_post`), errors as RFC 6749 §5.2;
//! - `/userinfo`: the person and organisation an access token speaks for;
//! - `/end-session`: sign-out, back to a registered `post_logout_redirect_uri` only.
//!
//! No refresh tokens: when the access token expires the client sends the person to sign in again.
//! Tokens are signed with the development issuer key (EdDSA), the key `ggzhub token issue` uses.

mod authorize;
mod clock;
mod cors;
mod crypto;
mod discovery;
mod logout;
mod model;
mod page;
mod params;
mod store;
mod token;
mod userinfo;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use ggzhub_kit::SigningKey;
use ggzhub_kit::token::TokenSigner;

pub use clock::{Clock, ManualClock, SystemClock};
pub use model::{
    Account, Client, ConfigError, DASHBOARD_CALLBACK_PATH, DASHBOARD_CLIENT_ID, OrganisationRef, Person,
    clients_document, demo_clients,
};

/// Audience of the access tokens: the hub's gateway.
pub const ACCESS_TOKEN_AUDIENCE: &str = "gateway";
/// Default lifetime of access and ID tokens.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(3600);
/// Default lifetime of an authorization code.
pub const DEFAULT_CODE_TTL: Duration = Duration::from_secs(60);
/// Default time a person has to pick an account on the sign-in page.
pub const DEFAULT_REQUEST_TTL: Duration = Duration::from_secs(600);

/// How the provider runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Issuer URL (`http://127.0.0.1:4005`): `iss` of every token, and the base of every
    /// endpoint URL in the discovery document.
    pub issuer: String,
    /// Lifetime of access and ID tokens.
    pub token_ttl: Duration,
    /// Lifetime of an authorization code.
    pub code_ttl: Duration,
    /// Time a person has to pick an account on the sign-in page.
    pub request_ttl: Duration,
    /// The clock (tests move it forward).
    pub clock: Arc<dyn Clock>,
}

impl Settings {
    /// The defaults for `issuer`: tokens 1 h, codes 60 s, the system clock.
    pub fn new(issuer: &str) -> Self {
        Self {
            issuer: issuer.to_owned(),
            token_ttl: DEFAULT_TOKEN_TTL,
            code_ttl: DEFAULT_CODE_TTL,
            request_ttl: DEFAULT_REQUEST_TTL,
            clock: Arc::new(SystemClock),
        }
    }
}

/// Everything the handlers share.
#[derive(Debug)]
pub(crate) struct Provider {
    pub settings: Settings,
    pub accounts: Vec<Account>,
    pub clients: HashMap<String, Client>,
    /// Web origins of all clients, for CORS.
    pub origins: HashSet<String>,
    pub signer: TokenSigner,
    pub jwks: serde_json::Value,
    pub store: store::Store,
}

impl Provider {
    pub fn now(&self) -> i64 {
        self.settings.clock.now()
    }

    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.settings.issuer)
    }

    /// The account and person whose subject is `subject`.
    pub fn person(&self, subject: &str) -> Option<(usize, usize)> {
        self.accounts
            .iter()
            .enumerate()
            .find_map(|(a, account)| account.persons.iter().position(|p| p.subject == subject).map(|p| (a, p)))
    }
}

/// The development identity provider: build it with [`DevIdp::new`], serve [`DevIdp::router`].
#[derive(Debug, Clone)]
pub struct DevIdp {
    provider: Arc<Provider>,
}

impl DevIdp {
    /// A provider issuing tokens signed with `key` (the development issuer key) for `accounts`
    /// to `clients`. Refuses inconsistent data: duplicate client ids or subjects, malformed
    /// URIs, a client acting for an organisation that is not an account.
    pub fn new(
        settings: Settings,
        key: &SigningKey,
        accounts: Vec<Account>,
        clients: Vec<Client>,
    ) -> Result<Self, ConfigError> {
        validate_issuer(&settings.issuer)?;
        for (what, ttl) in
            [("token_ttl", settings.token_ttl), ("code_ttl", settings.code_ttl), ("request_ttl", settings.request_ttl)]
        {
            if ttl.as_secs() == 0 {
                return Err(ConfigError::Lifetime(what));
            }
        }
        let mut subjects = HashSet::new();
        for person in accounts.iter().flat_map(|a| &a.persons) {
            if !subjects.insert(person.subject.as_str()) {
                return Err(ConfigError::DuplicateSubject(person.subject.clone()));
            }
        }
        let mut by_id = HashMap::new();
        let mut origins = HashSet::new();
        for client in clients {
            validate_client(&client, &accounts)?;
            origins.extend(client.web_origins.iter().cloned());
            if by_id.contains_key(&client.id) {
                return Err(ConfigError::DuplicateClient(client.id));
            }
            by_id.insert(client.id.clone(), client);
        }
        let provider = Provider {
            signer: key.signer_as(&settings.issuer),
            jwks: key.jwks(),
            settings,
            accounts,
            clients: by_id,
            origins,
            store: store::Store::default(),
        };
        Ok(Self { provider: Arc::new(provider) })
    }

    /// The issuer URL.
    pub fn issuer(&self) -> &str {
        &self.provider.settings.issuer
    }

    /// The provider's HTTP routes (wrap them with the hub's usual layers to serve them).
    pub fn router(&self) -> axum::Router {
        use axum::routing::get;
        let scripted = axum::Router::new()
            .route("/.well-known/openid-configuration", get(discovery::configuration))
            .route("/.well-known/jwks.json", get(discovery::jwks))
            .route("/token", axum::routing::post(token::token))
            .route("/end-session", get(logout::end_session).post(logout::end_session_form))
            .route("/userinfo", get(userinfo::userinfo).post(userinfo::userinfo))
            .layer(axum::middleware::from_fn_with_state(self.provider.clone(), cors::cors));
        axum::Router::new()
            .route("/authorize", get(authorize::show).post(authorize::answer))
            // Browsers ask for it on every page; a 404 there is a console error in the dashboard's
            // browser tests.
            .route("/favicon.ico", get(|| async { axum::http::StatusCode::NO_CONTENT }))
            .merge(scripted)
            .with_state(self.provider.clone())
    }
}

fn validate_issuer(issuer: &str) -> Result<(), ConfigError> {
    let bad = || ConfigError::Issuer(issuer.to_owned());
    let url = url::Url::parse(issuer).map_err(|_| bad())?;
    let ok = matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && url.query().is_none()
        && url.fragment().is_none()
        && !issuer.ends_with('/');
    if ok { Ok(()) } else { Err(bad()) }
}

fn validate_client(client: &Client, accounts: &[Account]) -> Result<(), ConfigError> {
    for uri in client.redirect_uris.iter().chain(&client.post_logout_redirect_uris) {
        let ok = url::Url::parse(uri).is_ok_and(|u| !u.cannot_be_a_base() && u.fragment().is_none());
        if !ok {
            return Err(ConfigError::RedirectUri { client: client.id.clone(), uri: uri.clone() });
        }
    }
    for origin in &client.web_origins {
        let ok =
            url::Url::parse(origin).is_ok_and(|u| u.origin().is_tuple() && u.origin().ascii_serialization() == *origin);
        if !ok {
            return Err(ConfigError::Origin { client: client.id.clone(), origin: origin.clone() });
        }
    }
    if client.secret.as_ref().is_some_and(String::is_empty)
        || (client.secret.is_none() && client.organisation.is_some())
    {
        return Err(ConfigError::Secret(client.id.clone()));
    }
    if let Some(org) = &client.organisation
        && !accounts.iter().any(|a| a.scheme == org.scheme && a.identifier == org.identifier)
    {
        return Err(ConfigError::UnknownOrganisation {
            client: client.id.clone(),
            scheme: org.scheme.clone(),
            identifier: org.identifier.clone(),
        });
    }
    Ok(())
}

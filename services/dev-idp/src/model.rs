//! The plain data the provider is given: demo accounts (organisations with their persons) and
//! the clients (applications) allowed to ask it for tokens.

use crate::crypto;

/// Client id of the national dashboard (a public client: Authorization Code with PKCE).
pub const DASHBOARD_CLIENT_ID: &str = "ggzhub-dashboard";

/// Path on the dashboard's origin that receives the authorization response.
pub const DASHBOARD_CALLBACK_PATH: &str = "/auth/callback";

/// A demo organisation the provider can sign in for, as the register supplies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Display name of the organisation.
    pub organisation: String,
    /// Kind of organisation as the register names it (`PROVIDER`, `INSURER`, ...); shown on the
    /// sign-in page only, never put in a token.
    pub kind: String,
    /// Identifier scheme: `URA`, `AGB`, `UZOVI`, `KVK` or `OIN`.
    pub scheme: String,
    /// The organisation's identifier in that scheme.
    pub identifier: String,
    /// Persons who can sign in for it.
    pub persons: Vec<Person>,
}

/// A person within a demo organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Subject (`sub`) of this person's tokens, unique across all accounts.
    pub subject: String,
    /// Display name (`name` claim).
    pub name: String,
}

/// The organisation a confidential client acts for (client credentials).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganisationRef {
    /// Identifier scheme, as in [`Account::scheme`].
    pub scheme: String,
    /// Identifier, as in [`Account::identifier`].
    pub identifier: String,
}

/// An application registered with the provider.
#[derive(Clone, PartialEq, Eq)]
pub struct Client {
    /// Client id.
    pub id: String,
    /// Secret of a confidential client; `None` for a public client (which must use PKCE and may
    /// not use client credentials).
    pub secret: Option<String>,
    /// Redirect URIs, compared exactly (no prefix or pattern matching).
    pub redirect_uris: Vec<String>,
    /// Where sign-out may send the browser back to, compared exactly.
    pub post_logout_redirect_uris: Vec<String>,
    /// Browser origins (`http://127.0.0.1:4000`) allowed to call the discovery, JWKS, token and
    /// end-session endpoints from script (CORS).
    pub web_origins: Vec<String>,
    /// For client credentials: the account this client acts for. Only confidential clients may
    /// have one.
    pub organisation: Option<OrganisationRef>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("redirect_uris", &self.redirect_uris)
            .field("post_logout_redirect_uris", &self.post_logout_redirect_uris)
            .field("web_origins", &self.web_origins)
            .field("organisation", &self.organisation)
            .finish()
    }
}

impl Client {
    /// A public client (Authorization Code with PKCE) for single-page applications served from
    /// `origins`: redirect URI `<origin>/auth/callback` and sign-out back to `<origin>/` for each.
    pub fn single_page(id: &str, origins: &[String]) -> Self {
        let origins: Vec<String> = origins.iter().map(|o| o.trim_end_matches('/').to_owned()).collect();
        Self {
            id: id.to_owned(),
            secret: None,
            redirect_uris: origins.iter().map(|o| format!("{o}{DASHBOARD_CALLBACK_PATH}")).collect(),
            post_logout_redirect_uris: origins.iter().map(|o| format!("{o}/")).collect(),
            web_origins: origins,
            organisation: None,
        }
    }

    /// The national dashboard's client ([`DASHBOARD_CLIENT_ID`]) served from `origins`.
    pub fn dashboard(origins: &[String]) -> Self {
        Self::single_page(DASHBOARD_CLIENT_ID, origins)
    }

    /// A confidential client for `account`'s systems (client credentials): id
    /// `demo-<identifier>` and a fresh random secret.
    pub fn machine_for(account: &Account) -> Self {
        Self {
            id: format!("demo-{}", account.identifier),
            secret: Some(crypto::random_token(32)),
            redirect_uris: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
            web_origins: Vec::new(),
            organisation: Some(OrganisationRef {
                scheme: account.scheme.clone(),
                identifier: account.identifier.clone(),
            }),
        }
    }
}

/// The demo clients of `ggzhub dev`: the dashboard (a public client served from
/// `dashboard_origins`) and one confidential client per account (fresh secrets on every call).
pub fn demo_clients(accounts: &[Account], dashboard_origins: &[String]) -> Vec<Client> {
    std::iter::once(Client::dashboard(dashboard_origins)).chain(accounts.iter().map(Client::machine_for)).collect()
}

/// The document `ggzhub dev` writes to `data/demo-clients.json` (it holds the secrets: write it
/// readable by its owner only, and never log it).
pub fn clients_document(issuer: &str, accounts: &[Account], clients: &[Client]) -> serde_json::Value {
    let clients: Vec<serde_json::Value> = clients
        .iter()
        .map(|c| {
            let account = c
                .organisation
                .as_ref()
                .and_then(|o| accounts.iter().find(|a| a.scheme == o.scheme && a.identifier == o.identifier));
            serde_json::json!({
                "client_id": c.id,
                "client_secret": c.secret,
                "grant_types": if c.secret.is_some() && c.redirect_uris.is_empty() {
                    vec!["client_credentials"]
                } else if c.secret.is_some() {
                    vec!["authorization_code", "client_credentials"]
                } else {
                    vec!["authorization_code"]
                },
                "redirect_uris": c.redirect_uris,
                "organisation": account.map(|a| a.organisation.clone()),
                "kind": account.map(|a| a.kind.clone()),
                "org_identifier_scheme": c.organisation.as_ref().map(|o| o.scheme.clone()),
                "org_identifier": c.organisation.as_ref().map(|o| o.identifier.clone()),
            })
        })
        .collect();
    serde_json::json!({
        "issuer": issuer,
        "token_endpoint": format!("{issuer}/token"),
        "clients": clients,
    })
}

/// Configuration mistakes refused by [`crate::DevIdp::new`]; the message names the bad value and
/// is meant for the operator starting the provider.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The issuer is not an absolute http(s) URL without query or fragment.
    #[error("issuer {0:?} must be an absolute http(s) URL without query, fragment or trailing slash")]
    Issuer(String),
    /// Two clients share an id.
    #[error("client id {0:?} is registered twice")]
    DuplicateClient(String),
    /// A redirect URI is not an absolute URL, or carries a fragment.
    #[error("client {client:?}: {uri:?} is not an absolute URL without fragment")]
    RedirectUri {
        /// Client id.
        client: String,
        /// The URI.
        uri: String,
    },
    /// A web origin is not `scheme://host[:port]`.
    #[error("client {client:?}: {origin:?} is not an origin (scheme://host[:port])")]
    Origin {
        /// Client id.
        client: String,
        /// The origin.
        origin: String,
    },
    /// A client secret is empty, or a public client names an organisation.
    #[error("client {0:?}: a confidential client needs a non-empty secret, and only it may act for an organisation")]
    Secret(String),
    /// A client acts for an organisation that is not among the accounts.
    #[error("client {client:?} acts for {scheme}:{identifier}, which is not an account")]
    UnknownOrganisation {
        /// Client id.
        client: String,
        /// Scheme.
        scheme: String,
        /// Identifier.
        identifier: String,
    },
    /// Two persons share a subject.
    #[error("person subject {0:?} appears twice")]
    DuplicateSubject(String),
    /// A lifetime is zero.
    #[error("{0} must be longer than zero")]
    Lifetime(&'static str),
}

/// The organisation-kind names of the register in Dutch, for the sign-in page.
pub(crate) fn kind_in_dutch(kind: &str) -> &str {
    match kind {
        "PROVIDER" => "Zorgaanbieder",
        "INSURER" => "Zorgverzekeraar",
        "PATIENT_ORGANISATION" => "Patiëntenorganisatie",
        "MUNICIPALITY" => "Gemeente",
        "NATIONAL_TABLE" => "Landelijke tafel",
        "HUB_OPERATOR" => "Beheerder van de hub",
        other => other,
    }
}

/// The same, plural, for the headings of the sign-in page.
pub(crate) fn kind_plural_in_dutch(kind: &str) -> &str {
    match kind {
        "PROVIDER" => "Zorgaanbieders",
        "INSURER" => "Zorgverzekeraars",
        "PATIENT_ORGANISATION" => "Patiëntenorganisaties",
        "MUNICIPALITY" => "Gemeenten",
        "NATIONAL_TABLE" => "Landelijke tafel",
        "HUB_OPERATOR" => "Beheer van de hub",
        other => other,
    }
}

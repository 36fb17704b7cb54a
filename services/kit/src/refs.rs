//! Checking references to another subgraph's entities before storing them.
//!
//! A subgraph that stores a region code, offer id or organisation id owned by the region
//! subgraph asks the owner, through its `_entities` field, whether the entity exists. The request
//! carries an internal token for the owner's audience with the caller's own identity, so the owner
//! applies its own access rules. When the owner cannot be asked, the change is refused with
//! `SUBGRAPH_UNAVAILABLE`: a reference is never stored unchecked.

use std::time::Duration;

use serde_json::{Value, json};

use crate::caller::Caller;
use crate::error::{ApiError, ApiResult};
use crate::tls::ExtraCa;
use crate::token::{TokenRequest, TokenSigner};

/// How long to wait for the owner.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Asks one owning subgraph about its entities.
#[derive(Clone, Debug)]
pub struct RefChecker {
    url: String,
    audience: String,
    signer: TokenSigner,
    client: reqwest::Client,
}

impl RefChecker {
    /// A checker for the subgraph at `url` (its `/graphql` endpoint) with `audience`; an
    /// `https://` owner must have a certificate the OS trust store accepts.
    pub fn new(url: impl Into<String>, audience: &str, signer: TokenSigner) -> Self {
        Self::with_ca(url, audience, signer, &ExtraCa::default()).expect("an HTTP client without extra CAs builds")
    }

    /// Like [`new`](Self::new), also trusting `ca` for an `https://` owner.
    pub fn with_ca(url: impl Into<String>, audience: &str, signer: TokenSigner, ca: &ExtraCa) -> anyhow::Result<Self> {
        let client = ca.client(|b| b.timeout(DEFAULT_TIMEOUT).connect_timeout(Duration::from_secs(2)))?;
        Ok(Self { url: url.into(), audience: audience.to_owned(), signer, client })
    }

    /// The owner's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs `query` against the owner with a read-only token for `caller`'s organisation and
    /// returns the whole GraphQL response body (`data` and any `errors`).
    pub async fn query(&self, caller: &Caller, query: &str, variables: Value) -> ApiResult<Value> {
        // A look-up reads public identifiers only: the token can read, never write.
        self.query_with_scopes(caller, &[crate::token::scopes::PICTURE_READ], query, variables).await
    }

    /// Like [`query`](Self::query), with the token granting `read_scopes` instead of only
    /// `picture:read` (e.g. `contracts:read` to learn which offers the caller's own contracts
    /// cover). Only read scopes are ever granted: anything else is left out of the token.
    pub async fn query_with_scopes(
        &self,
        caller: &Caller,
        read_scopes: &[&str],
        query: &str,
        variables: Value,
    ) -> ApiResult<Value> {
        use crate::token::scopes::{CONTRACTS_READ, PICTURE_READ};
        debug_assert!(read_scopes.iter().all(|s| [PICTURE_READ, CONTRACTS_READ].contains(s)), "read scopes only");
        let scopes = read_scopes
            .iter()
            .filter(|s| [PICTURE_READ, CONTRACTS_READ].contains(*s))
            .map(|s| (*s).to_owned())
            .collect();
        let token = self.signer.sign_reused(&TokenRequest {
            subject: caller.subject.clone(),
            audience: vec![self.audience.clone()],
            org: caller.org,
            org_kind: caller.kind,
            regions: caller.regions.iter().cloned().collect(),
            roles: vec![],
            scopes,
            ttl: Duration::from_secs(60),
        });
        self.post(token, query, variables).await
    }

    /// Runs `query` against the owner as the hub component `subject` (e.g. `ggzhub-region`),
    /// with a token carrying only the service scope `service_scope` (one of
    /// [`crate::token::scopes::SERVICE`]; anything else is left out) and no organisation (the nil
    /// id, kind `HUB_OPERATOR`, no regions or roles), as the gateway asks the register. For the
    /// `@inaccessible` fields an owner answers only to other hub components.
    pub async fn query_as_service(
        &self,
        subject: &str,
        service_scope: &str,
        query: &str,
        variables: Value,
    ) -> ApiResult<Value> {
        use crate::token::scopes::SERVICE;
        debug_assert!(SERVICE.contains(&service_scope), "a service scope only");
        let scopes = SERVICE.iter().filter(|s| **s == service_scope).map(|s| (*s).to_owned()).collect();
        let token = self.signer.sign_reused(&TokenRequest {
            subject: subject.to_owned(),
            audience: vec![self.audience.clone()],
            org: uuid::Uuid::nil(),
            org_kind: crate::OrgKind::HubOperator,
            regions: vec![],
            roles: vec![],
            scopes,
            ttl: Duration::from_secs(60),
        });
        self.post(token, query, variables).await
    }

    async fn post(&self, token: String, query: &str, variables: Value) -> ApiResult<Value> {
        let resp = self
            .client
            .post(&self.url)
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .map_err(|e| self.unavailable(crate::tls::error_chain(&e)))?;
        if !resp.status().is_success() {
            return Err(self.unavailable(format!("HTTP {}", resp.status())));
        }
        resp.json().await.map_err(|e| self.unavailable(e.to_string()))
    }

    fn unavailable(&self, detail: String) -> ApiError {
        tracing::warn!(owner = %self.url, %detail, "asking the owning subgraph failed");
        ApiError::SubgraphUnavailable(format!(
            "the {} subgraph could not be asked; nothing was changed, try again later",
            self.audience
        ))
    }

    /// Resolves `representations` (each `{"__typename": …, key: …}`) with `selection` (inline
    /// fragments such as `... on Region { code }`). Returns one entry per representation: the
    /// entity, or `None` when the owner does not know it (or does not show it to this caller).
    pub async fn resolve(
        &self,
        caller: &Caller,
        representations: Vec<Value>,
        selection: &str,
    ) -> ApiResult<Vec<Option<Value>>> {
        if representations.is_empty() {
            return Ok(vec![]);
        }
        let query = format!("query($r: [_Any!]!) {{ _entities(representations: $r) {{ __typename {selection} }} }}");
        let unavailable = |detail: String| self.unavailable(detail);
        let body = self.query(caller, &query, json!({ "r": representations })).await?;
        // Per-entity NOT_FOUND/FORBIDDEN errors are expected (they mean "no such entity for you");
        // anything else means we cannot trust the answer.
        if let Some(errors) = body["errors"].as_array() {
            let fatal = errors
                .iter()
                .find(|e| !matches!(e["extensions"]["code"].as_str(), Some("NOT_FOUND") | Some("FORBIDDEN")));
            if let Some(e) = fatal {
                return Err(unavailable(format!("owner answered an error: {e}")));
            }
        }
        let list =
            body["data"]["_entities"].as_array().ok_or_else(|| unavailable("no _entities in the answer".into()))?;
        if list.len() != representations.len() {
            return Err(unavailable("the answer has the wrong number of entities".into()));
        }
        Ok(list.iter().map(|v| if v.is_null() { None } else { Some(v.clone()) }).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A subgraph asking an owner served over https by a private CA: trusted with the CA, refused
    // (SUBGRAPH_UNAVAILABLE, nothing stored) without it.
    #[tokio::test]
    async fn an_https_owner_is_asked_when_its_ca_is_trusted() {
        let pki = crate::tls::testing::TestPki::new();
        let app = axum::Router::new()
            .route("/graphql", axum::routing::post(|| async { axum::Json(json!({ "data": { "ok": true } })) }));
        let url = format!("{}/graphql", pki.serve(app).await);
        let signer = crate::SigningKey::generate().signer();
        let caller = Caller {
            org: uuid::Uuid::nil(),
            kind: crate::OrgKind::NationalTable,
            subject: "test".into(),
            regions: Default::default(),
            roles: Default::default(),
            scopes: Default::default(),
        };
        let trusting = RefChecker::with_ca(&url, "region", signer.clone(), &pki.extra_ca()).expect("client");
        let body = trusting.query(&caller, "{ ok }", json!({})).await.expect("the owner answers");
        assert_eq!(body, json!({ "data": { "ok": true } }));
        let plain = RefChecker::new(&url, "region", signer);
        let refused = plain.query(&caller, "{ ok }", json!({})).await.expect_err("an unknown CA is refused");
        assert!(matches!(refused, ApiError::SubgraphUnavailable(_)), "{refused:?}");
    }
}

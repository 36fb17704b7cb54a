//! Who is calling, and what the subgraphs are told about it.
//!
//! The caller's token is verified against the trusted identity providers ([`crate::auth::oidc`]) and
//! its organisation resolved through the hub's register ([`crate::auth::register`]): organisation,
//! kind, regions and roles come from the register, scopes are the token's narrowed to the kind's.
//! Every subgraph call then carries a
//! short-lived internal token for that subgraph's audience, signed by the gateway (one signed for
//! exactly the same claims in the first half of its life is reused, see
//! [`TokenSigner::sign_reused`]). Any
//! identity header the client sent is never forwarded: the gateway builds subgraph requests
//! from scratch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ggzhub_kit::TokenSigner;
use ggzhub_kit::token::{InternalClaims, TokenRequest};
use reqwest::header::HeaderValue;

use crate::auth::oidc::Authenticator;
use crate::execute::SubgraphHeaders;
use crate::subgraph::fetch::OutgoingHeaders;

/// The audience of tokens presented to the gateway.
pub const GATEWAY_AUDIENCE: &str = "gateway";
/// Organisation kinds that see only the public contract schema (fields tagged
/// `@tag(name: "public")`), like anonymous callers: patient organisations read the public parts
/// of the picture (DOMAIN.md, access matrix). Municipalities also read draft overviews of their
/// tables, so they see the whole schema and the subgraphs decide.
pub const PUBLIC_KINDS: [ggzhub_kit::OrgKind; 1] = [ggzhub_kit::OrgKind::PatientOrganisation];
/// Lifetime of the internal tokens the gateway mints per subgraph call.
pub const INTERNAL_TOKEN_TTL: Duration = Duration::from_secs(60);

pub struct Identity {
    /// Verifies callers' tokens; `None` means no provider is configured (anonymous only).
    pub verifier: Option<Arc<Authenticator>>,
    /// Resolves a verified token's organisation; `None` refuses every token (register
    /// unreadable).
    pub register: Option<Arc<crate::auth::register::Register>>,
    /// Signs internal tokens for subgraphs; `None` sends no token.
    pub signer: Option<TokenSigner>,
    /// Whether requests without a token are served (as anonymous).
    pub allow_anonymous: bool,
}

/// Why a caller was refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("a bearer token is required")]
    Missing,
    #[error("the Authorization header is not a bearer token")]
    Malformed,
    #[error("the token was refused: {0}")]
    Invalid(crate::auth::oidc::TokenRefusal),
    #[error("the token was refused: {0}")]
    Unregistered(crate::auth::register::RegisterRefusal),
    #[error("no identity provider is configured; only anonymous requests are served")]
    NoProvider,
}

impl Identity {
    /// Checks the `Authorization` header: `Ok(None)` is an anonymous caller (only when allowed).
    pub async fn authenticate(&self, authorization: Option<&HeaderValue>) -> Result<Option<InternalClaims>, AuthError> {
        let Some(value) = authorization else {
            return if self.allow_anonymous { Ok(None) } else { Err(AuthError::Missing) };
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Malformed)?;
        let verifier = self.verifier.as_ref().ok_or(AuthError::NoProvider)?;
        let asserted = verifier.verify(token).await.map_err(AuthError::Invalid)?;
        let register = self
            .register
            .as_ref()
            .ok_or(AuthError::Unregistered(crate::auth::register::RegisterRefusal::Unavailable))?;
        let found = register
            .resolve(&asserted.issuer, &asserted.scheme, &asserted.identifier)
            .await
            .map_err(AuthError::Unregistered)?;
        Ok(Some(InternalClaims {
            iss: asserted.issuer,
            sub: asserted.subject,
            aud: ggzhub_kit::token::Audience::One(asserted.audience),
            exp: asserted.exp,
            iat: asserted.iat,
            jti: asserted.jti,
            org: found.org,
            org_kind: found.kind,
            regions: found.regions,
            roles: found.roles,
            scope: crate::auth::register::granted_scopes(found.kind, &asserted.scopes).join(" "),
        }))
    }

    /// The per-request header source for a (possibly anonymous) caller.
    pub fn for_caller(&self, claims: Option<InternalClaims>, traceparent: Option<HeaderValue>) -> CallerHeaders<'_> {
        CallerHeaders {
            signer: self.signer.as_ref(),
            claims,
            public: false,
            traceparent,
            minted: Mutex::new(HashMap::new()),
        }
    }

    /// The header source for a caller served under public access ([`crate::admission::public`]): anonymous
    /// to the gateway (public contract schema, no access-control attributes), while each subgraph
    /// gets an internal token of the public reader ([`public_token_request`]).
    pub fn for_public_caller(&self, traceparent: Option<HeaderValue>) -> CallerHeaders<'_> {
        CallerHeaders { public: true, ..self.for_caller(None, traceparent) }
    }
}

/// The `sub` of the internal tokens minted for public callers.
pub const PUBLIC_SUBJECT: &str = "public";

/// The internal token of a public (anonymous) caller for `service`: subject
/// [`PUBLIC_SUBJECT`], the nil organisation, kind PATIENT_ORGANISATION (the public
/// reads what patient organisations read that is public, DOMAIN.md), the scope `picture:read`
/// only and no regions or roles, so it can write nothing.
pub fn public_token_request(service: &str) -> TokenRequest {
    TokenRequest {
        subject: PUBLIC_SUBJECT.to_owned(),
        audience: vec![service.to_owned()],
        org: uuid::Uuid::nil(),
        org_kind: ggzhub_kit::OrgKind::PatientOrganisation,
        regions: Vec::new(),
        roles: Vec::new(),
        scopes: vec![ggzhub_kit::token::scopes::PICTURE_READ.to_owned()],
        ttl: INTERNAL_TOKEN_TTL,
    }
}

/// Mints (once per subgraph per request, reusing a token of the same claims while at least half
/// its life is left) the internal token for each subgraph call.
pub struct CallerHeaders<'a> {
    signer: Option<&'a TokenSigner>,
    claims: Option<InternalClaims>,
    /// An anonymous caller under public access: subgraphs get the public reader's token.
    public: bool,
    traceparent: Option<HeaderValue>,
    minted: Mutex<HashMap<String, HeaderValue>>,
}

impl SubgraphHeaders for CallerHeaders<'_> {
    fn identity(&self) -> Option<String> {
        match &self.claims {
            Some(claims) => Some(serde_json::to_string(claims).unwrap_or_default()),
            None if self.public => Some(PUBLIC_SUBJECT.to_owned()),
            None => None,
        }
    }

    fn public_only(&self) -> bool {
        self.claims.as_ref().is_none_or(|claims| PUBLIC_KINDS.contains(&claims.org_kind))
    }

    fn organisation(&self) -> Option<(uuid::Uuid, ggzhub_kit::OrgKind)> {
        self.claims.as_ref().map(|claims| (claims.org, claims.org_kind))
    }

    fn access(&self) -> crate::pipeline::authz::Access {
        self.claims.as_ref().map(crate::pipeline::authz::Access::from_claims).unwrap_or_default()
    }

    fn headers_for(&self, service: &str) -> OutgoingHeaders {
        let request = match (self.signer, &self.claims) {
            (Some(_), Some(claims)) => Some(TokenRequest {
                subject: claims.sub.clone(),
                audience: vec![service.to_owned()],
                org: claims.org,
                org_kind: claims.org_kind,
                regions: claims.regions.clone(),
                roles: claims.roles.clone(),
                scopes: claims.scope.split_whitespace().map(str::to_owned).collect(),
                ttl: INTERNAL_TOKEN_TTL,
            }),
            (Some(_), None) if self.public => Some(public_token_request(service)),
            _ => None,
        };
        let authorization = match (self.signer, request) {
            (Some(signer), Some(request)) => {
                let mut minted = self.minted.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                minted
                    .entry(service.to_owned())
                    .or_insert_with(|| {
                        let token = signer.sign_reused(&request);
                        HeaderValue::from_str(&format!("Bearer {token}")).unwrap_or(HeaderValue::from_static(""))
                    })
                    .clone()
                    .into()
            }
            _ => None,
        };
        OutgoingHeaders { authorization, traceparent: self.traceparent.clone() }
    }
}

//! The discovery document (OpenID Connect Discovery 1.0) and the signing keys (JWKS).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::Provider;

/// OpenID Connect scopes; anything else must be one of the hub's scopes.
pub(crate) const OIDC_SCOPES: [&str; 2] = ["openid", "profile"];

/// Whether `scope` may be asked for.
pub(crate) fn is_supported_scope(scope: &str) -> bool {
    OIDC_SCOPES.contains(&scope) || ggzhub_kit::token::scopes::ALL.contains(&scope)
}

/// Splits a `scope` parameter; an unknown scope is returned as the error.
pub(crate) fn parse_scopes(scope: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for s in scope.split(' ').filter(|s| !s.is_empty()) {
        if !is_supported_scope(s) {
            return Err(s.to_owned());
        }
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    Ok(out)
}

/// The hub scopes among `scopes` (what an access token's `scope` claim narrows to; empty means
/// no narrowing).
pub(crate) fn hub_scopes(scopes: &[String]) -> String {
    scopes.iter().filter(|s| !OIDC_SCOPES.contains(&s.as_str())).cloned().collect::<Vec<_>>().join(" ")
}

pub(crate) async fn configuration(State(p): State<Arc<Provider>>) -> impl IntoResponse {
    let scopes: Vec<&str> = OIDC_SCOPES.iter().chain(ggzhub_kit::token::scopes::ALL.iter()).copied().collect();
    let doc = serde_json::json!({
        "issuer": p.settings.issuer,
        "authorization_endpoint": p.endpoint("/authorize"),
        "token_endpoint": p.endpoint("/token"),
        "jwks_uri": p.endpoint("/.well-known/jwks.json"),
        "userinfo_endpoint": p.endpoint("/userinfo"),
        "end_session_endpoint": p.endpoint("/end-session"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["EdDSA"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "scopes_supported": scopes,
        "claims_supported": [
            "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "azp", "name",
            "org_identifier_scheme", "org_identifier", "org_name",
        ],
        "prompt_values_supported": ["none", "login"],
        "authorization_response_iss_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "claims_parameter_supported": false,
    });
    ([(header::CACHE_CONTROL, "public, max-age=300")], Json(doc))
}

pub(crate) async fn jwks(State(p): State<Arc<Provider>>) -> impl IntoResponse {
    ([(header::CACHE_CONTROL, "public, max-age=300")], Json(p.jwks.clone()))
}

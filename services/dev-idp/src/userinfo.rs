//! `/userinfo` (OpenID Connect Core §5.3): who an access token of this provider speaks for.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::{ACCESS_TOKEN_AUDIENCE, Provider};

/// Claims of the access token that `/userinfo` repeats.
const CLAIMS: [&str; 4] = ["sub", "name", "org_identifier_scheme", "org_identifier"];

/// `GET` or `POST /userinfo` with `Authorization: Bearer <access token>`.
pub(crate) async fn userinfo(State(p): State<Arc<Provider>>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let Some(token) = token else {
        return refuse("invalid_request", "a Bearer access token is required");
    };
    let Some(claims) = verify(&p, token) else {
        return refuse("invalid_token", "the access token is not valid");
    };
    let mut info = serde_json::Map::new();
    for name in CLAIMS {
        if let Some(value) = claims.get(name) {
            info.insert(name.to_owned(), value.clone());
        }
    }
    if let Some(account) = p.accounts.iter().find(|a| {
        claims["org_identifier_scheme"] == a.scheme.as_str() && claims["org_identifier"] == a.identifier.as_str()
    }) {
        info.insert("org_name".to_owned(), account.organisation.clone().into());
    }
    ([(header::CACHE_CONTROL, "no-store")], Json(serde_json::Value::Object(info))).into_response()
}

/// The claims of an access token this provider signed, if it has not expired by the provider's
/// clock.
fn verify(p: &Provider, token: &str) -> Option<serde_json::Value> {
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(p.jwks["keys"][0].clone()).ok()?;
    let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).ok()?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    // Expiry is checked below against the provider's own clock (tests move it).
    validation.validate_exp = false;
    validation.set_audience(&[ACCESS_TOKEN_AUDIENCE]);
    validation.set_issuer(&[&p.settings.issuer]);
    validation.set_required_spec_claims(&["iss", "aud", "sub", "exp"]);
    let claims = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation).ok()?.claims;
    (claims["exp"].as_i64()? > p.now()).then_some(claims)
}

fn refuse(error: &str, description: &str) -> Response {
    let challenge = format!("Bearer error=\"{error}\", error_description=\"{description}\"");
    let mut response = StatusCode::UNAUTHORIZED.into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

//! `/token`: exchanges an authorization code (with its PKCE verifier) for an access token and an
//! ID token, and gives confidential clients an access token for their organisation (client
//! credentials). Errors are RFC 6749 §5.2 JSON.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use crate::authorize::secs;
use crate::model::{Account, Client, Person};
use crate::{ACCESS_TOKEN_AUDIENCE, Provider, crypto, discovery, params};

/// An RFC 6749 §5.2 error.
#[derive(Debug)]
struct OAuthError {
    code: &'static str,
    description: String,
}

impl OAuthError {
    fn new(code: &'static str, description: impl Into<String>) -> Self {
        Self { code, description: description.into() }
    }

    fn invalid_grant(description: &str) -> Self {
        Self::new("invalid_grant", description)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let status = if self.code == "invalid_client" { StatusCode::UNAUTHORIZED } else { StatusCode::BAD_REQUEST };
        let mut response =
            (status, Json(serde_json::json!({ "error": self.code, "error_description": self.description })))
                .into_response();
        let h = response.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if status == StatusCode::UNAUTHORIZED {
            h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"ggzhub-dev-idp\""));
        }
        response
    }
}

/// `POST /token`.
pub(crate) async fn token(State(p): State<Arc<Provider>>, headers: HeaderMap, body: Bytes) -> Response {
    match exchange(&p, &headers, &body) {
        Ok(doc) => {
            let mut response = Json(doc).into_response();
            let h = response.headers_mut();
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            response
        }
        Err(e) => {
            tracing::debug!(error = e.code, description = %e.description, "token request refused");
            e.into_response()
        }
    }
}

fn exchange(p: &Provider, headers: &HeaderMap, body: &[u8]) -> Result<serde_json::Value, OAuthError> {
    let form = params::parse(body)
        .map_err(|name| OAuthError::new("invalid_request", format!("parameter {name} is malformed or repeated")))?;
    let client = authenticate(p, headers, &form)?;
    match params::get(&form, "grant_type") {
        Some("authorization_code") => authorization_code(p, client, &form),
        Some("client_credentials") => client_credentials(p, client, &form),
        Some(other) => Err(OAuthError::new("unsupported_grant_type", format!("grant_type {other} is not supported"))),
        None => Err(OAuthError::new("invalid_request", "grant_type is required")),
    }
}

/// Who is asking: `client_secret_basic`, `client_secret_post`, or a public client's `client_id`.
fn authenticate<'a>(
    p: &'a Provider,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<Auth<'a>, OAuthError> {
    let basic = match headers.get(header::AUTHORIZATION) {
        Some(value) => {
            Some(parse_basic(value).ok_or_else(|| OAuthError::new("invalid_client", "malformed Basic credentials"))?)
        }
        None => None,
    };
    let posted_secret = params::get(form, "client_secret");
    let form_id = params::get(form, "client_id");
    let (id, secret) = match basic {
        Some(_) if posted_secret.is_some() => {
            return Err(OAuthError::new("invalid_request", "use one client authentication method"));
        }
        Some((id, _)) if form_id.is_some_and(|f| f != id) => {
            return Err(OAuthError::new("invalid_request", "client_id differs from the Basic credentials"));
        }
        Some((id, secret)) => (id, Some(secret).filter(|s| !s.is_empty())),
        None => match form_id {
            Some(id) => (id.to_owned(), posted_secret.map(str::to_owned)),
            None => return Err(OAuthError::new("invalid_client", "client authentication is required")),
        },
    };
    let unknown = || OAuthError::new("invalid_client", "unknown client or wrong credentials");
    let client = p.clients.get(&id).ok_or_else(unknown)?;
    match (&client.secret, secret) {
        (Some(expected), Some(given)) if crypto::secrets_equal(expected, &given) => {
            Ok(Auth { client, confidential: true })
        }
        (None, None) => Ok(Auth { client, confidential: false }),
        _ => Err(unknown()),
    }
}

/// An authenticated client.
struct Auth<'a> {
    client: &'a Client,
    /// It proved a secret.
    confidential: bool,
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1).
fn parse_basic(value: &HeaderValue) -> Option<(String, String)> {
    let value = value.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape =
        |s: &str| percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8().ok().map(|c| c.into_owned());
    Some((unescape(id)?, unescape(secret)?))
}

fn authorization_code(
    p: &Provider,
    auth: Auth<'_>,
    form: &HashMap<String, String>,
) -> Result<serde_json::Value, OAuthError> {
    let required = |name: &str| {
        params::get(form, name).ok_or_else(|| OAuthError::new("invalid_request", format!("{name} is required")))
    };
    let code = required("code")?;
    let redirect_uri = required("redirect_uri")?;
    let verifier = required("code_verifier")?;
    // Taken out first: whatever is wrong below, this code cannot be tried again.
    let grant = p
        .store
        .take_code(code, p.now())
        .ok_or_else(|| OAuthError::invalid_grant("the code is unknown, used or expired"))?;
    if grant.client_id != auth.client.id {
        return Err(OAuthError::invalid_grant("the code was issued to another client"));
    }
    if grant.redirect_uri != redirect_uri {
        return Err(OAuthError::invalid_grant("redirect_uri differs from the authorization request"));
    }
    if !crypto::is_valid_verifier(verifier) || !crypto::secrets_equal(&crypto::s256(verifier), &grant.code_challenge) {
        return Err(OAuthError::invalid_grant("the code_verifier does not match the code_challenge"));
    }
    let (Some(account), Some(person)) =
        (p.accounts.get(grant.account), p.accounts.get(grant.account).and_then(|a| a.persons.get(grant.person)))
    else {
        return Err(OAuthError::invalid_grant("the account is gone"));
    };
    let now = p.now();
    let ttl = secs(p.settings.token_ttl);
    let access = access_token(p, auth.client, account, Some(person), &discovery::hub_scopes(&grant.scopes), now);
    let mut id = serde_json::json!({
        "iss": p.settings.issuer,
        "sub": person.subject,
        "aud": auth.client.id,
        "azp": auth.client.id,
        "iat": now,
        "exp": now.saturating_add(ttl),
        "auth_time": grant.auth_time,
        "name": person.name,
        "org_name": account.organisation,
        "org_identifier_scheme": account.scheme,
        "org_identifier": account.identifier,
    });
    if let Some(nonce) = &grant.nonce {
        id["nonce"] = serde_json::Value::String(nonce.clone());
    }
    tracing::info!(client = %auth.client.id, subject = %person.subject, "signed in with the development provider");
    Ok(serde_json::json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": ttl,
        "id_token": p.signer.sign_claims(&id),
        "scope": grant.scopes.join(" "),
    }))
}

fn client_credentials(
    p: &Provider,
    auth: Auth<'_>,
    form: &HashMap<String, String>,
) -> Result<serde_json::Value, OAuthError> {
    let org = auth.client.organisation.as_ref().filter(|_| auth.confidential);
    let account = org.and_then(|o| p.accounts.iter().find(|a| a.scheme == o.scheme && a.identifier == o.identifier));
    let Some(account) = account else {
        return Err(OAuthError::new("unauthorized_client", "this client may not use client_credentials"));
    };
    let scopes = discovery::parse_scopes(params::get(form, "scope").unwrap_or_default())
        .map_err(|unknown| OAuthError::new("invalid_scope", format!("unknown scope {unknown}")))?;
    let scope = discovery::hub_scopes(&scopes);
    let now = p.now();
    let ttl = secs(p.settings.token_ttl);
    tracing::info!(client = %auth.client.id, "client credentials token issued");
    Ok(serde_json::json!({
        "access_token": access_token(p, auth.client, account, None, &scope, now),
        "token_type": "Bearer",
        "expires_in": ttl,
        "scope": scope,
    }))
}

/// The access token for the gateway (the shape agreed with the register, see the crate docs).
fn access_token(
    p: &Provider,
    client: &Client,
    account: &Account,
    person: Option<&Person>,
    scope: &str,
    now: i64,
) -> String {
    let mut claims = serde_json::json!({
        "iss": p.settings.issuer,
        "aud": ACCESS_TOKEN_AUDIENCE,
        "sub": person.map_or(client.id.as_str(), |person| person.subject.as_str()),
        "iat": now,
        "exp": now.saturating_add(secs(p.settings.token_ttl)),
        "jti": uuid::Uuid::new_v4().to_string(),
        "scope": scope,
        "azp": client.id,
        "client_id": client.id,
        "org_identifier_scheme": account.scheme,
        "org_identifier": account.identifier,
    });
    if let Some(person) = person {
        claims["name"] = serde_json::Value::String(person.name.clone());
    }
    p.signer.sign_claims(&claims)
}

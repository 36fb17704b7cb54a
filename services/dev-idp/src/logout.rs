//! `/end-session` (OpenID Connect RP-Initiated Logout): the provider keeps no session of its
//! own, so signing out means sending the browser back to a registered
//! `post_logout_redirect_uri`, or showing that the person is signed out.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::{Provider, page, params};

/// `GET /end-session`.
pub(crate) async fn end_session(State(p): State<Arc<Provider>>, RawQuery(query): RawQuery) -> Response {
    answer(&p, query.unwrap_or_default().as_bytes())
}

/// `POST /end-session` (form).
pub(crate) async fn end_session_form(State(p): State<Arc<Provider>>, body: Bytes) -> Response {
    answer(&p, &body)
}

fn answer(p: &Provider, raw: &[u8]) -> Response {
    let params = match params::parse(raw) {
        Ok(params) => params,
        Err(name) => return page::error(StatusCode::BAD_REQUEST, &format!("De parameter {name} is niet goed.")),
    };
    match target(p, &params) {
        Ok(Some(uri)) => {
            let mut extra = Vec::new();
            if let Some(state) = params::get(&params, "state") {
                extra.push(("state", state));
            }
            match params::with_query(uri, &extra) {
                Some(location) => params::redirect(&location),
                None => page::error(StatusCode::BAD_REQUEST, "Het terugstuuradres is ongeldig."),
            }
        }
        Ok(None) => page::signed_out(),
        Err(message) => page::error(StatusCode::BAD_REQUEST, message),
    }
}

/// The registered URI to send the browser back to, if one was asked for.
fn target<'a>(p: &'a Provider, params: &HashMap<String, String>) -> Result<Option<&'a str>, &'static str> {
    let hint_client = match params::get(params, "id_token_hint") {
        Some(hint) => Some(hinted_client(p, hint).ok_or("Het id_token_hint is niet van deze inlogdienst.")?),
        None => None,
    };
    let named_client = params::get(params, "client_id");
    if let (Some(hinted), Some(named)) = (&hint_client, named_client)
        && hinted != named
    {
        return Err("Het id_token_hint hoort bij een andere toepassing dan client_id.");
    }
    let Some(uri) = params::get(params, "post_logout_redirect_uri") else { return Ok(None) };
    let client = named_client
        .or(hint_client.as_deref())
        .and_then(|id| p.clients.get(id))
        .ok_or("Het is niet bekend bij welke toepassing u uitlogt (client_id of id_token_hint ontbreekt).")?;
    client
        .post_logout_redirect_uris
        .iter()
        .find(|r| *r == uri)
        .map(|r| Some(r.as_str()))
        .ok_or("Het terugstuuradres na uitloggen is niet geregistreerd voor deze toepassing.")
}

/// The client (`aud`) of an ID token this provider signed; an expired one still counts (signing
/// out usually happens after it expired).
fn hinted_client(p: &Provider, hint: &str) -> Option<String> {
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(p.jwks["keys"][0].clone()).ok()?;
    let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).ok()?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.set_issuer(&[&p.settings.issuer]);
    validation.set_required_spec_claims(&["iss", "aud", "sub"]);
    let data = jsonwebtoken::decode::<serde_json::Value>(hint, &key, &validation).ok()?;
    data.claims["aud"].as_str().map(str::to_owned)
}

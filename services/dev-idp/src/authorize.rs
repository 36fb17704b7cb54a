//! `/authorize`: checks an authorization request (Authorization Code with PKCE S256), shows the
//! page to pick a demo organisation and person, and answers the client with a code.
//!
//! Until client and redirect URI are known to match a registration, every problem is an error
//! page: redirecting to an unchecked URI would make the provider an open redirector. After that,
//! problems go back to the client as `error` parameters (RFC 6749 §4.1.2.1).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

use crate::page::{self, ChoicePage};
use crate::store::{CodeGrant, PendingRequest};
use crate::{Provider, crypto, discovery, params};

/// Longest `state` and `nonce` accepted.
const MAX_STATE_LEN: usize = 512;

/// `GET /authorize`: the authorization request.
pub(crate) async fn show(State(p): State<Arc<Provider>>, RawQuery(query): RawQuery) -> Response {
    match params::parse(query.unwrap_or_default().as_bytes()) {
        Ok(params) => start(&p, &params),
        Err(name) => page::error(StatusCode::BAD_REQUEST, &format!("De parameter {name} is niet goed.")),
    }
}

/// Checks an authorization request (sent as a query or, OpenID Connect Core §3.1.2.1, as a
/// form) and shows the page to answer it.
fn start(p: &Provider, params: &HashMap<String, String>) -> Response {
    let Some(client) = params::get(params, "client_id").and_then(|id| p.clients.get(id)) else {
        return page::error(StatusCode::BAD_REQUEST, "De toepassing is hier niet bekend (client_id).");
    };
    let Some(redirect_uri) =
        params::get(params, "redirect_uri").filter(|uri| client.redirect_uris.iter().any(|r| r == uri))
    else {
        return page::error(
            StatusCode::BAD_REQUEST,
            "Het terugstuuradres (redirect_uri) is niet geregistreerd voor deze toepassing.",
        );
    };
    let state = params::get(params, "state");
    let refuse = |error: &str, description: &str| {
        let mut extra = vec![("error", error), ("error_description", description)];
        if let Some(state) = state {
            extra.push(("state", state));
        }
        extra.push(("iss", &p.settings.issuer));
        params::with_query(redirect_uri, &extra).map_or_else(
            || page::error(StatusCode::BAD_REQUEST, "Het terugstuuradres is ongeldig."),
            |location| params::redirect(&location),
        )
    };
    let request = match check(params) {
        Ok(request) => request,
        Err((error, description)) => return refuse(error, &description),
    };
    let (Some(state), Some(redirect_origin)) = (state, params::origin_of(redirect_uri)) else {
        return refuse("invalid_request", "the redirect URI has no origin");
    };
    let now = p.now();
    let request_id = crypto::random_token(24);
    let csrf = crypto::random_token(32);
    let pending = PendingRequest {
        client_id: client.id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        state: state.to_owned(),
        nonce: request.nonce,
        code_challenge: request.code_challenge,
        scopes: request.scopes,
        csrf: csrf.clone(),
        expires_at: now.saturating_add(secs(p.settings.request_ttl)),
    };
    if p.store.insert_request(request_id.clone(), pending, now).is_err() {
        return refuse("temporarily_unavailable", "too many sign-ins in progress");
    }
    let cookie = csrf_cookie(p, &request_id, &csrf);
    page::choice(
        &ChoicePage {
            client_id: &client.id,
            request_id: &request_id,
            csrf: &csrf,
            accounts: &p.accounts,
            redirect_origin: &redirect_origin,
            error: None,
            cookie: Some(&cookie),
        },
        StatusCode::OK,
    )
}

/// The checked parts of an authorization request.
struct Checked {
    nonce: Option<String>,
    code_challenge: String,
    scopes: Vec<String>,
}

/// Checks everything but client, redirect URI and state; errors are (error code, description).
fn check(params: &HashMap<String, String>) -> Result<Checked, (&'static str, String)> {
    let invalid = |d: &str| ("invalid_request", d.to_owned());
    match params::get(params, "response_type") {
        Some("code") => {}
        Some(_) => return Err(("unsupported_response_type", "only response_type=code is supported".into())),
        None => return Err(invalid("response_type is required")),
    }
    if params::get(params, "response_mode").is_some_and(|m| m != "query") {
        return Err(invalid("only response_mode=query is supported"));
    }
    if params.contains_key("request") || params.contains_key("request_uri") {
        return Err(("request_not_supported", "request objects are not supported".into()));
    }
    if params::get(params, "state").is_none() {
        return Err(invalid("state is required"));
    }
    if params::get(params, "state").is_some_and(|s| s.len() > MAX_STATE_LEN)
        || params::get(params, "nonce").is_some_and(|s| s.len() > MAX_STATE_LEN)
    {
        return Err(invalid("state or nonce is too long"));
    }
    match params::get(params, "code_challenge_method") {
        Some("S256") => {}
        Some(_) => return Err(invalid("code_challenge_method must be S256 (plain is not allowed)")),
        // Absent means `plain` (RFC 7636 §4.3), which is refused.
        None => return Err(invalid("code_challenge_method=S256 is required")),
    }
    let Some(code_challenge) = params::get(params, "code_challenge") else {
        return Err(invalid("code_challenge is required (PKCE)"));
    };
    if !crypto::is_valid_s256_challenge(code_challenge) {
        return Err(invalid("code_challenge is not an S256 challenge"));
    }
    let scopes = discovery::parse_scopes(params::get(params, "scope").unwrap_or_default())
        .map_err(|unknown| ("invalid_scope", format!("unknown scope {unknown}")))?;
    if !scopes.iter().any(|s| s == "openid") {
        return Err(("invalid_scope", "scope must include openid".into()));
    }
    // There is no session at the provider: a request that may not show the page cannot succeed.
    if params::get(params, "prompt").is_some_and(|prompt| prompt.split(' ').any(|v| v == "none")) {
        return Err(("login_required", "the person has to choose an account".into()));
    }
    Ok(Checked {
        nonce: params::get(params, "nonce").map(str::to_owned),
        code_challenge: code_challenge.to_owned(),
        scopes,
    })
}

/// `POST /authorize`: the person's choice on the page, or an authorization request sent as a
/// form (it names a `response_type`; the page's form never does).
pub(crate) async fn answer(State(p): State<Arc<Provider>>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(form) = params::parse(&body) else {
        return page::error(StatusCode::BAD_REQUEST, "Het formulier is niet goed.");
    };
    if form.contains_key("response_type") {
        return start(&p, &form);
    }
    choose(&p, &headers, &form)
}

/// The person's choice on the page.
fn choose(p: &Provider, headers: &HeaderMap, form: &HashMap<String, String>) -> Response {
    let expired = || {
        page::error(
            StatusCode::BAD_REQUEST,
            "Deze inlogpagina is verlopen of al gebruikt. Begin opnieuw bij de toepassing.",
        )
    };
    // Browsers send Origin with a form POST: one from another site is not this page's form.
    let own_origin = params::origin_of(&p.settings.issuer);
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok())
        && origin != "null"
        && Some(origin) != own_origin.as_deref()
    {
        return page::error(StatusCode::FORBIDDEN, "Dit formulier komt niet van deze inlogpagina.");
    }
    let now = p.now();
    let Some(request_id) = params::get(form, "request") else { return expired() };
    let Some(pending) = p.store.request(request_id, now) else { return expired() };
    let cookie = cookie_value(headers, &cookie_name(request_id));
    let csrf_ok = params::get(form, "csrf").is_some_and(|c| crypto::secrets_equal(c, &pending.csrf))
        && cookie.is_some_and(|c| crypto::secrets_equal(&c, &pending.csrf));
    if !csrf_ok {
        return expired();
    }
    if params::get(form, "action") == Some("cancel") {
        p.store.remove_request(request_id);
        return back_to_client(
            p,
            &pending,
            &[("error", "access_denied"), ("error_description", "the person cancelled signing in")],
        );
    }
    let chosen = params::get(form, "person").and_then(|subject| p.person(subject));
    let Some((account, person)) = chosen else {
        let redirect_origin = params::origin_of(&pending.redirect_uri).unwrap_or_default();
        return page::choice(
            &ChoicePage {
                client_id: &pending.client_id,
                request_id,
                csrf: &pending.csrf,
                accounts: &p.accounts,
                redirect_origin: &redirect_origin,
                error: Some("Kies eerst een persoon. Daarna kunt u inloggen."),
                cookie: None,
            },
            StatusCode::BAD_REQUEST,
        );
    };
    // The request is answered once: a second POST of the same page finds nothing.
    if p.store.remove_request(request_id).is_none() {
        return expired();
    }
    let code = crypto::random_token(32);
    let grant = CodeGrant {
        client_id: pending.client_id.clone(),
        redirect_uri: pending.redirect_uri.clone(),
        code_challenge: pending.code_challenge.clone(),
        nonce: pending.nonce.clone(),
        scopes: pending.scopes.clone(),
        account,
        person,
        auth_time: now,
        expires_at: now.saturating_add(secs(p.settings.code_ttl)),
    };
    if p.store.insert_code(code.clone(), grant, now).is_err() {
        return back_to_client(
            p,
            &pending,
            &[("error", "temporarily_unavailable"), ("error_description", "too many sign-ins in progress")],
        );
    }
    tracing::debug!(client = %pending.client_id, "authorization code issued");
    back_to_client(p, &pending, &[("code", &code)])
}

/// Redirects to the request's (registered) redirect URI with `extra`, `state` and `iss`.
fn back_to_client(p: &Provider, pending: &PendingRequest, extra: &[(&str, &str)]) -> Response {
    let mut all = extra.to_vec();
    all.push(("state", &pending.state));
    all.push(("iss", &p.settings.issuer));
    match params::with_query(&pending.redirect_uri, &all) {
        Some(location) => params::redirect(&location),
        None => page::error(StatusCode::BAD_REQUEST, "Het terugstuuradres is ongeldig."),
    }
}

fn cookie_name(request_id: &str) -> String {
    format!("idp_csrf_{request_id}")
}

/// The cookie that ties the page's form to the browser that opened it.
fn csrf_cookie(p: &Provider, request_id: &str, csrf: &str) -> String {
    let secure = if p.settings.issuer.starts_with("https:") { "; Secure" } else { "" };
    format!(
        "{}={csrf}; Path=/authorize; Max-Age={}; HttpOnly; SameSite=Strict{secure}",
        cookie_name(request_id),
        secs(p.settings.request_ttl)
    )
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_owned())
}

pub(crate) fn secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 4)
}

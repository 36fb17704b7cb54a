//! CORS for the endpoints a browser application calls from script (discovery, JWKS, token,
//! userinfo, end-session): only the registered clients' web origins get an answer they can read.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::Provider;

/// How long a browser may cache a preflight answer.
const PREFLIGHT_MAX_AGE: &str = "600";

pub(crate) async fn cors(State(p): State<Arc<Provider>>, request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let allowed = origin.as_ref().and_then(|o| o.to_str().ok()).is_some_and(|o| p.origins.contains(o));
    let preflight =
        request.method() == Method::OPTIONS && request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        let mut response = if allowed {
            let mut r = StatusCode::NO_CONTENT.into_response();
            let h = r.headers_mut();
            h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("authorization, content-type"));
            h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(PREFLIGHT_MAX_AGE));
            r
        } else {
            StatusCode::FORBIDDEN.into_response()
        };
        finish(&mut response, allowed, origin);
        return response;
    }
    let mut response = next.run(request).await;
    finish(&mut response, allowed, origin);
    response
}

fn finish(response: &mut Response, allowed: bool, origin: Option<HeaderValue>) {
    let h = response.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("origin"));
    if allowed && let Some(origin) = origin {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    }
}

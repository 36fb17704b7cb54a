//! Request parameters (query strings and form bodies) and redirects carrying parameters.

use std::collections::HashMap;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Longest value accepted for any one parameter.
const MAX_VALUE_LEN: usize = 2048;

/// Parses `application/x-www-form-urlencoded` text. A parameter given twice, or a value longer
/// than [`MAX_VALUE_LEN`], is refused (RFC 6749 §3.1): the error names the parameter.
pub(crate) fn parse(raw: &[u8]) -> Result<HashMap<String, String>, String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(raw).map_err(|_| "the parameters".to_owned())?;
    let mut out = HashMap::with_capacity(pairs.len());
    for (name, value) in pairs {
        if value.len() > MAX_VALUE_LEN || out.contains_key(&name) {
            return Err(name);
        }
        out.insert(name, value);
    }
    Ok(out)
}

/// The non-empty value of `name`.
pub(crate) fn get<'a>(params: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    params.get(name).map(String::as_str).filter(|v| !v.is_empty())
}

/// `uri` with `extra` added to its query.
pub(crate) fn with_query(uri: &str, extra: &[(&str, &str)]) -> Option<String> {
    let mut url = url::Url::parse(uri).ok()?;
    if !extra.is_empty() {
        let mut pairs = url.query_pairs_mut();
        for (k, v) in extra {
            pairs.append_pair(k, v);
        }
    }
    Some(url.to_string())
}

/// A 303 redirect to `location`, not to be cached.
pub(crate) fn redirect(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (
            StatusCode::SEE_OTHER,
            [(header::LOCATION, value), (header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The origin (`scheme://host[:port]`) of `uri`.
pub(crate) fn origin_of(uri: &str) -> Option<String> {
    let url = url::Url::parse(uri).ok()?;
    let origin = url.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

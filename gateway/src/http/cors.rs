//! CORS for partners' browser apps (`[cors]`): a web app on a partner's own domain calls the hub
//! with its users' bearer tokens. Off by default (no origin listed: a browser refuses every
//! cross-origin call, the dashboard is same-origin). tower-http's `CorsLayer` answers the
//! preflights and marks the answers; this module only checks the configuration and fixes what
//! the hub allows.
//!
//! Bearer tokens are not what CORS calls credentials (cookies, HTTP authentication, TLS client
//! certificates), so `allow_credentials` stays off for them; it is refused together with the
//! wildcard origin, as the Fetch standard does.

use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Method, header};
use serde::{Deserialize, Serialize};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// `[cors]` in gateway.toml.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CorsConfig {
    /// Origins allowed to call the hub from a browser, exactly as a browser sends them:
    /// `https://planning.example.nl`, `http://localhost:5173`. `"*"` alone allows any origin
    /// (only without `allow_credentials`). Empty: none (the default).
    pub allowed_origins: Vec<String>,
    /// Answer `Access-Control-Allow-Credentials: true`, so that the browser sends cookies and
    /// TLS client certificates. Not needed for bearer tokens.
    pub allow_credentials: bool,
    /// How long a browser may reuse a preflight's answer, in seconds.
    pub max_age_secs: u64,
}

impl Default for CorsConfig {
    fn default() -> Self {
        Self { allowed_origins: Vec::new(), allow_credentials: false, max_age_secs: 600 }
    }
}

/// Request headers a partner's app may send: the token, the body's type, what GraphQL clients
/// add (CSRF-prevention headers, Apollo's client awareness), trace context, and SSE's
/// `Last-Event-ID` for resuming a subscription.
const ALLOWED_HEADERS: [&str; 12] = [
    "authorization",
    "content-type",
    "accept",
    "apollo-require-preflight",
    "graphql-require-preflight",
    "x-apollo-operation-name",
    "apollographql-client-name",
    "apollographql-client-version",
    "traceparent",
    "tracestate",
    "x-request-id",
    "last-event-id",
];

/// Response headers a partner's app may read beyond the CORS-safelisted ones: when to retry
/// after a refusal, and the request id to quote to the operator.
const EXPOSED_HEADERS: [&str; 2] = ["retry-after", "x-request-id"];

impl CorsConfig {
    /// Whether any origin is allowed.
    pub fn is_enabled(&self) -> bool {
        !self.allowed_origins.is_empty()
    }

    /// The layer these settings describe (`None`: CORS off), or why they cannot be used.
    pub fn layer(&self) -> anyhow::Result<Option<CorsLayer>> {
        if !self.is_enabled() {
            return Ok(None);
        }
        let wildcard = self.allowed_origins.iter().any(|o| o.trim() == "*");
        let origin = if wildcard {
            anyhow::ensure!(
                self.allowed_origins.len() == 1,
                "[cors] allowed_origins: \"*\" allows every origin; list it alone or list origins instead"
            );
            anyhow::ensure!(
                !self.allow_credentials,
                "[cors] allowed_origins = [\"*\"] with allow_credentials = true: a browser refuses the wildcard with credentials; list the origins"
            );
            AllowOrigin::any()
        } else {
            let origins = self.allowed_origins.iter().map(|o| parse_origin(o)).collect::<anyhow::Result<Vec<_>>>()?;
            AllowOrigin::list(origins)
        };
        let headers: Vec<HeaderName> = ALLOWED_HEADERS.iter().map(|h| HeaderName::from_static(h)).collect();
        let exposed: Vec<HeaderName> = EXPOSED_HEADERS.iter().map(|h| HeaderName::from_static(h)).collect();
        let layer = CorsLayer::new()
            .allow_origin(origin)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers(headers)
            .expose_headers(exposed)
            .allow_credentials(self.allow_credentials)
            .max_age(Duration::from_secs(self.max_age_secs))
            // Answers differ by origin (and by the preflight's asked headers): caches must know.
            .vary([header::ORIGIN, header::ACCESS_CONTROL_REQUEST_METHOD, header::ACCESS_CONTROL_REQUEST_HEADERS]);
        Ok(Some(layer))
    }
}

/// An origin as a browser sends it: `scheme://host[:port]`, http or https, nothing after the
/// authority, lowercase (browsers send scheme and host lowercased, so another spelling would
/// never match).
fn parse_origin(origin: &str) -> anyhow::Result<HeaderValue> {
    let refuse = |why: &str| {
        anyhow::anyhow!(
            "[cors] allowed_origins: {origin:?} is not an origin ({why}); write it as https://host or https://host:port"
        )
    };
    let (scheme, rest) = origin.split_once("://").ok_or_else(|| refuse("no scheme"))?;
    if scheme != "https" && scheme != "http" {
        return Err(refuse("the scheme is not http or https"));
    }
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) || rest.ends_with(':') {
        return Err(refuse("only scheme, host and port; no path, query, user or trailing slash"));
    }
    if origin.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(refuse("browsers send origins in lowercase"));
    }
    if let Some((_, port)) = rest.rsplit_once(':').filter(|_| !rest.ends_with(']'))
        && port.parse::<u16>().is_err()
    {
        return Err(refuse("the port is not a number"));
    }
    HeaderValue::from_str(origin).map_err(|_| refuse("not a valid header value"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(origins: &[&str], credentials: bool) -> CorsConfig {
        CorsConfig {
            allowed_origins: origins.iter().map(|o| (*o).to_owned()).collect(),
            allow_credentials: credentials,
            ..CorsConfig::default()
        }
    }

    #[test]
    fn off_by_default() {
        assert!(CorsConfig::default().layer().expect("valid").is_none());
    }

    #[test]
    fn origins_are_checked() {
        for good in
            ["https://planning.example.nl", "http://localhost:5173", "http://127.0.0.1:4106", "https://[::1]:8443"]
        {
            assert!(config(&[good], false).layer().is_ok(), "{good}");
        }
        for bad in [
            "planning.example.nl",
            "ftp://example.nl",
            "https://example.nl/",
            "https://example.nl/app",
            "https://Example.nl",
            "https://example.nl:port",
            "https://user@example.nl",
            "https://",
        ] {
            let error = config(&[bad], false).layer().expect_err(bad).to_string();
            assert!(error.contains("[cors] allowed_origins"), "{bad}: {error}");
        }
    }

    #[test]
    fn no_wildcard_with_credentials() {
        assert!(config(&["*"], false).layer().is_ok());
        let error = config(&["*"], true).layer().expect_err("refused").to_string();
        assert!(error.contains("allow_credentials"), "{error}");
        assert!(config(&["*", "https://a.example"], false).layer().is_err());
        assert!(config(&["https://a.example"], true).layer().is_ok());
    }
}

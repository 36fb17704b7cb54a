//! The national dashboard and GraphiQL, served from files built into the binary.
//!
//! `dashboard/dist/` (the dashboard's committed build output, checked for drift in CI as
//! `schema/` is) is embedded at compile time and served from the gateway's own origin: `/` and
//! every path that is neither a file there nor one of the gateway's own routes get `index.html`,
//! so the app's client-side routes survive a reload. `dashboard/graphiql/dist/` (GraphiQL, React
//! and ReactDOM, vendored from the npm registry) is served under `/graphiql/` for the GraphiQL
//! page at `GET /graphql`. Nothing is loaded from another origin, so both work on a hospital
//! network without internet access.
//!
//! Every answer carries a Content-Security-Policy (only the hub's own origin, plus the identity
//! providers' origins for the dashboard's sign-in requests), `X-Content-Type-Options: nosniff`,
//! `Referrer-Policy: no-referrer` and `X-Frame-Options: DENY`. Files under `/assets/` carry a
//! content hash in their name (Vite's output) and are cached for a year as immutable; everything
//! else is revalidated on each use (`no-cache`) with an ETag (`If-None-Match` → 304).

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::{Embed, EmbeddedFile};
use tower_http::compression::CompressionLayer;

/// The dashboard's build output.
#[derive(Embed)]
#[folder = "../dashboard/dist/"]
struct DashboardFiles;

/// GraphiQL's vendored build (see dashboard/graphiql/package.json).
#[derive(Embed)]
#[folder = "../dashboard/graphiql/dist/"]
struct GraphiqlFiles;

/// Paths of the gateway's own endpoints: never answered with the dashboard's `index.html`.
const GATEWAY_PATHS: [&str; 3] = ["/graphql", "/health", "/graphiql"];

/// How the dashboard is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardOptions {
    /// Serve the dashboard at `/` (`[dashboard] enabled`).
    pub enabled: bool,
    /// Origins the dashboard may connect to besides its own: the identity providers' (for
    /// OpenID Connect discovery, keys and the token endpoint), e.g. `http://127.0.0.1:4005`.
    pub connect_origins: Vec<String>,
    /// The OpenID Connect provider the dashboard signs in with, and its public client id there
    /// (`[dashboard] issuer`, `client_id`): served to the app as `/dashboard-config.json`.
    /// `None`: the dashboard offers no sign-in (public views only).
    pub sign_in: Option<SignIn>,
}

/// Where the dashboard signs in (Authorization Code with PKCE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    /// Issuer URL (its discovery document is `<issuer>/.well-known/openid-configuration`).
    pub issuer: String,
    /// The dashboard's public client id at that provider.
    pub client_id: String,
}

/// The dashboard's client id when the configuration names none.
pub const DEFAULT_CLIENT_ID: &str = "ggzhub-dashboard";

impl Default for DashboardOptions {
    fn default() -> Self {
        Self { enabled: true, connect_origins: Vec::new(), sign_in: None }
    }
}

impl DashboardOptions {
    /// The dashboard's Content-Security-Policy: its own origin only, style attributes allowed
    /// (charts set them), and `connect-src` widened to the identity providers.
    pub fn content_security_policy(&self) -> String {
        let mut connect = String::from("'self'");
        for origin in &self.connect_origins {
            connect.push(' ');
            connect.push_str(origin);
        }
        format!(
            "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; \
             img-src 'self' data: blob:; font-src 'self' data:; connect-src {connect}; object-src 'none'; \
             base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
        )
    }
}

/// The origin (`scheme://host[:port]`) of an `http(s)` URL, for `connect-src`; `None` for
/// anything else (the development issuer's name, for one, is not a URL).
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    let valid = !host.is_empty()
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    valid.then(|| format!("{scheme}://{}", host.to_ascii_lowercase()))
}

/// GraphiQL page's policy: its scripts are the hub's own files, but GraphiQL's editor
/// (CodeMirror) writes `<style>` elements and style attributes, so inline styles are allowed.
pub const GRAPHIQL_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; \
     form-action 'self'; frame-ancestors 'none'";

/// The GraphiQL page (GET /graphql in a browser): every script and style from `/graphiql/`.
pub const GRAPHIQL_HTML: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>ggzhub GraphiQL</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/graphiql/graphiql.min.css">
  <style>body { margin: 0; } #graphiql { height: 100vh; }</style>
</head>
<body>
  <div id="graphiql"></div>
  <script src="/graphiql/react.production.min.js"></script>
  <script src="/graphiql/react-dom.production.min.js"></script>
  <script src="/graphiql/graphiql.min.js"></script>
  <script src="/graphiql/init.js"></script>
</body>
</html>
"#;

/// The GraphiQL page with its headers.
pub fn graphiql_page() -> Response {
    let mut response = axum::response::Html(GRAPHIQL_HTML).into_response();
    security_headers(response.headers_mut(), GRAPHIQL_CSP);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn security_headers(headers: &mut HeaderMap, csp: &str) {
    if let Ok(value) = HeaderValue::from_str(csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

/// The routes of the embedded files: `/graphiql/<file>` (when GraphiQL is served) and, as the
/// fallback for every other path, the dashboard (when enabled). Answers are gzip-compressed for
/// clients that accept it.
pub fn routes<S: Clone + Send + Sync + 'static>(options: &DashboardOptions, graphiql: bool) -> Router<S> {
    let mut router = Router::new();
    if graphiql {
        router = router.route("/graphiql/{*file}", get(graphiql_file));
    }
    if options.enabled {
        let csp = options.content_security_policy();
        let config = runtime_config(options.sign_in.as_ref());
        let config_csp = csp.clone();
        router = router.route(
            "/dashboard-config.json",
            get(move || {
                let (config, csp) = (config.clone(), config_csp.clone());
                async move { config_response(&config, &csp) }
            }),
        );
        router = router.fallback(move |method: Method, uri: Uri, headers: HeaderMap| {
            let csp = csp.clone();
            async move { dashboard(&method, &uri, &headers, &csp) }
        });
    }
    router.layer(CompressionLayer::new().gzip(true).no_br().no_deflate().no_zstd())
}

/// `/dashboard-config.json`: what the app reads at start (see dashboard/src/config.ts), from the
/// gateway's configuration rather than the build, so one build serves every deployment.
fn runtime_config(sign_in: Option<&SignIn>) -> String {
    let mut config = serde_json::json!({ "graphqlPath": "/graphql" });
    if let Some(s) = sign_in {
        config["issuer"] = serde_json::Value::String(s.issuer.clone());
        config["clientId"] = serde_json::Value::String(s.client_id.clone());
    }
    config.to_string()
}

fn config_response(config: &str, csp: &str) -> Response {
    let mut response = Response::new(Body::from(config.to_owned()));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    security_headers(headers, csp);
    response
}

async fn graphiql_file(Path(file): Path<String>, headers: HeaderMap) -> Response {
    match GraphiqlFiles::get(&file) {
        // Versioned by the package lock, not by name: revalidated with the ETag.
        Some(found) => serve(&found, &file, &headers, "no-cache", GRAPHIQL_CSP),
        None => not_found(GRAPHIQL_CSP),
    }
}

fn dashboard(method: &Method, uri: &Uri, headers: &HeaderMap, csp: &str) -> Response {
    if method != Method::GET && method != Method::HEAD {
        let mut response = (StatusCode::METHOD_NOT_ALLOWED, "the dashboard is read with GET").into_response();
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        security_headers(response.headers_mut(), csp);
        return response;
    }
    let path = uri.path();
    let own =
        GATEWAY_PATHS.iter().any(|p| path == *p || path.strip_prefix(p).is_some_and(|rest| rest.starts_with('/')));
    if own {
        return not_found(csp);
    }
    let file = path.trim_start_matches('/');
    if !file.is_empty()
        && let Some(found) = DashboardFiles::get(file)
    {
        let cache = if file.starts_with("assets/") && file != "assets/" {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        return serve(&found, file, headers, cache, csp);
    }
    // A missing file (its last segment has an extension) is a 404; anything else is a route of
    // the app, answered with index.html.
    let last = file.rsplit('/').next().unwrap_or("");
    if last.contains('.') || file.starts_with("assets/") {
        return not_found(csp);
    }
    match DashboardFiles::get("index.html") {
        Some(index) => serve(&index, "index.html", headers, "no-cache", csp),
        None => not_found(csp),
    }
}

fn not_found(csp: &str) -> Response {
    let mut response = (StatusCode::NOT_FOUND, "not found").into_response();
    security_headers(response.headers_mut(), csp);
    response
}

/// One embedded file with its media type, caching, ETag and security headers; 304 when the
/// client's `If-None-Match` names the same ETag.
fn serve(file: &EmbeddedFile, name: &str, request: &HeaderMap, cache: &'static str, csp: &str) -> Response {
    let hash = file.metadata.sha256_hash();
    let etag = format!("\"{}\"", hash[..16].iter().map(|b| format!("{b:02x}")).collect::<String>());
    let matches = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*");
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = Response::new(Body::from(file.data.clone().into_owned()));
        let media = file.metadata.mimetype();
        let media =
            if name.ends_with(".html") || name.ends_with(".js") || name.ends_with(".css") || media.starts_with("text/")
            {
                format!("{media}; charset=utf-8")
            } else {
                media.to_owned()
            };
        if let Ok(value) = HeaderValue::from_str(&media) {
            response.headers_mut().insert(header::CONTENT_TYPE, value);
        }
        response
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    security_headers(headers, csp);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_of_identity_providers() {
        assert_eq!(origin_of("http://127.0.0.1:4005").as_deref(), Some("http://127.0.0.1:4005"));
        assert_eq!(origin_of("https://SSO.example.nl/realms/ggz").as_deref(), Some("https://sso.example.nl"));
        assert_eq!(origin_of("https://user@sso.example.nl:8443/x?y").as_deref(), Some("https://sso.example.nl:8443"));
        assert_eq!(origin_of("ggzhub-dev-issuer"), None);
        assert_eq!(origin_of("javascript://x"), None);
        assert_eq!(origin_of("https://a b/"), None);
        assert_eq!(origin_of("https:///x"), None);
    }

    #[test]
    fn the_policy_names_the_providers_in_connect_src_only() {
        let options = DashboardOptions { connect_origins: vec!["http://127.0.0.1:4005".into()], ..Default::default() };
        let csp = options.content_security_policy();
        assert!(csp.contains("connect-src 'self' http://127.0.0.1:4005;"), "{csp}");
        assert!(csp.contains("script-src 'self';"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(csp.matches("127.0.0.1").count(), 1);
    }

    #[test]
    fn the_manifest_and_graphiql_are_built_in() {
        assert!(
            serde_json::from_str::<serde_json::Value>(crate::admission::public::DASHBOARD_OPERATIONS)
                .is_ok_and(|v| v.is_object())
        );
        for file in
            ["graphiql.min.js", "graphiql.min.css", "react.production.min.js", "react-dom.production.min.js", "init.js"]
        {
            assert!(GraphiqlFiles::get(file).is_some(), "{file}");
        }
        assert!(DashboardFiles::get("index.html").is_some());
    }
}

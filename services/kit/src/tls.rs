//! Outbound HTTPS for every ggzhub HTTP client (gateway → identity providers and subgraphs,
//! subgraph → subgraph, OTLP export): rustls on aws-lc-rs, verifying servers against the OS trust
//! store plus, where configured, the CA certificates of a private PKI.
//!
//! The OS trust store is read when a client is built, from the usual places (`/etc/ssl/certs`,
//! …) or, when set, only from `SSL_CERT_FILE` / `SSL_CERT_DIR`; nothing is downloaded. A machine
//! without any CA certificate still gets a client: plain `http://` works and every `https://`
//! server is refused (logged once per client).

use std::path::Path;

use anyhow::Context as _;

/// CA certificates (PEM) trusted next to the OS trust store, e.g. a hospital's own CA.
#[derive(Clone, Default)]
pub struct ExtraCa {
    certs: Vec<reqwest::Certificate>,
    source: Option<String>,
}

impl std::fmt::Debug for ExtraCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExtraCa").field("source", &self.source).field("certificates", &self.certs.len()).finish()
    }
}

impl ExtraCa {
    /// The CA certificates in a PEM file; `None`: no extra CA.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        match path {
            None => Ok(Self::default()),
            Some(path) => {
                let shown = path.display().to_string();
                let pem = std::fs::read(path).with_context(|| format!("reading the CA file {shown}"))?;
                Self::from_pem(&pem, &shown)
            }
        }
    }

    /// The CA certificates in `pem` (one or more `CERTIFICATE` blocks); `source` names it in errors.
    pub fn from_pem(pem: &[u8], source: &str) -> anyhow::Result<Self> {
        let certs = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| anyhow::anyhow!("the CA file {source} is not PEM: {}", error_chain(&e)))?;
        anyhow::ensure!(!certs.is_empty(), "the CA file {source} holds no PEM CERTIFICATE");
        // Parses every certificate now, so that a broken file stops the start, not a request.
        reqwest::Client::builder()
            .tls_certs_only(certs.clone())
            .build()
            .map_err(|e| anyhow::anyhow!("the CA file {source} holds an unusable certificate: {}", error_chain(&e)))?;
        Ok(Self { certs, source: Some(source.to_owned()) })
    }

    /// Whether no extra CA is configured.
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    /// An async client set up by `configure` that trusts the OS store and these CAs.
    pub fn client(
        &self,
        configure: impl Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
    ) -> anyhow::Result<reqwest::Client> {
        match configure(reqwest::Client::builder()).tls_certs_merge(self.certs.clone()).build() {
            Ok(client) => Ok(client),
            Err(error) if self.certs.is_empty() => {
                no_system_roots(&error);
                configure(reqwest::Client::builder())
                    .tls_certs_only([])
                    .build()
                    .map_err(|e| anyhow::anyhow!("building an HTTP client: {}", error_chain(&e)))
            }
            Err(error) => Err(self.build_error(&error)),
        }
    }

    /// A blocking client (the OTLP exporter's) set up by `configure`, trusting the OS store and
    /// these CAs. Must not be called on a Tokio runtime thread.
    pub fn blocking_client(
        &self,
        configure: impl Fn(reqwest::blocking::ClientBuilder) -> reqwest::blocking::ClientBuilder,
    ) -> anyhow::Result<reqwest::blocking::Client> {
        match configure(reqwest::blocking::Client::builder()).tls_certs_merge(self.certs.clone()).build() {
            Ok(client) => Ok(client),
            Err(error) if self.certs.is_empty() => {
                no_system_roots(&error);
                configure(reqwest::blocking::Client::builder())
                    .tls_certs_only([])
                    .build()
                    .map_err(|e| anyhow::anyhow!("building an HTTP client: {}", error_chain(&e)))
            }
            Err(error) => Err(self.build_error(&error)),
        }
    }

    fn build_error(&self, error: &reqwest::Error) -> anyhow::Error {
        let source = self.source.as_deref().unwrap_or("the given CA certificates");
        anyhow::anyhow!("building an HTTPS client trusting {source}: {}", error_chain(error))
    }
}

fn no_system_roots(error: &reqwest::Error) {
    tracing::warn!(
        error = %error_chain(error),
        "no CA certificates in the OS trust store: https:// servers will be refused \
         (install the OS CA bundle, set SSL_CERT_FILE, or configure a CA file)"
    );
}

/// An error with its causes, `outer: inner: innermost` (reqwest's own message leaves out why a
/// connection failed, e.g. an untrusted certificate).
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let part = inner.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = inner.source();
    }
    text
}

/// A throw-away PKI for tests: a CA and a server certificate for `127.0.0.1` and `localhost`,
/// and an HTTPS server with it.
#[cfg(any(test, feature = "testing"))]
pub mod testing {
    use std::path::PathBuf;
    use std::sync::Arc;

    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, KeyUsagePurpose};
    use tokio_rustls::rustls;

    /// A test CA and a server certificate it signed.
    pub struct TestPki {
        /// The CA certificate, PEM.
        pub ca_pem: String,
        /// The CA certificate written to a temporary file (removed on drop).
        pub ca_file: PathBuf,
        server: Arc<rustls::ServerConfig>,
    }

    impl Drop for TestPki {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.ca_file);
        }
    }

    impl TestPki {
        /// Generates the CA and the server certificate.
        pub fn new() -> Self {
            let ca_key = KeyPair::generate().expect("CA key");
            let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
            ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
            ca.distinguished_name.push(rcgen::DnType::CommonName, "ggzhub test CA");
            let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
            let issuer = rcgen::Issuer::new(ca, ca_key);
            let server_key = KeyPair::generate().expect("server key");
            let server = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
                .expect("server params")
                .signed_by(&server_key, &issuer)
                .expect("server certificate");
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let config = rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("TLS versions")
                .with_no_client_auth()
                .with_single_cert(
                    vec![server.der().clone()],
                    rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
                )
                .expect("server TLS config");
            let ca_pem = ca_cert.pem();
            let ca_file = std::env::temp_dir().join(format!("ggzhub-test-ca-{}.pem", uuid::Uuid::new_v4().simple()));
            std::fs::write(&ca_file, &ca_pem).expect("write the CA file");
            Self { ca_pem, ca_file, server: Arc::new(config) }
        }

        /// The CA as an [`ExtraCa`](super::ExtraCa).
        pub fn extra_ca(&self) -> super::ExtraCa {
            super::ExtraCa::from_pem(self.ca_pem.as_bytes(), "the test CA").expect("the test CA loads")
        }

        /// Serves `app` over HTTPS on a random port of 127.0.0.1; returns `https://127.0.0.1:<port>`.
        pub async fn serve(&self, app: axum::Router) -> String {
            let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let base = format!("https://{}", tcp.local_addr().expect("addr"));
            let listener = TlsListener { tcp, acceptor: tokio_rustls::TlsAcceptor::from(self.server.clone()) };
            tokio::spawn(async move { axum::serve(listener, app).await });
            base
        }
    }

    impl Default for TestPki {
        fn default() -> Self {
            Self::new()
        }
    }

    /// Accepts TCP connections and completes their TLS handshake; failed handshakes (a client
    /// that does not trust the certificate) are skipped.
    struct TlsListener {
        tcp: tokio::net::TcpListener,
        acceptor: tokio_rustls::TlsAcceptor,
    }

    impl axum::serve::Listener for TlsListener {
        type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
        type Addr = std::net::SocketAddr;

        async fn accept(&mut self) -> (Self::Io, Self::Addr) {
            loop {
                let Ok((stream, addr)) = self.tcp.accept().await else { continue };
                if let Ok(Ok(tls)) =
                    tokio::time::timeout(std::time::Duration::from_secs(10), self.acceptor.accept(stream)).await
                {
                    return (tls, addr);
                }
            }
        }

        fn local_addr(&self) -> std::io::Result<Self::Addr> {
            self.tcp.local_addr()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_must_hold_usable_certificates() {
        let none = ExtraCa::from_pem(b"just text", "ca.pem").unwrap_err();
        assert!(none.to_string().contains("holds no PEM CERTIFICATE"), "{none}");
        let broken = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let broken = ExtraCa::from_pem(broken, "ca.pem").unwrap_err();
        assert!(broken.to_string().contains("ca.pem"), "{broken}");
        let missing = ExtraCa::load(Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(missing.to_string().contains("/nonexistent/ca.pem"), "{missing}");
        assert!(ExtraCa::load(None).expect("no file, no CA").is_empty());
        let pki = testing::TestPki::new();
        let loaded = ExtraCa::load(Some(&pki.ca_file)).expect("a CA certificate loads");
        assert!(!loaded.is_empty());
    }

    async fn get(client: &reqwest::Client, url: &str) -> Result<String, String> {
        match client.get(url).send().await {
            Ok(response) => response.text().await.map_err(|e| error_chain(&e)),
            Err(e) => Err(error_chain(&e)),
        }
    }

    #[tokio::test]
    async fn https_servers_are_trusted_only_through_the_os_store_or_the_extra_ca() {
        let pki = testing::TestPki::new();
        let base = pki.serve(axum::Router::new().route("/", axum::routing::get(|| async { "hello" }))).await;
        let trusting = pki.extra_ca().client(|b| b).expect("client");
        assert_eq!(get(&trusting, &base).await.as_deref(), Ok("hello"));
        // The test CA is in no OS store: without it the certificate is refused, and the error says why.
        let plain = ExtraCa::default().client(|b| b).expect("client");
        let refused = get(&plain, &base).await.expect_err("an unknown CA is refused");
        assert!(refused.contains("certificate"), "{refused}");
    }
}

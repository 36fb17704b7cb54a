//! gateway.toml documents every option with its default; the environment overrides it.

use std::path::PathBuf;

use ggzhub_gateway::config::GatewayConfig;

fn repo_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../gateway.toml")
}

#[test]
fn checked_in_gateway_toml_holds_exactly_the_defaults() {
    let from_file = GatewayConfig::load(Some(&repo_file())).expect("gateway.toml loads");
    assert_eq!(from_file, GatewayConfig::default());
}

#[test]
fn unknown_options_and_missing_files_are_refused() {
    let dir = std::env::temp_dir().join(format!("ggzhub-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("gateway.toml");
    std::fs::write(&file, "[server]\nlisten = \"127.0.0.1:4100\"\nlisen = 1\n").expect("write");
    let error = GatewayConfig::load(Some(&file)).expect_err("a misspelt option is refused").to_string();
    assert!(error.contains("lisen"), "{error}");
    std::fs::write(&file, "[server]\nlisten = \"not an address\"\n").expect("write");
    assert!(GatewayConfig::load(Some(&file)).is_err());
    assert!(GatewayConfig::load(Some(&dir.join("absent.toml"))).is_err());
    std::fs::write(&file, "[server]\nlisten = \"127.0.0.1:4100\"\n[subgraphs.urls]\nregion = \"http://r:1/graphql\"\n")
        .expect("write");
    let config = GatewayConfig::load(Some(&file)).expect("loads");
    assert_eq!(config.server.listen.port(), 4100);
    assert_eq!(config.subgraphs.urls["region"], "http://r:1/graphql");
    assert_eq!(config.subgraphs.timeout_secs, 30, "unset options keep their default");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_documented_issuer_example_parses() {
    // The commented [[auth.issuers]] example in gateway.toml, uncommented, is valid configuration.
    let text = std::fs::read_to_string(repo_file()).expect("gateway.toml");
    let start = text.find("# [[auth.issuers]]").expect("the example is documented");
    let example: String = text[start..]
        .lines()
        .take_while(|l| l.starts_with('#'))
        .filter(|l| !l.starts_with("# #"))
        .map(|l| format!("{}\n", l.trim_start_matches('#').trim_start()))
        .collect();
    let dir = std::env::temp_dir().join(format!("ggzhub-config-issuers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("gateway.toml");
    std::fs::write(&file, &example).expect("write");
    let config = GatewayConfig::load(Some(&file)).unwrap_or_else(|e| panic!("{e}\n{example}"));
    let issuer = &config.auth.issuers[0];
    assert_eq!(issuer.issuer, "https://sso.example.nl/realms/ggz");
    assert_eq!(issuer.organisation_claim, "ura");
    assert_eq!(issuer.identifier_scheme.as_deref(), Some("URA"));
    assert_eq!(issuer.identifier_scheme_claim, None);
    assert_eq!(issuer.subject_claim, "sub");
    issuer.check_claims().expect("the example's claim settings are valid");
    assert_eq!(issuer.ca_file.as_deref(), Some(std::path::Path::new("/etc/ggzhub/sso-ca.pem")));
    // The dashboard may sign in with it: its origin (issuer and JWKS URL share one) is in
    // connect-src, once.
    let dashboard = config.dashboard_options();
    assert!(dashboard.enabled);
    assert_eq!(dashboard.connect_origins, vec!["https://sso.example.nl".to_owned()]);
    // With no [dashboard] issuer, the dashboard signs in with the first provider.
    let sign_in = dashboard.sign_in.expect("sign-in offered");
    assert_eq!(
        (sign_in.issuer.as_str(), sign_in.client_id.as_str()),
        ("https://sso.example.nl/realms/ggz", "ggzhub-dashboard")
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn dashboard_and_public_access_options() {
    let dir = std::env::temp_dir().join(format!("ggzhub-config-public-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("gateway.toml");
    let operations = dir.join("operations.json");
    let text = "query PublicRegions { regions { code } }";
    std::fs::write(
        &operations,
        serde_json::json!({ ggzhub_gateway::admission::trusted::sha256_hex(text): text }).to_string(),
    )
    .expect("write");
    std::fs::write(
        &file,
        format!(
            "[dashboard]\nenabled = false\n[auth]\npublic_anonymous = true\n[public]\noperations = {:?}\nburst = 5\ntrusted_proxies = [\"10.0.0.0/8\", \"192.0.2.1\"]\n",
            operations.display().to_string()
        ),
    )
    .expect("write");
    let config = GatewayConfig::load(Some(&file)).expect("loads");
    assert!(!config.dashboard_options().enabled);
    assert_eq!(config.dashboard_options().sign_in, None, "no provider, no sign-in");
    assert!(config.auth.public_anonymous);
    assert_eq!(config.public.burst, 5);
    assert_eq!(config.public.per_address_per_second, 10, "unset options keep their default");
    let access = config.public.load().expect("the manifest and proxies load");
    assert_eq!(access.operations.manifest().len(), 1);
    let peer: std::net::SocketAddr = "10.1.2.3:5000".parse().expect("addr");
    let mut headers = axum::http::HeaderMap::new();
    headers.insert("x-forwarded-for", "203.0.113.5".parse().expect("header"));
    assert_eq!(access.client_address(Some(peer), &headers), Some("203.0.113.5".parse().expect("ip")));

    std::fs::write(
        &operations,
        serde_json::json!({ ggzhub_gateway::admission::trusted::sha256_hex("{ x }"): text }).to_string(),
    )
    .expect("write");
    let error = format!("{:#}", config.public.load().expect_err("a hash that is not its text's is refused"));
    assert!(error.contains("SHA-256"), "{error}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn admission_options_are_read_and_checked() {
    let dir = std::env::temp_dir().join(format!("ggzhub-config-admission-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("gateway.toml");
    std::fs::write(&file, "[admission]\nmax_in_flight = 8\noverload_wait_ms = 2\n").expect("write");
    let config = GatewayConfig::load(Some(&file)).expect("loads");
    let options = config.admission.options().expect("valid");
    assert_eq!(options.max_in_flight, 8);
    assert_eq!(options.overload_wait, std::time::Duration::from_millis(2));
    let defaults = ggzhub_gateway::admission::capacity::AdmissionOptions::default();
    assert_eq!(options.max_queued, defaults.max_queued, "unset options keep their default");
    assert_eq!(options.max_wait, defaults.max_wait);
    assert_eq!(GatewayConfig::default().admission.options().expect("valid"), defaults);

    std::fs::write(&file, "[admission]\norg_share_percent = 150\n").expect("write");
    let config = GatewayConfig::load(Some(&file)).expect("loads");
    let error = config.admission.options().expect_err("over 100 %").to_string();
    assert!(error.contains("org_share_percent"), "{error}");
    std::fs::write(&file, "[admission]\nmax_inflight = 8\n").expect("write");
    assert!(GatewayConfig::load(Some(&file)).is_err(), "a misspelt option is refused");
    let _ = std::fs::remove_dir_all(dir);
}

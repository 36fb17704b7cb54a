//! What `DevIdp::new` refuses.

use ggzhub_dev_idp::{Client, ConfigError, DevIdp, OrganisationRef, Settings, demo_clients};
use ggzhub_kit::SigningKey;

use crate::support::accounts;

fn build(issuer: &str, clients: Vec<Client>) -> Result<DevIdp, ConfigError> {
    DevIdp::new(Settings::new(issuer), &SigningKey::generate(), accounts(), clients)
}

#[test]
fn refuses_inconsistent_clients_and_issuers() {
    let origins = vec!["http://127.0.0.1:4000".to_owned()];
    assert!(build("http://127.0.0.1:4005", demo_clients(&accounts(), &origins)).is_ok());
    assert!(matches!(build("http://127.0.0.1:4005/", vec![]), Err(ConfigError::Issuer(_))));
    assert!(matches!(build("127.0.0.1:4005", vec![]), Err(ConfigError::Issuer(_))));

    let twice = vec![Client::dashboard(&origins), Client::dashboard(&origins)];
    assert!(matches!(build("http://127.0.0.1:4005", twice), Err(ConfigError::DuplicateClient(_))));

    let mut stranger = Client::machine_for(&accounts()[0]);
    stranger.organisation = Some(OrganisationRef { scheme: "URA".into(), identifier: "00000000".into() });
    assert!(matches!(build("http://127.0.0.1:4005", vec![stranger]), Err(ConfigError::UnknownOrganisation { .. })));

    let mut public_for_org = Client::machine_for(&accounts()[0]);
    public_for_org.secret = None;
    assert!(matches!(build("http://127.0.0.1:4005", vec![public_for_org]), Err(ConfigError::Secret(_))));

    let mut fragment = Client::dashboard(&origins);
    fragment.redirect_uris.push("http://127.0.0.1:4000/cb#x".into());
    assert!(matches!(build("http://127.0.0.1:4005", vec![fragment]), Err(ConfigError::RedirectUri { .. })));

    let bad_origin = Client::dashboard(&["http://127.0.0.1:4000/app".to_owned()]);
    assert!(matches!(build("http://127.0.0.1:4005", vec![bad_origin]), Err(ConfigError::Origin { .. })));

    let mut doubled = accounts();
    doubled[1].persons[0].subject = doubled[0].persons[0].subject.clone();
    let result = DevIdp::new(Settings::new("http://127.0.0.1:4005"), &SigningKey::generate(), doubled, vec![]);
    assert!(matches!(result, Err(ConfigError::DuplicateSubject(_))));
}

#[test]
fn demo_clients_are_the_dashboard_and_one_secret_client_per_account() {
    let clients = demo_clients(&accounts(), &["http://127.0.0.1:4000".to_owned(), "http://localhost:4000".to_owned()]);
    assert_eq!(clients[0].id, "ggzhub-dashboard");
    assert_eq!(
        clients[0].redirect_uris,
        vec!["http://127.0.0.1:4000/auth/callback".to_owned(), "http://localhost:4000/auth/callback".to_owned()]
    );
    assert!(clients[0].secret.is_none());
    let ids: Vec<&str> = clients[1..].iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["demo-90000001", "demo-9001"]);
    assert!(clients[1..].iter().all(|c| c.secret.as_ref().is_some_and(|s| s.len() >= 43)));
    assert!(!format!("{:?}", clients[1]).contains(clients[1].secret.as_deref().unwrap_or("?")), "Debug hides secrets");
}

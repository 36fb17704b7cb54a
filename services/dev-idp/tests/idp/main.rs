//! The development identity provider over real HTTP on a random port: discovery, the
//! Authorization Code flow with PKCE as a browser and the dashboard drive it, client credentials,
//! and every refusal a production provider makes.

mod browser;
mod client_credentials;
mod code_flow;
mod configuration;
mod refusals;
mod support;

//! In-memory state of authorization requests waiting for the person's choice, and of issued
//! authorization codes. Both expire; codes are taken out on their first use.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// At most this many requests or codes are kept; beyond it new ones are refused (a page left
/// open in many tabs is fine, a loop is not).
const MAX_ENTRIES: usize = 10_000;

/// An authorization request that was checked and waits for the person to pick an account.
#[derive(Debug, Clone)]
pub(crate) struct PendingRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: String,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub scopes: Vec<String>,
    /// The CSRF token the consent form (and its cookie) must carry.
    pub csrf: String,
    pub expires_at: i64,
}

/// What an authorization code stands for.
#[derive(Debug, Clone)]
pub(crate) struct CodeGrant {
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub nonce: Option<String>,
    pub scopes: Vec<String>,
    pub account: usize,
    pub person: usize,
    pub auth_time: i64,
    pub expires_at: i64,
}

/// The store is full.
#[derive(Debug)]
pub(crate) struct Full;

#[derive(Debug, Default)]
pub(crate) struct Store {
    requests: Mutex<HashMap<String, PendingRequest>>,
    codes: Mutex<HashMap<String, CodeGrant>>,
}

impl Store {
    pub fn insert_request(&self, id: String, request: PendingRequest, now: i64) -> Result<(), Full> {
        let mut map = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        insert_bounded(&mut map, id, request, now, |r| r.expires_at)
    }

    /// The pending request `id` if it has not expired (it stays pending).
    pub fn request(&self, id: &str, now: i64) -> Option<PendingRequest> {
        let map = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(id).filter(|r| r.expires_at > now).cloned()
    }

    /// Ends the pending request `id` (answered or cancelled).
    pub fn remove_request(&self, id: &str) -> Option<PendingRequest> {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner).remove(id)
    }

    pub fn insert_code(&self, code: String, grant: CodeGrant, now: i64) -> Result<(), Full> {
        let mut map = self.codes.lock().unwrap_or_else(PoisonError::into_inner);
        insert_bounded(&mut map, code, grant, now, |g| g.expires_at)
    }

    /// Takes the code out whatever happens next, so it can be presented once only; an expired
    /// code is gone too.
    pub fn take_code(&self, code: &str, now: i64) -> Option<CodeGrant> {
        let grant = self.codes.lock().unwrap_or_else(PoisonError::into_inner).remove(code)?;
        (grant.expires_at > now).then_some(grant)
    }
}

fn insert_bounded<V>(
    map: &mut HashMap<String, V>,
    key: String,
    value: V,
    now: i64,
    expires_at: impl Fn(&V) -> i64,
) -> Result<(), Full> {
    if map.len() >= MAX_ENTRIES / 2 {
        map.retain(|_, v| expires_at(v) > now);
    }
    if map.len() >= MAX_ENTRIES {
        return Err(Full);
    }
    map.insert(key, value);
    Ok(())
}

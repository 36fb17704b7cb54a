//! Cursor pagination (`first`/`after`) shared by every list that can grow.

use crate::error::{ApiError, ApiResult};
use async_graphql::OutputType;
use async_graphql::connection::{Connection, Edge};
use base64::Engine as _;

/// Default page size.
pub const DEFAULT_PAGE: u32 = 20;
/// Largest page a caller may ask for.
pub const MAX_PAGE: u32 = 100;

/// Validated paging arguments.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Page {
    /// Rows wanted.
    pub first: u32,
    /// Keyset position: return rows whose key sorts after this one.
    pub after: Option<String>,
}

impl Page {
    /// Validates `first` (1..=100, default 20) and decodes `after`.
    pub fn new(first: Option<i32>, after: Option<String>) -> ApiResult<Self> {
        let first = match first {
            None => DEFAULT_PAGE,
            Some(n) if (1..=MAX_PAGE as i32).contains(&n) => n as u32,
            Some(n) => return Err(ApiError::bad_input(format!("first must be between 1 and {MAX_PAGE}, got {n}"))),
        };
        let after = after.map(|c| decode_cursor(&c)).transpose()?;
        Ok(Self { first, after })
    }

    /// Rows to fetch: one more than wanted, to know whether there is a next page.
    pub fn limit(&self) -> u64 {
        u64::from(self.first) + 1
    }
}

/// Encodes a keyset value as an opaque cursor.
pub fn encode_cursor(key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

fn decode_cursor(cursor: &str) -> ApiResult<String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|s| !s.is_empty() && s.len() <= 200)
        .ok_or_else(|| ApiError::bad_input("after is not a valid cursor"))
}

/// Builds a connection from `rows` fetched with [`Page::limit`], cursors from `key`.
pub fn connection<M, T: OutputType>(
    page: &Page,
    mut rows: Vec<M>,
    key: impl Fn(&M) -> String,
    node: impl Fn(M) -> T,
) -> Connection<String, T> {
    let has_next = rows.len() > page.first as usize;
    rows.truncate(page.first as usize);
    let mut conn = Connection::new(page.after.is_some(), has_next);
    conn.edges.extend(rows.into_iter().map(|m| Edge::new(encode_cursor(&key(&m)), node(m))));
    conn
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_first_and_cursor() {
        assert_eq!(Page::new(None, None).map(|p| p.first).ok(), Some(DEFAULT_PAGE));
        assert!(Page::new(Some(0), None).is_err());
        assert!(Page::new(Some(101), None).is_err());
        assert!(Page::new(Some(5), Some("!!".into())).is_err());
        let p = Page::new(Some(5), Some(encode_cursor("abc"))).expect("valid");
        assert_eq!(p.after.as_deref(), Some("abc"));
    }
}

//! `Caller`: who is asking, as the gateway vouched for it in the internal token, plus the axum
//! extractor that refuses requests without a valid token for this subgraph.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, ErrorCode, graphql_error_body};
use crate::token::{InternalClaims, OrgKind, TokenError, TokenVerifier, scopes};

/// The organisation (and the subject acting for it) behind a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    /// Organisation id.
    pub org: Uuid,
    /// Organisation kind.
    pub kind: OrgKind,
    /// Person or system acting for the organisation.
    pub subject: String,
    /// Regional tables the organisation sits at.
    pub regions: BTreeSet<String>,
    /// Roles, e.g. `chair:utrecht`.
    pub roles: BTreeSet<String>,
    /// Granted scopes.
    pub scopes: BTreeSet<String>,
}

impl From<InternalClaims> for Caller {
    fn from(c: InternalClaims) -> Self {
        Self {
            org: c.org,
            kind: c.org_kind,
            subject: c.sub,
            regions: c.regions.into_iter().collect(),
            roles: c.roles.into_iter().collect(),
            scopes: c.scope.split_whitespace().map(str::to_owned).collect(),
        }
    }
}

impl Caller {
    /// Whether the token grants `scope` (`admin` does not imply others).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }

    /// `FORBIDDEN` unless the token grants `scope`.
    pub fn require_scope(&self, scope: &str) -> ApiResult<()> {
        if self.has_scope(scope) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("this operation needs the scope {scope}")))
        }
    }

    /// `FORBIDDEN` unless the caller may read the shared picture.
    pub fn require_read(&self) -> ApiResult<()> {
        self.require_scope(scopes::PICTURE_READ)
    }

    /// Whether the caller's organisation sits at the table of `region`.
    pub fn is_participant(&self, region: &str) -> bool {
        self.regions.contains(region)
    }

    /// Whether the caller chairs the table of `region` (role `chair:<region>`).
    pub fn is_chair(&self, region: &str) -> bool {
        self.roles.contains(&format!("chair:{region}"))
    }

    /// Whether the caller acts for organisation `org`.
    pub fn is_org(&self, org: Uuid) -> bool {
        self.org == org
    }

    /// `FORBIDDEN` unless the caller is of one of `kinds`.
    pub fn require_kind(&self, kinds: &[OrgKind], what: &str) -> ApiResult<()> {
        if kinds.contains(&self.kind) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("{} organisations may not {what}", self.kind.as_str().to_lowercase())))
        }
    }
}

/// Request rejected for lack of a valid internal token: HTTP 401 with a GraphQL error.
#[derive(Debug)]
pub struct AuthRejection(pub TokenError);

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        tracing::info!(reason = %self.0, "refused request without valid internal token");
        let body = graphql_error_body(&self.0.to_string(), ErrorCode::Unauthenticated);
        let mut resp = (ErrorCode::Unauthenticated.http_status(), axum::Json(body)).into_response();
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        resp
    }
}

impl<S> FromRequestParts<S> for Caller
where
    Arc<TokenVerifier>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let verifier = Arc::<TokenVerifier>::from_ref(state);
        let token = bearer_token(&parts.headers).ok_or(AuthRejection(TokenError::Missing))?;
        let claims = verifier.verify(token).map_err(AuthRejection)?;
        let caller = Caller::from(claims);
        tracing::Span::current().record("org", tracing::field::display(caller.org));
        Ok(caller)
    }
}

fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bearer_case_insensitively_and_refuses_other_schemes() {
        let mut h = axum::http::HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("bearer abc"));
        assert_eq!(bearer_token(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer_token(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer_token(&h), None);
    }
}

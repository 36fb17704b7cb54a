//! Cursor pagination (`first`/`after`) shared by every list that can grow.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::error::{ApiError, ApiResult, GqlResultExt as _};
use async_graphql::{Object, OutputType, SimpleObject, TypeName};
use base64::Engine as _;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait as _, Select};

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

/// A count that [`TotalCount`] runs when asked.
pub type CountFuture = Pin<Box<dyn Future<Output = ApiResult<u64>> + Send>>;

/// How to count every row of a list (all pages, the same filters, access filters included),
/// run only when a caller selects `totalCount`: lists that do not ask pay nothing.
#[derive(Clone)]
pub struct TotalCount(Arc<dyn Fn() -> CountFuture + Send + Sync>);

impl TotalCount {
    /// A count computed by `count` (a `COUNT(*)` statement, or a batched loader of counts).
    pub fn new(count: impl Fn() -> CountFuture + Send + Sync + 'static) -> Self {
        Self(Arc::new(count))
    }

    /// `SELECT COUNT(*)` over `select`: build it from the same query as the page, before the
    /// cursor condition and the limit are added.
    pub fn of<E>(db: &DatabaseConnection, select: Select<E>) -> Self
    where
        E: EntityTrait + Sync,
        E::Model: Sync,
        Select<E>: Clone + Send + Sync,
    {
        let db = db.clone();
        Self::new(move || {
            let (db, select) = (db.clone(), select.clone());
            Box::pin(async move { Ok(select.count(&db).await?) })
        })
    }

    /// A count known without asking the database.
    pub fn known(n: u64) -> Self {
        Self::new(move || Box::pin(async move { Ok(n) }))
    }

    /// Runs the count.
    pub async fn get(&self) -> ApiResult<u64> {
        (self.0)().await
    }
}

impl std::fmt::Debug for TotalCount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotalCount")
    }
}

/// Condition "the JSON list in `column` holds the string `code`", in SQL so that a page and its
/// [`TotalCount`] filter alike (SQLite and PostgreSQL). Only for codes without quotes, `%` or `_`
/// (region codes are lowercase kebab-case), which this checks: anything else matches nothing.
pub fn json_list_contains(column: &str, code: &str) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait as _, Func};
    if code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        Expr::expr(Func::cast_as(Expr::col(Alias::new(column)), Alias::new("TEXT"))).like(format!("%\"{code}\"%"))
    } else {
        Expr::cust("1 = 0")
    }
}

/// Builds a connection from `rows` fetched with [`Page::limit`], cursors from `key`; `total`
/// counts the whole list when `totalCount` is selected.
pub fn connection<M, T: OutputType, const PUBLIC: bool>(
    page: &Page,
    mut rows: Vec<M>,
    total: TotalCount,
    key: impl Fn(&M) -> String,
    node: impl Fn(M) -> T,
) -> Connection<T, PUBLIC> {
    let has_next = rows.len() > page.first as usize;
    rows.truncate(page.first as usize);
    Connection {
        has_previous_page: page.after.is_some(),
        has_next_page: has_next,
        edges: rows.into_iter().map(|m| Edge { cursor: encode_cursor(&key(&m)), node: node(m) }).collect(),
        total,
    }
}

// Relay connections: `XConnection { pageInfo edges nodes }`, `XEdge { node cursor }` and
// `PageInfo`, shaped and described as async-graphql's own `connection` types, which cannot carry
// a federation `@tag`. The public contract schema (the gateway's, for patient organisations and
// anonymous callers) keeps a list field only if its connection, edge and page-info types have
// public fields, so a list in the public picture returns a [`PublicConnection`], tagged
// `@tag(name: "public")` as a whole: a connection holds no data of its own, what its nodes show
// is up to the node type's tags. Every other list returns a plain [`Connection`]. One node type
// has one connection type: using both for the same node panics when the schema is built.

/// Information about pagination in a connection
#[derive(SimpleObject)]
#[graphql(shareable, tag = "public")]
pub struct PageInfo {
    /// When paginating backwards, are there more items?
    pub has_previous_page: bool,
    /// When paginating forwards, are there more items?
    pub has_next_page: bool,
    /// When paginating backwards, the cursor to continue.
    pub start_cursor: Option<String>,
    /// When paginating forwards, the cursor to continue.
    pub end_cursor: Option<String>,
}

/// One page of a list (GraphQL type `<Node>Connection`); `PUBLIC` tags it for the public
/// contract schema (see [`PublicConnection`]).
pub struct Connection<T, const PUBLIC: bool = false> {
    /// Whether there are rows before this page.
    pub has_previous_page: bool,
    /// Whether there are rows after this page.
    pub has_next_page: bool,
    /// The rows of this page.
    pub edges: Vec<Edge<T, PUBLIC>>,
    /// Counts every row of the list, on demand.
    pub total: TotalCount,
}

/// A page of a list that is part of the public picture: the connection and edge types are
/// tagged `@tag(name: "public")`.
pub type PublicConnection<T> = Connection<T, true>;

/// One row of a page with its cursor (GraphQL type `<Node>Edge`).
pub struct Edge<T, const PUBLIC: bool = false> {
    /// Opaque cursor of the row.
    pub cursor: String,
    /// The row.
    pub node: T,
}

impl<T, const PUBLIC: bool> Connection<T, PUBLIC> {
    fn info(&self) -> PageInfo {
        PageInfo {
            has_previous_page: self.has_previous_page,
            has_next_page: self.has_next_page,
            start_cursor: self.edges.first().map(|e| e.cursor.clone()),
            end_cursor: self.edges.last().map(|e| e.cursor.clone()),
        }
    }

    async fn count(&self) -> async_graphql::Result<i64> {
        let n = self.total.get().await.gql()?;
        Ok(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl<T: OutputType, const PUBLIC: bool> TypeName for Connection<T, PUBLIC> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Connection", T::type_name()).into()
    }
}

impl<T: OutputType, const PUBLIC: bool> TypeName for Edge<T, PUBLIC> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Edge", T::type_name()).into()
    }
}

#[Object(name_type, shareable)]
impl<T: OutputType> Connection<T, false> {
    /// Information to aid in pagination.
    async fn page_info(&self) -> PageInfo {
        self.info()
    }
    /// A list of edges.
    async fn edges(&self) -> &[Edge<T, false>] {
        &self.edges
    }
    /// A list of nodes.
    async fn nodes(&self) -> Vec<&T> {
        self.edges.iter().map(|e| &e.node).collect()
    }
    /// Number of items in the whole list (every page), under the same filters and the same
    /// access rules as the items; counted in the database only when asked for.
    async fn total_count(&self) -> async_graphql::Result<i64> {
        self.count().await
    }
}

#[Object(name_type, shareable, tag = "public")]
impl<T: OutputType> Connection<T, true> {
    /// Information to aid in pagination.
    async fn page_info(&self) -> PageInfo {
        self.info()
    }
    /// A list of edges.
    async fn edges(&self) -> &[Edge<T, true>] {
        &self.edges
    }
    /// A list of nodes.
    async fn nodes(&self) -> Vec<&T> {
        self.edges.iter().map(|e| &e.node).collect()
    }
    /// Number of items in the whole list (every page), under the same filters and the same
    /// access rules as the items; counted in the database only when asked for.
    async fn total_count(&self) -> async_graphql::Result<i64> {
        self.count().await
    }
}

/// An edge in a connection.
#[Object(name_type, shareable)]
impl<T: OutputType> Edge<T, false> {
    /// The item at the end of the edge
    async fn node(&self) -> &T {
        &self.node
    }
    /// A cursor for use in pagination
    async fn cursor(&self) -> &str {
        &self.cursor
    }
}

/// An edge in a connection.
#[Object(name_type, shareable, tag = "public")]
impl<T: OutputType> Edge<T, true> {
    /// The item at the end of the edge
    async fn node(&self) -> &T {
        &self.node
    }
    /// A cursor for use in pagination
    async fn cursor(&self) -> &str {
        &self.cursor
    }
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

    #[derive(SimpleObject)]
    struct Shown {
        id: String,
    }

    #[derive(SimpleObject)]
    struct Hidden {
        id: String,
    }

    struct Query;

    #[Object]
    impl Query {
        async fn shown(
            &self,
            first: Option<i32>,
            after: Option<String>,
        ) -> async_graphql::Result<PublicConnection<Shown>> {
            let page = Page::new(first, after).map_err(|e| async_graphql::Error::new(e.to_string()))?;
            let rows = vec!["a", "b", "c"];
            Ok(connection(&page, rows, TotalCount::known(3), |r| (*r).to_owned(), |r| Shown { id: r.to_owned() }))
        }
        async fn hidden(&self) -> Connection<Hidden> {
            connection(
                &Page::new(None, None).expect("valid"),
                Vec::<&str>::new(),
                TotalCount::known(0),
                |r| (*r).to_owned(),
                |r| Hidden { id: r.to_owned() },
            )
        }
    }

    fn schema() -> async_graphql::Schema<Query, async_graphql::EmptyMutation, async_graphql::EmptySubscription> {
        async_graphql::Schema::build(Query, async_graphql::EmptyMutation, async_graphql::EmptySubscription)
            .enable_federation()
            .finish()
    }

    #[test]
    fn only_public_connections_are_tagged_public() {
        let sdl = schema().sdl_with_options(async_graphql::SDLExportOptions::new().federation());
        for tagged in [
            "type ShownConnection @shareable @tag(name: \"public\")",
            "type ShownEdge @shareable @tag(name: \"public\")",
            "type PageInfo @shareable @tag(name: \"public\")",
        ] {
            assert!(sdl.contains(tagged), "SDL lacks {tagged}:\n{sdl}");
        }
        for plain in ["type HiddenConnection @shareable {", "type HiddenEdge @shareable {"] {
            assert!(sdl.contains(plain), "SDL lacks {plain}:\n{sdl}");
        }
    }

    #[tokio::test]
    async fn pages_carry_cursors_and_page_info() {
        let query = format!(
            "{{ shown(first: 2, after: \"{}\") {{ totalCount pageInfo {{ hasPreviousPage hasNextPage startCursor endCursor }} edges {{ cursor node {{ id }} }} nodes {{ id }} }} }}",
            encode_cursor("x")
        );
        let response = schema().execute(query).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        let data = response.data.into_json().expect("json");
        let (a, b) = (encode_cursor("a"), encode_cursor("b"));
        assert_eq!(
            data,
            serde_json::json!({ "shown": {
                "totalCount": 3,
                "pageInfo": { "hasPreviousPage": true, "hasNextPage": true, "startCursor": a, "endCursor": b },
                "edges": [{ "cursor": a, "node": { "id": "a" } }, { "cursor": b, "node": { "id": "b" } }],
                "nodes": [{ "id": "a" }, { "id": "b" }]
            }})
        );
    }
}

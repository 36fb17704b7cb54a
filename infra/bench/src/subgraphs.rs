//! The benchmark's four subgraphs (accounts, inventory, products, reviews), written with
//! async-graphql after the scenario of The Guild's graphql-gateways-benchmark: `@key` entities,
//! `@requires` (a shipping estimate from price and weight) and `@provides` (a review's author
//! name). Each counts the requests it serves.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_graphql::{
    ComplexObject, EmptyMutation, EmptySubscription, ID, Object, SDLExportOptions, Schema, SimpleObject,
};
use axum::Router;
use axum::extract::State;
use axum::routing::post;

const NAMES: [&str; 9] = ["Table", "Couch", "Glass", "Chair", "TV", "Lamp", "Grill", "Fridge", "Sofa"];
const PRICES: [i64; 9] = [899, 1299, 15, 499, 1299, 6999, 3999, 100_000, 9999];
const WEIGHTS: [i64; 9] = [100, 1000, 20, 100, 1000, 300, 2000, 6000, 800];
const BODIES: [&str; 4] = [
    "Solid and well made; it has been in daily use for a year without a scratch.",
    "Arrived late and the box was damaged, but the product itself is fine and works as described.",
    "Exactly what the description promised. The colour is a little darker than in the photos.",
    "Good value for the price. Assembly took longer than expected because of unclear instructions.",
];

fn upc_index(upc: &str) -> Option<usize> {
    upc.parse::<usize>().ok().filter(|n| (1..=9).contains(n)).map(|n| n - 1)
}

// ---------- accounts ----------

#[derive(SimpleObject, Clone)]
struct User {
    id: ID,
    name: Option<String>,
    /// Also provided by reviews (`@provides`), so shareable.
    #[graphql(shareable)]
    username: Option<String>,
}

fn user(id: &str) -> User {
    User { id: ID(id.to_owned()), name: Some(format!("User {id}")), username: Some(format!("user{id}")) }
}

struct AccountsQuery;

#[Object(name = "Query")]
impl AccountsQuery {
    async fn me(&self) -> Option<User> {
        Some(user("1"))
    }
    async fn user(&self, id: ID) -> Option<User> {
        Some(user(&id))
    }
    async fn users(&self) -> Option<Vec<Option<User>>> {
        Some((1..=3).map(|i| Some(user(&i.to_string()))).collect())
    }
    #[graphql(entity)]
    async fn find_user(&self, id: ID) -> User {
        user(&id)
    }
}

// ---------- products ----------

#[derive(SimpleObject, Clone)]
struct Product {
    upc: String,
    name: Option<String>,
    price: Option<i64>,
    weight: Option<i64>,
}

fn product(index: usize) -> Product {
    Product {
        upc: (index + 1).to_string(),
        name: Some(NAMES[index].to_owned()),
        price: Some(PRICES[index]),
        weight: Some(WEIGHTS[index]),
    }
}

struct ProductsQuery;

#[Object(name = "Query")]
impl ProductsQuery {
    async fn top_products(&self, #[graphql(default = 5)] first: Option<i32>) -> Option<Vec<Option<Product>>> {
        let first = usize::try_from(first.unwrap_or(5)).unwrap_or(0).min(9);
        Some((0..first).map(|i| Some(product(i))).collect())
    }
    #[graphql(entity)]
    async fn find_product(&self, upc: String) -> Option<Product> {
        upc_index(&upc).map(product)
    }
}

// ---------- inventory ----------

#[derive(SimpleObject, Clone)]
#[graphql(name = "Product", complex)]
struct InventoryProduct {
    upc: String,
    #[graphql(external)]
    price: Option<i64>,
    #[graphql(external)]
    weight: Option<i64>,
    in_stock: Option<bool>,
}

#[ComplexObject]
impl InventoryProduct {
    #[graphql(requires = "price weight")]
    async fn shipping_estimate(&self) -> Option<i64> {
        let price = self.price?;
        if price > 1000 { Some(0) } else { self.weight.map(|w| w / 2) }
    }
}

struct InventoryQuery;

#[Object(name = "Query")]
impl InventoryQuery {
    /// Only `upc` is the key; `price` and `weight` arrive in the representation for
    /// `shippingEstimate` (`@requires`).
    #[graphql(entity)]
    async fn find_product(
        &self,
        #[graphql(key)] upc: String,
        price: Option<i64>,
        weight: Option<i64>,
    ) -> InventoryProduct {
        let in_stock = upc_index(&upc).map(|i| i % 3 != 1);
        InventoryProduct { upc, price, weight, in_stock }
    }
}

// ---------- reviews ----------

#[derive(SimpleObject, Clone)]
#[graphql(complex)]
struct Review {
    id: ID,
    body: Option<String>,
    #[graphql(skip)]
    product_upc: String,
    #[graphql(skip)]
    author_id: String,
}

fn reviews() -> Vec<Review> {
    (0..11)
        .map(|i| Review {
            id: ID((i + 1).to_string()),
            body: Some(BODIES[i % BODIES.len()].to_owned()),
            product_upc: ((i / 3) + 1).to_string(),
            author_id: ((i % 3) + 1).to_string(),
        })
        .collect()
}

#[ComplexObject]
impl Review {
    #[graphql(provides = "username")]
    async fn author(&self) -> Option<ReviewUser> {
        Some(ReviewUser { id: ID(self.author_id.clone()), username: Some(format!("user{}", self.author_id)) })
    }
    async fn product(&self) -> Option<ReviewProduct> {
        Some(ReviewProduct { upc: self.product_upc.clone() })
    }
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "User", complex)]
struct ReviewUser {
    id: ID,
    #[graphql(external)]
    username: Option<String>,
}

#[ComplexObject]
impl ReviewUser {
    async fn reviews(&self) -> Option<Vec<Option<Review>>> {
        Some(reviews().into_iter().filter(|r| r.author_id == self.id.as_str()).map(Some).collect())
    }
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "Product", complex)]
struct ReviewProduct {
    upc: String,
}

#[ComplexObject]
impl ReviewProduct {
    async fn reviews(&self) -> Option<Vec<Option<Review>>> {
        Some(reviews().into_iter().filter(|r| r.product_upc == self.upc).map(Some).collect())
    }
}

struct ReviewsQuery;

#[Object(name = "Query")]
impl ReviewsQuery {
    /// Reviews are entities too, as in the original scenario.
    #[graphql(entity)]
    async fn find_review(&self, id: ID) -> Option<Review> {
        reviews().into_iter().find(|r| r.id == id)
    }
    #[graphql(entity)]
    async fn find_user(&self, id: ID) -> ReviewUser {
        ReviewUser { id, username: None }
    }
    #[graphql(entity)]
    async fn find_product(&self, upc: String) -> ReviewProduct {
        ReviewProduct { upc }
    }
}

// ---------- serving ----------

/// One running subgraph: its name, SDL and request counter.
pub struct Subgraph {
    pub name: &'static str,
    pub sdl: String,
    pub requests: Arc<AtomicU64>,
    pub router: Router,
}

struct Served<Q: async_graphql::ObjectType + 'static> {
    schema: Schema<Q, EmptyMutation, EmptySubscription>,
    requests: Arc<AtomicU64>,
}

impl<Q: async_graphql::ObjectType + 'static> Clone for Served<Q> {
    fn clone(&self) -> Self {
        Self { schema: self.schema.clone(), requests: self.requests.clone() }
    }
}

async fn handle<Q: async_graphql::ObjectType + 'static>(
    State(served): State<Served<Q>>,
    axum::Json(request): axum::Json<async_graphql::Request>,
) -> axum::Json<async_graphql::Response> {
    served.requests.fetch_add(1, Ordering::Relaxed);
    axum::Json(served.schema.execute(request).await)
}

fn subgraph<Q: async_graphql::ObjectType + 'static>(name: &'static str, query: Q) -> Subgraph {
    let schema = Schema::build(query, EmptyMutation, EmptySubscription).enable_federation().finish();
    let sdl = schema.sdl_with_options(SDLExportOptions::new().federation().compose_directive());
    let requests = Arc::new(AtomicU64::new(0));
    let router =
        Router::new().route("/graphql", post(handle::<Q>)).with_state(Served { schema, requests: requests.clone() });
    Subgraph { name, sdl, requests, router }
}

/// The four subgraphs, in the order accounts, inventory, products, reviews.
pub fn all() -> Vec<Subgraph> {
    vec![
        subgraph("accounts", AccountsQuery),
        subgraph("inventory", InventoryQuery),
        subgraph("products", ProductsQuery),
        subgraph("reviews", ReviewsQuery),
    ]
}

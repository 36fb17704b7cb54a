//! Rebuilds the gateway when the embedded front-end files change: the dashboard's build output,
//! GraphiQL's, and the dashboard's operations manifest (rust-embed includes each file it finds,
//! but cargo would not notice a file added to or removed from those folders).

fn main() {
    for path in ["../dashboard/dist", "../dashboard/graphiql/dist", "../dashboard/operations.json"] {
        println!("cargo:rerun-if-changed={path}");
    }
}

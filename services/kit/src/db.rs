//! Database connection (SQLite by default, PostgreSQL by URL), pool settings and readiness.

use std::time::Duration;

use anyhow::Context as _;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

/// Default pool size for PostgreSQL.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;
/// How long to wait for a free pooled connection.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// A pooled connection idle at least this long is pinged before it is handed out; one used more
/// recently is not. sqlx pings on every checkout by default, and again when a connection comes
/// back: two extra round trips per checkout (per statement outside a transaction). The ping on
/// return stays (sqlx always does it), so a connection that broke while in use is dropped then.
/// What the threshold gives up is the check of a connection that broke in the last second while
/// idle in the pool (a database restart): the statement that takes it fails with an error and
/// the connection is dropped, so right after a restart under load up to a pool's worth of
/// statements fail (`DATABASE_UNAVAILABLE`, as every statement does while the database is down).
pub const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// How to reach a service's database.
#[derive(Clone)]
pub struct DbConfig {
    /// `sqlite://path?mode=rwc`, `sqlite::memory:` or `postgres://…`.
    pub url: String,
    /// Pool size for PostgreSQL (SQLite always uses one connection: one writer at a time).
    pub max_connections: u32,
    /// Wait for a pooled connection at most this long.
    pub acquire_timeout: Duration,
    /// PostgreSQL only: the schema to use (created if missing). Tests use one schema each.
    pub schema: Option<String>,
}

impl std::fmt::Debug for DbConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: show only its scheme.
        f.debug_struct("DbConfig")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("schema", &self.schema)
            .finish()
    }
}

/// The URL without credentials (user info and a `password=` query parameter), for logs.
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut out = match (base.find("://"), base.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***{}", &base[..s], &base[at..]),
        _ => base.to_owned(),
    };
    if let Some(q) = query {
        let params: Vec<String> = q
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => p.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

impl DbConfig {
    /// A config with default pool settings.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
            schema: None,
        }
    }

    /// Whether this is a PostgreSQL URL.
    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres://") || self.url.starts_with("postgresql://")
    }
}

/// Opens the pool. For PostgreSQL with a `schema`, creates the schema first and pins the
/// search path of every pooled connection to it.
pub async fn connect(cfg: &DbConfig) -> anyhow::Result<DatabaseConnection> {
    let shown = redact_url(&cfg.url);
    if !cfg.is_postgres() && !cfg.url.starts_with("sqlite:") {
        anyhow::bail!("unsupported database URL {shown}: use sqlite://… or postgres://…");
    }
    if let (true, Some(schema)) = (cfg.is_postgres(), &cfg.schema) {
        anyhow::ensure!(is_identifier(schema), "invalid schema name {schema}");
        let admin = Database::connect(ConnectOptions::new(cfg.url.clone()).max_connections(1).to_owned())
            .await
            .with_context(|| format!("connecting to {shown}"))?;
        admin
            .execute_unprepared(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
            .await
            .with_context(|| format!("creating schema {schema}"))?;
        admin.close().await.ok();
    }
    let mut opts = ConnectOptions::new(cfg.url.clone());
    let in_memory = cfg.url.contains(":memory:") || cfg.url.contains("mode=memory");
    // SQLite has one writer: with several pooled connections, two read-then-write transactions
    // fail at once with SQLITE_BUSY instead of waiting. One connection queues them instead.
    let max = if cfg.is_postgres() { cfg.max_connections } else { 1 };
    opts.max_connections(max)
        .min_connections(if in_memory { 1 } else { 0 })
        .acquire_timeout(cfg.acquire_timeout)
        .connect_timeout(Duration::from_secs(5))
        .test_before_acquire_if_idle_for(PING_IF_IDLE_FOR)
        .sqlx_logging(false);
    if in_memory {
        // An in-memory database lives as long as its one connection: never let the pool drop it.
        opts.idle_timeout(None::<Duration>).max_lifetime(None::<Duration>);
    }
    if let (true, Some(schema)) = (cfg.is_postgres(), &cfg.schema) {
        opts.set_schema_search_path(schema.clone());
    }
    if cfg.is_postgres() {
        // No parallel workers: the subgraphs' statements are small and many at once, and a plan
        // with a Gather (the regional overview's offer pages, a UNION ALL since IZA regions answer
        // for care-office regions) started two worker processes per request, which cost more
        // CPU than the whole statement (the hub benchmark: PostgreSQL 20 ms of CPU per request
        // with them). It is appended after a URL's own `options`, so it always applies.
        opts.map_sqlx_postgres_opts(|pg| pg.options([("max_parallel_workers_per_gather", "0")]));
    }
    let db = Database::connect(opts).await.with_context(|| format!("connecting to {shown}"))?;
    if db.get_database_backend() == DbBackend::Sqlite {
        // Enforce foreign keys (sqlx turns them on too; say it where the schema relies on it).
        db.execute_unprepared("PRAGMA foreign_keys = ON").await?;
    }
    Ok(db)
}

/// Drops a PostgreSQL schema with everything in it (tests clean up with this).
pub async fn drop_schema(url: &str, schema: &str) -> anyhow::Result<()> {
    anyhow::ensure!(is_identifier(schema), "invalid schema name {schema}");
    let admin = Database::connect(ConnectOptions::new(url.to_owned()).max_connections(1).to_owned()).await?;
    admin.execute_unprepared(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE")).await?;
    admin.close().await.ok();
    Ok(())
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.len() <= 63 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Records the metrics of `db` as `service`'s (issue 20): each statement's duration in
/// `db.client.operation.duration` (by `db.operation.name`, the statement's first keyword, and
/// `error.type` when it failed), and the pool's connections in `db.client.connection.count` (by
/// `db.client.connection.state`, `idle` or `used`) beside `db.client.connection.max`: used
/// against max is the pool's saturation. Call before the connection is cloned (clones made
/// earlier do not record) and after [`crate::metrics::init`].
pub fn instrument(db: &mut DatabaseConnection, service: &'static str) {
    use opentelemetry::KeyValue;
    let backend = db.get_database_backend();
    let system = match backend {
        DbBackend::Postgres => "postgresql",
        DbBackend::Sqlite => "sqlite",
        _ => "other_sql",
    };
    let duration = crate::metrics::service_instruments().db_duration.clone();
    db.set_metric_callback(move |info| {
        let mut attributes = vec![
            KeyValue::new("ggzhub.service", service),
            KeyValue::new("db.system.name", system),
            KeyValue::new("db.operation.name", operation_name(&info.statement.sql)),
        ];
        if info.failed {
            // sea-orm says only that it failed; `_OTHER` is the conventions' value for that.
            attributes.push(KeyValue::new("error.type", "_OTHER"));
        }
        duration.record(info.elapsed.as_secs_f64(), &attributes);
    });
    // (size, idle, max) of the pool, read when metrics are collected.
    let pool: Box<dyn Fn() -> (u32, usize, u32) + Send + Sync> = match backend {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool().clone();
            Box::new(move || (pool.size(), pool.num_idle(), pool.options().get_max_connections()))
        }
        DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool().clone();
            Box::new(move || (pool.size(), pool.num_idle(), pool.options().get_max_connections()))
        }
        _ => return,
    };
    let pool = std::sync::Arc::new(pool);
    let read = pool.clone();
    let meter = crate::metrics::meter();
    // The registrations live as long as the meter provider; the handles need not be kept.
    let _count = meter
        .i64_observable_up_down_counter("db.client.connection.count")
        .with_unit("{connection}")
        .with_description("Connections of the database pool, by state (idle or used)")
        .with_callback(move |observer| {
            let (size, idle, _) = read();
            let idle = i64::try_from(idle).unwrap_or(i64::MAX);
            let used = i64::from(size) - idle;
            for (state, value) in [("idle", idle), ("used", used.max(0))] {
                observer.observe(
                    value,
                    &[
                        KeyValue::new("db.client.connection.pool.name", service),
                        KeyValue::new("db.client.connection.state", state),
                    ],
                );
            }
        })
        .build();
    let _max = meter
        .i64_observable_up_down_counter("db.client.connection.max")
        .with_unit("{connection}")
        .with_description("Most connections the database pool opens")
        .with_callback(move |observer| {
            let (_, _, max) = pool();
            observer.observe(i64::from(max), &[KeyValue::new("db.client.connection.pool.name", service)]);
        })
        .build();
}

/// The operation of a SQL statement, a bounded label: its first keyword when it is a common one.
fn operation_name(sql: &str) -> &'static str {
    let word = sql.trim_start().split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or("");
    const KNOWN: [&str; 10] =
        ["SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"];
    KNOWN.into_iter().find(|k| k.eq_ignore_ascii_case(word)).unwrap_or("_OTHER")
}

/// Readiness: one round trip to the database.
pub async fn ping(db: &DatabaseConnection) -> bool {
    let backend = db.get_database_backend();
    db.query_one_raw(Statement::from_string(backend, "SELECT 1")).await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_credentials() {
        assert_eq!(redact_url("postgres://u:secret@host/db"), "postgres://***@host/db");
        assert_eq!(redact_url("sqlite::memory:"), "sqlite::memory:");
        assert_eq!(
            redact_url("postgres://h/db?user=u&password=pw&sslmode=require"),
            "postgres://h/db?user=u&password=***&sslmode=require"
        );
        assert_eq!(redact_url("sqlite://data/region.db?mode=rwc"), "sqlite://data/region.db?mode=rwc");
    }

    #[test]
    fn operations_are_bounded_labels() {
        assert_eq!(operation_name("SELECT \"a\" FROM t"), "SELECT");
        assert_eq!(operation_name("  insert into t values (1)"), "INSERT");
        assert_eq!(operation_name("WITH x AS (SELECT 1) SELECT * FROM x"), "WITH");
        assert_eq!(operation_name("PRAGMA foreign_keys = ON"), "_OTHER");
        assert_eq!(operation_name(""), "_OTHER");
    }

    /// What `connect` sets on every pooled connection: foreign keys on SQLite, no parallel
    /// workers on PostgreSQL (the database of `DATABASE_URL`, as every test uses).
    #[tokio::test]
    async fn connections_carry_the_hubs_settings() {
        let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite::memory:".to_owned());
        let db = connect(&DbConfig::new(url)).await.expect("connects");
        let (sql, expected) = match db.get_database_backend() {
            DbBackend::Postgres => ("SHOW max_parallel_workers_per_gather", "0"),
            _ => ("PRAGMA foreign_keys", "1"),
        };
        let row = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .expect("runs")
            .expect("one row");
        let value = row
            .try_get_by_index::<String>(0)
            .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
            .expect("a value");
        assert_eq!(value, expected, "{sql}");
    }

    /// A pooled connection idle past [`PING_IF_IDLE_FOR`] is checked before it is handed out: on
    /// PostgreSQL one whose server process was ended while it sat in the pool is replaced, and the
    /// statement runs on a new one. One used in the last second is handed out unchecked; if it
    /// broke, the one statement that takes it may fail, and the next runs on a new connection.
    /// On SQLite (nothing can end its connection from outside) the check itself must work.
    #[tokio::test]
    async fn a_pooled_connection_idle_past_the_threshold_is_checked_before_use() {
        let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite::memory:".to_owned());
        let mut cfg = DbConfig::new(url.clone());
        cfg.max_connections = 1;
        let db = connect(&cfg).await.expect("connects");
        let idle = PING_IF_IDLE_FOR + Duration::from_millis(300);
        if db.get_database_backend() != DbBackend::Postgres {
            assert_eq!(scalar(&db, "SELECT 1").await.expect("runs"), 1);
            tokio::time::sleep(idle).await;
            assert_eq!(scalar(&db, "SELECT 2").await.expect("runs after the check"), 2);
            return;
        }
        let admin = connect(&DbConfig::new(url)).await.expect("admin connects");
        let end = |pid: i64| {
            let admin = admin.clone();
            async move {
                let ended = scalar(&admin, &format!("SELECT pg_terminate_backend({pid})::int::int8")).await;
                assert_eq!(ended.expect("terminates"), 1, "backend {pid} ended");
                // pg_terminate_backend only signals: wait until the process is gone.
                for _ in 0..100 {
                    let left = format!("SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}");
                    if scalar(&admin, &left).await.expect("counts") == 0 {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                panic!("backend {pid} still there");
            }
        };

        // The connection back in the pool (sqlx returns it from a task of its own, with a ping).
        let returned = || async {
            for _ in 0..100 {
                if db.get_postgres_connection_pool().num_idle() == 1 {
                    return std::time::Instant::now();
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            panic!("the connection never came back to the pool");
        };

        // Idle past the threshold: pinged, found dead, replaced; the statement does not notice.
        let first = scalar(&db, "SELECT pg_backend_pid()::int8").await.expect("runs");
        returned().await;
        end(first).await;
        tokio::time::sleep(idle).await;
        let second = scalar(&db, "SELECT pg_backend_pid()::int8").await.expect("a new connection after the check");
        assert_ne!(first, second, "the ended connection was replaced");

        // Used just now: not pinged, so the one statement that takes it fails (the price of the
        // threshold; unless this machine took a second to get here, when it was pinged after
        // all), and the pool drops the connection when it comes back; the next runs on a new one.
        let since = returned().await;
        end(second).await;
        let taken = scalar(&db, "SELECT pg_backend_pid()::int8").await;
        if since.elapsed() < PING_IF_IDLE_FOR {
            assert!(taken.is_err(), "a connection used just now is handed out without a ping: {taken:?}");
        }
        let third = match taken {
            Ok(pid) => pid,
            Err(_) => scalar(&db, "SELECT pg_backend_pid()::int8").await.expect("runs on a new connection"),
        };
        assert!(third != first && third != second, "neither ended connection is used again");
    }

    async fn scalar(db: &DatabaseConnection, sql: &str) -> Result<i64, sea_orm::DbErr> {
        let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await?;
        row.expect("one row").try_get_by_index::<i64>(0)
    }

    #[tokio::test]
    async fn in_memory_sqlite_connects_and_pings() {
        let db = connect(&DbConfig::new("sqlite::memory:")).await.expect("connects");
        assert!(ping(&db).await);
    }
}

//! All SQL lives here, one module per resource. Functions take a connection, so the
//! same function runs on a pooled connection or inside a mutation's transaction.

pub mod access;
pub mod audit;
pub mod groups;
pub mod login_failures;
pub mod models;
pub mod users;

use std::ops::{Deref, DerefMut};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row, Transaction};

use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::config::Config;
use crate::domain::{Method, Permission, ResourceType};
use crate::error::{AppError, AppResult};

pub type Conn = sqlx::AnyConnection;
pub type Tx = Transaction<'static, sqlx::Any>;

/// Whether statements are unnamed and every unit of work is a transaction
/// (`--unnamed-statements`), for PostgreSQL behind PgBouncer's transaction pooling,
/// which gives each transaction (or each statement outside one) whichever server
/// connection is free. A named statement would outlive its transaction there and
/// collide with, or be run by, another client's; an unnamed one is parsed and run
/// within the one transaction. Process-wide: a statement's name belongs to its
/// connection, and the store's functions take connections, not the [`Db`]. Set only
/// on, once, by [`Db::connect`].
static UNNAMED_STATEMENTS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn unnamed_statements() -> bool {
    UNNAMED_STATEMENTS.load(std::sync::atomic::Ordering::Relaxed)
}

/// A statement of the store: prepared once per connection and kept (named), unless
/// statements are unnamed ([`UNNAMED_STATEMENTS`]).
fn query<'q>(sql: impl sqlx::SqlSafeStr) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    sqlx::query(sql).persistent(!unnamed_statements())
}

/// [`query`] for rows read as `T`.
fn query_as<'q, T>(sql: impl sqlx::SqlSafeStr) -> sqlx::query::QueryAs<'q, sqlx::Any, T, sqlx::any::AnyArguments>
where
    T: for<'r> sqlx::FromRow<'r, AnyRow>,
{
    sqlx::query_as(sql).persistent(!unnamed_statements())
}

/// A connection for reads: pooled, or, with unnamed statements, a read-only
/// repeatable-read transaction on one (rolled back when dropped: it wrote nothing), so
/// that its statements stay on one server connection behind PgBouncer and read one
/// snapshot, as reads that need one ask for (see [`access::reach`]).
pub enum ReadConn {
    Pooled(sqlx::pool::PoolConnection<sqlx::Any>),
    InTransaction(Tx),
}

impl Deref for ReadConn {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        match self {
            ReadConn::Pooled(conn) => conn,
            ReadConn::InTransaction(tx) => tx,
        }
    }
}

impl DerefMut for ReadConn {
    fn deref_mut(&mut self) -> &mut Conn {
        match self {
            ReadConn::Pooled(conn) => conn,
            ReadConn::InTransaction(tx) => tx,
        }
    }
}

/// Which database the URL named; the few places where SQL must differ ask this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Separates the values [`Backend::joined_text`] joins: a control character, which no
/// stored name or id contains (every string input refuses them).
pub(crate) const JOINED_TEXT_SEPARATOR: char = '\u{1f}';

impl Backend {
    /// Connections a process opens unless told otherwise. Each SQLite connection is a
    /// thread doing the query work with its own page cache and allocator arena: past
    /// three per core they add memory (~0.7 MB each) but no throughput (measured on 2
    /// cores at 32 concurrent requests: 6 serve `me` as fast as 10, 4 about 10% slower).
    /// A PostgreSQL connection's work is the server's.
    pub fn default_max_connections(self) -> u32 {
        match self {
            Backend::Sqlite => {
                let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
                (3 * cores).clamp(3, 10)
            }
            Backend::Postgres => 10,
        }
    }

    /// An aggregate of one JSON array of `columns` per row, as text (`[]` for no row):
    /// a listing then moves one row from the database instead of one per user, which
    /// through sqlx costs several times what the database spends on it.
    pub(crate) fn json_rows(self, columns: &str) -> String {
        match self {
            Backend::Sqlite => format!("json_group_array(json_array({columns}))"),
            Backend::Postgres => format!("COALESCE(json_agg(json_build_array({columns}))::text, '[]')"),
        }
    }

    /// An aggregate of a column's values as one JSON array, as text (`[]` for no row).
    pub(crate) fn json_values(self, column: &str) -> String {
        match self {
            Backend::Sqlite => format!("json_group_array({column})"),
            Backend::Postgres => format!("COALESCE(json_agg({column})::text, '[]')"),
        }
    }

    /// An aggregate joining a text column's non-null values with [`JOINED_TEXT_SEPARATOR`]
    /// (NULL when there are none): each database spells it its own way.
    pub(crate) fn joined_text(self, column: &str) -> String {
        match self {
            Backend::Sqlite => format!("group_concat({column}, char(31))"),
            Backend::Postgres => format!("string_agg({column}, chr(31))"),
        }
    }
}

/// The single text column `column` of a one-row result, parsed as JSON.
pub(crate) async fn fetch_json<T: serde::de::DeserializeOwned>(
    conn: &mut sqlx::AnyConnection,
    sql: String,
    column: &str,
) -> AppResult<T> {
    let row = query(sqlx::AssertSqlSafe(sql)).fetch_one(conn).await?;
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(AppError::internal)
}

/// The connection pool and what kind of database is behind it.
#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// SQLite has one writer at a time and its busy handler is not fair: under a burst
    /// of writes one connection can starve past any timeout. Writers of this process
    /// take turns here, first come first served, before asking SQLite for the lock.
    writer_turn: Arc<Mutex<()>>,
}

/// Times a write transaction is run before a deadlock or serialization conflict is
/// given up on (RULES §3).
const MAX_WRITE_ATTEMPTS: u32 = 5;

/// One mutation's transaction; derefs to the connection the store functions take.
/// The store's functions that change what a user may do (memberships, permissions,
/// roles, `disabled`, passwords, users) take it rather than a connection and mark it,
/// so that its commit bumps the access version: no writer can forget to.
pub struct WriteTx {
    tx: Tx,
    backend: Backend,
    bumps_access_version: bool,
    /// The change's audit events (RULES §9), written at the commit.
    events: Vec<audit::PendingEvent>,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    /// Marks this transaction as one that changes users' groups or permissions: its
    /// commit bumps the access version, so that every process drops its cached groups.
    fn changes_access(&mut self) {
        self.bumps_access_version = true;
    }

    /// Keeps `event` to write at the commit, so that it exists exactly when the change
    /// does (RULES §9).
    pub fn record(&mut self, event: &audit::NewEvent<'_>) {
        self.events.push(event.into());
    }

    pub async fn commit(mut self) -> AppResult<()> {
        // Last, so that the row locks they take on PostgreSQL (the access version, the
        // audit log's counter) are held only for the commit; the first event goes in
        // the bump's round trip.
        let mut bump = self.bumps_access_version;
        for event in &self.events {
            audit::write_at_commit(&mut self.tx, self.backend, event, std::mem::take(&mut bump)).await?;
        }
        if bump {
            query("UPDATE access_version SET version = version + 1 WHERE id = 1").execute(&mut *self.tx).await?;
        }
        self.tx.commit().await?;
        Ok(())
    }

    /// ` FOR UPDATE` on PostgreSQL, where rows read before a write must be locked
    /// against concurrent transactions; nothing on SQLite, whose transaction already
    /// holds the database's one write lock.
    fn for_update(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }

    /// ` FOR SHARE` on PostgreSQL: rows that must stay as they are (a group being
    /// joined must not be deleted meanwhile) but that others may share.
    fn for_share(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR SHARE",
        }
    }
}

impl Deref for WriteTx {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        &self.tx
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.tx
    }
}

impl Db {
    /// Connects (creating a SQLite file if missing) and applies the migrations, or,
    /// with `pool.migrate` off, refuses a database with pending ones (RULES §12).
    pub async fn connect(database_url: &str, pool: &PoolSettings) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if database_url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite:// or postgres://");
        };
        let url = match backend {
            Backend::Sqlite if !database_url.contains("mode=") => {
                let separator = if database_url.contains('?') { '&' } else { '?' };
                format!("{database_url}{separator}mode=rwc")
            }
            _ => database_url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        if pool.unnamed_statements {
            if backend != Backend::Postgres {
                anyhow::bail!("--unnamed-statements is for PostgreSQL behind PgBouncer");
            }
            if pool.migrate {
                // Their lock is the session's: taken and released in two statements,
                // which transaction pooling may send to two server connections.
                anyhow::bail!(
                    "migrations need a direct connection to PostgreSQL: run `mlte-graphql migrate` \
                     without --unnamed-statements, on a URL that does not go through PgBouncer"
                );
            }
            UNNAMED_STATEMENTS.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let pool_settings_migrate = pool.migrate;
        let pool = AnyPoolOptions::new()
            .max_connections(pool.max_connections.unwrap_or_else(|| backend.default_max_connections()))
            .acquire_timeout(pool.acquire_timeout)
            // A SQLite connection is a file handle that does not go stale; pinging it
            // before each use would cost a round trip to its worker thread per request.
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the one writer; the busy timeout makes
                        // a writer wait for the lock instead of failing; a 256 KiB page cache
                        // per connection (SQLite's default is 2 MiB) keeps memory low: the OS
                        // caches the file, and listings measured as fast as with 1 MiB.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 30000; PRAGMA foreign_keys = ON; PRAGMA cache_size = -256",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        if pool_settings_migrate {
            migrate(&pool, backend).await?;
        } else {
            let pending = pending_migrations(&pool, backend).await?;
            if !pending.is_empty() {
                return Err(PendingMigrations(pending).into());
            }
        }
        Ok(Db { pool, backend, writer_turn: Arc::new(Mutex::new(())) })
    }

    /// A connection for reads ([`ReadConn`]).
    pub async fn conn(&self) -> AppResult<ReadConn> {
        if unnamed_statements() {
            let tx = self.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?;
            return Ok(ReadConn::InTransaction(tx));
        }
        Ok(ReadConn::Pooled(self.pool.acquire().await?))
    }

    /// A transaction begun by `statement`, in a task of its own. A request dropped while
    /// sqlx waits for BEGIN's answer (client gone, time limit) would leave the server in
    /// a transaction that sqlx does not know of: its drop guard rolls back only once
    /// the BEGIN was answered (sqlx-postgres 0.9, `transaction.rs`). The next user of
    /// that connection would then run inside it (PostgreSQL: "there is already a
    /// transaction in progress"; after a read-only one, no write succeeds), and behind
    /// PgBouncer it pins a server connection. The task finishes the BEGIN; a
    /// transaction nobody awaits any more is then dropped, and rolled back, as any other.
    async fn begin_with(&self, statement: &'static str) -> AppResult<Tx> {
        let pool = self.pool.clone();
        let begun = tokio::spawn(async move { pool.begin_with(statement).await });
        Ok(begun.await.map_err(AppError::internal)??)
    }

    /// A transaction for one mutation. On SQLite it takes the write lock up front, so a
    /// read-then-write transaction never fails half-way with "database is locked".
    pub async fn begin_write(&self) -> AppResult<WriteTx> {
        let (tx, turn) = match self.backend {
            Backend::Sqlite => {
                let turn = self.writer_turn.clone().lock_owned().await;
                (self.begin_with("BEGIN IMMEDIATE").await?, Some(turn))
            }
            Backend::Postgres => (self.begin_with("BEGIN").await?, None),
        };
        Ok(WriteTx { tx, backend: self.backend, bumps_access_version: false, events: Vec::new(), _turn: turn })
    }

    /// Whether the database answers (within the pool's acquire timeout).
    pub async fn is_healthy(&self) -> bool {
        let timeout = self.pool.options().get_acquire_timeout();
        // A simple query: one message, no statement (see UNNAMED_STATEMENTS).
        let ping = sqlx::raw_sql("SELECT 1").execute(&self.pool);
        matches!(tokio::time::timeout(timeout, ping).await, Ok(Ok(_)))
    }
}

/// Runs `$work` (an expression that uses `$tx`, the transaction, and gives a future
/// of an `AppResult`) in a write transaction of `$db` and commits it, running it again
/// when the database aborted it for a deadlock or a serialization conflict (RULES
/// §3). `$work` must read and write only through `$tx`. Evaluates to the `AppResult`.
/// (A macro: a closure borrowing the transaction cannot be given a `Send` future
/// that async-graphql's resolvers accept.)
macro_rules! write_tx {
    ($db:expr, |$tx:ident| $work:expr) => {{
        let db: &$crate::store::Db = $db;
        let mut attempts = $crate::store::Attempts::default();
        loop {
            let result = match db.begin_write().await {
                Ok(mut $tx) => match $work.await {
                    Ok(value) => $tx.commit().await.map(|()| value),
                    Err(error) => Err(error),
                },
                Err(error) => Err(error),
            };
            if let Some(result) = attempts.settle(result).await {
                break result;
            }
        }
    }};
}
pub(crate) use write_tx;

/// The runs of one write transaction: see [`write_tx`].
#[derive(Default)]
pub struct Attempts(u32);

impl Attempts {
    /// `Some(result)` to keep; `None` to run the transaction again, after a short
    /// pause, when it was aborted for a conflict and has runs left.
    pub async fn settle<T>(&mut self, result: AppResult<T>) -> Option<AppResult<T>> {
        self.0 += 1;
        match result {
            Err(error) if error.is_transient() && self.0 < MAX_WRITE_ATTEMPTS => {
                tracing::info!(attempt = self.0, error.cause = %error.cause(), "write transaction aborted; running it again");
                // A little apart, so that the transactions that collided do not meet again.
                let pause = rand::random_range(1..=10 * u64::from(self.0));
                tokio::time::sleep(Duration::from_millis(pause)).await;
                None
            }
            result => Some(result),
        }
    }
}

/// A database with migrations this binary would apply, met with `--no-migrate`.
#[derive(Debug, thiserror::Error)]
#[error("the database has pending migrations: {}; run `mlte-graphql migrate` first", .0.join(", "))]
pub struct PendingMigrations(pub Vec<String>);

/// Connection pool settings; each has a flag.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// `None`: [`Backend::default_max_connections`].
    pub max_connections: Option<u32>,
    /// How long a request waits for a connection (or for the database to answer a new
    /// one) before it fails: what bounds a request while the database is down.
    pub acquire_timeout: Duration,
    /// Apply the migrations on connecting (else refuse pending ones).
    pub migrate: bool,
    /// Unnamed statements, every unit of work a transaction ([`UNNAMED_STATEMENTS`]).
    pub unnamed_statements: bool,
}

impl PoolSettings {
    pub fn from_config(config: &Config) -> Self {
        PoolSettings {
            max_connections: config.db_max_connections,
            acquire_timeout: Duration::from_secs(config.db_acquire_timeout_secs),
            // Through PgBouncer the server checks for pending migrations only.
            migrate: !config.no_migrate && !config.unnamed_statements,
            unnamed_statements: config.unnamed_statements,
        }
    }
}

/// The migrations of this binary that the database has not applied, as
/// `<version>_<description>`. A database without the migrations table has them all;
/// any other failure to read it is the database's, and said as such.
async fn pending_migrations(pool: &AnyPool, backend: Backend) -> anyhow::Result<Vec<String>> {
    // A simple query: on the pool, outside a transaction, an unnamed statement could be
    // parsed on one server connection behind PgBouncer and bound on another.
    let applied: Vec<i64> =
        match sqlx::raw_sql("SELECT version FROM _sqlx_migrations WHERE success").fetch_all(pool).await {
            Ok(rows) => rows.iter().filter_map(|row| row.try_get(0).ok()).collect(),
            Err(error) if is_missing_table(&error) => Vec::new(),
            Err(error) => anyhow::bail!("could not read the applied migrations: {error}"),
        };
    Ok(migrator(backend)
        .iter()
        .filter(|m| !applied.contains(&m.version))
        .map(|m| format!("{}_{}", m.version, m.description.replace(' ', "_")))
        .collect())
}

/// Whether `error` says the table read does not exist (PostgreSQL's undefined_table,
/// SQLite's "no such table").
fn is_missing_table(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|db| db.code().as_deref() == Some("42P01") || db.message().starts_with("no such table"))
}

/// The migrations for `backend`: those of `migrations/`, the same for both databases,
/// and those of its own folder (`migrations/sqlite/`, `migrations/postgres/`) for DDL
/// that only it has (trigram indexes, collations), in version order.
fn migrator(backend: Backend) -> sqlx::migrate::Migrator {
    let own = match backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
    };
    let mut all: Vec<sqlx::migrate::Migration> =
        sqlx::migrate!("./migrations").iter().chain(own.iter()).cloned().collect();
    all.sort_by_key(|migration| migration.version);
    sqlx::migrate::Migrator::with_migrations(all)
}

/// Applies the migrations. PostgreSQL serializes concurrent runs with an advisory
/// lock; SQLite has none, so a process that starts beside another on a new file may
/// find a migration half-way through someone else's transaction: it waits and tries
/// again, and then finds it applied.
async fn migrate(pool: &AnyPool, backend: Backend) -> anyhow::Result<()> {
    let migrator = migrator(backend);
    let mut attempt = 0;
    loop {
        match migrator.run(pool).await {
            Ok(()) => return Ok(()),
            Err(error) if attempt < 5 => {
                attempt += 1;
                tracing::warn!(%error, attempt, "migrations failed; retrying");
                tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
            }
            Err(error) => return Err(error.into()),
        }
    }
}

/// The permission in a row's `resource_type`, `resource_id` and `method` columns;
/// `None` where a LEFT JOIN found no permission.
fn joined_permission(row: &AnyRow) -> AppResult<Option<Permission>> {
    let resource_type: Option<String> = row.try_get("resource_type")?;
    let method: Option<String> = row.try_get("method")?;
    let (Some(resource_type), Some(method)) = (resource_type, method) else { return Ok(None) };
    parse_permission(&resource_type, row.try_get("resource_id")?, &method).map(Some)
}

/// A permission from its stored columns.
fn parse_permission(resource_type: &str, resource_id: Option<String>, method: &str) -> AppResult<Permission> {
    match (ResourceType::parse(resource_type), Method::parse(method)) {
        (Some(resource_type), Some(method)) => Ok(Permission { resource_type, resource_id, method }),
        _ => {
            Err(AppError::internal(anyhow::anyhow!("unknown permission {resource_type:?} {method:?} in the database")))
        }
    }
}

/// Which of `values` the query `select` (`SELECT c FROM t WHERE c`, completed here
/// with `IN (…)`) finds, in the order the database returns them.
async fn found_among(conn: &mut Conn, select: &str, values: &[&str]) -> AppResult<Vec<String>> {
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("{select} IN ({})", placeholders(1, values.len()));
    let mut query = query(sqlx::AssertSqlSafe(sql));
    for value in values {
        query = query.bind(*value);
    }
    Ok(query.fetch_all(conn).await?.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?)
}

/// A page's statement and, when `with_total`, the count of every match beside it in
/// the same statement, so that both come from one snapshot (RULES §10):
/// `count_from` is `table WHERE …` and `order` the page's ORDER BY, repeated outside.
/// A page without rows is then one row of nulls: [`page_rows`] leaves it out.
fn with_total(page: String, count_from: &str, order: &str, with_total: bool) -> String {
    if !with_total {
        return page;
    }
    format!(
        "SELECT t.total, m.* FROM (SELECT COUNT(*) AS total FROM {count_from}) t LEFT JOIN ({page}) m ON 1 = 1 ORDER BY {order}"
    )
}

/// The rows of a page from [`with_total`] (those whose `key` column is set) and the
/// total when it was asked for.
fn page_rows<'r>(rows: &'r [AnyRow], key: &str, with_total: bool) -> AppResult<(Vec<&'r AnyRow>, Option<i64>)> {
    let total = match rows.first() {
        Some(row) if with_total => Some(row.try_get::<i64, _>("total")?),
        _ if with_total => Some(0),
        _ => None,
    };
    let present = |row: &&AnyRow| row.try_get_raw(key).is_ok_and(|value| !sqlx::ValueRef::is_null(&value));
    Ok((rows.iter().filter(present).collect(), total))
}

/// `$1, $2, …` for a list of `count` bound values starting at `$first`.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_are_numbered_from_the_first() {
        assert_eq!(super::placeholders(2, 3), "$2, $3, $4");
        assert_eq!(super::placeholders(1, 1), "$1");
    }
}

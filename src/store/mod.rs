//! All SQL lives here, one module per resource. Functions take a connection, so the
//! same function runs on a pooled connection or inside a mutation's transaction.

pub mod groups;
pub mod login_failures;
pub mod models;
pub mod users;

use std::ops::{Deref, DerefMut};
use std::str::FromStr;
use std::sync::Arc;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row, Transaction};

use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::domain::{Method, Permission, ResourceType};
use crate::error::{AppError, AppResult};

pub type Conn = sqlx::AnyConnection;
pub type Tx = Transaction<'static, sqlx::Any>;

/// Which database the URL named; the few places where SQL must differ ask this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
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

/// One mutation's transaction; derefs to the connection the store functions take.
pub struct WriteTx {
    tx: Tx,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub async fn commit(self) -> AppResult<()> {
        self.tx.commit().await?;
        Ok(())
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
    /// Connects (creating a SQLite file if missing) and applies the migrations.
    pub async fn connect(database_url: &str) -> anyhow::Result<Self> {
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
        let pool = AnyPoolOptions::new()
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the one writer; the busy timeout makes
                        // a writer wait for the lock instead of failing.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 30000; PRAGMA foreign_keys = ON",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        sqlx::migrate!().run(&pool).await?;
        Ok(Db { pool, backend, writer_turn: Arc::new(Mutex::new(())) })
    }

    /// A pooled connection for reads.
    pub async fn conn(&self) -> AppResult<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.pool.acquire().await?)
    }

    /// A transaction for one mutation. On SQLite it takes the write lock up front, so a
    /// read-then-write transaction never fails half-way with "database is locked".
    pub async fn begin_write(&self) -> AppResult<WriteTx> {
        Ok(match self.backend {
            Backend::Sqlite => {
                let turn = self.writer_turn.clone().lock_owned().await;
                WriteTx { tx: self.pool.begin_with("BEGIN IMMEDIATE").await?, _turn: Some(turn) }
            }
            Backend::Postgres => WriteTx { tx: self.pool.begin().await?, _turn: None },
        })
    }

    /// Whether the database answers.
    pub async fn is_healthy(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }
}

/// The permission in a row's `resource_type`, `resource_id` and `method` columns;
/// `None` where a LEFT JOIN found no permission.
fn joined_permission(row: &AnyRow) -> AppResult<Option<Permission>> {
    let resource_type: Option<String> = row.try_get("resource_type")?;
    let method: Option<String> = row.try_get("method")?;
    let (Some(resource_type), Some(method)) = (resource_type, method) else { return Ok(None) };
    match (ResourceType::parse(&resource_type), Method::parse(&method)) {
        (Some(resource_type), Some(method)) => {
            Ok(Some(Permission { resource_type, resource_id: row.try_get("resource_id")?, method }))
        }
        _ => {
            Err(AppError::internal(anyhow::anyhow!("unknown permission {resource_type:?} {method:?} in the database")))
        }
    }
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

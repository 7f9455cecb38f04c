//! The `login_failures_by_user` and `login_failures_by_address` tables. Times are
//! Unix milliseconds.

use sqlx::{AnyConnection, Row};

use crate::error::AppResult;

/// Until when `username` is locked, if it is.
pub async fn user_locked_until(conn: &mut AnyConnection, username: &str) -> AppResult<Option<i64>> {
    let row = sqlx::query("SELECT locked_until FROM login_failures_by_user WHERE username = $1")
        .bind(username)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

/// Counts one more consecutive failure and returns the new count.
pub async fn add_user_failure(conn: &mut AnyConnection, username: &str) -> AppResult<u32> {
    let consecutive: i64 = sqlx::query(
        "INSERT INTO login_failures_by_user (username, consecutive, locked_until) VALUES ($1, 1, 0) \
         ON CONFLICT (username) DO UPDATE SET consecutive = login_failures_by_user.consecutive + 1 \
         RETURNING consecutive",
    )
    .bind(username)
    .fetch_one(conn)
    .await?
    .try_get(0)?;
    Ok(u32::try_from(consecutive).unwrap_or(u32::MAX))
}

pub async fn lock_user(conn: &mut AnyConnection, username: &str, until: i64) -> AppResult<()> {
    sqlx::query("UPDATE login_failures_by_user SET locked_until = $2 WHERE username = $1")
        .bind(username)
        .bind(until)
        .execute(conn)
        .await?;
    Ok(())
}

/// A successful login starts the count again.
pub async fn clear_user(conn: &mut AnyConnection, username: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM login_failures_by_user WHERE username = $1").bind(username).execute(conn).await?;
    Ok(())
}

/// The failures from `address` since `since`, and the oldest of them.
pub async fn address_failures_since(
    conn: &mut AnyConnection,
    address: &str,
    since: i64,
) -> AppResult<(i64, Option<i64>)> {
    let row = sqlx::query(
        "SELECT COUNT(*), MIN(failed_at) FROM login_failures_by_address WHERE address = $1 AND failed_at > $2",
    )
    .bind(address)
    .bind(since)
    .fetch_one(conn)
    .await?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

/// Records a failure from `address` at `now`, forgetting its failures older than `since`.
pub async fn add_address_failure(conn: &mut AnyConnection, address: &str, now: i64, since: i64) -> AppResult<()> {
    sqlx::query("DELETE FROM login_failures_by_address WHERE address = $1 AND failed_at <= $2")
        .bind(address)
        .bind(since)
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO login_failures_by_address (address, failed_at) VALUES ($1, $2)")
        .bind(address)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

//! The login throttle's tables (RULES §6): `login_failures_by_user`,
//! `login_failures_by_address` and `login_checks` (attempts whose password check is
//! under way). Times are Unix milliseconds.

use sqlx::{AnyConnection, Row};

use super::{Backend, WriteTx, query};
use crate::error::AppResult;

/// How many rows one sweep deletes at most, so that it never holds the write lock long.
const SWEEP_BATCH: i64 = 64;

/// Serializes the throttle's transactions on `subjects` (PostgreSQL: advisory locks
/// held until the transaction ends, taken in the order given; SQLite's write
/// transaction already excludes every other writer).
pub async fn lock_subjects(tx: &mut WriteTx, subjects: &[&str]) -> AppResult<()> {
    if tx.backend == Backend::Postgres {
        for subject in subjects {
            query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))").bind(*subject).execute(&mut **tx).await?;
        }
    }
    Ok(())
}

/// A username's failures: how many in a row, until when it is locked, and when the
/// last one was.
#[derive(Debug, Clone, Copy, Default)]
pub struct UserFailures {
    pub consecutive: u32,
    pub locked_until: i64,
    pub last_failure_at: i64,
}

pub async fn user_failures(conn: &mut AnyConnection, username: &str) -> AppResult<Option<UserFailures>> {
    let row =
        query("SELECT consecutive, locked_until, last_failure_at FROM login_failures_by_user WHERE username = $1")
            .bind(username)
            .fetch_optional(conn)
            .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(UserFailures {
        consecutive: u32::try_from(row.try_get::<i64, _>(0)?).unwrap_or(u32::MAX),
        locked_until: row.try_get(1)?,
        last_failure_at: row.try_get(2)?,
    }))
}

/// Records a failure: the count goes up by one, or starts again at one when the
/// last failure is older than `forget_before` and no lock holds. Returns the count.
pub async fn add_user_failure(tx: &mut WriteTx, username: &str, now: i64, forget_before: i64) -> AppResult<u32> {
    let consecutive: i64 = query(
        "INSERT INTO login_failures_by_user (username, consecutive, locked_until, last_failure_at) \
         VALUES ($1, 1, 0, $2) \
         ON CONFLICT (username) DO UPDATE SET consecutive = CASE \
             WHEN login_failures_by_user.last_failure_at <= $3 AND login_failures_by_user.locked_until <= $2 THEN 1 \
             ELSE login_failures_by_user.consecutive + 1 END, \
         last_failure_at = $2 \
         RETURNING consecutive",
    )
    .bind(username)
    .bind(now)
    .bind(forget_before)
    .fetch_one(&mut **tx)
    .await?
    .try_get(0)?;
    Ok(u32::try_from(consecutive).unwrap_or(u32::MAX))
}

pub async fn lock_user(tx: &mut WriteTx, username: &str, until: i64) -> AppResult<()> {
    query("UPDATE login_failures_by_user SET locked_until = $2 WHERE username = $1")
        .bind(username)
        .bind(until)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A successful login (or a password reset) starts the count again.
pub async fn clear_user(conn: &mut AnyConnection, username: &str) -> AppResult<()> {
    query("DELETE FROM login_failures_by_user WHERE username = $1").bind(username).execute(conn).await?;
    Ok(())
}

/// The failures from `address` since `since`, and the oldest of them.
pub async fn address_failures_since(
    conn: &mut AnyConnection,
    address: &str,
    since: i64,
) -> AppResult<(i64, Option<i64>)> {
    let row =
        query("SELECT COUNT(*), MIN(failed_at) FROM login_failures_by_address WHERE address = $1 AND failed_at > $2")
            .bind(address)
            .bind(since)
            .fetch_one(conn)
            .await?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

/// Records a failure from `address` at `now`, forgetting its failures older than `since`.
pub async fn add_address_failure(tx: &mut WriteTx, address: &str, now: i64, since: i64) -> AppResult<()> {
    query("DELETE FROM login_failures_by_address WHERE address = $1 AND failed_at <= $2")
        .bind(address)
        .bind(since)
        .execute(&mut **tx)
        .await?;
    query("INSERT INTO login_failures_by_address (address, failed_at) VALUES ($1, $2)")
        .bind(address)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// How many checks of `subject` are under way (their leases not run out at `now`).
pub async fn checks_under_way(conn: &mut AnyConnection, subject: &str, now: i64) -> AppResult<i64> {
    let row = query("SELECT COUNT(*) FROM login_checks WHERE subject = $1 AND lease_until > $2")
        .bind(subject)
        .bind(now)
        .fetch_one(conn)
        .await?;
    Ok(row.try_get(0)?)
}

/// Counts a check `id` of each of `subjects` as under way until `lease_until`.
pub async fn add_check(tx: &mut WriteTx, id: &str, subjects: &[&str], lease_until: i64) -> AppResult<()> {
    for subject in subjects {
        query("INSERT INTO login_checks (id, subject, lease_until) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(*subject)
            .bind(lease_until)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The check `id` is over.
pub async fn remove_check(tx: &mut WriteTx, id: &str) -> AppResult<()> {
    query("DELETE FROM login_checks WHERE id = $1").bind(id).execute(&mut **tx).await?;
    Ok(())
}

/// Deletes a batch of rows that no longer count: checks whose lease ran out,
/// usernames whose window and lock have passed, address failures out of the window.
pub async fn sweep(tx: &mut WriteTx, now: i64, user_forget_before: i64, address_since: i64) -> AppResult<()> {
    let batches = [
        ("DELETE FROM login_checks WHERE id IN (SELECT id FROM login_checks WHERE lease_until <= $1 LIMIT $2)", now),
        (
            "DELETE FROM login_failures_by_user WHERE username IN (SELECT username FROM login_failures_by_user \
             WHERE last_failure_at <= $1 LIMIT $2) AND locked_until <= $3",
            user_forget_before,
        ),
        (
            "DELETE FROM login_failures_by_address WHERE (address, failed_at) IN (SELECT address, failed_at \
             FROM login_failures_by_address WHERE failed_at <= $1 LIMIT $2)",
            address_since,
        ),
    ];
    for (sql, before) in batches {
        let query = query(sql).bind(before).bind(SWEEP_BATCH);
        let query = if sql.contains("$3") { query.bind(now) } else { query };
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

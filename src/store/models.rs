//! The `models` table.

use std::collections::BTreeSet;

use sqlx::AnyConnection;

use super::{Backend, WriteTx, fetch_json, found_among, query};

use crate::error::{AppError, AppResult};

/// Every model id, sorted by bytes; in one row (see [`Backend::json_rows`]).
pub async fn list_ids(conn: &mut AnyConnection, backend: Backend) -> AppResult<Vec<String>> {
    let sql = format!("SELECT {} AS ids FROM models", backend.json_values("id"));
    let mut ids: Vec<String> = fetch_json(conn, sql, "ids").await?;
    ids.sort();
    Ok(ids)
}

/// Those of `ids` that are models, sorted by bytes.
pub async fn existing(conn: &mut AnyConnection, ids: BTreeSet<&str>) -> AppResult<Vec<String>> {
    let ids: Vec<&str> = ids.into_iter().collect();
    let mut found = found_among(conn, "SELECT id FROM models WHERE id", &ids).await?;
    found.sort();
    Ok(found)
}

pub async fn exists(conn: &mut AnyConnection, id: &str) -> AppResult<bool> {
    Ok(query("SELECT id FROM models WHERE id = $1").bind(id).fetch_optional(conn).await?.is_some())
}

/// Whether the model exists, its row locked until the transaction ends.
pub async fn lock(tx: &mut WriteTx, id: &str) -> AppResult<bool> {
    let sql = format!("SELECT id FROM models WHERE id = $1{}", tx.for_update());
    Ok(query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut **tx).await?.is_some())
}

/// Inserts a model; a taken id is ALREADY_EXISTS, decided by the primary key.
pub async fn insert(conn: &mut AnyConnection, id: &str) -> AppResult<()> {
    query("INSERT INTO models (id) VALUES ($1)")
        .bind(id)
        .execute(conn)
        .await
        .map_err(|e| AppError::from_insert(e, || format!("model {id:?}")))?;
    Ok(())
}

pub async fn delete(conn: &mut AnyConnection, id: &str) -> AppResult<()> {
    query("DELETE FROM models WHERE id = $1").bind(id).execute(conn).await?;
    Ok(())
}

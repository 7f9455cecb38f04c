//! The `models` table.

use std::collections::BTreeSet;

use sqlx::{AnyConnection, Row};

use super::{WriteTx, found_among, query};

use crate::error::{AppError, AppResult};

/// Every model id, sorted by bytes.
pub async fn list_ids(conn: &mut AnyConnection) -> AppResult<Vec<String>> {
    let rows = query("SELECT id FROM models").fetch_all(conn).await?;
    let mut ids: Vec<String> = rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?;
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

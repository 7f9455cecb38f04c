//! The `groups`, `group_permissions` and `user_groups` tables.

use std::collections::BTreeMap;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{WriteTx, joined_permission, placeholders, query};
use crate::domain::{Permission, ResourceType};
use crate::error::{AppError, AppResult};

/// A group and its permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRow {
    pub name: String,
    pub permissions: Vec<Permission>,
}

/// The names among `names` that are groups, sorted by name, locked in that order
/// against deletion (shared: others may join them too) until the transaction ends.
pub async fn lock_existing(tx: &mut WriteTx, names: &[String]) -> AppResult<Vec<String>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT name FROM groups WHERE name IN ({}) ORDER BY name{}",
        placeholders(1, names.len()),
        tx.for_share()
    );
    let mut query = query(sqlx::AssertSqlSafe(sql));
    for name in names {
        query = query.bind(name);
    }
    let rows = query.fetch_all(&mut **tx).await?;
    Ok(rows.iter().map(|row| row.try_get(0)).collect::<Result<_, _>>()?)
}

/// One group with its permissions, its row locked until the transaction ends.
pub async fn find_for_update(tx: &mut WriteTx, name: &str) -> AppResult<Option<GroupRow>> {
    let sql = format!("SELECT name FROM groups WHERE name = $1{}", tx.for_update());
    if query(sqlx::AssertSqlSafe(sql)).bind(name).fetch_optional(&mut **tx).await?.is_none() {
        return Ok(None);
    }
    find(tx, name).await
}

/// Inserts a group that belongs to a resource, unless the name is taken; whether it
/// was inserted.
pub async fn insert_owned_if_free(
    tx: &mut WriteTx,
    name: &str,
    owner_kind: ResourceType,
    owner_id: &str,
) -> AppResult<bool> {
    let inserted =
        query("INSERT INTO groups (name, owner_kind, owner_id) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(owner_kind.as_str())
            .bind(owner_id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
    Ok(inserted == 1)
}

pub async fn insert_permissions(tx: &mut WriteTx, group: &str, permissions: &[Permission]) -> AppResult<()> {
    tx.changes_access();
    for permission in permissions {
        query("INSERT INTO group_permissions (group_name, resource_type, resource_id, method) VALUES ($1, $2, $3, $4)")
            .bind(group)
            .bind(permission.resource_type.as_str())
            .bind(&permission.resource_id)
            .bind(permission.method.as_str())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Deletes the groups a resource owns; memberships and permissions cascade.
pub async fn delete_owned(tx: &mut WriteTx, owner_kind: ResourceType, owner_id: &str) -> AppResult<()> {
    tx.changes_access();
    query("DELETE FROM groups WHERE owner_kind = $1 AND owner_id = $2")
        .bind(owner_kind.as_str())
        .bind(owner_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The names of the groups a resource owns.
pub async fn owned_by(conn: &mut AnyConnection, owner_kind: ResourceType, owner_id: &str) -> AppResult<Vec<String>> {
    let rows = query("SELECT name FROM groups WHERE owner_kind = $1 AND owner_id = $2")
        .bind(owner_kind.as_str())
        .bind(owner_id)
        .fetch_all(conn)
        .await?;
    Ok(rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?)
}

/// The names of the groups a user is in, sorted by name.
pub async fn memberships(conn: &mut AnyConnection, username: &str) -> AppResult<Vec<String>> {
    let rows = query("SELECT group_name FROM user_groups WHERE username = $1").bind(username).fetch_all(conn).await?;
    let mut names: Vec<String> = rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?;
    names.sort();
    Ok(names)
}

/// Puts a user in `groups`, which must exist, whether or not it is already in them.
pub async fn add_member(tx: &mut WriteTx, username: &str, groups: &[String]) -> AppResult<()> {
    tx.changes_access();
    for group in groups {
        query("INSERT INTO user_groups (username, group_name) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(username)
            .bind(group)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Takes a user out of `groups`, whether or not it is in them.
pub async fn remove_member(tx: &mut WriteTx, username: &str, groups: &[String]) -> AppResult<()> {
    tx.changes_access();
    for group in groups {
        query("DELETE FROM user_groups WHERE username = $1 AND group_name = $2")
            .bind(username)
            .bind(group)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// A group with its permissions in the contract's order, without repeats.
pub fn group_row(name: String, mut permissions: Vec<Permission>) -> GroupRow {
    permissions.sort();
    permissions.dedup();
    GroupRow { name, permissions }
}

/// Every group, sorted by name, in one statement.
pub async fn list(conn: &mut AnyConnection) -> AppResult<Vec<GroupRow>> {
    let rows = query(
        "SELECT g.name, p.resource_type, p.resource_id, p.method \
         FROM groups g LEFT JOIN group_permissions p ON p.group_name = g.name",
    )
    .fetch_all(conn)
    .await?;
    fold_groups(&rows)
}

/// One group with its permissions.
pub async fn find(conn: &mut AnyConnection, name: &str) -> AppResult<Option<GroupRow>> {
    let rows = query(
        "SELECT g.name, p.resource_type, p.resource_id, p.method \
         FROM groups g LEFT JOIN group_permissions p ON p.group_name = g.name WHERE g.name = $1",
    )
    .bind(name)
    .fetch_all(conn)
    .await?;
    Ok(fold_groups(&rows)?.pop())
}

/// Rows of (name, permission columns) folded into groups sorted by name.
fn fold_groups(rows: &[AnyRow]) -> AppResult<Vec<GroupRow>> {
    let mut by_name: BTreeMap<String, Vec<Permission>> = BTreeMap::new();
    for row in rows {
        by_name.entry(row.try_get("name")?).or_default().extend(joined_permission(row)?);
    }
    Ok(by_name.into_iter().map(|(name, permissions)| group_row(name, permissions)).collect())
}

/// Creates a plain group; a taken name is ALREADY_EXISTS, decided by the primary key.
pub async fn create(tx: &mut WriteTx, group: &GroupRow) -> AppResult<()> {
    query("INSERT INTO groups (name) VALUES ($1)")
        .bind(&group.name)
        .execute(&mut **tx)
        .await
        .map_err(|e| AppError::from_insert(e, || format!("group {:?}", group.name)))?;
    insert_permissions(tx, &group.name, &group.permissions).await
}

/// Replaces a group's permissions.
pub async fn set_permissions(tx: &mut WriteTx, group: &GroupRow) -> AppResult<()> {
    tx.changes_access();
    query("DELETE FROM group_permissions WHERE group_name = $1").bind(&group.name).execute(&mut **tx).await?;
    insert_permissions(tx, &group.name, &group.permissions).await
}

/// Deletes a group; its permissions and memberships cascade.
pub async fn delete(tx: &mut WriteTx, name: &str) -> AppResult<()> {
    tx.changes_access();
    query("DELETE FROM groups WHERE name = $1").bind(name).execute(&mut **tx).await?;
    Ok(())
}

/// Every distinct permission held by some group, in the contract's order.
pub async fn distinct_permissions(conn: &mut AnyConnection) -> AppResult<Vec<Permission>> {
    let rows =
        query("SELECT DISTINCT resource_type, resource_id, method FROM group_permissions").fetch_all(conn).await?;
    let mut permissions = Vec::with_capacity(rows.len());
    for row in &rows {
        permissions.extend(joined_permission(row)?);
    }
    permissions.sort();
    Ok(permissions)
}

//! The `groups`, `group_permissions` and `user_groups` tables.

use std::collections::BTreeMap;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::found_among;
use super::joined_permission;
use crate::auth::policy::{OwnedGroup, disambiguated_name};
use crate::domain::{Permission, ResourceType};
use crate::error::{AppError, AppResult};

/// A group and its permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRow {
    pub name: String,
    pub permissions: Vec<Permission>,
}

/// The names among `names` that are not groups, in the order given.
pub async fn missing(conn: &mut AnyConnection, names: &[String]) -> AppResult<Vec<String>> {
    let wanted: Vec<&str> = names.iter().map(String::as_str).collect();
    let found = found_among(conn, "SELECT name FROM groups WHERE name", &wanted).await?;
    Ok(names.iter().filter(|n| !found.contains(n)).cloned().collect())
}

/// BAD_USER_INPUT unless every group named exists (RULES §5).
pub async fn require_existing(conn: &mut AnyConnection, names: &[String]) -> AppResult<()> {
    let missing = missing(conn, names).await?;
    if missing.is_empty() { Ok(()) } else { Err(AppError::bad_input(format!("no such group: {}", missing.join(", ")))) }
}

/// Creates the group a resource owns and returns the name it got: MLTE's name when
/// free, else the first free disambiguated one, so that a group made for another
/// resource (or by hand) is never reused and its rights never handed over.
pub async fn create_owned(
    conn: &mut AnyConnection,
    group: &OwnedGroup,
    owner_kind: ResourceType,
    owner_id: &str,
) -> AppResult<String> {
    let mut attempt = 1;
    let name = loop {
        let name = if attempt == 1 { group.name.clone() } else { disambiguated_name(&group.name, attempt) };
        let inserted = sqlx::query(
            "INSERT INTO groups (name, owner_kind, owner_id) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&name)
        .bind(owner_kind.as_str())
        .bind(owner_id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if inserted == 1 {
            break name;
        }
        attempt += 1;
    };
    insert_permissions(conn, &name, &group.permissions).await?;
    Ok(name)
}

async fn insert_permissions(conn: &mut AnyConnection, group: &str, permissions: &[Permission]) -> AppResult<()> {
    for permission in permissions {
        sqlx::query(
            "INSERT INTO group_permissions (group_name, resource_type, resource_id, method) VALUES ($1, $2, $3, $4)",
        )
        .bind(group)
        .bind(permission.resource_type.as_str())
        .bind(&permission.resource_id)
        .bind(permission.method.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Deletes the groups a resource owns; memberships and permissions cascade.
pub async fn delete_owned(conn: &mut AnyConnection, owner_kind: ResourceType, owner_id: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM groups WHERE owner_kind = $1 AND owner_id = $2")
        .bind(owner_kind.as_str())
        .bind(owner_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The names of the groups a resource owns.
pub async fn owned_by(conn: &mut AnyConnection, owner_kind: ResourceType, owner_id: &str) -> AppResult<Vec<String>> {
    let rows = sqlx::query("SELECT name FROM groups WHERE owner_kind = $1 AND owner_id = $2")
        .bind(owner_kind.as_str())
        .bind(owner_id)
        .fetch_all(conn)
        .await?;
    Ok(rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?)
}

/// Puts a user in those of `groups` that exist (a default group may have been
/// deleted), whether or not it is already in them.
pub async fn add_member(conn: &mut AnyConnection, username: &str, groups: &[String]) -> AppResult<()> {
    for group in groups {
        sqlx::query(
            "INSERT INTO user_groups (username, group_name) SELECT CAST($1 AS TEXT), name FROM groups WHERE name = $2 \
             ON CONFLICT DO NOTHING",
        )
        .bind(username)
        .bind(group)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Makes `groups` the user's whole group list.
pub async fn replace_memberships(conn: &mut AnyConnection, username: &str, groups: &[String]) -> AppResult<()> {
    sqlx::query("DELETE FROM user_groups WHERE username = $1").bind(username).execute(&mut *conn).await?;
    add_member(conn, username, groups).await
}

/// A group with its permissions in the contract's order, without repeats.
pub fn group_row(name: String, mut permissions: Vec<Permission>) -> GroupRow {
    permissions.sort();
    permissions.dedup();
    GroupRow { name, permissions }
}

/// Every group, sorted by name, in one statement.
pub async fn list(conn: &mut AnyConnection) -> AppResult<Vec<GroupRow>> {
    let rows = sqlx::query(
        "SELECT g.name, p.resource_type, p.resource_id, p.method \
         FROM groups g LEFT JOIN group_permissions p ON p.group_name = g.name",
    )
    .fetch_all(conn)
    .await?;
    fold_groups(&rows)
}

/// One group with its permissions.
pub async fn find(conn: &mut AnyConnection, name: &str) -> AppResult<Option<GroupRow>> {
    let rows = sqlx::query(
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
pub async fn create(conn: &mut AnyConnection, group: &GroupRow) -> AppResult<()> {
    sqlx::query("INSERT INTO groups (name) VALUES ($1)")
        .bind(&group.name)
        .execute(&mut *conn)
        .await
        .map_err(|e| AppError::from_insert(e, || format!("group {:?}", group.name)))?;
    insert_permissions(conn, &group.name, &group.permissions).await
}

/// Replaces a group's permissions.
pub async fn set_permissions(conn: &mut AnyConnection, group: &GroupRow) -> AppResult<()> {
    sqlx::query("DELETE FROM group_permissions WHERE group_name = $1").bind(&group.name).execute(&mut *conn).await?;
    insert_permissions(conn, &group.name, &group.permissions).await
}

/// Deletes a group; its permissions and memberships cascade.
pub async fn delete(conn: &mut AnyConnection, name: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM groups WHERE name = $1").bind(name).execute(conn).await?;
    Ok(())
}

/// Every distinct permission held by some group, in the contract's order.
pub async fn distinct_permissions(conn: &mut AnyConnection) -> AppResult<Vec<Permission>> {
    let rows = sqlx::query("SELECT DISTINCT resource_type, resource_id, method FROM group_permissions")
        .fetch_all(conn)
        .await?;
    let mut permissions = Vec::with_capacity(rows.len());
    for row in &rows {
        permissions.extend(joined_permission(row)?);
    }
    permissions.sort();
    Ok(permissions)
}

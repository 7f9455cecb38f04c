//! Creating, editing and deleting groups (RULES §3), and the groups a resource owns
//! (§4).

use super::Actor;
use super::naming::{OwnedGroup, disambiguated_name};
use crate::domain::{Method, Permission, ResourceType};
use crate::error::{AppError, AppResult};
use crate::store::WriteTx;
use crate::store::groups::{self as group_rows, GroupRow};

/// What a group mutation needs (RULES §3): GROUP, its name, POST / PUT / DELETE.
pub fn permission(name: &str, method: Method) -> Permission {
    Permission::new(ResourceType::Group, Some(name), method)
}

/// Creates a group; a taken name is ALREADY_EXISTS.
pub async fn create(tx: &mut WriteTx, actor: Actor<'_>, group: &GroupRow) -> AppResult<()> {
    let acting = actor.acting(tx, None, false).await?;
    acting.require(&permission(&group.name, Method::Post))?;
    group_rows::create(tx, group).await?;
    let fields = if group.permissions.is_empty() { Vec::new() } else { vec!["permissions"] };
    acting.record(tx, ResourceType::Group, &group.name, fields);
    Ok(())
}

/// Replaces a group's permissions.
pub async fn edit(tx: &mut WriteTx, actor: Actor<'_>, group: &GroupRow) -> AppResult<()> {
    let acting = actor.acting(tx, None, false).await?;
    acting.require(&permission(&group.name, Method::Put))?;
    let before = group_rows::find_for_update(tx, &group.name).await?.ok_or_else(|| not_found(&group.name))?;
    let fields = if before.permissions == group.permissions {
        Vec::new()
    } else {
        group_rows::set_permissions(tx, group).await?;
        vec!["permissions"]
    };
    acting.record(tx, ResourceType::Group, &group.name, fields);
    Ok(())
}

/// Deletes a group and removes it from every user; returns it as it was.
pub async fn delete(tx: &mut WriteTx, actor: Actor<'_>, name: &str) -> AppResult<GroupRow> {
    let acting = actor.acting(tx, None, false).await?;
    acting.require(&permission(name, Method::Delete))?;
    let group = group_rows::find_for_update(tx, name).await?.ok_or_else(|| not_found(name))?;
    group_rows::delete(tx, name).await?;
    acting.record(tx, ResourceType::Group, name, Vec::new());
    Ok(group)
}

/// Creates the group a resource owns and returns the name it got: MLTE's name when
/// free, else the first free disambiguated one, so that a group made for another
/// resource (or by hand) is never reused and its rights never handed over (RULES §4).
pub(super) async fn create_owned(
    tx: &mut WriteTx,
    group: &OwnedGroup,
    owner_kind: ResourceType,
    owner_id: &str,
) -> AppResult<String> {
    let mut attempt = 1;
    let name = loop {
        let name = if attempt == 1 { group.name.clone() } else { disambiguated_name(&group.name, attempt) };
        if group_rows::insert_owned_if_free(tx, &name, owner_kind, owner_id).await? {
            break name;
        }
        attempt += 1;
    };
    group_rows::insert_permissions(tx, &name, &group.permissions).await?;
    Ok(name)
}

pub fn not_found(name: &str) -> AppError {
    AppError::not_found(format!("group {name:?} not found"))
}

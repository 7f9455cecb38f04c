//! Creating and deleting models, with the two groups each owns (RULES §3, §4).

use super::Actor;
use super::groups::create_owned;
use super::naming::{OwnedGroupKind, owned_group};
use crate::domain::{Method, Permission, ResourceType};
use crate::error::{AppError, AppResult};
use crate::store::{WriteTx, groups as group_rows, models as model_rows};

/// What a model mutation needs (RULES §3): MODEL, its id, POST / DELETE.
pub fn permission(id: &str, method: Method) -> Permission {
    Permission::new(ResourceType::Model, Some(id), method)
}

/// Creates the model with its `read-model-<id>` and `edit-model-<id>` groups, and
/// puts a non-admin actor in both.
pub async fn create(tx: &mut WriteTx, actor: Actor<'_>, id: &str) -> AppResult<()> {
    // The caller's row is locked: it is about to join groups, and must not be
    // deleted meanwhile.
    let acting = actor.acting(tx, None, true).await?;
    acting.require(&permission(id, Method::Post))?;
    model_rows::insert(tx, id).await?;
    let mut own = Vec::new();
    for kind in [OwnedGroupKind::Read, OwnedGroupKind::Edit] {
        own.push(create_owned(tx, &owned_group(kind, ResourceType::Model, id), ResourceType::Model, id).await?);
    }
    if let (false, Some(username)) = (acting.is_admin(), acting.username()) {
        group_rows::add_member(tx, username, &own).await?;
    }
    acting.record(tx, ResourceType::Model, id, Vec::new());
    Ok(())
}

/// Removes the model, its two groups and every membership in them.
pub async fn delete(tx: &mut WriteTx, actor: Actor<'_>, id: &str) -> AppResult<()> {
    let acting = actor.acting(tx, None, false).await?;
    acting.require(&permission(id, Method::Delete))?;
    if !model_rows::lock(tx, id).await? {
        return Err(not_found(id));
    }
    group_rows::delete_owned(tx, ResourceType::Model, id).await?;
    model_rows::delete(tx, id).await?;
    acting.record(tx, ResourceType::Model, id, Vec::new());
    Ok(())
}

pub fn not_found(id: &str) -> AppError {
    AppError::not_found(format!("model {id:?} not found"))
}

//! `groups`, `group`, `permissions` and the group mutations.

use async_graphql::{Context, Object};

use super::guards::Requires;
use super::types::{Group, GroupInput};
use super::{begin_write, state};
use crate::domain::{Method, Permission, ResourceType, validate};
use crate::error::{AppError, AppResult};
use crate::store::groups::{self, GroupRow};

#[derive(Default)]
pub struct GroupQuery;

#[Object]
impl GroupQuery {
    /// Every group, sorted by name.
    #[graphql(guard = "Requires::permission(ResourceType::Group, None, Method::Get)")]
    async fn groups(&self, ctx: &Context<'_>) -> AppResult<Vec<Group>> {
        let rows = groups::list(&mut *state(ctx)?.db.conn().await?).await?;
        Ok(rows.into_iter().map(Group::from).collect())
    }

    #[graphql(guard = "Requires::permission(ResourceType::Group, Some(&name), Method::Get)")]
    async fn group(&self, ctx: &Context<'_>, name: String) -> AppResult<Option<Group>> {
        let row = groups::find(&mut *state(ctx)?.db.conn().await?, &name).await?;
        row.map(|row| Some(Group::from(row))).ok_or_else(|| not_found(&name))
    }

    /// Every distinct permission held by some group.
    #[graphql(guard = "Requires::permission(ResourceType::Group, None, Method::Get)")]
    async fn permissions(&self, ctx: &Context<'_>) -> AppResult<Vec<Permission>> {
        groups::distinct_permissions(&mut *state(ctx)?.db.conn().await?).await
    }
}

#[derive(Default)]
pub struct GroupMutation;

#[Object]
impl GroupMutation {
    #[graphql(guard = "Requires::permission(ResourceType::Group, Some(&input.name), Method::Post)")]
    async fn create_group(&self, ctx: &Context<'_>, input: GroupInput) -> AppResult<Group> {
        validate::resource_name("name", &input.name)?;
        let group = group_row(input)?;
        let mut tx = begin_write(ctx).await?;
        groups::create(&mut tx, &group).await?;
        tx.commit().await?;
        Ok(group.into())
    }

    /// Replaces the group's permissions.
    #[graphql(guard = "Requires::permission(ResourceType::Group, Some(&input.name), Method::Put)")]
    async fn edit_group(&self, ctx: &Context<'_>, input: GroupInput) -> AppResult<Group> {
        validate::no_control_chars("name", &input.name)?;
        let group = group_row(input)?;
        let mut tx = begin_write(ctx).await?;
        if groups::find(&mut tx, &group.name).await?.is_none() {
            return Err(not_found(&group.name));
        }
        groups::set_permissions(&mut tx, &group).await?;
        tx.commit().await?;
        Ok(group.into())
    }

    /// Deletes the group and removes it from every user; returns it as it was.
    #[graphql(guard = "Requires::permission(ResourceType::Group, Some(&name), Method::Delete)")]
    async fn delete_group(&self, ctx: &Context<'_>, name: String) -> AppResult<Group> {
        let mut tx = begin_write(ctx).await?;
        let group = groups::find(&mut tx, &name).await?.ok_or_else(|| not_found(&name))?;
        groups::delete(&mut tx, &name).await?;
        tx.commit().await?;
        Ok(group.into())
    }
}

fn not_found(name: &str) -> AppError {
    AppError::not_found(format!("group {name:?} not found"))
}

/// The group an input describes, its permissions validated, sorted and without repeats.
fn group_row(input: GroupInput) -> AppResult<GroupRow> {
    let mut permissions = Vec::with_capacity(input.permissions.len());
    for permission in input.permissions {
        if let Some(id) = &permission.resource_id {
            validate::no_control_chars("resourceId", id)?;
        }
        permissions.push(Permission {
            resource_type: permission.resource_type,
            resource_id: permission.resource_id,
            method: permission.method,
        });
    }
    Ok(groups::group_row(input.name, permissions))
}

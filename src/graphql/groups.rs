//! `groups`, `group`, `permissions` and the group mutations.

use async_graphql::{Context, Object};

use super::answer::Listing;
use super::guards::{Requires, caller};
use super::types::{Group, GroupInput};
use super::{actor, db_to_write, state};
use crate::accounts::groups;
use crate::domain::{Method, Permission, ResourceType, validate};
use crate::error::AppResult;
use crate::store::groups::{self as group_rows, GroupRow};
use crate::store::write_tx;

#[derive(Default)]
pub struct GroupQuery;

#[Object]
impl GroupQuery {
    /// Every group, sorted by name.
    #[graphql(
        guard = "Requires::permission(ResourceType::Group, None, Method::Get)",
        complexity = "super::LIST_WEIGHT * child_complexity"
    )]
    async fn groups(&self, ctx: &Context<'_>) -> AppResult<Listing<Group>> {
        let rows = group_rows::list(&mut *state(ctx)?.db.conn().await?).await?;
        Ok(Listing(rows.into_iter().map(Group::from).collect()))
    }

    #[graphql(guard = "Requires::permission(ResourceType::Group, Some(&name), Method::Get)")]
    async fn group(&self, ctx: &Context<'_>, name: String) -> AppResult<Option<Group>> {
        let row = group_rows::find(&mut *state(ctx)?.db.conn().await?, &name).await?;
        row.map(|row| Some(Group::from(row))).ok_or_else(|| groups::not_found(&name))
    }

    /// Every distinct permission held by some group.
    #[graphql(
        guard = "Requires::permission(ResourceType::Group, None, Method::Get)",
        complexity = "super::LIST_WEIGHT * child_complexity"
    )]
    async fn permissions(&self, ctx: &Context<'_>) -> AppResult<Vec<Permission>> {
        group_rows::distinct_permissions(&mut *state(ctx)?.db.conn().await?).await
    }
}

#[derive(Default)]
pub struct GroupMutation;

#[Object]
impl GroupMutation {
    #[graphql(guard = "Requires::to(groups::permission(&input.name, Method::Post))")]
    async fn create_group(&self, ctx: &Context<'_>, input: GroupInput) -> AppResult<Group> {
        let actor = actor(ctx, caller(ctx).await?, "createGroup")?;
        validate::resource_name("name", &input.name)?;
        let group = group_row(input)?;
        write_tx!(db_to_write(ctx)?, |tx| groups::create(&mut tx, actor, &group))?;
        Ok(group.into())
    }

    /// Replaces the group's permissions.
    #[graphql(guard = "Requires::to(groups::permission(&input.name, Method::Put))")]
    async fn edit_group(&self, ctx: &Context<'_>, input: GroupInput) -> AppResult<Group> {
        let actor = actor(ctx, caller(ctx).await?, "editGroup")?;
        validate::no_control_chars("name", &input.name)?;
        let group = group_row(input)?;
        write_tx!(db_to_write(ctx)?, |tx| groups::edit(&mut tx, actor, &group))?;
        Ok(group.into())
    }

    /// Deletes the group and removes it from every user; returns it as it was.
    #[graphql(guard = "Requires::to(groups::permission(&name, Method::Delete))")]
    async fn delete_group(&self, ctx: &Context<'_>, name: String) -> AppResult<Group> {
        let actor = actor(ctx, caller(ctx).await?, "deleteGroup")?;
        let group = write_tx!(db_to_write(ctx)?, |tx| groups::delete(&mut tx, actor, &name))?;
        Ok(group.into())
    }
}

/// The group an input describes, its permissions validated, sorted and without repeats.
fn group_row(input: GroupInput) -> AppResult<GroupRow> {
    let mut permissions = Vec::with_capacity(input.permissions.len());
    for permission in input.permissions {
        if let Some(id) = &permission.resource_id {
            validate::no_control_chars("resourceId", id)?;
        }
        permissions.push(Permission::from(permission));
    }
    Ok(group_rows::group_row(input.name, permissions))
}

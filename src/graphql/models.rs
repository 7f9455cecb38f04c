//! `models`, `model`, `createModel`, `deleteModel`.

use async_graphql::{Context, Object};

use super::guards::{Requires, caller};
use super::types::Model;
use super::{begin_write, state};
use crate::auth::policy::{self, GroupAccess};
use crate::domain::{Method, ResourceType, validate};
use crate::error::{AppError, AppResult};
use crate::store::{groups, models};

#[derive(Default)]
pub struct ModelQuery;

#[Object]
impl ModelQuery {
    /// The models the caller may read, sorted by id.
    #[graphql(guard = "Requires::token()")]
    async fn models(&self, ctx: &Context<'_>) -> AppResult<Vec<Model>> {
        let caller = caller(ctx).await?;
        let ids = models::list_ids(&mut *state(ctx)?.db.conn().await?).await?;
        let readable = policy::readable(caller.role(), &caller.permissions, ResourceType::Model).among(&ids);
        Ok(readable.into_iter().map(|id| Model { id }).collect())
    }

    #[graphql(guard = "Requires::permission(ResourceType::Model, Some(&id), Method::Get)")]
    async fn model(&self, ctx: &Context<'_>, id: String) -> AppResult<Option<Model>> {
        if models::exists(&mut *state(ctx)?.db.conn().await?, &id).await? {
            Ok(Some(Model { id }))
        } else {
            Err(AppError::not_found(format!("model {id:?} not found")))
        }
    }
}

#[derive(Default)]
pub struct ModelMutation;

#[Object]
impl ModelMutation {
    /// Creates the model with its `read-model-<id>` and `edit-model-<id>` groups, and
    /// puts a non-admin caller in both.
    #[graphql(guard = "Requires::permission(ResourceType::Model, Some(&id), Method::Post)")]
    async fn create_model(&self, ctx: &Context<'_>, id: String) -> AppResult<Model> {
        let caller = caller(ctx).await?;
        validate::resource_name("id", &id)?;
        let mut tx = begin_write(ctx).await?;
        models::insert(&mut tx, &id).await?;
        let mut own = Vec::new();
        for access in [GroupAccess::Read, GroupAccess::Edit] {
            let group = policy::owned_group(access, ResourceType::Model, &id);
            own.push(groups::create_owned(&mut tx, &group, ResourceType::Model, &id).await?);
        }
        if !caller.is_admin() {
            groups::add_member(&mut tx, caller.username(), &own).await?;
        }
        tx.commit().await?;
        Ok(Model { id })
    }

    /// Removes the model, its two groups and every membership in them.
    #[graphql(guard = "Requires::permission(ResourceType::Model, Some(&id), Method::Delete)")]
    async fn delete_model(&self, ctx: &Context<'_>, id: String) -> AppResult<Model> {
        let mut tx = begin_write(ctx).await?;
        if !models::exists(&mut tx, &id).await? {
            return Err(AppError::not_found(format!("model {id:?} not found")));
        }
        groups::delete_owned(&mut tx, ResourceType::Model, &id).await?;
        models::delete(&mut tx, &id).await?;
        tx.commit().await?;
        Ok(Model { id })
    }
}

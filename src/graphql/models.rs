//! `models`, `model`, `createModel`, `deleteModel`.

use async_graphql::{Context, Object};

use super::answer::Listing;
use super::guards::{Requires, caller};
use super::types::Model;
use super::{actor, db_to_write, state};
use crate::accounts::models;
use crate::auth::policy;
use crate::domain::{Method, ResourceType, validate};
use crate::error::AppResult;
use crate::store::models as model_rows;
use crate::store::write_tx;

#[derive(Default)]
pub struct ModelQuery;

#[Object]
impl ModelQuery {
    /// The models the caller may read, sorted by id.
    #[graphql(complexity = "super::LIST_WEIGHT * child_complexity")]
    async fn models(&self, ctx: &Context<'_>) -> AppResult<Listing<Model>> {
        let caller = caller(ctx).await?;
        let db = &state(ctx)?.db;
        let ids = model_rows::list_ids(&mut *db.conn().await?, db.backend).await?;
        let readable = policy::readable(caller.role(), &caller.permissions, ResourceType::Model).among(&ids);
        let access_pages = super::access::access_pages_of(ctx, &readable).await?;
        if !access_pages.is_empty() {
            super::data::<super::loaders::Loaders>(ctx)?.prefetch_access(access_pages).await?;
        }
        Ok(Listing(readable.into_iter().map(|id| Model { id }).collect()))
    }

    #[graphql(guard = "Requires::permission(ResourceType::Model, Some(&id), Method::Get)")]
    async fn model(&self, ctx: &Context<'_>, id: String) -> AppResult<Option<Model>> {
        if model_rows::exists(&mut *state(ctx)?.db.conn().await?, &id).await? {
            Ok(Some(Model { id }))
        } else {
            Err(models::not_found(&id))
        }
    }
}

#[derive(Default)]
pub struct ModelMutation;

#[Object]
impl ModelMutation {
    /// Creates the model with its `read-model-<id>` and `edit-model-<id>` groups, and
    /// puts a non-admin caller in both.
    #[graphql(guard = "Requires::to(models::permission(&id, Method::Post))")]
    async fn create_model(&self, ctx: &Context<'_>, id: String) -> AppResult<Model> {
        let actor = actor(ctx, caller(ctx).await?, "createModel")?;
        validate::resource_name("id", &id)?;
        write_tx!(db_to_write(ctx)?, |tx| models::create(&mut tx, actor, &id))?;
        Ok(Model { id })
    }

    /// Removes the model, its two groups and every membership in them.
    #[graphql(guard = "Requires::to(models::permission(&id, Method::Delete))")]
    async fn delete_model(&self, ctx: &Context<'_>, id: String) -> AppResult<Model> {
        let actor = actor(ctx, caller(ctx).await?, "deleteModel")?;
        write_tx!(db_to_write(ctx)?, |tx| models::delete(&mut tx, actor, &id))?;
        Ok(Model { id })
    }
}

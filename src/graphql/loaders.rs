//! Per-request DataLoaders: however many users one response touches, their groups,
//! permissions and readable models cost a fixed number of statements. Created per
//! request, so nothing cached crosses users.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};

use crate::auth::policy;
use crate::domain::{Method, Permission, ResourceType};
use crate::error::AppError;
use crate::store::groups::{self, GroupRow};
use crate::store::{Db, models, users};

/// The loaders of one request.
pub struct Loaders {
    pub groups: DataLoader<GroupsByUser>,
    pub models: DataLoader<ModelsByUser>,
}

impl Loaders {
    pub fn new(db: &Db) -> Self {
        Loaders {
            groups: DataLoader::new(GroupsByUser(db.clone()), tokio::spawn),
            models: DataLoader::new(ModelsByUser(db.clone()), tokio::spawn),
        }
    }
}

/// Groups (with permissions) by username: one statement per batch.
pub struct GroupsByUser(Db);

impl Loader<String> for GroupsByUser {
    type Value = Vec<GroupRow>;
    type Error = AppError;

    async fn load(&self, usernames: &[String]) -> Result<HashMap<String, Vec<GroupRow>>, AppError> {
        groups::of_users(&mut *self.0.conn().await?, usernames).await
    }
}

/// The ids of the models each user may read: one statement for the users' roles and
/// permissions, one for the model ids, then the permission check in memory.
pub struct ModelsByUser(Db);

impl Loader<String> for ModelsByUser {
    type Value = Vec<String>;
    type Error = AppError;

    async fn load(&self, usernames: &[String]) -> Result<HashMap<String, Vec<String>>, AppError> {
        let mut conn = self.0.conn().await?;
        let principals = users::principals(&mut conn, usernames).await?;
        let ids = models::list_ids(&mut conn).await?;
        Ok(principals
            .into_values()
            .map(|user| {
                let readable = ids
                    .iter()
                    .filter(|id| {
                        let requested = Permission::new(ResourceType::Model, Some(id), Method::Get);
                        policy::is_allowed(user.role, &user.permissions, &requested)
                    })
                    .cloned()
                    .collect();
                (user.username, readable)
            })
            .collect())
    }
}

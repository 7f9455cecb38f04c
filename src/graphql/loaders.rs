//! Per-request loaders: however many users one response touches, their groups,
//! permissions and readable models cost a fixed number of statements (one for every
//! user with its groups, one for the model ids). Created per request, so nothing cached
//! crosses requests or users.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use tokio::sync::Mutex;

use super::access::{AccessByModel, AccessKey, AccessPage};
use crate::auth::policy::{self, Readable};
use crate::domain::ResourceType;
use crate::error::{AppError, AppResult};
use crate::store::users::{self, ModelGrants, UserWithGroups};
use crate::store::{Db, models};

/// The loaders of one request.
pub struct Loaders {
    db: Db,
    users: DataLoader<UserWithGroupsByName, HashMapCache>,
    /// Users already in `users`'s cache with their groups (the caller, a prefetched list):
    /// their models are found from it; anyone else's from the lighter `grants`.
    with_groups_known: std::sync::Mutex<HashSet<String>>,
    grants: DataLoader<GrantsByUser, HashMapCache>,
    /// Every model id, read once (the lock makes concurrent first readers wait for it).
    model_ids: Mutex<Option<Arc<Vec<String>>>>,
    access: DataLoader<AccessByModel, HashMapCache>,
}

impl Loaders {
    pub fn new(db: &Db) -> Self {
        // Cached for the request only; one batch for every user a response names (the
        // store reads them all in one statement whatever their number).
        // No delay: lists are prefetched in one batch by their resolvers, and a lone
        // user (`user(u)`) should not wait for company that will not come.
        let users = DataLoader::with_cache(UserWithGroupsByName(db.clone()), tokio::spawn, HashMapCache::default())
            .max_batch_size(usize::MAX)
            .delay(std::time::Duration::ZERO);
        let grants = DataLoader::with_cache(GrantsByUser(db.clone()), tokio::spawn, HashMapCache::default())
            .max_batch_size(usize::MAX)
            .delay(std::time::Duration::ZERO);
        let access = DataLoader::with_cache(AccessByModel(db.clone()), tokio::spawn, HashMapCache::default())
            .max_batch_size(usize::MAX)
            .delay(std::time::Duration::ZERO);
        Loaders {
            db: db.clone(),
            users,
            with_groups_known: Default::default(),
            grants,
            model_ids: Mutex::new(None),
            access,
        }
    }

    /// Loads every user of `usernames` in one batch, so that their fields then
    /// answer from the cache; batching by timing alone can split a large listing.
    pub async fn prefetch_users_with_groups(&self, usernames: Vec<String>) -> AppResult<()> {
        self.known().extend(usernames.iter().cloned());
        self.users.load_many(usernames).await.map(drop)
    }

    /// Loads what decides the models of all `usernames` in one batch: a listing of
    /// users with their models but not their groups.
    pub async fn prefetch_model_grants(&self, usernames: Vec<String>) -> AppResult<()> {
        self.grants.load_many(usernames).await.map(drop)
    }

    /// Puts a user already read (the caller's) in this request's cache.
    pub async fn feed_user(&self, user: Arc<UserWithGroups>) {
        self.known().insert(user.username.clone());
        self.users.feed_one(user.username.clone(), user).await
    }

    fn known(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.with_groups_known.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A user's role and groups, batched with every other user of the response.
    pub async fn user(&self, username: &str) -> AppResult<Option<Arc<UserWithGroups>>> {
        self.users.load_one(username.to_owned()).await
    }

    /// The ids of the models `username` may read, sorted. When every model id has
    /// been read for this request (a listing of users), from those; otherwise all of
    /// them only for a user who may read all, and just its own ones for anyone else,
    /// so that one user's models cost what its answer holds.
    pub async fn readable_models(&self, username: &str) -> AppResult<Vec<String>> {
        let (user, grants);
        let readable = if self.known().contains(username) {
            let Some(found) = self.user(username).await? else { return Ok(Vec::new()) };
            user = found;
            policy::readable(user.role, user.groups.iter().flat_map(|group| &group.permissions), ResourceType::Model)
        } else {
            let Some(found) = self.grants.load_one(username.to_owned()).await? else { return Ok(Vec::new()) };
            grants = found;
            policy::readable(grants.role, &grants.permissions, ResourceType::Model)
        };
        let listed = self.model_ids.lock().await.clone();
        match (readable, listed) {
            (readable, Some(all_ids)) => Ok(readable.among(&all_ids)),
            (Readable::All, None) => Ok(self.model_ids().await?.to_vec()),
            (Readable::Only(ids), None) => models::existing(&mut *self.db.conn().await?, ids).await,
        }
    }

    /// Reads every model id once for this request: a listing of users with models.
    pub async fn prefetch_model_ids(&self) -> AppResult<()> {
        self.model_ids().await.map(drop)
    }

    async fn model_ids(&self) -> AppResult<Arc<Vec<String>>> {
        let mut cached = self.model_ids.lock().await;
        if let Some(ids) = cached.as_ref() {
            return Ok(ids.clone());
        }
        let ids = Arc::new(models::list_ids(&mut *self.db.conn().await?, self.db.backend).await?);
        *cached = Some(ids.clone());
        Ok(ids)
    }

    /// A page of `Model.access`, batched with every other page of the response.
    pub async fn access(&self, key: AccessKey) -> AppResult<Arc<AccessPage>> {
        let page = self.access.load_one(key).await?;
        page.ok_or_else(|| AppError::internal(anyhow::anyhow!("an access page was not loaded")))
    }

    /// Loads these pages of `Model.access` in one batch (a listing of models).
    pub async fn prefetch_access(&self, keys: Vec<AccessKey>) -> AppResult<()> {
        self.access.load_many(keys).await.map(drop)
    }

    /// Forgets what this request has read: a mutation is about to write.
    pub fn clear(&self) {
        self.access.clear::<AccessKey>();
        self.users.clear::<String>();
        self.grants.clear::<String>();
        self.known().clear();
        if let Ok(mut cached) = self.model_ids.try_lock() {
            *cached = None;
        }
    }
}

/// [`ModelGrants`] by username.
pub struct GrantsByUser(Db);

impl Loader<String> for GrantsByUser {
    type Value = Arc<ModelGrants>;
    type Error = AppError;

    async fn load(&self, usernames: &[String]) -> Result<HashMap<String, Arc<ModelGrants>>, AppError> {
        let found = users::model_grants(&mut *self.0.conn().await?, self.0.backend, usernames).await?;
        Ok(found.into_iter().map(|(username, grants)| (username, Arc::new(grants))).collect())
    }
}

/// [`UserWithGroups`] by username.
pub struct UserWithGroupsByName(Db);

impl Loader<String> for UserWithGroupsByName {
    type Value = Arc<UserWithGroups>;
    type Error = AppError;

    async fn load(&self, usernames: &[String]) -> Result<HashMap<String, Arc<UserWithGroups>>, AppError> {
        let found = users::with_groups(&mut *self.0.conn().await?, self.0.backend, usernames).await?;
        Ok(found.into_iter().map(|(username, user)| (username, Arc::new(user))).collect())
    }
}

//! Per-request loaders: however many users one response touches, their groups,
//! permissions and readable models cost a fixed number of statements (one for every
//! user's access, one for the model ids). Created per request, so nothing cached
//! crosses requests or users.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use tokio::sync::Mutex;

use crate::auth::policy;
use crate::domain::ResourceType;
use crate::error::{AppError, AppResult};
use crate::store::users::{self, Access};
use crate::store::{Db, models};

/// The loaders of one request.
pub struct Loaders {
    db: Db,
    access: DataLoader<AccessByUser, HashMapCache>,
    /// Every model id, read once (the lock makes concurrent first readers wait for it).
    model_ids: Mutex<Option<Arc<Vec<String>>>>,
}

impl Loaders {
    pub fn new(db: &Db) -> Self {
        // Cached for the request only; one batch for every user a response names (the
        // store reads them all in one statement whatever their number).
        let access = DataLoader::with_cache(AccessByUser(db.clone()), tokio::spawn, HashMapCache::default())
            .max_batch_size(usize::MAX);
        Loaders { db: db.clone(), access, model_ids: Mutex::new(None) }
    }

    /// Loads the access of all `usernames` in one batch, so that their fields then
    /// answer from the cache; batching by timing alone can split a large listing.
    pub async fn prefetch_access(&self, usernames: impl IntoIterator<Item = String>) -> AppResult<()> {
        self.access.load_many(usernames).await.map(drop)
    }

    /// Puts an access already read (the caller's) in this request's cache.
    pub fn feed_access(&self, access: Arc<Access>) -> impl Future<Output = ()> + '_ {
        self.access.feed_one(access.username.clone(), access)
    }

    /// A user's role and groups, batched with every other user of the response.
    pub async fn access(&self, username: &str) -> AppResult<Option<Arc<Access>>> {
        self.access.load_one(username.to_owned()).await
    }

    /// The ids of the models `username` may read, sorted: the permission check over
    /// every model id, read once per request.
    pub async fn readable_models(&self, username: &str) -> AppResult<Vec<String>> {
        let Some(access) = self.access(username).await? else { return Ok(Vec::new()) };
        let ids = self.model_ids().await?;
        Ok(policy::readable_ids(access.role, &access.permissions(), ResourceType::Model, &ids))
    }

    async fn model_ids(&self) -> AppResult<Arc<Vec<String>>> {
        let mut cached = self.model_ids.lock().await;
        if let Some(ids) = cached.as_ref() {
            return Ok(ids.clone());
        }
        let ids = Arc::new(models::list_ids(&mut *self.db.conn().await?).await?);
        *cached = Some(ids.clone());
        Ok(ids)
    }

    /// Forgets what this request has read: a mutation is about to write.
    pub fn clear(&self) {
        self.access.clear::<String>();
        if let Ok(mut cached) = self.model_ids.try_lock() {
            *cached = None;
        }
    }
}

/// [`Access`] by username.
pub struct AccessByUser(Db);

impl Loader<String> for AccessByUser {
    type Value = Arc<Access>;
    type Error = AppError;

    async fn load(&self, usernames: &[String]) -> Result<HashMap<String, Arc<Access>>, AppError> {
        let found = users::access(&mut *self.0.conn().await?, usernames).await?;
        Ok(found.into_iter().map(|(username, access)| (username, Arc::new(access))).collect())
    }
}

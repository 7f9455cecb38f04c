//! `AppState`: what every resolver and handler shares. It lives below the layers that
//! use it (graphql, http) and above the ones it holds (auth, store, metrics).

use crate::auth::password::Hasher;
use crate::auth::throttle::PasswordChecks;
use crate::auth::token::TokenKeys;
use crate::auth::{self, IssuedToken, LoginAttempt};
use crate::error::{AppError, AppResult};
use crate::metrics::Metrics;
use crate::store::Db;
use crate::store::users::{GroupsCache, ListingModelsCache};

/// What every resolver and handler shares.
pub struct AppState {
    pub db: Db,
    pub keys: TokenKeys,
    /// Passwords checked as throttled login attempts (RULES §6).
    pub passwords: PasswordChecks,
    pub metrics: Metrics,
    /// Users' groups, kept while the database's access version holds.
    pub groups_cache: GroupsCache,
    /// Which models each user may read, for listings, kept while the access version holds.
    pub listing_models: ListingModelsCache,
    /// Days the audit log shows an event (RULES §9).
    pub audit_retention_days: u32,
}

impl AppState {
    /// The Argon2 hasher, for new passwords.
    pub fn hasher(&self) -> &Hasher {
        self.passwords.hasher()
    }

    /// Logs in with this state's throttle and keys; counts refusals.
    pub async fn login(&self, attempt: LoginAttempt<'_>) -> AppResult<IssuedToken> {
        let result = auth::login(&self.passwords, &self.keys, attempt).await;
        match &result {
            Err(AppError::Unauthenticated(_)) => self.metrics.login_failed("bad_credentials"),
            Err(AppError::RateLimited { .. }) => self.metrics.login_failed("rate_limited"),
            _ => {}
        }
        result
    }
}

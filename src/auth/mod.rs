//! Who is calling and what they may do: passwords, tokens, and the permission check.

pub mod password;
pub mod policy;
pub mod throttle;
pub mod token;

use std::net::IpAddr;
use std::sync::Arc;

use crate::config::Secret;
use crate::domain::{Permission, Role, validate};
use crate::error::{AppError, AppResult};
use crate::store::users::UserWithGroups;
use crate::store::{Db, users};
use throttle::PasswordChecks;
use token::TokenKeys;

/// The authenticated, enabled user behind a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user as read to authenticate it: `me` answers from it without another read.
    pub user: Arc<UserWithGroups>,
    /// Every permission of its groups, flattened once for the checks of the request.
    pub permissions: Vec<Permission>,
    /// What its token said: the session it belongs to.
    pub claims: token::Claims,
}

impl Caller {
    pub fn username(&self) -> &str {
        &self.user.username
    }

    pub fn role(&self) -> Role {
        self.user.role
    }

    /// The one permission check, applied to this caller.
    pub fn may(&self, requested: &Permission) -> bool {
        policy::is_allowed(self.role(), &self.permissions, requested)
    }

    pub fn is_admin(&self) -> bool {
        self.role() == Role::Admin
    }

    /// `"me"` stands for the caller wherever a username is expected.
    pub fn resolve<'a>(&'a self, username: &'a str) -> &'a str {
        if username == validate::ME { self.username() } else { username }
    }
}

const BAD_TOKEN: AppError = AppError::Unauthenticated("missing, invalid or expired token");

/// The caller for a bearer token: its user must exist, carry the token's version
/// (older tokens die with a password change or re-creation) and be enabled.
pub async fn authenticate(
    db: &Db,
    keys: &TokenKeys,
    groups: &users::GroupsCache,
    bearer: Option<&str>,
) -> AppResult<Caller> {
    let claims = bearer.and_then(|token| keys.verify(token)).ok_or(BAD_TOKEN)?;
    let user = users::find_with_groups_cached(&mut *db.conn().await?, &claims.sub, groups).await?.ok_or(BAD_TOKEN)?;
    if user.token_version != claims.ver {
        return Err(BAD_TOKEN);
    }
    if user.disabled {
        return Err(AppError::forbidden("this user is disabled"));
    }
    Ok(Caller { permissions: user.permissions(), user: Arc::new(user), claims })
}

pub use token::IssuedToken;

/// One login attempt, from the `login` mutation or `/api/token`.
pub struct LoginAttempt<'a> {
    pub username: &'a str,
    pub password: Secret,
    /// The client's address, for the per-address limit; `None` when unknown.
    pub address: Option<IpAddr>,
    /// The request's id, for the audit log.
    pub request_id: &'a str,
}

/// A new token in the caller's session (RULES §8): UNAUTHENTICATED once the session
/// has less than a second left. The caller's own token stays valid until its `exp`.
pub fn refresh(keys: &TokenKeys, caller: &Caller) -> AppResult<IssuedToken> {
    keys.refresh(&caller.claims)
        .map_err(AppError::internal)?
        .ok_or(AppError::Unauthenticated("the session has ended: log in again"))
}

const BAD_CREDENTIALS: AppError = AppError::Unauthenticated("invalid username or password");

/// Exchanges a username and password for a token. A username that breaks RULES §5
/// is refused before anything is counted or stored; the rest is one throttled
/// attempt ([`PasswordChecks::check`]), where an unknown user and a wrong password
/// give the same error after the same work.
pub async fn login(checks: &PasswordChecks, keys: &TokenKeys, attempt: LoginAttempt<'_>) -> AppResult<IssuedToken> {
    let LoginAttempt { username, password, address, request_id } = attempt;
    validate::username(username)?;
    validate::no_control_chars("password", password.expose())?;
    let attempt = throttle::PasswordAttempt { address, request_id };
    let user = checks.check(username, password, attempt).await?.ok_or(BAD_CREDENTIALS)?;
    if user.disabled {
        return Err(AppError::forbidden("this user is disabled"));
    }
    keys.issue(&user.username, &user.token_version).map_err(AppError::internal)
}

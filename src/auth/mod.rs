//! Who is calling and what they may do: passwords, tokens, and the permission check.

pub mod password;
pub mod policy;
pub mod throttle;
pub mod token;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::Secret;
use crate::domain::{Permission, Role, validate};
use crate::error::{AppError, AppResult};
use crate::store::users::UserWithGroups;
use crate::store::{Db, login_failures, users};
use throttle::LoginLimits;
use token::TokenKeys;

/// The authenticated, enabled user behind a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user as read to authenticate it: `me` answers from it without another read.
    pub user: Arc<UserWithGroups>,
    /// Every permission of its groups, flattened once for the checks of the request.
    pub permissions: Vec<Permission>,
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
    Ok(Caller { permissions: user.permissions(), user: Arc::new(user) })
}

/// A token handed out by a successful login.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub access_token: String,
    pub expires_in: u64,
}

/// One login attempt, from the `login` mutation or `/api/token`.
pub struct LoginAttempt<'a> {
    pub username: &'a str,
    pub password: Secret,
    /// The client's address, for the per-address limit; `None` when unknown.
    pub address: Option<IpAddr>,
}

const BAD_CREDENTIALS: AppError = AppError::Unauthenticated("invalid username or password");

/// Exchanges a username and password for a token. The throttle is checked before
/// any password work; an unknown user and a wrong password give the same error
/// after the same Argon2 work, and both count as failures.
pub async fn login(
    db: &Db,
    keys: &TokenKeys,
    limits: &LoginLimits,
    hasher: &password::Hasher,
    attempt: LoginAttempt<'_>,
) -> AppResult<IssuedToken> {
    let LoginAttempt { username, password, address } = attempt;
    validate::no_control_chars("username", username)?;
    validate::no_control_chars("password", password.expose())?;
    let address = address.map(|a| a.to_string());
    let now = now_ms();
    let has_failures = check_limits(db, limits, username, address.as_deref(), now).await?;

    // No stored password can be this long: a failure without any Argon2 work.
    let too_long =
        password.expose().len() > validate::PASSWORD_MAX_BYTES || username.len() > validate::USERNAME_MAX_CHARS;
    let user = if too_long {
        None
    } else {
        let user = users::find(&mut *db.conn().await?, username).await?;
        let matches = hasher.verify(password, user.as_ref().map(|u| u.password_hash.clone())).await?;
        user.filter(|_| matches)
    };
    let Some(user) = user else {
        record_failure(db, limits, username, address.as_deref(), now).await?;
        return Err(BAD_CREDENTIALS);
    };
    if has_failures {
        login_failures::clear_user(&mut *db.conn().await?, username).await?;
    }
    if user.disabled {
        return Err(AppError::forbidden("this user is disabled"));
    }
    let access_token = keys.issue(&user.username, &user.token_version).map_err(AppError::internal)?;
    Ok(IssuedToken { access_token, expires_in: keys.ttl_secs() })
}

/// RATE_LIMITED if the username is locked or the address is over its limit;
/// otherwise whether the username has failures on record.
async fn check_limits(
    db: &Db,
    limits: &LoginLimits,
    username: &str,
    address: Option<&str>,
    now: i64,
) -> AppResult<bool> {
    let mut conn = db.conn().await?;
    let locked_until = login_failures::user_locked_until(&mut conn, username).await?;
    if let Some(until) = locked_until.filter(|&until| until > now) {
        return Err(AppError::RateLimited { retry_after_secs: throttle::retry_after_secs(now, until) });
    }
    if let Some(address) = address {
        let window = millis(limits.address_window);
        let (failures, oldest) = login_failures::address_failures_since(&mut conn, address, now - window).await?;
        if failures > i64::from(limits.address_max_failures) {
            let until = oldest.unwrap_or(now) + window;
            return Err(AppError::RateLimited { retry_after_secs: throttle::retry_after_secs(now, until) });
        }
    }
    Ok(locked_until.is_some())
}

async fn record_failure(
    db: &Db,
    limits: &LoginLimits,
    username: &str,
    address: Option<&str>,
    now: i64,
) -> AppResult<()> {
    let mut tx = db.begin_write().await?;
    let consecutive = login_failures::add_user_failure(&mut tx, username).await?;
    let lock = limits.user_lock_after(consecutive);
    if !lock.is_zero() {
        login_failures::lock_user(&mut tx, username, now + millis(lock)).await?;
    }
    if let Some(address) = address {
        login_failures::add_address_failure(&mut tx, address, now, now - millis(limits.address_window)).await?;
    }
    tx.commit().await
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(millis).unwrap_or(0)
}

//! Who is calling and what they may do: passwords, tokens, and the permission check.

pub mod password;
pub mod policy;
pub mod token;

use crate::config::Secret;
use crate::domain::{Permission, Role, validate};
use crate::error::{AppError, AppResult};
use crate::store::{Db, users};
use token::TokenKeys;

/// The authenticated, enabled user behind a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub username: String,
    pub role: Role,
    pub permissions: Vec<Permission>,
}

impl Caller {
    /// The one permission check, applied to this caller.
    pub fn may(&self, requested: &Permission) -> bool {
        policy::is_allowed(self.role, &self.permissions, requested)
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// `"me"` stands for the caller wherever a username is expected.
    pub fn resolve<'a>(&'a self, username: &'a str) -> &'a str {
        if username == validate::ME { &self.username } else { username }
    }
}

const BAD_TOKEN: AppError = AppError::Unauthenticated("missing, invalid or expired token");

/// The caller for a bearer token: its user must exist, carry the token's version
/// (older tokens die with a password change or re-creation) and be enabled.
pub async fn authenticate(db: &Db, keys: &TokenKeys, bearer: Option<&str>) -> AppResult<Caller> {
    let claims = bearer.and_then(|token| keys.verify(token)).ok_or(BAD_TOKEN)?;
    let access = users::find_access(&mut *db.conn().await?, &claims.sub).await?.ok_or(BAD_TOKEN)?;
    if access.token_version != claims.ver {
        return Err(BAD_TOKEN);
    }
    if access.disabled {
        return Err(AppError::forbidden("this user is disabled"));
    }
    Ok(Caller { permissions: access.permissions(), username: access.username, role: access.role })
}

/// A token handed out by a successful login.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub access_token: String,
    pub expires_in: u64,
}

const BAD_CREDENTIALS: AppError = AppError::Unauthenticated("invalid username or password");

/// Exchanges a username and password for a token. An unknown user and a wrong
/// password give the same error after the same Argon2 work.
pub async fn login(db: &Db, keys: &TokenKeys, username: &str, password: Secret) -> AppResult<IssuedToken> {
    validate::no_control_chars("username", username)?;
    validate::no_control_chars("password", password.expose())?;
    // No stored password can be this long: refuse before any Argon2 work.
    if password.expose().len() > validate::PASSWORD_MAX_BYTES || username.len() > validate::USERNAME_MAX_CHARS {
        return Err(BAD_CREDENTIALS);
    }
    let user = users::find(&mut *db.conn().await?, username).await?;
    let matches = password::verify(password, user.as_ref().map(|u| u.password_hash.clone())).await?;
    let user = match user {
        Some(user) if matches => user,
        _ => return Err(BAD_CREDENTIALS),
    };
    if user.disabled {
        return Err(AppError::forbidden("this user is disabled"));
    }
    let access_token = keys.issue(&user.username, &user.token_version).map_err(AppError::internal)?;
    Ok(IssuedToken { access_token, expires_in: keys.ttl_secs() })
}

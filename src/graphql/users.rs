//! `me`, `user`, `users`, `login` and the user mutations.

use async_graphql::{Context, MaybeUndefined, Object};

use super::guards::{RequestContext, Requires, caller};
use super::loaders::Loaders;
use super::types::{CreateUserInput, EditUserInput, Token, User};
use super::{begin_write, data, state};
use crate::auth::policy;
use crate::auth::{LoginAttempt, token};
use crate::config::Secret;
use crate::domain::validate::{self, ME};
use crate::domain::{Method, ResourceType, Role};
use crate::error::{AppError, AppResult};
use crate::store::{Conn, WriteTx, groups, users};

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// The caller.
    #[graphql(guard = "Requires::permission(ResourceType::User, Some(ME), Method::Get)")]
    async fn me(&self, ctx: &Context<'_>) -> AppResult<User> {
        Ok(User::from(caller(ctx).await?.access.as_ref()))
    }

    /// "me" means the caller. null with a NOT_FOUND error when there is no such user.
    #[graphql(guard = "Requires::permission(ResourceType::User, Some(&username), Method::Get)")]
    async fn user(&self, ctx: &Context<'_>, username: String) -> AppResult<Option<User>> {
        let caller = caller(ctx).await?;
        // Lets the tests see what a panicking or slow resolver costs; compiled for them only.
        #[cfg(feature = "test-hooks")]
        match username.as_str() {
            "panic-for-test" => panic!("the test hook panicked"),
            "sleep-for-test" => tokio::time::sleep(std::time::Duration::from_millis(500)).await,
            "stall-for-test" => tokio::time::sleep(std::time::Duration::from_secs(5)).await,
            _ => {}
        }
        let username = caller.resolve(&username);
        // Read as a caller is: one statement for the row, with its groups only when the
        // cache does not hold them at the current access version. Its models use it too.
        let state = state(ctx)?;
        let access = users::find_access_cached(&mut *state.db.conn().await?, username, &state.groups_cache)
            .await?
            .ok_or_else(|| user_not_found(username))?;
        let access = std::sync::Arc::new(access);
        data::<Loaders>(ctx)?.feed_access(access.clone()).await;
        Ok(Some(User::from(access.as_ref())))
    }

    /// Every user, sorted by username.
    #[graphql(guard = "Requires::permission(ResourceType::User, None, Method::Get)")]
    async fn users(&self, ctx: &Context<'_>) -> AppResult<Vec<User>> {
        let rows = users::list(&mut *state(ctx)?.db.conn().await?).await?;
        let look_ahead = ctx.look_ahead();
        let loaders = data::<Loaders>(ctx)?;
        let usernames = || rows.iter().map(|row| row.username.clone()).collect::<Vec<_>>();
        // One batch per kind of data asked for: groups need each user's whole access,
        // models alone only its model grants.
        if look_ahead.field("groups").exists() {
            loaders.prefetch_access(usernames()).await?;
        } else if look_ahead.field("models").exists() {
            loaders.prefetch_model_grants(usernames()).await?;
        }
        if look_ahead.field("models").exists() {
            loaders.prefetch_model_ids().await?;
        }
        Ok(rows.into_iter().map(User::from).collect())
    }
}

#[derive(Default)]
pub struct UserMutation;

#[Object]
impl UserMutation {
    /// Exchange a username and password for a bearer token. Needs no token.
    async fn login(&self, ctx: &Context<'_>, username: String, password: String) -> AppResult<Token> {
        let address = data::<RequestContext>(ctx)?.client_address();
        let attempt = LoginAttempt { username: &username, password: Secret::new(password), address };
        Ok(state(ctx)?.login(attempt).await?.into())
    }

    #[graphql(guard = "Requires::permission(ResourceType::User, Some(&input.username), Method::Post)")]
    async fn create_user(&self, ctx: &Context<'_>, input: CreateUserInput) -> AppResult<User> {
        let caller = caller(ctx).await?;
        let state = state(ctx)?;
        validate::username(&input.username)?;
        validate::password(&input.password)?;
        validate_profile(input.email.as_deref(), input.full_name.as_deref())?;
        let role = input.role.unwrap_or(Role::Regular);
        let disabled = input.disabled.unwrap_or(false);
        let extra_groups = input.groups.unwrap_or_default();
        validate_names("groups", &extra_groups)?;
        if (role != Role::Regular || disabled || !extra_groups.is_empty())
            && !policy::may_manage_privileges(caller.role())
        {
            return Err(AppError::forbidden("only an ADMIN may set role, groups or disabled"));
        }

        let password_hash = state.hasher.hash(Secret::new(input.password)).await?;
        let row = users::UserRow {
            username: input.username,
            password_hash,
            email: input.email,
            full_name: input.full_name,
            disabled,
            role,
            token_version: token::new_version(),
        };
        let mut tx = begin_write(ctx).await?;
        users::create(&mut tx, &row, &extra_groups).await?;
        tx.commit().await?;
        Ok(User::from(row))
    }

    #[graphql(guard = "Requires::permission(ResourceType::User, Some(&input.username), Method::Put)")]
    async fn edit_user(&self, ctx: &Context<'_>, input: EditUserInput) -> AppResult<User> {
        let caller = caller(ctx).await?;
        let state = state(ctx)?;
        let db = &state.db;
        let target = caller.resolve(&input.username).to_owned();
        if let MaybeUndefined::Value(email) = &input.email {
            validate::email(email)?;
        }
        if let MaybeUndefined::Value(full_name) = &input.full_name {
            validate::full_name(full_name)?;
        }
        if let Some(groups) = &input.groups {
            validate_names("groups", groups)?;
        }
        if let Some(password) = &input.password {
            validate::password(password)?;
        }
        if let Some(current) = &input.current_password {
            validate::no_control_chars("currentPassword", current)?;
        }

        let before = load_user(&mut *db.conn().await?, &target).await?;
        if before.role == Role::Admin && !policy::may_manage_privileges(caller.role()) {
            return Err(AppError::forbidden("only an ADMIN may edit an ADMIN"));
        }
        if !policy::may_manage_privileges(caller.role()) {
            let current_groups = group_names(&mut *db.conn().await?, &target).await?;
            let changes_role = input.role.is_some_and(|role| role != before.role);
            let changes_disabled = input.disabled.is_some_and(|disabled| disabled != before.disabled);
            let changes_groups = input.groups.as_ref().is_some_and(|groups| !same_set(groups, &current_groups));
            if changes_role || changes_disabled || changes_groups {
                return Err(AppError::forbidden("only an ADMIN may change role, groups or disabled"));
            }
        }
        let new_hash = match input.password {
            Some(new_password) => {
                if !caller.is_admin() && target == caller.username() {
                    let current = input.current_password.ok_or_else(|| {
                        AppError::bad_input("currentPassword is required to change your own password")
                    })?;
                    if !state.hasher.verify(Secret::new(current), Some(before.password_hash.clone())).await? {
                        return Err(AppError::forbidden("currentPassword is wrong"));
                    }
                }
                Some(state.hasher.hash(Secret::new(new_password)).await?)
            }
            None => None,
        };

        let mut tx = begin_write(ctx).await?;
        // Admins first, then the target: every transaction locks in the same order.
        let enabled_admins = match (input.role, input.disabled) {
            (None, None) => None,
            _ => Some(users::lock_enabled_admins(&mut tx).await?),
        };
        let before = load_for_update(&mut tx, &target).await?;
        let mut after = before.clone();
        if let Some(hash) = new_hash {
            after.password_hash = hash;
            after.token_version = token::new_version();
        }
        match input.email {
            MaybeUndefined::Undefined => {}
            email => after.email = email.take(),
        }
        match input.full_name {
            MaybeUndefined::Undefined => {}
            full_name => after.full_name = full_name.take(),
        }
        after.disabled = input.disabled.unwrap_or(before.disabled);
        after.role = input.role.unwrap_or(before.role);
        let was_enabled_admin = before.role == Role::Admin && !before.disabled;
        let stays_enabled_admin = after.role == Role::Admin && !after.disabled;
        if was_enabled_admin && !stays_enabled_admin && enabled_admins.is_some_and(|n| n <= 1) {
            return Err(AppError::bad_input("the last enabled ADMIN can be neither disabled nor demoted"));
        }
        users::update(&mut tx, &after).await?;
        if before.role == Role::Admin && after.role == Role::Regular {
            users::join_regular_defaults(&mut tx, &target).await?;
        }
        if let Some(groups) = &input.groups {
            groups::require_existing(&mut tx, groups).await?;
            groups::replace_memberships(&mut tx, &target, groups).await?;
        }
        tx.commit().await?;
        Ok(User::from(after))
    }

    /// Returns the user as it was before deletion.
    #[graphql(guard = "Requires::permission(ResourceType::User, Some(&username), Method::Delete)")]
    async fn delete_user(&self, ctx: &Context<'_>, username: String) -> AppResult<User> {
        let caller = caller(ctx).await?;
        let target = caller.resolve(&username).to_owned();
        let mut tx = begin_write(ctx).await?;
        let enabled_admins = users::lock_enabled_admins(&mut tx).await?;
        let row = load_for_update(&mut tx, &target).await?;
        if row.role == Role::Admin {
            if !policy::may_manage_privileges(caller.role()) {
                return Err(AppError::forbidden("only an ADMIN may delete an ADMIN"));
            }
            if !row.disabled && enabled_admins <= 1 {
                return Err(AppError::bad_input("the last enabled ADMIN cannot be deleted"));
            }
        }
        let groups = users::find_access(&mut tx, &target).await?.map(|a| a.groups.to_vec()).unwrap_or_default();
        groups::delete_owned(&mut tx, ResourceType::User, &target).await?;
        users::delete(&mut tx, &target).await?;
        tx.commit().await?;
        Ok(User::with_groups(row, groups))
    }
}

/// The user named, or NOT_FOUND.
async fn load_user(conn: &mut Conn, username: &str) -> AppResult<users::UserRow> {
    users::find(conn, username).await?.ok_or_else(|| user_not_found(username))
}

/// The user named, locked for this transaction, or NOT_FOUND.
async fn load_for_update(tx: &mut WriteTx, username: &str) -> AppResult<users::UserRow> {
    users::find_for_update(tx, username).await?.ok_or_else(|| user_not_found(username))
}

fn user_not_found(username: &str) -> AppError {
    AppError::not_found(format!("user {username:?} not found"))
}

async fn group_names(conn: &mut Conn, username: &str) -> AppResult<Vec<String>> {
    let access = users::find_access(conn, username).await?;
    Ok(access.map(|a| a.groups.iter().map(|g| g.name.clone()).collect()).unwrap_or_default())
}

fn same_set(a: &[String], b: &[String]) -> bool {
    use std::collections::BTreeSet;
    a.iter().collect::<BTreeSet<_>>() == b.iter().collect::<BTreeSet<_>>()
}

fn validate_profile(email: Option<&str>, full_name: Option<&str>) -> AppResult<()> {
    if let Some(email) = email {
        validate::email(email)?;
    }
    if let Some(full_name) = full_name {
        validate::full_name(full_name)?;
    }
    Ok(())
}

fn validate_names(field: &str, names: &[String]) -> AppResult<()> {
    names.iter().try_for_each(|name| validate::no_control_chars(field, name))
}

//! `me`, `user`, `users`, `login` and the user mutations.

use async_graphql::{Context, MaybeUndefined, Object};

use super::allowed_only::MAX_CHECKS;
use super::answer::Listing;
use super::guards::{RequestContext, Requires, RequiresAdmin, caller};
use super::loaders::Loaders;
use super::pages;
use super::types::{CreateUserInput, EditUserInput, PermissionInput, Token, User, UserConnection, UserEdge};
use super::{actor, data, db_to_write, state};
use crate::accounts::users::{self, NewPassword, UserChange};
use crate::auth::throttle::PasswordAttempt;
use crate::auth::{self, LoginAttempt, token};
use crate::config::Secret;
use crate::domain::validate::{self, ME};
use crate::domain::{Method, Permission, ResourceType, Role};
use crate::error::{AppError, AppResult};
use crate::store::users::{self as user_rows, UserRow};
use crate::store::write_tx;

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// The caller.
    #[graphql(guard = "Requires::permission(ResourceType::User, Some(ME), Method::Get)")]
    async fn me(&self, ctx: &Context<'_>) -> AppResult<User> {
        Ok(User::from(caller(ctx).await?.user.as_ref()))
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
        let user = user_rows::find_with_groups_cached(&mut *state.db.conn().await?, username, &state.groups_cache)
            .await?
            .ok_or_else(|| users::not_found(username))?;
        let user = std::sync::Arc::new(user);
        data::<Loaders>(ctx)?.feed_user(user.clone()).await;
        Ok(Some(User::from(user.as_ref())))
    }

    /// Users matching every given filter, sorted by username, a page at a time
    /// (RULES 10). Needs USER null GET.
    #[graphql(
        guard = "Requires::permission(ResourceType::User, None, Method::Get)",
        complexity = "super::pages::weight(&first) * child_complexity"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn search_users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Substring of username, email or fullName; ASCII letters compare case-insensitively.")]
        query: Option<String>,
        role: Option<Role>,
        disabled: Option<bool>,
        #[graphql(desc = "Only members of this group.")] group: Option<String>,
        #[graphql(default = 50)] first: Option<i32>,
        after: Option<String>,
    ) -> AppResult<UserConnection> {
        // The arguments that make a cursor's pages: a cursor for others is refused.
        let filters = format!("{query:?}|{role:?}|{disabled:?}|{group:?}");
        let search = user_rows::UserSearch { text: query, role, disabled, group, after: None };
        user_page(ctx, "searchUsers", &filters, search, first, after).await
    }

    /// For each check, whether the caller passes it (RULES 10); at most 100.
    async fn allowed(&self, ctx: &Context<'_>, checks: Vec<PermissionInput>) -> AppResult<Vec<bool>> {
        // A document asking only this is usually answered by its plan
        // (`allowed_only`), with the same answers.
        if checks.len() > MAX_CHECKS {
            return Err(AppError::bad_input(format!("at most {MAX_CHECKS} checks")));
        }
        // Answered from the caller as authenticated: no SQL beyond that. `me` is a
        // literal id here, not the caller.
        let caller = caller(ctx).await?;
        Ok(checks.into_iter().map(|check| caller.may(&Permission::from(check))).collect())
    }

    /// Every user, sorted by username.
    #[graphql(
        guard = "Requires::permission(ResourceType::User, None, Method::Get)",
        complexity = "super::LIST_WEIGHT * child_complexity"
    )]
    async fn users(&self, ctx: &Context<'_>) -> AppResult<Listing<User>> {
        let db = &state(ctx)?.db;
        let rows = user_rows::list(&mut *db.conn().await?, db.backend).await?;
        let look_ahead = ctx.look_ahead();
        let loaders = data::<Loaders>(ctx)?;
        let usernames = || rows.iter().map(|row| row.username.clone()).collect::<Vec<_>>();
        // One batch per kind of data asked for: groups need each user's whole row with groups,
        // models alone only its model grants.
        if look_ahead.field("groups").exists() {
            loaders.prefetch_users_with_groups(usernames()).await?;
        } else if look_ahead.field("models").exists() {
            loaders.prefetch_model_grants(usernames()).await?;
        }
        if look_ahead.field("models").exists() {
            loaders.prefetch_model_ids().await?;
        }
        Ok(Listing(rows.into_iter().map(User::from).collect()))
    }
}

#[derive(Default)]
pub struct UserMutation;

#[Object]
impl UserMutation {
    /// Exchange a username and password for a bearer token. Needs no token.
    async fn login(&self, ctx: &Context<'_>, username: String, password: String) -> AppResult<Token> {
        let request = data::<RequestContext>(ctx)?;
        let attempt = LoginAttempt {
            username: &username,
            password: Secret::new(password),
            address: request.client_address(),
            request_id: request.request_id(),
        };
        Ok(state(ctx)?.login(attempt).await?.into())
    }

    #[graphql(guard = "Requires::to(users::create_permission(&input.username))")]
    async fn create_user(&self, ctx: &Context<'_>, input: CreateUserInput) -> AppResult<User> {
        let caller = caller(ctx).await?;
        validate::username(&input.username)?;
        validate::password(&input.password)?;
        validate_profile(input.email.as_deref(), input.full_name.as_deref())?;
        let extra_groups = input.groups.unwrap_or_default();
        validate_names("groups", &extra_groups)?;
        let mut user = users::NewUser {
            row: UserRow {
                username: input.username,
                password_hash: String::new(),
                email: input.email,
                full_name: input.full_name,
                disabled: input.disabled.unwrap_or(false),
                role: input.role.unwrap_or(Role::Regular),
                token_version: token::new_version(),
            },
            extra_groups,
        };
        let state = state(ctx)?;
        user.row.password_hash = state.hasher().hash(Secret::new(input.password)).await?;
        let actor = actor(ctx, caller, "createUser")?;
        write_tx!(db_to_write(ctx)?, |tx| users::create(&mut tx, actor, &user))?;
        Ok(User::from(user.row))
    }

    #[graphql(guard = "Requires::to(users::edit_permission(&input.username))")]
    async fn edit_user(&self, ctx: &Context<'_>, input: EditUserInput) -> AppResult<User> {
        let caller = caller(ctx).await?;
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
        let password = match input.password {
            Some(password) => {
                let checks = &state(ctx)?.passwords;
                let current = input.current_password.map(Secret::new);
                let password = Secret::new(password);
                let request = data::<RequestContext>(ctx)?;
                let attempt = PasswordAttempt { address: request.client_address(), request_id: request.request_id() };
                Some(NewPassword::prepare(checks, caller, &target, password, current, attempt).await?)
            }
            None => None,
        };
        let change = UserChange {
            username: target,
            password,
            email: patch(input.email),
            full_name: patch(input.full_name),
            disabled: input.disabled,
            role: input.role,
            groups: input.groups,
            revoke_tokens: false,
        };
        let actor = actor(ctx, caller, "editUser")?;
        let after = write_tx!(db_to_write(ctx)?, |tx| users::edit(&mut tx, actor, &change))?;
        Ok(User::from(after))
    }

    /// Adds memberships; groups the user is already in are left as they are. ADMIN only.
    #[graphql(guard = "RequiresAdmin")]
    async fn add_user_to_groups(&self, ctx: &Context<'_>, username: String, groups: Vec<String>) -> AppResult<User> {
        change_memberships(ctx, &username, groups, true, "addUserToGroups").await
    }

    /// Removes memberships; groups the user is not in are ignored. ADMIN only.
    #[graphql(guard = "RequiresAdmin")]
    async fn remove_user_from_groups(
        &self,
        ctx: &Context<'_>,
        username: String,
        groups: Vec<String>,
    ) -> AppResult<User> {
        change_memberships(ctx, &username, groups, false, "removeUserFromGroups").await
    }

    /// Returns the user as it was before deletion.
    #[graphql(guard = "Requires::to(users::delete_permission(&username))")]
    async fn delete_user(&self, ctx: &Context<'_>, username: String) -> AppResult<User> {
        let caller = caller(ctx).await?;
        let target = caller.resolve(&username);
        let actor = actor(ctx, caller, "deleteUser")?;
        let (row, groups) = write_tx!(db_to_write(ctx)?, |tx| users::delete(&mut tx, actor, target))?;
        Ok(User::with_groups(row, groups))
    }
}

#[derive(Default)]
pub struct SessionMutation;

#[Object]
impl SessionMutation {
    /// A new token for the caller's session (RULES 8). Needs a valid token.
    async fn refresh_token(&self, ctx: &Context<'_>) -> AppResult<Token> {
        Ok(auth::refresh(&state(ctx)?.keys, caller(ctx).await?)?.into())
    }

    /// Ends every token of the user issued until now (RULES 8); "me" means the caller.
    #[graphql(guard = "Requires::to(users::edit_permission(&username))")]
    async fn revoke_tokens(&self, ctx: &Context<'_>, username: String) -> AppResult<bool> {
        let caller = caller(ctx).await?;
        let change =
            UserChange { username: caller.resolve(&username).to_owned(), revoke_tokens: true, ..Default::default() };
        let actor = actor(ctx, caller, "revokeTokens")?;
        write_tx!(db_to_write(ctx)?, |tx| users::edit(&mut tx, actor, &change))?;
        Ok(true)
    }
}

async fn change_memberships(
    ctx: &Context<'_>,
    username: &str,
    groups: Vec<String>,
    join: bool,
    action: &'static str,
) -> AppResult<User> {
    let caller = caller(ctx).await?;
    validate_names("groups", &groups)?;
    let target = caller.resolve(username);
    let actor = actor(ctx, caller, action)?;
    let user = write_tx!(db_to_write(ctx)?, |tx| users::change_memberships(&mut tx, actor, target, &groups, join))?;
    Ok(User::from(user))
}

/// A page of the users `search` matches, for the connection field `field` whose
/// cursors hold `filters` (RULES §10).
pub(super) async fn user_page(
    ctx: &Context<'_>,
    field: &str,
    filters: &str,
    mut search: user_rows::UserSearch,
    first: Option<i32>,
    after: Option<String>,
) -> AppResult<UserConnection> {
    let size = pages::size(first)?;
    search.after = after.map(|cursor| pages::position(&cursor, field, filters)).transpose()?;
    let with_total = ctx.look_ahead().field("totalCount").exists();
    let state = state(ctx)?;
    let limit = i64::try_from(size + 1).unwrap_or(i64::MAX);
    let (mut rows, total) =
        user_rows::search(&mut *state.db.conn().await?, state.db.backend, &search, limit, with_total).await?;
    let has_next_page = rows.len() > size;
    rows.truncate(size);
    let edges: Vec<UserEdge> = rows
        .into_iter()
        .map(|row| UserEdge { cursor: pages::cursor(field, filters, &row.username), node: User::from(row) })
        .collect();
    Ok(UserConnection::new(edges, has_next_page, total.unwrap_or(0)))
}

/// An `EditUserInput` field as a change: omitted leaves it, null clears it.
fn patch(value: MaybeUndefined<String>) -> Option<Option<String>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(value) => Some(Some(value)),
    }
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

//! Creating, editing and deleting users (RULES §3), with the groups a REGULAR user
//! has (§4).

use super::naming::{OwnedGroupKind, REGULAR_USER_DEFAULT_GROUPS, owned_group};
use super::{Actor, EnabledAdmins, groups};
use crate::auth::Caller;
use crate::auth::throttle::{PasswordAttempt, PasswordChecks};
use crate::config::Secret;
use crate::domain::{Method, Permission, ResourceType, Role};
use crate::error::{AppError, AppResult};
use crate::store::WriteTx;
use crate::store::groups::{self as group_rows, GroupRow};
use crate::store::users::{self as user_rows, UserRow};

/// What `createUser` needs (RULES §3): USER, the new name, POST.
pub fn create_permission(username: &str) -> Permission {
    Permission::new(ResourceType::User, Some(username), Method::Post)
}

/// What `editUser` needs: USER, the target, PUT.
pub fn edit_permission(username: &str) -> Permission {
    Permission::new(ResourceType::User, Some(username), Method::Put)
}

/// What `deleteUser` needs: USER, the target, DELETE.
pub fn delete_permission(username: &str) -> Permission {
    Permission::new(ResourceType::User, Some(username), Method::Delete)
}

/// A user to create: its row (password already hashed) and the groups it joins on
/// top of the defaults.
pub struct NewUser {
    pub row: UserRow,
    pub extra_groups: Vec<String>,
}

impl NewUser {
    /// The input fields whose value differs from its default, as the audit log names
    /// them (RULES §9).
    fn fields(&self) -> Vec<&'static str> {
        let row = &self.row;
        let differs = [
            ("password", true),
            ("email", row.email.is_some()),
            ("fullName", row.full_name.is_some()),
            ("disabled", row.disabled),
            ("role", row.role != Role::Regular),
            ("groups", !self.extra_groups.is_empty()),
        ];
        differs.into_iter().filter(|(_, differs)| *differs).map(|(name, _)| name).collect()
    }

    /// Whether anything but `role`, `groups` and `disabled`'s defaults is asked for.
    fn sets_privileges(&self) -> bool {
        self.row.role != Role::Regular || self.row.disabled || !self.extra_groups.is_empty()
    }
}

/// Creates a user with the groups of RULES §4: a REGULAR user's defaults and its own
/// read and edit groups, then `extra_groups`, which must exist.
pub async fn create(tx: &mut WriteTx, actor: Actor<'_>, user: &NewUser) -> AppResult<()> {
    let admins = if user.sets_privileges() { Some(EnabledAdmins::lock(tx).await?) } else { None };
    let acting = actor.acting(tx, admins.as_ref(), false).await?;
    acting.require(&create_permission(&user.row.username))?;
    if user.sets_privileges() {
        acting.require_admin("set role, groups or disabled")?;
    }
    let mut wanted = user.extra_groups.clone();
    if user.row.role == Role::Regular {
        wanted.extend(REGULAR_USER_DEFAULT_GROUPS.map(str::to_owned));
    }
    // The defaults join those that still exist; the extra groups must all exist.
    let found = lock_groups(tx, &wanted).await?;
    require_found(&user.extra_groups, &found)?;
    user_rows::insert(tx, &user.row).await?;
    group_rows::add_member(tx, &user.row.username, &found).await?;
    if user.row.role == Role::Regular {
        join_own_groups(tx, &user.row.username).await?;
    }
    acting.record(tx, ResourceType::User, &user.row.username, user.fields());
    Ok(())
}

/// A new password for `editUser`: hashed before the transaction, with the stored hash
/// that `currentPassword` was checked against, so that the transaction can see that
/// it is still the stored one.
pub struct NewPassword {
    hash: String,
    verified_against: Option<String>,
}

impl NewPassword {
    /// A password set without `currentPassword`: by an ADMIN, the operator, or for
    /// another user.
    pub fn unverified(hash: String) -> Self {
        NewPassword { hash, verified_against: None }
    }

    /// Hashes `password` for `target` and, when a non-admin changes its own, checks
    /// `current` first, as a login attempt of that user from `address` (RULES §6:
    /// same counts, same limits): FORBIDDEN when wrong, BAD_USER_INPUT when missing.
    /// The transaction checks again whether it had to (RULES §3).
    pub async fn prepare(
        checks: &PasswordChecks,
        caller: &Caller,
        target: &str,
        password: Secret,
        current: Option<Secret>,
        attempt: PasswordAttempt<'_>,
    ) -> AppResult<Self> {
        let verified_against = if !caller.is_admin() && caller.username() == target {
            let current = current.ok_or_else(current_password_required)?;
            let user = checks.check(target, current, attempt).await?.ok_or_else(wrong_current_password)?;
            Some(user.password_hash)
        } else {
            None
        };
        Ok(NewPassword { hash: checks.hasher().hash(password).await?, verified_against })
    }
}

fn current_password_required() -> AppError {
    AppError::bad_input("currentPassword is required to change your own password")
}

fn wrong_current_password() -> AppError {
    AppError::forbidden("currentPassword is wrong")
}

/// A change to one user; `None` leaves a field as it is.
#[derive(Default)]
pub struct UserChange {
    /// The user to change (never `me`: the caller's name).
    pub username: String,
    pub password: Option<NewPassword>,
    /// `Some(None)` clears it.
    pub email: Option<Option<String>>,
    pub full_name: Option<Option<String>>,
    pub disabled: Option<bool>,
    pub role: Option<Role>,
    /// The user's whole group list.
    pub groups: Option<Vec<String>>,
    /// Ends every token issued until now (`revokeTokens`, RULES §8).
    pub revoke_tokens: bool,
}

/// Applies `change` and returns the user as it is after. Only an ADMIN may change
/// role, groups or `disabled` (sending them unchanged is no change), or edit an
/// ADMIN; a non-admin changing its own password must have given `currentPassword`;
/// the last enabled ADMIN stays one.
pub async fn edit(tx: &mut WriteTx, actor: Actor<'_>, change: &UserChange) -> AppResult<UserRow> {
    let target = change.username.as_str();
    let admins = EnabledAdmins::lock(tx).await?;
    let acting = actor.acting(tx, Some(&admins), false).await?;
    acting.require(&edit_permission(target))?;
    let before = user_rows::find_for_update(tx, target).await?.ok_or_else(|| not_found(target))?;
    if before.role == Role::Admin {
        acting.require_admin("edit an ADMIN")?;
    }
    let current_groups = match &change.groups {
        Some(_) => Some(group_rows::memberships(tx, target).await?),
        None => None,
    };
    let changes_groups = match (&change.groups, &current_groups) {
        (Some(wanted), Some(current)) => !same_set(wanted, current),
        _ => false,
    };
    let changes_role = change.role.is_some_and(|role| role != before.role);
    let changes_disabled = change.disabled.is_some_and(|disabled| disabled != before.disabled);
    if changes_role || changes_disabled || changes_groups {
        acting.require_admin("change role, groups or disabled")?;
    }

    let mut after = before.clone();
    if let Some(password) = &change.password {
        if !acting.is_admin() && acting.username() == Some(target) {
            match &password.verified_against {
                None => return Err(current_password_required()),
                Some(verified) if *verified != before.password_hash => return Err(wrong_current_password()),
                Some(_) => {}
            }
        }
        after.password_hash = password.hash.clone();
        after.token_version = crate::auth::token::new_version();
    }
    if change.revoke_tokens {
        after.token_version = crate::auth::token::new_version();
    }
    if let Some(email) = &change.email {
        after.email = email.clone();
    }
    if let Some(full_name) = &change.full_name {
        after.full_name = full_name.clone();
    }
    after.disabled = change.disabled.unwrap_or(before.disabled);
    after.role = change.role.unwrap_or(before.role);
    let is_enabled_admin = |user: &UserRow| user.role == Role::Admin && !user.disabled;
    if is_enabled_admin(&before) && !is_enabled_admin(&after) {
        admins.require_another_than(target, "disabled or demoted")?;
    }
    // Demoted to REGULAR: the groups a REGULAR user starts with (which the new group
    // list, if any, then replaces).
    let demoted = before.role == Role::Admin && after.role == Role::Regular;
    let mut wanted = change.groups.clone().unwrap_or_default();
    if demoted {
        wanted.extend(REGULAR_USER_DEFAULT_GROUPS.map(str::to_owned));
    }
    let found = lock_groups(tx, &wanted).await?;
    if let Some(groups) = &change.groups {
        require_found(groups, &found)?;
    }

    user_rows::update(tx, &after).await?;
    if demoted {
        let defaults: Vec<String> =
            found.iter().filter(|name| REGULAR_USER_DEFAULT_GROUPS.contains(&name.as_str())).cloned().collect();
        group_rows::add_member(tx, target, &defaults).await?;
        join_own_groups(tx, target).await?;
    }
    if let (Some(groups), true) = (&change.groups, changes_groups || demoted) {
        let current = group_rows::memberships(tx, target).await?;
        let gone: Vec<String> = current.iter().filter(|name| !groups.contains(name)).cloned().collect();
        group_rows::remove_member(tx, target, &gone).await?;
        group_rows::add_member(tx, target, groups).await?;
    }
    // The fields whose value changed; `password` whenever one is set, and `disabled`
    // always for the operator's `user disable` / `user enable`.
    let changed = [
        ("password", change.password.is_some()),
        ("email", after.email != before.email),
        ("fullName", after.full_name != before.full_name),
        ("disabled", changes_disabled || (change.disabled.is_some() && acting.username().is_none())),
        ("role", changes_role),
        ("groups", changes_groups),
    ];
    let fields = changed.into_iter().filter(|(_, changed)| *changed).map(|(name, _)| name).collect();
    acting.record(tx, ResourceType::User, target, fields);
    Ok(after)
}

/// Adds (`join`) or removes memberships of a user (`addUserToGroups`,
/// `removeUserFromGroups`, RULES §10): ADMIN only; every group named must exist
/// (else BAD_USER_INPUT and nothing changes); a membership held already, or absent
/// already, is no error. Returns the user.
pub async fn change_memberships(
    tx: &mut WriteTx,
    actor: Actor<'_>,
    username: &str,
    groups: &[String],
    join: bool,
) -> AppResult<UserRow> {
    let admins = EnabledAdmins::lock(tx).await?;
    let acting = actor.acting(tx, Some(&admins), false).await?;
    acting.require_admin(if join { "add users to groups" } else { "remove users from groups" })?;
    let user = user_rows::find_for_update(tx, username).await?.ok_or_else(|| not_found(username))?;
    let found = lock_groups(tx, groups).await?;
    require_found(groups, &found)?;
    let current = group_rows::memberships(tx, username).await?;
    let changing: Vec<String> = found.into_iter().filter(|group| current.contains(group) != join).collect();
    if join {
        group_rows::add_member(tx, username, &changing).await?;
    } else {
        group_rows::remove_member(tx, username, &changing).await?;
    }
    let fields = if changing.is_empty() { Vec::new() } else { vec!["groups"] };
    acting.record(tx, ResourceType::User, username, fields);
    Ok(user)
}

/// Deletes a user with its own read and edit groups, and returns it as it was, with
/// its groups. Only an ADMIN deletes an ADMIN, never the last enabled one.
pub async fn delete(tx: &mut WriteTx, actor: Actor<'_>, username: &str) -> AppResult<(UserRow, Vec<GroupRow>)> {
    let admins = EnabledAdmins::lock(tx).await?;
    let acting = actor.acting(tx, Some(&admins), false).await?;
    acting.require(&delete_permission(username))?;
    let row = user_rows::find_for_update(tx, username).await?.ok_or_else(|| not_found(username))?;
    if row.role == Role::Admin {
        acting.require_admin("delete an ADMIN")?;
        if !row.disabled {
            admins.require_another_than(username, "deleted")?;
        }
    }
    let groups = user_rows::find_with_groups(tx, username)
        .await?
        .map(|a| a.groups.iter().map(|group| GroupRow::clone(group)).collect())
        .unwrap_or_default();
    group_rows::delete_owned(tx, ResourceType::User, username).await?;
    user_rows::delete(tx, username).await?;
    acting.record(tx, ResourceType::User, username, Vec::new());
    Ok((row, groups))
}

/// On a database with no user, creates `admin` with `password_hash` (RULES §1);
/// whether it did.
pub async fn bootstrap_admin(tx: &mut WriteTx, password_hash: String) -> AppResult<bool> {
    if user_rows::count(tx).await? > 0 {
        return Ok(false);
    }
    let row = UserRow {
        username: "admin".to_owned(),
        password_hash,
        email: None,
        full_name: None,
        disabled: false,
        role: Role::Admin,
        token_version: crate::auth::token::new_version(),
    };
    create(tx, Actor::server("createUser"), &NewUser { row, extra_groups: Vec::new() }).await?;
    Ok(true)
}

/// Puts a REGULAR user in its own read and edit groups, created now unless it owns
/// them already (an admin demoted).
async fn join_own_groups(tx: &mut WriteTx, username: &str) -> AppResult<()> {
    let mut own = group_rows::owned_by(tx, ResourceType::User, username).await?;
    if own.is_empty() {
        for kind in [OwnedGroupKind::Read, OwnedGroupKind::Edit] {
            let group = owned_group(kind, ResourceType::User, username);
            own.push(groups::create_owned(tx, &group, ResourceType::User, username).await?);
        }
    }
    group_rows::add_member(tx, username, &own).await
}

/// Those of `names` that are groups, locked against deletion in name order.
async fn lock_groups(tx: &mut WriteTx, names: &[String]) -> AppResult<Vec<String>> {
    let mut names = names.to_vec();
    names.sort();
    names.dedup();
    group_rows::lock_existing(tx, &names).await
}

/// BAD_USER_INPUT unless every group of `named` is among `found` (RULES §5).
fn require_found(named: &[String], found: &[String]) -> AppResult<()> {
    let missing: Vec<&str> = named.iter().filter(|name| !found.contains(name)).map(String::as_str).collect();
    if missing.is_empty() { Ok(()) } else { Err(AppError::bad_input(format!("no such group: {}", missing.join(", ")))) }
}

pub fn not_found(username: &str) -> AppError {
    AppError::not_found(format!("user {username:?} not found"))
}

fn same_set(a: &[String], b: &[String]) -> bool {
    use std::collections::BTreeSet;
    a.iter().collect::<BTreeSet<_>>() == b.iter().collect::<BTreeSet<_>>()
}

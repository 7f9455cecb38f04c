//! Operator commands (`mlte-graphql user …`, `mlte-graphql audit list`): work on the
//! database directly, for an operator locked out of the API, with or without a
//! server running. They change users through [`crate::accounts`], under the same
//! rules as the API.

use std::io::Read;

use anyhow::Context;

use crate::accounts::Actor;
use crate::accounts::users::{self, NewPassword, NewUser, UserChange};
use crate::auth::password::Hasher;
use crate::auth::token;
use crate::config::{AuditCommand, Config, RoleArg, Secret, UserCommand};
use crate::domain::rfc3339;
use crate::domain::{Role, validate};
use crate::error::{AppError, AppResult};
use crate::store::audit::EventFilter;
use crate::store::users::UserRow;
use crate::store::{self, Db, PoolSettings, login_failures, write_tx};

/// Runs `command` and returns what to tell the operator.
pub async fn run(command: &UserCommand, config: &Config, stdin: impl Read) -> anyhow::Result<String> {
    let db = Db::connect(&config.database_url, &PoolSettings::from_config(config)).await?;
    let hasher = Hasher::new(None, 1);
    match command {
        UserCommand::Create { username, role } => {
            validate::username(username)?;
            let password = read_password(stdin)?;
            let role = match role {
                RoleArg::Admin => Role::Admin,
                RoleArg::Regular => Role::Regular,
            };
            let row = UserRow {
                username: username.clone(),
                password_hash: hasher.hash(password).await?,
                email: None,
                full_name: None,
                disabled: false,
                role,
                token_version: token::new_version(),
            };
            let user = NewUser { row, extra_groups: Vec::new() };
            told(write_tx!(&db, |tx| users::create(&mut tx, Actor::operator("user create"), &user)))?;
            Ok(format!("created user {username} ({})", role.as_str()))
        }
        UserCommand::ResetPassword { username } => {
            let password = read_password(stdin)?;
            let hash = hasher.hash(password).await?;
            let change = UserChange {
                username: username.clone(),
                password: Some(NewPassword::unverified(hash)),
                ..UserChange::default()
            };
            told(write_tx!(&db, |tx| reset_password(&mut tx, &change)))?;
            Ok(format!("reset the password of {username}; its older tokens no longer work"))
        }
        UserCommand::Disable { username } => {
            let change = UserChange { username: username.clone(), disabled: Some(true), ..UserChange::default() };
            told(write_tx!(&db, |tx| users::edit(&mut tx, Actor::operator("user disable"), &change)))?;
            Ok(format!("disabled {username}"))
        }
        UserCommand::Enable { username } => {
            let change = UserChange { username: username.clone(), disabled: Some(false), ..UserChange::default() };
            told(write_tx!(&db, |tx| users::edit(&mut tx, Actor::operator("user enable"), &change)))?;
            Ok(format!("enabled {username}"))
        }
    }
}

/// Runs an `audit` command and returns what to print.
pub async fn audit(command: &AuditCommand, config: &Config) -> anyhow::Result<String> {
    let AuditCommand::List { since, actor, limit, json } = command;
    let since = match since {
        Some(text) => Some(rfc3339::parse(text).map_err(|_| anyhow::anyhow!("--since must be RFC 3339"))?),
        None => None,
    };
    // Events past the retention are never shown, whether or not deleted yet.
    let retained = crate::domain::now_ms() - i64::from(config.audit_retention_days) * 86_400_000;
    let filter = EventFilter {
        actor: actor.clone(),
        since: Some(since.map_or(retained, |since: i64| since.max(retained))),
        ..EventFilter::default()
    };
    let db = Db::connect(&config.database_url, &PoolSettings::from_config(config)).await?;
    let (events, _) = store::audit::page(&mut *db.conn().await?, &filter, *limit, false).await?;
    let mut out = String::new();
    for event in events {
        let at = rfc3339::format(event.at);
        let line = if *json {
            serde_json::json!({
                "id": event.id.to_string(), "at": at, "actor": event.actor, "action": event.action,
                "targetType": event.target_type.as_str(), "targetId": event.target_id,
                "fields": event.fields, "requestId": event.request_id,
            })
            .to_string()
        } else {
            let actor = event.actor.as_deref().unwrap_or("-");
            let request = event.request_id.as_deref().unwrap_or("-");
            let (kind, id, fields) = (event.target_type.as_str(), &event.target_id, event.fields.join(","));
            format!("{} {at} {actor} {} {kind} {id} [{fields}] {request}", event.id, event.action)
        };
        out.push_str(&line);
        out.push('\n');
    }
    Ok(out)
}

/// Sets the password and lifts the user's failed-login lock.
async fn reset_password(tx: &mut crate::store::WriteTx, change: &UserChange) -> AppResult<()> {
    users::edit(tx, Actor::operator("user reset-password"), change).await?;
    login_failures::clear_user(tx, &change.username).await
}

/// An error as the operator reads it: what went wrong, internal causes included.
fn told<T>(result: AppResult<T>) -> anyhow::Result<T> {
    result.map_err(|error| match error {
        AppError::NotFound(_) => anyhow::anyhow!("no user by that name"),
        other => anyhow::anyhow!(other.cause()),
    })
}

/// The password on stdin: its first line, without the line break.
fn read_password(mut stdin: impl Read) -> anyhow::Result<Secret> {
    let mut input = String::new();
    stdin.read_to_string(&mut input).context("reading the password from stdin")?;
    let password = input.lines().next().unwrap_or("").to_owned();
    validate::password(&password)?;
    Ok(Secret::new(password))
}

//! Operator commands (`mlte-graphql user …`): work on the database directly, for an
//! operator locked out of the API, with or without a server running.

use std::io::Read;

use anyhow::{Context, bail};

use crate::auth::password::Hasher;
use crate::auth::token;
use crate::config::{Config, RoleArg, Secret, UserCommand};
use crate::domain::{Role, validate};
use crate::store::{Db, login_failures, users};

/// Runs `command` and returns what to tell the operator.
pub async fn run(command: &UserCommand, config: &Config, stdin: impl Read) -> anyhow::Result<String> {
    let db = Db::connect(&config.database_url, &config.pool_settings()).await?;
    let hasher = Hasher::new(None, 1);
    match command {
        UserCommand::Create { username, role } => {
            validate::username(username)?;
            let password = read_password(stdin)?;
            let role = match role {
                RoleArg::Admin => Role::Admin,
                RoleArg::Regular => Role::Regular,
            };
            let row = users::UserRow {
                username: username.clone(),
                password_hash: hasher.hash(password).await?,
                email: None,
                full_name: None,
                disabled: false,
                role,
                token_version: token::new_version(),
            };
            let mut tx = db.begin_write().await?;
            tx.changes_access();
            users::create(&mut tx, &row, &[]).await?;
            tx.commit().await?;
            Ok(format!("created user {username} ({})", role.as_str()))
        }
        UserCommand::ResetPassword { username } => {
            let password = read_password(stdin)?;
            let hash = hasher.hash(password).await?;
            let mut tx = db.begin_write().await?;
            let mut user = find(&mut tx, username).await?;
            user.password_hash = hash;
            user.token_version = token::new_version();
            users::update(&mut tx, &user).await?;
            login_failures::clear_user(&mut tx, username).await?;
            tx.commit().await?;
            Ok(format!("reset the password of {username}; its older tokens no longer work"))
        }
        UserCommand::Disable { username } => {
            let mut tx = db.begin_write().await?;
            let enabled_admins = users::lock_enabled_admins(&mut tx).await?;
            let mut user = find(&mut tx, username).await?;
            if user.role == Role::Admin && !user.disabled && enabled_admins <= 1 {
                bail!("{username} is the last enabled ADMIN and cannot be disabled");
            }
            user.disabled = true;
            users::update(&mut tx, &user).await?;
            tx.commit().await?;
            Ok(format!("disabled {username}"))
        }
        UserCommand::Enable { username } => {
            let mut tx = db.begin_write().await?;
            let mut user = find(&mut tx, username).await?;
            user.disabled = false;
            users::update(&mut tx, &user).await?;
            tx.commit().await?;
            Ok(format!("enabled {username}"))
        }
    }
}

async fn find(tx: &mut crate::store::WriteTx, username: &str) -> anyhow::Result<users::UserRow> {
    users::find_for_update(tx, username).await?.with_context(|| format!("no user named {username:?}"))
}

/// The password on stdin: its first line, without the line break.
fn read_password(mut stdin: impl Read) -> anyhow::Result<Secret> {
    let mut input = String::new();
    stdin.read_to_string(&mut input).context("reading the password from stdin")?;
    let password = input.lines().next().unwrap_or("").to_owned();
    validate::password(&password)?;
    Ok(Secret::new(password))
}

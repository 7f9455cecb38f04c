//! The account rules of RULES §3–§4, written once: who may set role, groups and
//! `disabled`, ADMIN targets, the last enabled admin, `currentPassword`, and the
//! groups MLTE derives. Every function takes the write transaction and the
//! [`Actor`] (an API caller, the operator's CLI, the server itself) and makes every
//! check that depends on stored state on rows it has locked in that transaction, so
//! that requests running at once end as some serial order of them would.
//!
//! Locks are taken in one order everywhere: the enabled admins by username, then the
//! target user, then groups by name (then a model). Resolvers, the operator commands
//! and the start-up bootstrap call these functions inside [`crate::store::Db::write`],
//! which runs a transaction again when the database aborts it for a deadlock.

pub mod groups;
pub mod models;
pub mod naming;
pub mod users;

use crate::auth::{Caller, policy};
use crate::domain::{Permission, ResourceType, Role};
use crate::error::{AppError, AppResult};
use crate::store::audit::NewEvent;
use crate::store::{WriteTx, users as user_rows};

/// Who makes a change, and as what: the mutation or operator command, as the audit
/// log names it (RULES §9).
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    who: Who<'a>,
    action: &'static str,
}

#[derive(Debug, Clone, Copy)]
enum Who<'a> {
    /// An API caller, as authenticated when its request began, and that request's id.
    Caller { caller: &'a Caller, request_id: &'a str },
    /// `mlte-graphql user …`: the operator at the database, with every right.
    Operator,
    /// The server itself: the start-up bootstrap of `admin`.
    Server,
}

/// An actor as the writing transaction finds it.
#[derive(Debug, Clone, Copy)]
pub struct Acting<'a> {
    actor: Actor<'a>,
    role: Role,
}

impl<'a> Actor<'a> {
    /// An API caller making `action` (a mutation's name) in the request `request_id`.
    pub fn caller(caller: &'a Caller, request_id: &'a str, action: &'static str) -> Self {
        Actor { who: Who::Caller { caller, request_id }, action }
    }

    /// The operator, running `action` (`user …`).
    pub fn operator(action: &'static str) -> Self {
        Actor { who: Who::Operator, action }
    }

    /// The server itself.
    pub fn server(action: &'static str) -> Self {
        Actor { who: Who::Server, action }
    }

    /// The API caller, if it is one.
    pub fn as_caller(&self) -> Option<&'a Caller> {
        match self.who {
            Who::Caller { caller, .. } => Some(caller),
            Who::Operator | Who::Server => None,
        }
    }

    /// The actor as it stands in `tx`. A caller must still exist, carry its token's
    /// version and be enabled: a mutation earlier in the same document, or another
    /// request meanwhile, may have deleted, disabled or logged it out. It is an ADMIN
    /// only if `admins` (locked by this transaction) holds it; without them, as its
    /// row says. `lock` locks its row too, for a caller about to join groups.
    async fn acting(self, tx: &mut WriteTx, admins: Option<&EnabledAdmins>, lock: bool) -> AppResult<Acting<'a>> {
        let Some(caller) = self.as_caller() else { return Ok(Acting { actor: self, role: Role::Admin }) };
        let row = if lock {
            user_rows::find_for_update(tx, caller.username()).await?
        } else {
            user_rows::find(tx, caller.username()).await?
        };
        let Some(row) = row.filter(|row| row.token_version == caller.user.token_version) else {
            return Err(AppError::Unauthenticated("the caller no longer exists or its token was revoked"));
        };
        if row.disabled {
            return Err(AppError::forbidden("this user is disabled"));
        }
        let role = match admins {
            Some(admins) if admins.contains(caller.username()) => Role::Admin,
            Some(_) => Role::Regular,
            None => row.role,
        };
        Ok(Acting { actor: self, role })
    }
}

impl Acting<'_> {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// The caller's username; `None` for the operator and the server.
    pub fn username(&self) -> Option<&str> {
        self.actor.as_caller().map(Caller::username)
    }

    /// Records the change's event (RULES §9), written at the commit.
    fn record(&self, tx: &mut WriteTx, target_type: ResourceType, target_id: &str, fields: Vec<&str>) {
        if cfg!(feature = "bench-without-audit") {
            return;
        }
        let request_id = match self.actor.who {
            Who::Caller { request_id, .. } => Some(request_id),
            Who::Operator | Who::Server => None,
        };
        let event =
            NewEvent { actor: self.username(), action: self.actor.action, target_type, target_id, fields, request_id };
        tx.record(&event);
    }

    /// FORBIDDEN unless the actor, as it stands now, passes the check of RULES §3 for
    /// `requested` (the guards checked it already, as the caller stood when its
    /// request began).
    fn require(&self, requested: &Permission) -> AppResult<()> {
        let allowed = match self.actor.as_caller() {
            Some(caller) => policy::is_allowed(self.role, &caller.permissions, requested),
            None => true,
        };
        if allowed { Ok(()) } else { Err(AppError::forbidden("not allowed")) }
    }

    /// FORBIDDEN unless the actor is an ADMIN, with `what` it tried.
    fn require_admin(&self, what: &str) -> AppResult<()> {
        if self.is_admin() { Ok(()) } else { Err(AppError::forbidden(format!("only an ADMIN may {what}"))) }
    }
}

/// The enabled ADMIN users, locked by the transaction that read them: who is an admin
/// now, and whether a change would leave none.
#[derive(Debug)]
struct EnabledAdmins(Vec<String>);

impl EnabledAdmins {
    async fn lock(tx: &mut WriteTx) -> AppResult<Self> {
        Ok(EnabledAdmins(user_rows::lock_enabled_admins(tx).await?))
    }

    fn contains(&self, username: &str) -> bool {
        self.0.iter().any(|admin| admin == username)
    }

    /// BAD_USER_INPUT when `username` is the only one: it must stay an enabled admin.
    fn require_another_than(&self, username: &str, what: &str) -> AppResult<()> {
        if self.0.iter().any(|admin| admin != username) {
            Ok(())
        } else {
            Err(AppError::bad_input(format!("the last enabled ADMIN cannot be {what}")))
        }
    }
}

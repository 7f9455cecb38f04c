//! The one way every field is authorized: a [`Requires`] guard on each root field,
//! built from the operation's requested permission (RULES §3) and checked by
//! [`crate::auth::policy`]. The caller is loaded once per request.

use std::net::IpAddr;

use async_graphql::{Context, Guard};
use tokio::sync::OnceCell;

use crate::auth::{self, Caller};
use crate::domain::{Method, Permission, ResourceType};
use crate::error::{AppError, AppResult};
use crate::graphql::loaders::Loaders;
use crate::graphql::{data, state};

/// What the HTTP layer hands each request: its bearer token, client address and id,
/// and a slot for the caller.
pub struct RequestContext {
    bearer: Option<String>,
    client_address: Option<IpAddr>,
    request_id: String,
    caller: OnceCell<AppResult<Caller>>,
}

impl RequestContext {
    pub fn new(bearer: Option<String>, client_address: Option<IpAddr>, request_id: String) -> Self {
        RequestContext { bearer, client_address, request_id, caller: OnceCell::new() }
    }

    pub fn client_address(&self) -> Option<IpAddr> {
        self.client_address
    }

    pub fn request_id(&self) -> &str {
        &self.request_id
    }
}

/// The authenticated caller of this request, loaded on first use.
pub async fn caller<'a>(ctx: &Context<'a>) -> AppResult<&'a Caller> {
    let request = data::<RequestContext>(ctx)?;
    let state = state(ctx)?;
    let loaders = data::<Loaders>(ctx)?;
    let result = request
        .caller
        .get_or_init(|| async {
            let caller =
                auth::authenticate(&state.db, &state.keys, &state.groups_cache, request.bearer.as_deref()).await?;
            // The caller's groups and models then cost no second read.
            loaders.feed_access(caller.access.clone()).await;
            Ok(caller)
        })
        .await;
    result.as_ref().map_err(Clone::clone)
}

/// A field's requirement: a valid token, and the permission unless there is none.
pub struct Requires(Option<Permission>);

impl Requires {
    /// Any authenticated caller (fields that filter by what the caller may read).
    pub fn token() -> Self {
        Requires(None)
    }

    /// `method` on one resource, or on all of a type when `id` is `None` (a listing).
    /// For users, `"me"` names the caller.
    pub fn permission(resource_type: ResourceType, id: Option<&str>, method: Method) -> Self {
        Requires(Some(Permission::new(resource_type, id, method)))
    }
}

impl Guard for Requires {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let caller = caller(ctx).await?;
        let Some(requested) = &self.0 else { return Ok(()) };
        let mut requested = requested.clone();
        if requested.resource_type == ResourceType::User {
            requested.resource_id = requested.resource_id.map(|id| caller.resolve(&id).to_owned());
        }
        if caller.may(&requested) { Ok(()) } else { Err(AppError::forbidden("not allowed").into()) }
    }
}

//! How every root field is authorized. [`Authenticated`] wraps the root types: every
//! root field but `login` needs a valid token, whether or not it has a guard, so a
//! field added without one is not public. A [`Requires`] guard then checks the
//! operation's requested permission (RULES §3) with [`crate::auth::policy`]. The
//! caller is loaded once per request.

use std::net::IpAddr;

use std::borrow::Cow;

use async_graphql::parser::types::Field;
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::{ContainerType, resolve_container};
use async_graphql::{
    Context, ContextSelectionSet, Error, Guard, ObjectType, OutputType, Positioned, ServerResult, Value,
};
use tokio::sync::OnceCell;

use crate::auth::{self, Caller};
use crate::domain::{Method, Permission, ResourceType};
use crate::error::{AppError, AppResult};
use crate::graphql::loaders::Loaders;
use crate::graphql::{data, state};
use crate::state::AppState;

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

    /// The caller, authenticated on first use.
    pub async fn caller(&self, state: &AppState) -> &AppResult<Caller> {
        self.caller.get_or_init(|| self.authenticate(state)).await
    }

    async fn authenticate(&self, state: &AppState) -> AppResult<Caller> {
        auth::authenticate(&state.db, &state.keys, &state.groups_cache, self.bearer.as_deref()).await
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
            let caller = request.authenticate(state).await?;
            // The caller's groups and models then cost no second read.
            loaders.feed_user(caller.user.clone()).await;
            Ok(caller)
        })
        .await;
    result.as_ref().map_err(Clone::clone)
}

/// The root fields anyone may use, without a token.
const PUBLIC_ROOT_FIELDS: [&str; 1] = ["login"];

/// A root type (`Query`, `Mutation`) whose every field but [`PUBLIC_ROOT_FIELDS`]
/// authenticates the caller before it resolves. Introspection (`__schema`, `__type`,
/// `__typename`) is answered by async-graphql before it reaches here.
#[derive(Default)]
pub struct Authenticated<T>(T);

impl<T: ObjectType> OutputType for Authenticated<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, _field: &Positioned<Field>) -> ServerResult<Value> {
        resolve_container(ctx, self).await
    }
}

impl<T: ObjectType> ContainerType for Authenticated<T> {
    async fn resolve_field(&self, ctx: &Context<'_>) -> ServerResult<Option<Value>> {
        if !PUBLIC_ROOT_FIELDS.contains(&ctx.item.node.name.node.as_str()) {
            caller(ctx)
                .await
                .map_err(|error| ctx.set_error_path(Error::from(error).into_server_error(ctx.item.pos)))?;
        }
        self.0.resolve_field(ctx).await
    }
}

impl<T: ObjectType> ObjectType for Authenticated<T> {}

/// A field's requirement: the permission the operation requests (RULES §3).
pub struct Requires(Permission);

impl Requires {
    /// `method` on one resource, or on all of a type when `id` is `None` (a listing).
    /// For users, `"me"` names the caller.
    pub fn permission(resource_type: ResourceType, id: Option<&str>, method: Method) -> Self {
        Requires(Permission::new(resource_type, id, method))
    }

    /// `requested`, as [`crate::accounts`] states it for a mutation.
    pub fn to(requested: Permission) -> Self {
        Requires(requested)
    }
}

impl Guard for Requires {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let caller = caller(ctx).await?;
        let mut requested = self.0.clone();
        if requested.resource_type == ResourceType::User {
            requested.resource_id = requested.resource_id.map(|id| caller.resolve(&id).to_owned());
        }
        if caller.may(&requested) { Ok(()) } else { Err(AppError::forbidden("not allowed").into()) }
    }
}

/// ADMIN only (the audit log, RULES §9): anyone else is FORBIDDEN.
pub struct RequiresAdmin;

impl Guard for RequiresAdmin {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        if caller(ctx).await?.is_admin() { Ok(()) } else { Err(AppError::forbidden("ADMIN only").into()) }
    }
}

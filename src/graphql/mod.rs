//! The GraphQL schema: queries and mutations split by resource, the guards that
//! authorize them, and the per-request loaders.

pub mod groups;
pub mod guards;
pub mod loaders;
pub mod models;
pub mod types;
pub mod users;

use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, MergedObject, Name, PathSegment, Schema, SchemaBuilder, Value};

use crate::auth::token::TokenKeys;
use crate::error::{AppError, AppResult, assign_codes};
use crate::store::Db;

/// What every resolver and handler shares: the database and the token keys.
pub struct AppState {
    pub db: Db,
    pub keys: TokenKeys,
}

#[derive(MergedObject, Default)]
pub struct Query(users::UserQuery, models::ModelQuery, groups::GroupQuery);

#[derive(MergedObject, Default)]
pub struct Mutation(users::UserMutation, models::ModelMutation, groups::GroupMutation);

pub type AppSchema = Schema<Query, Mutation, EmptySubscription>;

/// The schema without its data: enough to print the SDL.
pub fn schema_builder() -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
}

/// The schema serving `state`.
pub fn schema(state: Arc<AppState>) -> AppSchema {
    schema_builder().data(state).finish()
}

/// Runs one GraphQL request for the holder of `bearer`, with fresh loaders, and
/// gives every error its `extensions.code`.
pub async fn execute(
    schema: &AppSchema,
    state: &Arc<AppState>,
    request: async_graphql::Request,
    bearer: Option<String>,
) -> async_graphql::Response {
    let request = request.data(guards::RequestAuth::new(bearer)).data(loaders::Loaders::new(&state.db));
    let mut response = schema.execute(request).await;
    assign_codes(&mut response.errors);
    null_failed_fields(&mut response);
    response
}

/// async-graphql leaves a failed field out of its parent object; GraphQL says it is
/// null (`user(username:)` is "null with a NOT_FOUND error"). Puts the null back.
fn null_failed_fields(response: &mut async_graphql::Response) {
    for error in &response.errors {
        let Some((PathSegment::Field(last), parents)) = error.path.split_last() else { continue };
        if let Some(Value::Object(map)) = descend(&mut response.data, parents) {
            map.entry(Name::new(last)).or_insert(Value::Null);
        }
    }
}

fn descend<'a>(node: &'a mut Value, path: &[PathSegment]) -> Option<&'a mut Value> {
    let Some((first, rest)) = path.split_first() else { return Some(node) };
    let child = match (node, first) {
        (Value::Object(map), PathSegment::Field(name)) => map.get_mut(name.as_str())?,
        (Value::List(items), PathSegment::Index(i)) => items.get_mut(*i)?,
        _ => return None,
    };
    descend(child, rest)
}

/// Request or schema data of type `T`; its absence is a wiring bug, hence internal.
pub fn data<'a, T: std::any::Any + Send + Sync>(ctx: &Context<'a>) -> AppResult<&'a T> {
    ctx.data::<T>().map_err(|e| AppError::internal(anyhow::anyhow!(e.message)))
}

/// The shared state, from a resolver's context.
pub fn state<'a>(ctx: &Context<'a>) -> AppResult<&'a AppState> {
    data::<Arc<AppState>>(ctx).map(Arc::as_ref)
}

//! The GraphQL schema: queries and mutations split by resource, the guards that
//! authorize them, and the per-request loaders.

pub mod groups;
pub mod guards;
pub mod loaders;
pub mod models;
pub mod types;
pub mod users;

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

use async_graphql::{Context, EmptySubscription, MergedObject, Name, PathSegment, Schema, SchemaBuilder, Value};

use crate::auth::throttle::LoginLimits;
use crate::auth::token::TokenKeys;
use crate::auth::{self, IssuedToken, LoginAttempt};
use crate::error::{AppError, AppResult, assign_codes};
use crate::store::Db;

/// What every resolver and handler shares.
pub struct AppState {
    pub db: Db,
    pub keys: TokenKeys,
    pub login_limits: LoginLimits,
}

impl AppState {
    /// Logs in with this state's database, keys and limits.
    pub async fn login(&self, attempt: LoginAttempt<'_>) -> AppResult<IssuedToken> {
        auth::login(&self.db, &self.keys, &self.login_limits, attempt).await
    }
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

/// Runs one GraphQL request for the caller `auth` describes, with fresh loaders, and
/// gives every error its `extensions.code`.
pub async fn execute(
    schema: &AppSchema,
    state: &Arc<AppState>,
    request: async_graphql::Request,
    auth: guards::RequestAuth,
) -> async_graphql::Response {
    let request = request.data(auth).data(loaders::Loaders::new(&state.db));
    let mut response = schema.execute(request).await;
    assign_codes(&mut response.errors);
    null_failed_fields(&mut response);
    response
}

/// async-graphql leaves a failed field out of its parent object, and answers
/// `data: null` when every root field failed. GraphQL says a failed nullable field is
/// null (`user(username:)` is "null with a NOT_FOUND error") and a failed non-null
/// root field nulls `data`. Puts that right.
fn null_failed_fields(response: &mut async_graphql::Response) {
    let failed_root_fields: Vec<&str> = response
        .errors
        .iter()
        .filter_map(|e| match e.path.as_slice() {
            [PathSegment::Field(name)] => Some(name.as_str()),
            _ => None,
        })
        .collect();
    if !failed_root_fields.is_empty() {
        let nullable = nullable_root_fields();
        if failed_root_fields.iter().any(|f| !nullable.contains(*f)) {
            response.data = Value::Null;
            return;
        }
        if response.data == Value::Null {
            response.data = Value::Object(Default::default());
        }
    }
    for error in &response.errors {
        let Some((PathSegment::Field(last), parents)) = error.path.split_last() else { continue };
        if let Some(Value::Object(map)) = descend(&mut response.data, parents) {
            map.entry(Name::new(last)).or_insert(Value::Null);
        }
    }
}

/// The root fields (of Query and Mutation) whose type is nullable, read once from the SDL.
fn nullable_root_fields() -> &'static HashSet<String> {
    static FIELDS: LazyLock<HashSet<String>> = LazyLock::new(|| {
        use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
        let document = async_graphql::parser::parse_schema(crate::schema_sdl()).expect("our own SDL parses");
        let mut fields = HashSet::new();
        for definition in document.definitions {
            let TypeSystemDefinition::Type(ty) = definition else { continue };
            let (name, TypeKind::Object(object)) = (ty.node.name.node.as_str(), &ty.node.kind) else { continue };
            if name == "Query" || name == "Mutation" {
                fields.extend(
                    object.fields.iter().filter(|f| f.node.ty.node.nullable).map(|f| f.node.name.node.to_string()),
                );
            }
        }
        fields
    });
    &FIELDS
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

//! The GraphQL schema: queries and mutations split by resource, the guards that
//! authorize them, and the per-request loaders.

pub mod access;
mod allowed_only;
pub mod answer;
pub mod audit;
mod budget;
pub mod groups;
pub mod guards;
pub mod limits;
pub mod loaders;
pub mod models;
mod nulls;
mod operation;
pub mod pages;
pub mod persisted;
pub mod types;
pub mod users;
mod users_listing;

use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, MergedObject, Schema, SchemaBuilder, Value};

use crate::accounts::Actor;
use crate::auth::Caller;
use crate::config::Config;
use crate::domain::{Method, Permission, ResourceType};
use crate::error::{AppError, AppResult, assign_codes};
use crate::state::AppState;
use crate::store::Db;
use allowed_only::AllowedOnly;
use limits::{Checked, DocumentLimits, ParsedDocuments, Plan};
use users_listing::UsersListing;

#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryFields(users::UserQuery, models::ModelQuery, groups::GroupQuery, audit::AuditQuery);

#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationFields(users::UserMutation, models::ModelMutation, groups::GroupMutation, users::SessionMutation);

pub type Query = guards::Authenticated<QueryFields>;
pub type Mutation = guards::Authenticated<MutationFields>;
pub type AppSchema = Schema<Query, Mutation, EmptySubscription>;

/// The schema without its data: enough to print the SDL.
pub fn schema_builder() -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
}

/// What a list field's selection counts for in a document's complexity (RULES §11):
/// a list of every user, group or model is as long as the database makes it.
pub const LIST_WEIGHT: usize = 10;

/// How much one request may ask for; each has a flag.
#[derive(Debug, Clone)]
pub struct QueryLimits {
    pub max_depth: usize,
    pub max_complexity: usize,
    /// Nesting the parser follows: selections, and lists and objects in values.
    pub max_recursion_depth: usize,
    pub max_directives: usize,
    pub document: DocumentLimits,
    /// Bytes the automatic persisted queries may keep.
    pub apq_max_bytes: usize,
    /// Off: no introspection and no "did you mean" suggestions.
    pub introspection: bool,
    /// Bytes of JSON an answer may have (RULES §11).
    pub max_response_bytes: usize,
    /// The memory budget of requests listing every user (RULES §11).
    pub heavy_memory_bytes: usize,
    /// Parsed documents kept across requests.
    pub document_cache_entries: usize,
}

impl QueryLimits {
    /// The limits the flags set.
    pub fn from_config(config: &Config) -> Self {
        QueryLimits {
            max_depth: config.max_query_depth,
            max_complexity: config.max_query_complexity,
            max_recursion_depth: config.max_recursion_depth,
            max_directives: config.max_directives,
            document: DocumentLimits { max_aliases: config.max_aliases, max_root_fields: config.max_root_fields },
            introspection: !config.disable_introspection,
            apq_max_bytes: config.apq_max_bytes,
            max_response_bytes: config.max_response_bytes,
            heavy_memory_bytes: config.heavy_memory_bytes,
            document_cache_entries: config.document_cache_entries,
        }
    }
}

/// The schema serving `state` within `limits`, validating documents by `validation`.
fn schema(state: Arc<AppState>, limits: &QueryLimits, validation: async_graphql::ValidationMode) -> AppSchema {
    let mut builder = schema_builder()
        .validation_mode(validation)
        .data(state)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .limit_recursive_depth(limits.max_recursion_depth)
        .limit_directives(limits.max_directives);
    if !limits.introspection {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.finish()
}

/// The GraphQL API: the schema, the checks every document passes before it runs,
/// and the turns of the listings of every user.
pub struct Api {
    schema: AppSchema,
    /// The same schema checking only the limits (depth, complexity), for documents
    /// that already passed the full validation once.
    validated_schema: AppSchema,
    state: Arc<AppState>,
    document_limits: DocumentLimits,
    parsed_documents: ParsedDocuments,
    /// What requests listing every user may hold at once: their answers are large.
    heavy_requests: budget::MemoryBudget,
    /// Automatic persisted queries of this process (RULES §1).
    pub persisted_queries: persisted::PersistedQueries,
    max_response_bytes: usize,
}

impl Api {
    pub fn new(state: Arc<AppState>, limits: &QueryLimits) -> Self {
        Api {
            schema: schema(state.clone(), limits, async_graphql::ValidationMode::Strict),
            validated_schema: schema(state.clone(), limits, async_graphql::ValidationMode::Fast),
            state,
            document_limits: limits.document,
            parsed_documents: ParsedDocuments::new(limits.document_cache_entries),
            heavy_requests: budget::MemoryBudget::new(limits.heavy_memory_bytes),
            persisted_queries: persisted::PersistedQueries::new(limits.apq_max_bytes),
            max_response_bytes: limits.max_response_bytes,
        }
    }

    /// Runs one GraphQL request for the caller `context` describes, with fresh
    /// loaders, gives every error its `extensions.code`, counts it by operation and
    /// outcome, and hands the answer to `render`.
    pub async fn execute<R>(
        &self,
        mut request: async_graphql::Request,
        context: guards::RequestContext,
        render: impl FnOnce(Answer) -> R,
    ) -> R {
        let request_id = context.request_id().to_owned();
        let mut checked = self.document_limits.check(&mut request, &self.parsed_documents, true);
        if let Ok(Checked::Plan(plan)) = &checked {
            match plan {
                Plan::AllowedOnly(plan) => {
                    if let Some(answer) = self.answer_allowed_only(plan, &request, &context).await {
                        let operation = request.operation_name.as_deref().or(plan.operation());
                        self.state.metrics.graphql_request(operation, &answer.outcome);
                        return render(answer);
                    }
                }
                Plan::UsersListing(plan) => {
                    if let Some((answer, reservation)) = self.answer_users_listing(plan, &request, &context).await {
                        let operation = request.operation_name.as_deref().or(plan.operation());
                        self.state.metrics.graphql_request(operation, &answer.outcome);
                        let rendered = render(answer);
                        drop(reservation);
                        return rendered;
                    }
                }
            }
            // Its error comes from the executor.
            checked = self.document_limits.check(&mut request, &self.parsed_documents, false);
        }
        let operation = operation_name(&mut request);
        // A listing of every user builds an answer of megabytes: its part of the budget
        // is held from execution until the answer is serialized and freed, so that a
        // burst of them queues instead of multiplying memory.
        let mut reservation = None;
        // The text, for null propagation when a field fails; the executor needs only
        // the parsed document, which the checks left in the request.
        let mut text = None;
        let operation_name = request.operation_name.clone();
        let parts = Arc::new(answer::AnswerParts::new(self.max_response_bytes));
        let mut response = match checked {
            Ok(Checked::Plan(_)) => unreachable!("checked again without plans"),
            Ok(Checked::Run { validated }) => {
                if lists_every_user(&mut request) {
                    let key = budget::document_key(&request.query, operation_name.as_deref(), &request.variables);
                    reservation = Some(self.heavy_requests.reserve(key).await);
                }
                let schema = if validated { &self.validated_schema } else { &self.schema };
                if request.parsed_query().is_ok() {
                    text = Some(std::mem::take(&mut request.query));
                }
                let loaders = loaders::Loaders::new(&self.state.db);
                let response = schema.execute(request.data(context).data(loaders).data(parts.clone())).await;
                // Errors outside any field with no data: it did not pass (or did not run).
                let refused = response.data == Value::Null && response.errors.iter().any(|e| e.path.is_empty());
                if let Some(text) = text.as_deref()
                    && !validated
                    && !refused
                {
                    self.parsed_documents.mark_validated(text);
                }
                response
            }
            Err(refused) => async_graphql::Response::from_errors(vec![refused]),
        };
        assign_codes(&mut response.errors, &request_id);
        if let Some(too_large) = response.errors.iter().find(|e| code_of(e) == Some("RESPONSE_TOO_LARGE")) {
            // A request error: no `data`, and no path (RULES §2).
            let mut error = too_large.clone();
            error.path.clear();
            response = async_graphql::Response::from_errors(vec![error]);
        }
        if response.errors.iter().any(|e| !e.path.is_empty())
            && let Some(document) = text.and_then(|text| async_graphql::parser::parse_query(text).ok())
        {
            nulls::propagate(&mut response, &document, operation_name.as_deref());
        }
        let answer = Answer::of(response, &parts, &request_id);
        if let Some(reservation) = &reservation
            && !answer.request_error
        {
            reservation.learn(answer.json.len());
        }
        drop(parts);
        self.state.metrics.graphql_request(operation.as_deref(), &answer.outcome);
        let rendered = render(answer);
        drop(reservation);
        rendered
    }

    /// The answer of a document listing every user with plain fields, from its plan,
    /// with its part of the heavy requests' budget (held until the answer is sent).
    /// None when the executor must answer.
    async fn answer_users_listing(
        &self,
        plan: &UsersListing,
        request: &async_graphql::Request,
        context: &guards::RequestContext,
    ) -> Option<(Answer, budget::Reservation<'_>)> {
        if !plan.answers(request.operation_name.as_deref()) {
            return None;
        }
        // The `users` field's guard.
        let caller = context.caller(&self.state).await.as_ref().ok()?;
        if !caller.may(&Permission::new(ResourceType::User, None, Method::Get)) {
            return None;
        }
        let key = budget::document_key(&request.query, request.operation_name.as_deref(), &request.variables);
        let reservation = self.heavy_requests.reserve(key).await;
        let json = match plan.answer(&self.state, self.max_response_bytes).await {
            Ok(json) => json?,
            Err(error) => {
                tracing::warn!(request_id = context.request_id(), %error, "the listing's plan failed; the executor answers");
                return None;
            }
        };
        reservation.learn(json.len());
        Some((Answer { json, request_error: false, outcome: "ok".to_owned() }, reservation))
    }

    /// The answer of a document asking only `allowed`, from its plan: the caller's
    /// check against each permission asked. None when the executor must answer.
    async fn answer_allowed_only(
        &self,
        plan: &AllowedOnly,
        request: &async_graphql::Request,
        context: &guards::RequestContext,
    ) -> Option<Answer> {
        let checks = plan.checks(request.operation_name.as_deref(), &request.variables)?;
        let caller = context.caller(&self.state).await.as_ref().ok()?;
        let answers = checks.iter().map(|check| Value::Boolean(caller.may(check))).collect();
        let data = Value::Object([(async_graphql::Name::new("allowed"), Value::List(answers))].into_iter().collect());
        let parts = answer::AnswerParts::new(self.max_response_bytes);
        Some(Answer::of(async_graphql::Response::new(data), &parts, context.request_id()))
    }
}

/// A request's answer as JSON.
pub struct Answer {
    pub json: Vec<u8>,
    /// A request error (unparsable, invalid, refused by a limit, too large): no `data`.
    pub request_error: bool,
    /// The first error's code, or "ok".
    outcome: String,
}

impl Answer {
    fn of(response: async_graphql::Response, parts: &answer::AnswerParts, request_id: &str) -> Self {
        let request_error = response.data == Value::Null
            && !response.errors.is_empty()
            && response.errors.iter().all(|e| e.path.is_empty());
        let outcome =
            response.errors.first().map_or_else(|| "ok".to_owned(), |e| code_of(e).unwrap_or("error").to_owned());
        let rendered = if request_error {
            serde_json::to_vec(&serde_json::json!({ "errors": response.errors })).map_err(AppError::internal)
        } else {
            parts.render(&response)
        };
        match rendered {
            Ok(json) => Answer { json, request_error, outcome },
            Err(error) => {
                let mut errors = vec![async_graphql::Error::from(error).into_server_error(Default::default())];
                errors[0].locations.clear();
                assign_codes(&mut errors, request_id);
                let outcome = code_of(&errors[0]).unwrap_or("error").to_owned();
                let json = serde_json::to_vec(&serde_json::json!({ "errors": errors })).unwrap_or_default();
                Answer { json, request_error: true, outcome }
            }
        }
    }
}

/// An error's `extensions.code`.
fn code_of(error: &async_graphql::ServerError) -> Option<&str> {
    match error.extensions.as_ref()?.get("code")? {
        Value::String(code) => Some(code.as_str()),
        _ => None,
    }
}

/// Whether any operation of the document selects `users` at its root.
fn lists_every_user(request: &mut async_graphql::Request) -> bool {
    use async_graphql::parser::types::Selection;
    let Ok(document) = request.parsed_query() else { return false };
    let root_sets = document.operations.iter().map(|(_, op)| &op.node.selection_set.node);
    let fragment_sets = document.fragments.values().map(|f| &f.node.selection_set.node);
    root_sets.chain(fragment_sets).any(|set| {
        set.items.iter().any(|item| matches!(&item.node, Selection::Field(field) if field.node.name.node == "users"))
    })
}

/// The operation's name: the one asked for, or that of a document's only operation.
fn operation_name(request: &mut async_graphql::Request) -> Option<String> {
    use async_graphql::parser::types::DocumentOperations;
    if let Some(name) = &request.operation_name {
        return Some(name.clone());
    }
    match &request.parsed_query().ok()?.operations {
        DocumentOperations::Multiple(operations) if operations.len() == 1 => {
            operations.keys().next().map(|n| n.to_string())
        }
        _ => None,
    }
}

/// The database of a mutation about to write: this request's cached reads are
/// dropped first, so what the response shows afterwards is read after the write.
/// Mutations write with [`crate::store::write_tx`] on it.
pub fn db_to_write<'a>(ctx: &Context<'a>) -> AppResult<&'a Db> {
    data::<loaders::Loaders>(ctx)?.clear();
    Ok(&state(ctx)?.db)
}

/// The caller making `action` (the mutation's name), for the accounts layer and the
/// audit log.
pub fn actor<'a>(ctx: &Context<'a>, caller: &'a Caller, action: &'static str) -> AppResult<Actor<'a>> {
    Ok(Actor::caller(caller, data::<guards::RequestContext>(ctx)?.request_id(), action))
}

/// Request or schema data of type `T`; its absence is a wiring bug, hence internal.
pub fn data<'a, T: std::any::Any + Send + Sync>(ctx: &Context<'a>) -> AppResult<&'a T> {
    ctx.data::<T>().map_err(|e| AppError::internal(anyhow::anyhow!(e.message)))
}

/// The shared state, from a resolver's context.
pub fn state<'a>(ctx: &Context<'a>) -> AppResult<&'a AppState> {
    data::<Arc<AppState>>(ctx).map(Arc::as_ref)
}

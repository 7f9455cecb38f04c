//! The HTTP application: routes, shared state, start-up and graceful shutdown.
//! Tests build the app with [`build`] exactly as `main` does.

use std::net::SocketAddr;
use std::sync::Arc;

use async_graphql::http::GraphiQLSource;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpListener;

use crate::auth::{LoginAttempt, password, token};
use crate::config::{Config, Secret};
use crate::domain::{Role, validate};
use crate::error::AppError;
use crate::graphql::guards::RequestAuth;
use crate::graphql::{self, AppSchema, AppState};
use crate::store::{Db, users};

/// What every handler shares.
#[derive(Clone)]
struct Http {
    schema: AppSchema,
    state: Arc<AppState>,
}

/// Connects to the database, applies migrations, creates the first admin if the
/// database has no user, and returns the router.
pub async fn build(config: &Config) -> anyhow::Result<Router> {
    let keys = token::TokenKeys::new(config.jwt_secret.as_ref(), config.token_ttl_secs)?;
    if config.jwt_secret.is_none() {
        tracing::warn!("MLTE_JWT_SECRET is not set: using a random key; tokens die with this process");
    }
    let db = Db::connect(&config.database_url, &config.pool_settings()).await?;
    bootstrap_admin(&db, config.admin_password.as_ref()).await?;
    password::warm_up().await?;
    let state = Arc::new(AppState { db, keys, login_limits: config.login_limits() });
    let http = Http { schema: graphql::schema(state.clone()), state };
    Ok(Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/api/token", post(token_grant))
        .route("/health", get(health))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(http))
}

/// Serves on the configured address until SIGINT or SIGTERM.
pub async fn serve(config: &Config) -> anyhow::Result<()> {
    let router = build(config).await?;
    let listener = TcpListener::bind(config.listen).await?;
    tracing::info!(listen = %listener.local_addr()?, "serving");
    serve_on(listener, router, shutdown_signal()).await
}

/// Serves `router` on `listener` until `shutdown` completes; handlers see each
/// client's address (the per-address login limit needs it).
pub async fn serve_on(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service).with_graceful_shutdown(shutdown).await?;
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = interrupt => {}, _ = terminate => {} }
    tracing::info!("shutting down");
}

/// On a database with no user, creates `admin` (RULES §1). A second process starting
/// at the same moment loses the insert race, which is fine: one admin exists.
async fn bootstrap_admin(db: &Db, configured: Option<&Secret>) -> anyhow::Result<()> {
    if users::count(&mut *db.conn().await?).await? > 0 {
        return Ok(());
    }
    let (password, generated) = match configured {
        Some(password) => {
            validate::password(password.expose()).map_err(|e| anyhow::anyhow!("MLTE_ADMIN_PASSWORD: {e}"))?;
            (password.clone(), false)
        }
        None => (Secret::new(token::new_version()), true),
    };
    let admin = users::UserRow {
        username: "admin".to_owned(),
        password_hash: password::hash(password.clone()).await?,
        email: None,
        full_name: None,
        disabled: false,
        role: Role::Admin,
        token_version: token::new_version(),
    };
    match users::insert(&mut *db.conn().await?, &admin).await {
        Ok(()) if generated => eprintln!("created user admin with password: {}", password.expose()),
        Ok(()) => tracing::info!("created user admin"),
        Err(AppError::AlreadyExists(_)) => {}
        Err(e) => return Err(anyhow::anyhow!("creating admin: {e}")),
    }
    Ok(())
}

/// The bearer token of `Authorization: Bearer …`, if any.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}

/// GraphQL responses are per caller and may hold tokens: never cached.
fn graphql_response(response: async_graphql::Response) -> Response {
    ([(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))], Json(response)).into_response()
}

/// A transport-level refusal: the request was not executed.
fn request_error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "errors": [{ "message": message, "extensions": { "code": "BAD_USER_INPUT" } }] })))
        .into_response()
}

/// The bearer token and client address of a request.
fn request_auth(headers: &HeaderMap, client: &ConnectInfo<SocketAddr>) -> RequestAuth {
    RequestAuth::new(bearer(headers), Some(client.ip()))
}

async fn graphql_post(
    State(http): State<Http>,
    client: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return request_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json");
    }
    let request = match serde_json::from_slice::<async_graphql::Request>(&body) {
        Ok(request) if !request.query.is_empty() => request,
        _ => {
            return request_error(
                StatusCode::BAD_REQUEST,
                "the body must be one JSON object {query, variables, operationName}",
            );
        }
    };
    graphql_response(graphql::execute(&http.schema, &http.state, request, request_auth(&headers, &client)).await)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetParams {
    query: Option<String>,
    variables: Option<String>,
    operation_name: Option<String>,
}

async fn graphql_get(
    State(http): State<Http>,
    client: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    params: Result<Query<GetParams>, QueryRejection>,
) -> Response {
    let Ok(Query(params)) = params else {
        return request_error(StatusCode::BAD_REQUEST, "malformed query string");
    };
    let Some(query) = params.query else {
        let wants_html = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"));
        if wants_html {
            return Html(GraphiQLSource::build().endpoint("/graphql").finish()).into_response();
        }
        return request_error(StatusCode::BAD_REQUEST, "the query parameter is required");
    };
    let mut request = async_graphql::Request::new(query);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(variables) = params.variables {
        match serde_json::from_str(&variables) {
            Ok(variables) => request = request.variables(async_graphql::Variables::from_json(variables)),
            Err(_) => return request_error(StatusCode::BAD_REQUEST, "variables must be a JSON object"),
        }
    }
    if is_mutation(&mut request) {
        let mut response = request_error(StatusCode::METHOD_NOT_ALLOWED, "mutations must be sent with POST");
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    graphql_response(graphql::execute(&http.schema, &http.state, request, request_auth(&headers, &client)).await)
}

/// Whether the operation a request would run is anything but a query. A document
/// that does not parse is left to the executor, which reports it.
fn is_mutation(request: &mut async_graphql::Request) -> bool {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    let name = request.operation_name.clone();
    let Ok(document) = request.parsed_query() else { return false };
    let operation = match (&document.operations, name) {
        (DocumentOperations::Single(operation), _) => Some(operation),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name.as_str()),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => operations.values().next(),
        (DocumentOperations::Multiple(_), None) => None,
    };
    operation.is_some_and(|op| op.node.ty != OperationType::Query)
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

/// OAuth2's error body, status 400 unless said otherwise.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = Json(json!({ "error": error, "error_description": description }));
    (status, [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))], body).into_response()
}

/// `POST /api/token`: the OAuth2 password grant, as MLTE's clients expect it.
async fn token_grant(
    State(http): State<Http>,
    client: ConnectInfo<SocketAddr>,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let bad_request = |error: &str, description: &str| oauth_error(StatusCode::BAD_REQUEST, error, description);
    let Ok(Form(form)) = form else {
        return bad_request("invalid_request", "expected an application/x-www-form-urlencoded body");
    };
    match form.grant_type.as_deref() {
        Some("password") => {}
        Some(_) => return bad_request("unsupported_grant_type", "only the password grant is supported"),
        None => return bad_request("invalid_request", "grant_type is required"),
    }
    let (Some(username), Some(password)) = (form.username, form.password) else {
        return bad_request("invalid_request", "username and password are required");
    };
    let attempt = LoginAttempt { username: &username, password: Secret::new(password), address: Some(client.ip()) };
    match http.state.login(attempt).await {
        Ok(issued) => {
            let body = Json(json!({
                "access_token": issued.access_token,
                "token_type": "bearer",
                "expires_in": issued.expires_in,
            }));
            ([(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))], body).into_response()
        }
        Err(AppError::Unauthenticated(message)) => bad_request("invalid_grant", message),
        Err(AppError::Forbidden(message) | AppError::BadUserInput(message)) => bad_request("invalid_grant", &message),
        Err(AppError::RateLimited { retry_after_secs }) => {
            let mut response =
                oauth_error(StatusCode::TOO_MANY_REQUESTS, "invalid_request", "too many failed logins; retry later");
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            response
        }
        Err(error) => {
            error.log_if_internal();
            oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "internal server error")
        }
    }
}

/// `GET /health`: 200 when the database answers, 503 when it does not.
async fn health(State(http): State<Http>) -> Response {
    if http.state.db.is_healthy().await {
        Json(json!({ "status": "ok" })).into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "unavailable" }))).into_response()
    }
}

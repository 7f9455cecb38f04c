//! The HTTP surface (RULES §1): routes, and the layers every request passes through:
//! a request id, a caught panic, a time limit, a body size and read-time limit.

mod graphql;
mod playground;
mod token;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::FutureExt;
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};
use tower_http::trace::TraceLayer;

use crate::graphql::Api;
use crate::state::AppState;

/// What every handler shares.
#[derive(Clone)]
pub struct Http {
    pub api: Arc<Api>,
    pub state: Arc<AppState>,
}

/// Limits on one HTTP request; each has a flag.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    pub max_body_bytes: usize,
    /// Time to answer; past it, 503.
    pub request_timeout: Duration,
    /// Time to send the body once the headers are in.
    pub body_read_timeout: Duration,
    /// Browser origins allowed to call the API (CORS); empty: none.
    pub cors_origins: Vec<HeaderValue>,
}

/// Every route behind every layer.
pub fn router(http: Http, limits: HttpLimits) -> Router {
    let router = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/api/token", post(token::grant))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/graphiql/{file}", get(playground::file))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(RequestBodyTimeoutLayer::new(limits.body_read_timeout))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, limits.request_timeout))
        .layer(middleware::from_fn(catch_panics))
        .layer(middleware::from_fn_with_state(http.clone(), measure_latency))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            let id = request.extensions().get::<RequestId>().map_or("", |id| id.0.as_str());
            tracing::info_span!("request", request.id = %id, http.method = %request.method(), http.path = %request.uri().path())
        }))
        .layer(middleware::from_fn(assign_request_id))
        .with_state(http);
    if limits.cors_origins.is_empty() {
        return router;
    }
    // Answers preflights itself, so OPTIONS never reaches the routes.
    router.layer(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(limits.cors_origins))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
            .expose_headers([HeaderName::from_static("x-request-id")])
            .max_age(Duration::from_secs(600)),
    )
}

/// A random id per request: in the log span, the `x-request-id` response header, and
/// every internal error's message, so a user's report finds the log line.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

async fn assign_request_id(mut request: Request, next: Next) -> Response {
    let id = RequestId(format!("{:016x}", rand::random::<u64>()));
    request.extensions_mut().insert(id.clone());
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&id.0) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// A panic in a handler or resolver becomes INTERNAL_SERVER_ERROR with the request id,
/// logged once; the process goes on serving.
async fn catch_panics(request: Request, next: Next) -> Response {
    let id = request.extensions().get::<RequestId>().map_or_else(String::new, |id| id.0.clone());
    match AssertUnwindSafe(next.run(request)).catch_unwind().await {
        Ok(response) => response,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(request.id = %id, panic.message = %message, "handler panicked");
            let body = json!({ "errors": [{
                "message": format!("internal server error (request {id})"),
                "extensions": { "code": "INTERNAL_SERVER_ERROR", "requestId": id },
            }] });
            (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
        }
    }
}

async fn measure_latency(State(http): State<Http>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    http.state.metrics.http_request(&path, started.elapsed());
    response
}

/// `GET /metrics`: Prometheus text format.
async fn metrics(State(http): State<Http>) -> Response {
    let body = http.state.metrics.render(&http.state.db);
    ([(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"))], body)
        .into_response()
}

/// `GET /health`: 200 when the database answers, 503 when it does not.
async fn health(State(http): State<Http>) -> Response {
    if http.state.db.is_healthy().await {
        Json(json!({ "status": "ok" })).into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "unavailable" }))).into_response()
    }
}

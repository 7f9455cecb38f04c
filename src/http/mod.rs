//! The HTTP surface (RULES §1): routes, and the layers every request passes through:
//! a request id, a caught panic, a time limit, a body size and read-time limit.

mod graphql;
mod playground;
mod token;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use futures_util::FutureExt;
use ipnet::IpNet;
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};
use tower_http::trace::TraceLayer;

use crate::config::CorsOrigins;
use crate::graphql::Api;
use crate::state::AppState;

/// What every handler shares.
#[derive(Clone)]
pub struct Http {
    pub api: Arc<Api>,
    pub state: Arc<AppState>,
    /// Proxies whose `X-Forwarded-For` is believed (RULES §6).
    pub trusted_proxies: Arc<Vec<IpNet>>,
    /// Set once the process is stopping (RULES §12).
    pub draining: Arc<AtomicBool>,
}

/// The client's address (RULES §6): the TCP peer, unless the peer is a trusted proxy;
/// then the right-most address of `X-Forwarded-For` that is not a trusted proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl FromRequestParts<Http> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, http: &Http) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::from([0, 0, 0, 0]), |c| c.ip());
        Ok(ClientAddress(client_address(peer, &parts.headers, &http.trusted_proxies)))
    }
}

fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |address: &IpAddr| trusted.iter().any(|net| net.contains(address));
    if !is_trusted(&peer) {
        return peer;
    }
    // Every X-Forwarded-For header, in order, its hops from the client to us.
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        // What is left of the first hop that is not a trusted proxy was written by
        // the client, and proves nothing; a hop that is no address ends the walk too.
        match hop.parse::<IpAddr>() {
            Ok(address) if is_trusted(&address) => client = address,
            Ok(address) => return address,
            Err(_) => return client,
        }
    }
    client
}

/// Limits on one HTTP request; each has a flag.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    pub max_body_bytes: usize,
    /// Time to answer; past it, 503.
    pub request_timeout: Duration,
    /// Time to send the body once the headers are in.
    pub body_read_timeout: Duration,
    /// Browser origins allowed to call the API (CORS).
    pub cors_origins: CorsOrigins,
    /// Request headers allowed beyond those RULES §1 names.
    pub cors_allow_headers: Vec<HeaderName>,
}

/// Every route behind every layer.
pub fn router(http: Http, limits: HttpLimits) -> Router {
    let router = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphql/", any(playground::to_graphql))
        .route("/api/token", post(token::grant))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/graphiql/{file}", get(playground::file))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(RequestBodyTimeoutLayer::new(limits.body_read_timeout))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, limits.request_timeout))
        .layer(middleware::from_fn(catch_panics))
        .layer(middleware::from_fn_with_state(http.clone(), measure_latency))
        .layer(middleware::from_fn_with_state(http.clone(), close_while_draining))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            let id = request.extensions().get::<RequestId>().map_or("", |id| id.0.as_str());
            tracing::info_span!("request", request.id = %id, http.method = %request.method(), http.path = %request.uri().path())
        }))
        .layer(middleware::from_fn(assign_request_id))
        .with_state(http);
    let allow_origin = match limits.cors_origins {
        CorsOrigins::None => return router,
        CorsOrigins::Any => AllowOrigin::any(),
        CorsOrigins::Exact(origins) => {
            AllowOrigin::list(origins.iter().filter_map(|origin| HeaderValue::from_str(origin).ok()))
        }
    };
    // Named one by one: a `*` would not cover `authorization` (RULES §1).
    let mut allow_headers: Vec<HeaderName> = [
        "authorization",
        "content-type",
        "accept",
        "x-request-id",
        "apollographql-client-name",
        "apollographql-client-version",
        "apollo-require-preflight",
    ]
    .map(HeaderName::from_static)
    .to_vec();
    allow_headers.extend(limits.cors_allow_headers);
    // Answers preflights itself, so OPTIONS never reaches the routes.
    router.layer(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers(allow_headers)
            .expose_headers([HeaderName::from_static("x-request-id"), header::RETRY_AFTER])
            .vary([header::ORIGIN])
            .max_age(Duration::from_secs(600)),
    )
}

/// An id per request (the client's, or a random one): in the log span, the `x-request-id` response header, and
/// every internal error's message, so a user's report finds the log line.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

async fn assign_request_id(mut request: Request, next: Next) -> Response {
    // A client's (or a proxy's) own id is kept when it is one we could have made up:
    // 1 to 64 characters from A-Z a-z 0-9 . _ - (RULES §9).
    let incoming = request.headers().get("x-request-id").and_then(|v| v.to_str().ok());
    let adoptable = |id: &&str| {
        (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    };
    let id = RequestId(match incoming.filter(adoptable) {
        Some(id) => id.to_owned(),
        None => format!("{:016x}", rand::random::<u64>()),
    });
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

/// While the process stops, every answer asks the client to close its connection, so
/// that its next request opens one to another process.
async fn close_while_draining(State(http): State<Http>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if http.draining.load(Ordering::SeqCst) {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
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

/// `GET /health`: 200 when the database answers, 503 when it does not, and 503
/// "draining" while the process stops, so that load balancers stop choosing it.
async fn health(State(http): State<Http>) -> Response {
    if http.draining.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "draining" }))).into_response();
    }
    if http.state.db.is_healthy().await {
        Json(json!({ "status": "ok" })).into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "unavailable" }))).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_client_is_the_peer_unless_the_peer_is_a_trusted_proxy() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let headers = forwarded(&["203.0.113.9"]);
        assert_eq!(client_address(ip("198.51.100.1"), &headers, &trusted), ip("198.51.100.1"));
        assert_eq!(client_address(ip("10.0.0.2"), &headers, &[]), ip("10.0.0.2"));
        assert_eq!(client_address(ip("10.0.0.2"), &headers, &trusted), ip("203.0.113.9"));
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client_whatever_the_client_wrote_before_it() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        // The client claims 1.2.3.4; the load balancer appended what it saw.
        let headers = forwarded(&["1.2.3.4, 203.0.113.9", "10.0.0.7"]);
        assert_eq!(client_address(ip("10.0.0.2"), &headers, &trusted), ip("203.0.113.9"));
        // No header, or nothing but proxies: the furthest proxy.
        assert_eq!(client_address(ip("10.0.0.2"), &HeaderMap::new(), &trusted), ip("10.0.0.2"));
        assert_eq!(client_address(ip("10.0.0.2"), &forwarded(&["10.0.0.9"]), &trusted), ip("10.0.0.9"));
        // Garbage right of any address: the proxy that passed it on.
        assert_eq!(client_address(ip("10.0.0.2"), &forwarded(&["1.2.3.4, unknown"]), &trusted), ip("10.0.0.2"));
    }
}

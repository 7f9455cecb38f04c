//! `/graphql` over HTTP, as the GraphQL-over-HTTP spec and RULES §1 say.

use std::net::SocketAddr;

use async_graphql::http::GraphiQLSource;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;

use super::{Http, RequestId};
use crate::graphql::{self, guards::RequestContext};

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

/// What a request brings to the resolvers: its token, client address and id.
fn request_context(headers: &HeaderMap, client: &ConnectInfo<SocketAddr>, id: &RequestId) -> RequestContext {
    RequestContext::new(bearer(headers), Some(client.ip()), id.0.clone())
}

/// `POST /graphql`: one JSON request object (a batch, another content type, or a body
/// past the size limit is refused before anything runs).
pub(super) async fn post(
    State(http): State<Http>,
    client: ConnectInfo<SocketAddr>,
    Extension(id): Extension<RequestId>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return request_error(rejection.status(), "the request body could not be read"),
    };
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
    graphql_response(
        graphql::execute(&http.schema, &http.state, request, request_context(&headers, &client, &id)).await,
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GetParams {
    query: Option<String>,
    variables: Option<String>,
    operation_name: Option<String>,
}

/// `GET /graphql`: queries only; a browser without a query gets GraphiQL.
pub(super) async fn get(
    State(http): State<Http>,
    client: ConnectInfo<SocketAddr>,
    Extension(id): Extension<RequestId>,
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
    graphql_response(
        graphql::execute(&http.schema, &http.state, request, request_context(&headers, &client, &id)).await,
    )
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

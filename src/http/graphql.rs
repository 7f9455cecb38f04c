//! `/graphql` over HTTP, as the GraphQL-over-HTTP spec and RULES §1 say: JSON in,
//! `application/graphql-response+json` out when the client accepts it (request errors
//! then get 4xx), `application/json` otherwise (200 for every well-formed request).

use std::net::IpAddr;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;

use super::{ClientAddress, Http, RequestId, playground};
use crate::graphql::Answer;
use crate::graphql::guards::RequestContext;
use crate::graphql::persisted::{PersistedQueries, Refusal};

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// The media type a response is written in, chosen from the request's `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// `application/graphql-response+json`: status codes tell request errors apart.
    GraphqlResponse,
    /// `application/json`: 200 for every well-formed request, errors in the body.
    Json,
}

impl Format {
    /// `None` when the client accepts neither (406).
    fn negotiate(headers: &HeaderMap) -> Option<Format> {
        let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
            return Some(Format::Json);
        };
        let mut json = false;
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let refused = parts.any(|p| p.trim().replace(' ', "") == "q=0");
            match media.as_str() {
                _ if refused => {}
                GRAPHQL_RESPONSE_JSON => return Some(Format::GraphqlResponse),
                "application/json" | "application/*" | "*/*" => json = true,
                _ => {}
            }
        }
        json.then_some(Format::Json)
    }

    fn content_type(self) -> HeaderValue {
        match self {
            Format::GraphqlResponse => HeaderValue::from_static("application/graphql-response+json; charset=utf-8"),
            Format::Json => HeaderValue::from_static("application/json; charset=utf-8"),
        }
    }

    /// A response of this format. GraphQL responses are per caller and may hold
    /// tokens: never cached.
    fn respond(self, status: StatusCode, body: impl serde::Serialize) -> Response {
        let headers = [
            (header::CONTENT_TYPE, self.content_type()),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ];
        (status, headers, Json(body)).into_response()
    }

    /// The executed request's answer. A request error (nothing ran, or the answer was
    /// refused) has no `data`, and the GraphQL response format says 400.
    fn graphql(self, answer: Answer) -> Response {
        let status = match (answer.request_error, self) {
            (true, Format::GraphqlResponse) => StatusCode::BAD_REQUEST,
            _ => StatusCode::OK,
        };
        let headers = [
            (header::CONTENT_TYPE, self.content_type()),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ];
        (status, headers, answer.json).into_response()
    }

    /// A persisted query that could not be had: PERSISTED_QUERY_NOT_FOUND (so that
    /// the client resends it in full) or BAD_USER_INPUT; no `data` either way.
    fn refuse_persisted(self, refusal: Refusal) -> Response {
        match refusal {
            Refusal::NotFound => {
                let status = match self {
                    Format::GraphqlResponse => StatusCode::BAD_REQUEST,
                    Format::Json => StatusCode::OK,
                };
                let error = json!({ "message": "PersistedQueryNotFound", "extensions": { "code": "PERSISTED_QUERY_NOT_FOUND" } });
                self.respond(status, json!({ "errors": [error] }))
            }
            Refusal::Invalid(message) => self.refuse(StatusCode::BAD_REQUEST, message),
        }
    }

    /// A refusal before anything ran.
    fn refuse(self, status: StatusCode, message: &str) -> Response {
        self.respond(status, json!({ "errors": [{ "message": message, "extensions": { "code": "BAD_USER_INPUT" } }] }))
    }
}

fn not_acceptable() -> Response {
    Format::Json.refuse(StatusCode::NOT_ACCEPTABLE, "accept application/graphql-response+json or application/json")
}

/// The bearer token of `Authorization: Bearer …`, if any.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}

/// What a request brings to the resolvers: its token, client address and id.
fn request_context(headers: &HeaderMap, client: IpAddr, id: &RequestId) -> RequestContext {
    RequestContext::new(bearer(headers), Some(client), id.0.clone())
}

/// The body of a GraphQL POST, checked field by field: the spec wants a 400 for
/// a missing or non-string query and for non-object variables or extensions.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostBody {
    /// Absent with a persisted query's hash alone.
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    operation_name: Option<String>,
    /// Read straight into GraphQL values: through `serde_json::Value` first, a long
    /// list of inputs cost twice its reading.
    #[serde(default)]
    variables: Option<async_graphql::Variables>,
    #[serde(default)]
    extensions: Option<serde_json::Map<String, serde_json::Value>>,
}

impl PostBody {
    /// The request, its query resolved through the persisted queries (RULES §1).
    fn into_request(self, persisted: &PersistedQueries) -> Result<async_graphql::Request, Refusal> {
        let query = persisted.resolve(self.query, self.extensions.as_ref())?;
        let mut request = async_graphql::Request::new(query);
        if let Some(name) = self.operation_name {
            request = request.operation_name(name);
        }
        if let Some(variables) = self.variables {
            request = request.variables(variables);
        }
        Ok(request)
    }
}

/// `POST /graphql`: one JSON request object (a batch, another content type, or a body
/// past the size limit is refused before anything runs).
pub(super) async fn post(
    State(http): State<Http>,
    ClientAddress(client): ClientAddress,
    Extension(id): Extension<RequestId>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(format) = Format::negotiate(&headers) else { return not_acceptable() };
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return format.refuse(rejection.status(), "the request body could not be read"),
    };
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return format.refuse(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json");
    }
    let request = match serde_json::from_slice::<PostBody>(&body) {
        Ok(body) => match body.into_request(&http.api.persisted_queries) {
            Ok(request) => request,
            Err(refusal) => return format.refuse_persisted(refusal),
        },
        Err(_) => {
            let message = "the body must be one JSON object {query, variables, operationName, extensions}";
            return format.refuse(StatusCode::BAD_REQUEST, message);
        }
    };
    execute(&http, format, request, request_context(&headers, client, &id)).await
}

/// Runs the request and writes the response.
async fn execute(http: &Http, format: Format, request: async_graphql::Request, context: RequestContext) -> Response {
    http.api.execute(request, context, |answer| format.graphql(answer)).await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GetParams {
    query: Option<String>,
    variables: Option<String>,
    operation_name: Option<String>,
    extensions: Option<String>,
}

/// `GET /graphql`: queries only; a browser without a query gets the playground.
pub(super) async fn get(
    State(http): State<Http>,
    ClientAddress(client): ClientAddress,
    Extension(id): Extension<RequestId>,
    headers: HeaderMap,
    params: Result<Query<GetParams>, QueryRejection>,
) -> Response {
    let wants_html =
        headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|accept| accept.contains("text/html"));
    let params = params.ok().map(|Query(params)| params);
    if wants_html && params.as_ref().is_none_or(|p| p.query.is_none()) {
        return playground::index();
    }
    let Some(format) = Format::negotiate(&headers) else { return not_acceptable() };
    let Some(params) = params else { return format.refuse(StatusCode::BAD_REQUEST, "malformed query string") };
    let object = |text: &Option<String>| match text {
        None => Ok(None),
        Some(text) => serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text).map(Some),
    };
    let (Ok(variables), Ok(extensions)) = (object(&params.variables), object(&params.extensions)) else {
        return format.refuse(StatusCode::BAD_REQUEST, "variables and extensions must be JSON objects");
    };
    let variables = variables.map(|object| async_graphql::Variables::from_json(serde_json::Value::Object(object)));
    let body = PostBody { query: params.query, operation_name: params.operation_name, variables, extensions };
    let mut request = match body.into_request(&http.api.persisted_queries) {
        Ok(request) => request,
        Err(refusal) => return format.refuse_persisted(refusal),
    };
    if is_mutation(&mut request) {
        let mut response = format.refuse(StatusCode::METHOD_NOT_ALLOWED, "mutations must be sent with POST");
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
        return response;
    }
    execute(&http, format, request, request_context(&headers, client, &id)).await
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

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> Option<Format> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        Format::negotiate(&headers)
    }

    #[test]
    fn the_response_format_follows_accept() {
        assert_eq!(Format::negotiate(&HeaderMap::new()), Some(Format::Json));
        assert_eq!(accept("application/graphql-response+json"), Some(Format::GraphqlResponse));
        assert_eq!(accept("application/json, application/graphql-response+json;q=0.9"), Some(Format::GraphqlResponse));
        assert_eq!(accept("application/json"), Some(Format::Json));
        assert_eq!(accept("*/*"), Some(Format::Json));
        assert_eq!(accept("text/html"), None);
        assert_eq!(accept("application/json;q=0"), None);
    }
}

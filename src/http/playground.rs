//! The GraphiQL playground for browsers at `GET /graphql`.

use async_graphql::http::GraphiQLSource;
use axum::response::{Html, IntoResponse, Response};

/// The playground page.
pub fn index() -> Response {
    Html(GraphiQLSource::build().endpoint("/graphql").finish()).into_response()
}

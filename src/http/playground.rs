//! The GraphiQL playground for browsers at `GET /graphql`, with every file embedded
//! in the binary (`assets/graphiql/`, see its README): no CDN, so it works offline.
//! Every URL it uses is relative, so it works under any prefix a reverse proxy adds.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

/// The page: scripts only from this server, no inline script.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// The files under `/graphiql/`, by name.
const FILES: [(&str, &str, &[u8]); 6] = [
    ("graphiql.min.js", JS, include_bytes!("../../assets/graphiql/graphiql.min.js")),
    ("graphiql.min.css", CSS, include_bytes!("../../assets/graphiql/graphiql.min.css")),
    ("react.production.min.js", JS, include_bytes!("../../assets/graphiql/react.production.min.js")),
    ("react-dom.production.min.js", JS, include_bytes!("../../assets/graphiql/react-dom.production.min.js")),
    ("playground.js", JS, include_bytes!("../../assets/graphiql/playground.js")),
    ("playground.css", CSS, include_bytes!("../../assets/graphiql/playground.css")),
];

/// The playground page.
pub fn index() -> Response {
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY)),
    ];
    (headers, include_str!("../../assets/graphiql/index.html")).into_response()
}

/// `GET /graphiql/{file}`: one of the embedded files, cached for a day.
pub async fn file(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(file, _, _)| *file == name) {
        Some((_, content_type, bytes)) => {
            let headers = [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400")),
            ];
            (headers, *bytes).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `/graphql/` → `/graphql` (RULES §1): the page's relative URLs resolve from
/// `/graphql`. The `Location` is relative too, so it keeps a proxy's prefix; 308
/// keeps the method and body of a POST.
pub async fn to_graphql(uri: Uri) -> Response {
    let location = match uri.query() {
        Some(query) => format!("../graphql?{query}"),
        None => "../graphql".to_owned(),
    };
    match HeaderValue::from_str(&location) {
        Ok(location) => (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, location)]).into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

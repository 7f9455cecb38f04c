//! `POST /api/token`: the OAuth2 password grant, as MLTE's clients expect it.

use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form, Json};
use serde::Deserialize;
use serde_json::json;

use super::{ClientAddress, Http, RequestId};
use crate::auth::LoginAttempt;
use crate::config::Secret;
use crate::error::AppError;

#[derive(Deserialize)]
pub(super) struct TokenForm {
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
pub(super) async fn grant(
    State(http): State<Http>,
    ClientAddress(client): ClientAddress,
    Extension(id): Extension<RequestId>,
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
    let attempt =
        LoginAttempt { username: &username, password: Secret::new(password), address: Some(client), request_id: &id.0 };
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
        Err(AppError::Forbidden(message)) => bad_request("invalid_grant", &message),
        // A username that breaks RULES §5 or a password with a control character.
        Err(AppError::BadUserInput(message)) => bad_request("invalid_request", &message),
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

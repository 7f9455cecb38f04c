//! `AppError`: the one error type that crosses layers, and its `extensions.code` (RULES §2).

use std::sync::Arc;

/// Every failure a client can see. Resolvers return it, the GraphQL handler turns it
/// into `extensions.code` in one place ([`AppError::code`]), and internal details are
/// logged there instead of being shown.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Unauthenticated(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    BadUserInput(String),
    #[error("too many failed logins; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("the answer would exceed {max_bytes} bytes")]
    ResponseTooLarge { max_bytes: usize },
    /// The cause is kept for the log only; clients see a generic message.
    #[error("internal server error")]
    Internal(Arc<anyhow::Error>),
}

/// What every resolver and store function returns.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn forbidden(message: impl Into<String>) -> Self {
        AppError::Forbidden(message.into())
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        AppError::NotFound(message.into())
    }

    pub fn already_exists(message: impl Into<String>) -> Self {
        AppError::AlreadyExists(message.into())
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        AppError::BadUserInput(message.into())
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(Arc::new(error.into()))
    }

    /// For inserts: a unique violation says that `what` already exists.
    pub fn from_insert(error: sqlx::Error, what: impl FnOnce() -> String) -> Self {
        match AppError::from(error) {
            AppError::AlreadyExists(_) => AppError::AlreadyExists(format!("{} already exists", what())),
            other => other,
        }
    }

    /// Whether the database aborted the transaction for a deadlock or a serialization
    /// conflict (PostgreSQL), or for a snapshot that another writer outdated (SQLite):
    /// running it again may succeed.
    pub fn is_transient(&self) -> bool {
        let AppError::Internal(cause) = self else { return false };
        match cause.downcast_ref::<sqlx::Error>() {
            Some(sqlx::Error::Database(error)) => {
                matches!(error.code().as_deref(), Some("40001" | "40P01" | "517"))
            }
            _ => false,
        }
    }

    /// The cause, for a log line: an internal error's own, else the message.
    pub fn cause(&self) -> String {
        match self {
            AppError::Internal(cause) => format!("{cause:#}"),
            other => other.to_string(),
        }
    }

    /// Logs an internal error's cause (the one place it is logged); others are the client's.
    pub fn log_if_internal(&self) {
        if let AppError::Internal(cause) = self {
            tracing::error!(error.cause = %format!("{cause:#}"), "internal error");
        }
    }

    /// The contract's `extensions.code` for this error.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated(_) => "UNAUTHENTICATED",
            AppError::Forbidden(_) => "FORBIDDEN",
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::AlreadyExists(_) => "ALREADY_EXISTS",
            AppError::BadUserInput(_) => "BAD_USER_INPUT",
            AppError::RateLimited { .. } => "RATE_LIMITED",
            AppError::ResponseTooLarge { .. } => "RESPONSE_TOO_LARGE",
            AppError::Internal(_) => "INTERNAL_SERVER_ERROR",
        }
    }
}

impl From<sqlx::Error> for AppError {
    /// A unique-constraint violation means the name was taken, however the race went;
    /// anything else from the database is internal.
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                AppError::already_exists("the name is already taken")
            }
            _ => AppError::internal(error),
        }
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(error: tokio::task::JoinError) -> Self {
        AppError::internal(error)
    }
}

/// Sets `extensions.code` (and `retryAfter`) on every error of a GraphQL response.
/// Errors raised as [`AppError`] keep their code; internal ones are logged here, once,
/// and replaced by a generic message. Errors async-graphql raises itself (bad
/// syntax, unknown fields, wrongly typed variables) are the client's: BAD_USER_INPUT.
pub fn assign_codes(errors: &mut [async_graphql::ServerError], request_id: &str) {
    for error in errors {
        let (code, retry_after) = match error.source::<AppError>() {
            Some(app @ AppError::Internal(_)) => {
                app.log_if_internal();
                error.message = format!("internal server error (request {request_id})");
                ("INTERNAL_SERVER_ERROR", None)
            }
            Some(app @ AppError::RateLimited { retry_after_secs }) => (app.code(), Some(*retry_after_secs)),
            Some(app) => (app.code(), None),
            None => ("BAD_USER_INPUT", None),
        };
        let extensions = error.extensions.get_or_insert_with(Default::default);
        extensions.set("code", code);
        if code == "INTERNAL_SERVER_ERROR" {
            extensions.set("requestId", request_id);
        }
        if let Some(secs) = retry_after {
            extensions.set("retryAfter", secs);
        }
    }
}

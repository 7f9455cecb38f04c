//! The application: shared state, start-up (database, migrations, first admin),
//! and serving with graceful shutdown. Tests build and serve the app here exactly
//! as `main` does.

use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::auth::password::{self, Hasher};
use crate::auth::throttle::LoginLimits;
use crate::auth::token::{self, TokenKeys};
use crate::auth::{self, IssuedToken, LoginAttempt};
use crate::config::{Config, Secret};
use crate::domain::{Role, validate};
use crate::error::{AppError, AppResult};
use crate::graphql::limits::{DocumentLimits, ParsedDocuments};
use crate::http::{self, Http, HttpLimits};
use crate::metrics::Metrics;
use crate::store::users::GroupsCache;
use crate::store::{Db, users};

/// What every resolver and handler shares.
pub struct AppState {
    pub db: Db,
    pub keys: TokenKeys,
    pub login_limits: LoginLimits,
    pub hasher: Hasher,
    pub metrics: Metrics,
    /// Checked on every GraphQL request before it runs.
    pub document_limits: DocumentLimits,
    pub parsed_documents: ParsedDocuments,
    /// Users' groups, kept while the database's access version holds.
    pub groups_cache: GroupsCache,
    /// Turns for requests listing every user (one per core): their answers are large.
    pub listings: tokio::sync::Semaphore,
}

impl AppState {
    /// Logs in with this state's database, keys, limits and hasher; counts refusals.
    pub async fn login(&self, attempt: LoginAttempt<'_>) -> AppResult<IssuedToken> {
        let result = auth::login(&self.db, &self.keys, &self.login_limits, &self.hasher, attempt).await;
        match &result {
            Err(AppError::Unauthenticated(_)) => self.metrics.login_failed("bad_credentials"),
            Err(AppError::RateLimited { .. }) => self.metrics.login_failed("rate_limited"),
            _ => {}
        }
        result
    }
}

/// The built application, ready to serve.
pub struct App {
    router: Router,
    /// Time a client has to send a request's headers.
    header_read_timeout: Duration,
}

/// Connects to the database, applies migrations, creates the first admin if the
/// database has no user, and builds the routes.
pub async fn build(config: &Config) -> anyhow::Result<App> {
    let keys = TokenKeys::new(config.jwt_secret.as_ref(), config.token_ttl_secs)?;
    if config.jwt_secret.is_none() {
        tracing::warn!("MLTE_JWT_SECRET is not set: using a random key; tokens die with this process");
    }
    let metrics = Metrics::new();
    let hasher = Hasher::new(config.argon2_concurrency, config.argon2_max_waiting).counting(metrics.argon2_hashes());
    let db = Db::connect(&config.database_url, &config.pool_settings()).await?;
    bootstrap_admin(&db, &hasher, config.admin_password.as_ref()).await?;
    password::warm_up().await?;
    let query_limits = config.query_limits();
    let state = Arc::new(AppState {
        db,
        keys,
        login_limits: config.login_limits(),
        hasher,
        metrics,
        document_limits: query_limits.document,
        parsed_documents: ParsedDocuments::default(),
        groups_cache: GroupsCache::default(),
        listings: tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(1, usize::from)),
    });
    let http = Http { schema: crate::graphql::schema(state.clone(), &query_limits), state };
    let read_timeout = Duration::from_secs(config.read_timeout_secs);
    let limits = HttpLimits {
        max_body_bytes: config.max_body_bytes,
        request_timeout: Duration::from_secs(config.request_timeout_secs),
        body_read_timeout: read_timeout,
        cors_origins: config
            .cors_origins
            .iter()
            .map(|origin| origin.trim().parse().map_err(|_| anyhow::anyhow!("bad CORS origin {origin:?}")))
            .collect::<anyhow::Result<_>>()?,
    };
    Ok(App { router: http::router(http, limits), header_read_timeout: read_timeout })
}

/// Serves on the configured address until SIGINT or SIGTERM.
pub async fn serve(config: &Config) -> anyhow::Result<()> {
    let app = build(config).await?;
    let listener = TcpListener::bind(config.listen).await?;
    tracing::info!(listen = %listener.local_addr()?, "serving");
    app.serve_on(listener, shutdown_signal()).await
}

impl App {
    /// Serves on `listener` until `shutdown` completes, then lets requests in flight
    /// finish. Each connection has `header_read_timeout` to send its headers (a slow
    /// client cannot hold a connection open), and handlers see the client's address.
    pub async fn serve_on(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let graceful = GracefulShutdown::new();
        let mut shutdown = pin!(shutdown);
        loop {
            let (stream, client) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: pause rather than spin.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let router = self.router.clone();
            let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo::<SocketAddr>(client));
                router.clone().oneshot(request.map(axum::body::Body::new))
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(self.header_read_timeout)
                .serve_connection(TokioIo::new(stream), service);
            tokio::spawn(graceful.watch(connection));
        }
        drop(listener);
        graceful.shutdown().await;
        Ok(())
    }
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
async fn bootstrap_admin(db: &Db, hasher: &Hasher, configured: Option<&Secret>) -> anyhow::Result<()> {
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
        password_hash: hasher.hash(password.clone()).await?,
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

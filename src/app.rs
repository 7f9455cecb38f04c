//! The application: start-up (database, migrations, first admin), and serving with
//! graceful shutdown. Tests build and serve the app here exactly
//! as `main` does.

use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::accounts;
use crate::auth::password::{self, Hasher};
use crate::auth::throttle::{LoginLimits, PasswordChecks};
use crate::auth::token::{self, TokenKeys};
use crate::config::{Config, Secret};
use crate::domain::validate;
use crate::error::AppError;
use crate::graphql::{Api, QueryLimits};
use crate::http::{self, Http, HttpLimits};
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::store::users::GroupsCache;
use crate::store::{self, Db, PoolSettings, users, write_tx};

/// The built application, ready to serve.
pub struct App {
    router: Router,
    /// Time a client has to send a request's headers.
    header_read_timeout: Duration,
    /// Set when the process starts stopping: `/health` then answers "draining".
    draining: Arc<AtomicBool>,
}

/// Connects to the database, applies migrations, creates the first admin if the
/// database has no user, and builds the routes.
pub async fn build(config: &Config) -> anyhow::Result<App> {
    let keys = TokenKeys::new(
        config.jwt_secret.as_ref(),
        config.token_ttl_secs,
        config.session_max_secs,
        config.token_cache_entries,
    )?;
    if config.jwt_secret.is_none() {
        tracing::warn!("MLTE_JWT_SECRET is not set: using a random key; tokens die with this process");
    }
    let metrics = Metrics::new();
    let hasher = Hasher::new(config.argon2_concurrency, config.argon2_max_waiting).counting(metrics.argon2_hashes());
    let db = Db::connect(&config.database_url, &PoolSettings::from_config(config)).await?;
    bootstrap_admin(&db, &hasher, config.admin_password.as_ref()).await?;
    password::warm_up().await.map_err(startup_failure)?;
    let passwords = PasswordChecks::new(db.clone(), hasher, LoginLimits::from_config(config));
    let audit_retention_days = config.audit_retention_days;
    tokio::spawn(delete_old_audit_events(db.clone(), audit_retention_days));
    let groups_cache = GroupsCache::new(config.groups_cache_entries);
    let state = Arc::new(AppState {
        db,
        keys,
        passwords,
        metrics,
        groups_cache,
        listing_models: Default::default(),
        audit_retention_days,
    });
    let api = Arc::new(Api::new(state.clone(), &QueryLimits::from_config(config)));
    let draining = Arc::new(AtomicBool::new(false));
    let http =
        Http { api, state, trusted_proxies: Arc::new(config.trusted_proxies.clone()), draining: draining.clone() };
    let read_timeout = Duration::from_secs(config.read_timeout_secs);
    let limits = HttpLimits {
        max_body_bytes: config.max_body_bytes,
        request_timeout: Duration::from_secs(config.request_timeout_secs),
        body_read_timeout: read_timeout,
        cors_origins: config.cors_origins.clone(),
        cors_allow_headers: config
            .cors_allow_headers
            .iter()
            .map(|name| axum::http::HeaderName::try_from(name.as_str()))
            .collect::<Result<_, _>>()?,
    };
    Ok(App { router: http::router(http, limits), header_read_timeout: read_timeout, draining })
}

/// Serves on the configured address until SIGINT or SIGTERM.
pub async fn serve(config: &Config) -> anyhow::Result<()> {
    let app = build(config).await?;
    let listener = TcpListener::bind(config.listen).await?;
    tracing::info!(listen = %listener.local_addr()?, "serving");
    let (draining, grace) = (app.draining.clone(), Duration::from_secs(config.shutdown_grace_secs));
    let stop = async move {
        shutdown_signal().await;
        // Still serving, but /health says "draining", until load balancers noticed.
        draining.store(true, Ordering::SeqCst);
        if !grace.is_zero() {
            tracing::info!(grace.secs = grace.as_secs(), "draining");
            tokio::time::sleep(grace).await;
        }
    };
    app.serve_on(listener, stop).await
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

/// Deletes the audit events older than the retention, at start and then hourly, in
/// batches of 500 with a pause between them, so that no deletion holds the database's
/// write lock for long (RULES §9).
async fn delete_old_audit_events(db: Db, retention_days: u32) {
    loop {
        let cutoff = crate::domain::now_ms() - i64::from(retention_days) * 86_400_000;
        loop {
            match write_tx!(&db, |tx| store::audit::delete_older_than(&mut tx, cutoff, 500)) {
                Ok(500) => tokio::time::sleep(Duration::from_millis(20)).await,
                Ok(_) => break,
                Err(error) => {
                    tracing::warn!(error.cause = %error.cause(), "deleting old audit events failed");
                    break;
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
}

/// A start-up failure as the operator reads it: its cause (the database's own message),
/// not the "internal server error" a client would get.
fn startup_failure(error: AppError) -> anyhow::Error {
    anyhow::anyhow!(error.cause())
}

/// On a database with no user, creates `admin` (RULES §1). A second process starting
/// at the same moment loses the insert race, which is fine: one admin exists.
async fn bootstrap_admin(db: &Db, hasher: &Hasher, configured: Option<&Secret>) -> anyhow::Result<()> {
    // Read first, so that a database with users costs no Argon2 work at start.
    if users::count(&mut *db.conn().await.map_err(startup_failure)?).await.map_err(startup_failure)? > 0 {
        return Ok(());
    }
    let (password, generated) = match configured {
        Some(password) => {
            validate::password(password.expose()).map_err(|e| anyhow::anyhow!("MLTE_ADMIN_PASSWORD: {e}"))?;
            (password.clone(), false)
        }
        None => (Secret::new(token::new_version()), true),
    };
    let hash = hasher.hash(password.clone()).await.map_err(startup_failure)?;
    match write_tx!(db, |tx| accounts::users::bootstrap_admin(&mut tx, hash.clone())) {
        Ok(true) if generated => eprintln!("created user admin with password: {}", password.expose()),
        Ok(true) => tracing::info!("created user admin"),
        Ok(false) | Err(AppError::AlreadyExists(_)) => {}
        Err(e) => return Err(anyhow::anyhow!("creating admin: {}", e.cause())),
    }
    Ok(())
}

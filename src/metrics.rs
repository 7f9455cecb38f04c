//! Prometheus metrics for `GET /metrics`: GraphQL requests by operation and outcome,
//! HTTP latency by route, failed logins, Argon2id hashes, and the database pool.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::store::Db;

/// Client-chosen operation names are labels: past this many distinct ones, "other",
/// so that a client cannot grow the metrics without bound.
const MAX_OPERATION_NAMES: usize = 100;

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    login_failures: IntCounterVec,
    argon2_hashes: IntCounter,
    pool: IntGaugeVec,
    operation_names: Mutex<HashSet<String>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let requests = IntCounterVec::new(
            Opts::new(
                "mlte_graphql_requests_total",
                "GraphQL requests by operation name and outcome (ok or the first error code)",
            ),
            &["operation", "outcome"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new("mlte_graphql_http_request_duration_seconds", "HTTP request latency by route")
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &["route"],
        )
        .expect("valid metric");
        let login_failures = IntCounterVec::new(
            Opts::new("mlte_graphql_login_failures_total", "Refused logins: bad credentials or rate limited"),
            &["reason"],
        )
        .expect("valid metric");
        let argon2_hashes = IntCounter::new(
            "mlte_graphql_argon2_hashes_total",
            "Argon2id computations: logins (also for unknown users) and passwords set",
        )
        .expect("valid metric");
        let pool = IntGaugeVec::new(
            Opts::new("mlte_graphql_db_pool_connections", "Database connections of this process by state"),
            &["state"],
        )
        .expect("valid metric");
        let registry = Registry::new();
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(login_failures.clone()),
            Box::new(argon2_hashes.clone()),
            Box::new(pool.clone()),
        ] {
            registry.register(collector).expect("metric names are unique");
        }
        Metrics { registry, requests, latency, login_failures, argon2_hashes, pool, operation_names: Mutex::default() }
    }

    /// The counter the password hasher adds its computations to.
    pub fn argon2_hashes(&self) -> IntCounter {
        self.argon2_hashes.clone()
    }

    /// Counts one GraphQL request; `outcome` is "ok" or an error code.
    pub fn graphql_request(&self, operation: Option<&str>, outcome: &str) {
        let operation = self.operation_label(operation);
        self.requests.with_label_values(&[operation.as_str(), outcome]).inc();
    }

    fn operation_label(&self, operation: Option<&str>) -> String {
        let Some(name) = operation else { return "anonymous".to_owned() };
        let plain = name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let mut known = self.operation_names.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if plain && (known.contains(name) || known.len() < MAX_OPERATION_NAMES) {
            known.insert(name.to_owned());
            name.to_owned()
        } else {
            "other".to_owned()
        }
    }

    pub fn http_request(&self, path: &str, elapsed: Duration) {
        let route = match path {
            "/graphql" | "/api/token" | "/health" | "/metrics" => path,
            _ if path.starts_with("/graphiql/") => "/graphiql",
            _ => "other",
        };
        self.latency.with_label_values(&[route]).observe(elapsed.as_secs_f64());
    }

    pub fn login_failed(&self, reason: &str) {
        self.login_failures.with_label_values(&[reason]).inc();
    }

    /// The text exposition of every metric, the pool read now.
    pub fn render(&self, db: &Db) -> String {
        let size = i64::from(db.pool.size());
        let idle = i64::try_from(db.pool.num_idle()).unwrap_or(i64::MAX);
        self.pool.with_label_values(&["in_use"]).set(size - idle);
        self.pool.with_label_values(&["idle"]).set(idle);
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_are_bounded_and_plain() {
        let metrics = Metrics::new();
        assert_eq!(metrics.operation_label(None), "anonymous");
        assert_eq!(metrics.operation_label(Some("Me")), "Me");
        assert_eq!(metrics.operation_label(Some("bad name\"}")), "other");
        for i in 0..MAX_OPERATION_NAMES {
            metrics.operation_label(Some(&format!("Op{i}")));
        }
        assert_eq!(metrics.operation_label(Some("OneTooMany")), "other");
        assert_eq!(metrics.operation_label(Some("Me")), "Me", "known names stay");
    }
}

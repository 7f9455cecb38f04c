//! The one list of API test modules, run on SQLite by `tests/api/main.rs` and on
//! PostgreSQL by `tests/api_postgres.rs`. A module that needs one database says so
//! and returns early on the other.

mod access_version;
mod allowed;
mod answer_size;
mod audit;
mod caches;
mod configuration;
mod cors;
mod deployment;
mod environment;
mod groups;
mod hardening;
mod hostile_documents;
mod http;
mod memberships;
mod model_access;
mod models;
mod operations;
mod operator;
mod outage;
mod persisted_queries;
mod pgbouncer;
mod races;
mod root_fields;
mod scale_out;
mod schema;
mod search_users;
mod sessions;
mod throttle;
mod throttle_bursts;
mod tokens;
mod users;
mod validation;

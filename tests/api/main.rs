//! Integration tests: the real app over HTTP, a fresh SQLite database per test.
//! `tests/api_postgres.rs` runs the same modules on PostgreSQL.

const DATABASE: helpers::Database = helpers::Database::Sqlite;

mod access_version;
mod cors;
mod groups;
mod hardening;
mod helpers;
mod hostile_documents;
mod http;
mod models;
mod operations;
mod operator;
mod races;
mod root_fields;
mod scale_out;
mod schema;
mod throttle;
mod tokens;
mod users;
mod validation;

//! Integration tests: the real app over HTTP, a fresh SQLite database per test.
//! `tests/api_postgres.rs` runs the same modules, listed in `suite.rs`, on PostgreSQL.

const DATABASE: helpers::Database = helpers::Database::Sqlite;

mod helpers;
#[path = "suite.rs"]
mod suite;

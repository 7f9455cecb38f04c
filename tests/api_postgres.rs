//! The API suite of `tests/api/` again, on PostgreSQL: the same tests, each on a
//! schema of its own. Without a reachable PostgreSQL it is skipped with a message,
//! unless CI=true, where that is a failure. `MLTE_TEST_POSTGRES_URL` names the server
//! (default `postgres://postgres@127.0.0.1:5432/test`).

const DATABASE: helpers::Database = helpers::Database::Postgres;

#[path = "api/helpers/mod.rs"]
mod helpers;
#[path = "api/suite.rs"]
mod suite;

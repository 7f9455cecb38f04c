//! The API suite of `tests/api/` again, on PostgreSQL: the same tests, each on a
//! schema of its own. Without a reachable PostgreSQL it is skipped with a message,
//! unless CI=true, where that is a failure. `MLTE_TEST_POSTGRES_URL` names the server
//! (default `postgres://postgres@127.0.0.1:5432/test`).

const DATABASE: helpers::Database = helpers::Database::Postgres;

#[path = "api/access_version.rs"]
mod access_version;
#[path = "api/cors.rs"]
mod cors;
#[path = "api/groups.rs"]
mod groups;
#[path = "api/hardening.rs"]
mod hardening;
#[path = "api/helpers.rs"]
mod helpers;
#[path = "api/hostile_documents.rs"]
mod hostile_documents;
#[path = "api/http.rs"]
mod http;
#[path = "api/models.rs"]
mod models;
#[path = "api/operations.rs"]
mod operations;
#[path = "api/operator.rs"]
mod operator;
#[path = "api/outage.rs"]
mod outage;
#[path = "api/races.rs"]
mod races;
#[path = "api/root_fields.rs"]
mod root_fields;
#[path = "api/scale_out.rs"]
mod scale_out;
#[path = "api/throttle.rs"]
mod throttle;
#[path = "api/tokens.rs"]
mod tokens;
#[path = "api/users.rs"]
mod users;
#[path = "api/validation.rs"]
mod validation;

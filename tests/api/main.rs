//! Integration tests: the real app over HTTP, a fresh database per test.

mod groups;
mod helpers;
mod http;
mod models;
mod schema;
mod throttle;
mod tokens;
mod users;
mod validation;

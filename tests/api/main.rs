//! Integration tests: the real app over HTTP, a fresh database per test.

mod helpers;
mod schema;

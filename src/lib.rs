//! mlte-graphql: MLTE's users, groups, models and permissions, served as GraphQL.

/// Operator commands on the database (`mlte-graphql user …`).
pub mod admin;
/// Shared state, start-up and serving; the one place the app is built.
pub mod app;
/// Who is calling and what they may do: passwords, tokens, the permission check.
pub mod auth;
/// Command line and environment configuration.
pub mod config;
/// Roles, permissions and input validation shared by every layer.
pub mod domain;
/// The one error type and its `extensions.code`.
pub mod error;
/// The GraphQL schema, resolvers, guards and loaders.
pub mod graphql;
/// Routes and the limits every HTTP request passes through.
pub mod http;
/// Handing freed memory back to the system.
pub mod memory;
/// Prometheus metrics.
pub mod metrics;
/// All SQL, one module per resource.
pub mod store;

/// The schema's SDL, as `mlte-graphql print-schema` prints it.
pub fn schema_sdl() -> String {
    graphql::schema_builder().finish().sdl()
}

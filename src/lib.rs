//! mlte-graphql: MLTE's users, groups, models and permissions, served as GraphQL.
//!
//! Layers, each importing only those below it (README "Layout"):
//! `app`, `operator` (entry points) › `http` › `graphql` › `state` › `accounts` ›
//! `auth`, `metrics` › `store` › `domain`, `config`, `error`, `memory`.

/// Start-up and serving; the one place the app is built.
pub mod app;
/// Operator commands on the database (`mlte-graphql user …`).
pub mod operator;

/// Every write rule of RULES §3-§4, checked on rows locked in the writing transaction.
pub mod accounts;
/// Who is calling and what they may do: passwords, tokens, throttling, the permission check.
pub mod auth;
/// The GraphQL schema, resolvers, guards and loaders.
pub mod graphql;
/// Routes and the limits every HTTP request passes through.
pub mod http;
/// Prometheus metrics.
pub mod metrics;
/// What every resolver and handler shares.
pub mod state;
/// All SQL, one module per resource: rows in, rows out, no rules.
pub mod store;

/// Command line and environment configuration, as plain data.
pub mod config;
/// Roles, permissions and input validation shared by every layer.
pub mod domain;
/// The one error type and its `extensions.code`.
pub mod error;
/// Handing freed memory back to the system.
pub mod memory;

/// The schema's SDL, as `mlte-graphql print-schema` prints it.
pub fn schema_sdl() -> String {
    graphql::schema_builder().finish().sdl()
}

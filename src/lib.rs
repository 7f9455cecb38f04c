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

/// The schema's SDL, as `mlte-graphql print-schema` prints it: each argument of a
/// field with a described argument on its own line. (async-graphql 7 breaks the line
/// only before an argument with a description and writes the others after the
/// previous one's comma: `query: String,\t\trole: Role,`.)
pub fn schema_sdl() -> String {
    graphql::schema_builder().finish().sdl().replace("(\t\t", "(\n\t\t").replace(",\t\t", ",\n\t\t")
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_argument_of_a_described_argument_list_starts_its_own_line() {
        let sdl = super::schema_sdl();
        assert!(!sdl.contains(",\t\t") && !sdl.contains("(\t\t"), "{sdl}");
        assert!(sdl.contains("\t\trole: Role,\n\t\tdisabled: Boolean,\n"), "{sdl}");
        assert!(sdl.contains("\tauditLog(\n\t\tactor: String,\n\t\ttargetType: ResourceType,\n"), "{sdl}");
    }
}

//! Server processes that tests start: they get the settings the test gives them and
//! none of the developer's.

use std::ffi::{OsStr, OsString};

/// Whether a variable configures the server: `MLTE_*`, `DATABASE_URL` or `RUST_LOG`.
pub fn configures_the_server(name: &OsStr) -> bool {
    let name = name.as_encoded_bytes();
    name.starts_with(b"MLTE_") || name == b"DATABASE_URL" || name == b"RUST_LOG"
}

/// The `mlte-graphql` binary as a command that inherits none of the test process's
/// `MLTE_*`, `DATABASE_URL` or `RUST_LOG`; the test sets what it wants on top. Every
/// process a test starts from the binary starts here.
pub fn server_command() -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_mlte-graphql"));
    without_server_settings(&mut command, std::env::vars_os().map(|(name, _)| name));
    command
}

/// Removes from `command`'s environment each of the `inherited` names that configures the server.
pub fn without_server_settings(
    command: &mut tokio::process::Command,
    inherited: impl IntoIterator<Item = OsString>,
) -> &mut tokio::process::Command {
    for name in inherited {
        if configures_the_server(&name) {
            command.env_remove(name);
        }
    }
    command
}

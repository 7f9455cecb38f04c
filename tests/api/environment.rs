//! Tests never read the developer's environment: a server process a test starts gets
//! the settings the test gives it and none of the `MLTE_*`, `DATABASE_URL` or
//! `RUST_LOG` of the shell that ran `cargo test`.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};

use serde_json::Value;

use crate::helpers::{ADMIN_PASSWORD, TestApp, server_command, without_server_settings};

/// What `command` does to its environment: `None` for a variable it removes.
fn env_changes(command: &tokio::process::Command) -> HashMap<OsString, Option<OsString>> {
    command.as_std().get_envs().map(|(name, value)| (name.to_owned(), value.map(OsStr::to_owned))).collect()
}

#[test]
fn the_server_settings_of_the_test_process_are_removed_and_no_other_variable() {
    let inherited = [
        "MLTE_TOKEN_TTL_SECS",
        "MLTE_JWT_SECRET",
        "MLTE_TEST_POSTGRES_URL",
        "DATABASE_URL",
        "RUST_LOG",
        "PATH",
        "HOME",
        "TEST_LOG",
        "CI",
        "mlte_token_ttl_secs",
        "XMLTE_TOKEN_TTL_SECS",
        "DATABASE_URL_OLD",
    ];
    let mut command = tokio::process::Command::new("true");
    without_server_settings(&mut command, inherited.map(OsString::from));
    let removed: HashMap<OsString, Option<OsString>> =
        ["MLTE_TOKEN_TTL_SECS", "MLTE_JWT_SECRET", "MLTE_TEST_POSTGRES_URL", "DATABASE_URL", "RUST_LOG"]
            .into_iter()
            .map(|name| (OsString::from(name), None))
            .collect();
    assert_eq!(env_changes(&command), removed);

    // What the test sets afterwards is what the process gets.
    command.env("DATABASE_URL", "sqlite::memory:");
    assert_eq!(env_changes(&command)[OsStr::new("DATABASE_URL")], Some(OsString::from("sqlite::memory:")));
}

#[test]
fn server_command_removes_every_server_setting_this_process_has() {
    let changes = env_changes(&server_command());
    for (name, _) in std::env::vars_os() {
        let lossy = name.to_string_lossy();
        let is_setting = lossy.starts_with("MLTE_") || lossy == "DATABASE_URL" || lossy == "RUST_LOG";
        assert_eq!(changes.get(&name), is_setting.then_some(&None), "{name:?}");
    }
}

/// Run once as it is, and once more by the test below in a copy of this test binary
/// whose environment says `MLTE_TOKEN_TTL_SECS=1`.
#[tokio::test]
async fn a_server_process_started_by_a_test_keeps_the_default_token_lifetime() {
    let first = TestApp::spawn().await;
    let server = first.another_process().await;
    let grant = [("grant_type", "password"), ("username", "admin"), ("password", ADMIN_PASSWORD)];
    let response = server.client.post(server.url("/api/token")).form(&grant).send().await.unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["expires_in"], 7200, "{body}");
}

#[test]
fn a_developers_mlte_setting_does_not_reach_the_server_processes_tests_start() {
    // The variable is set for a new test process from its start: setting it in this
    // one, where other tests run on other threads, would race them.
    let path = module_path!().split_once("::").expect("a crate name first").1;
    let test = format!("{path}::a_server_process_started_by_a_test_keeps_the_default_token_lifetime");
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", &test, "--nocapture"])
        .env("MLTE_TOKEN_TTL_SECS", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    if stderr.contains("SKIPPED: the PostgreSQL suite") {
        return; // no PostgreSQL here, and not CI: the whole PostgreSQL suite is skipped
    }
    assert!(stdout.contains("test result: ok. 1 passed"), "the one test ran: {stdout}");
}

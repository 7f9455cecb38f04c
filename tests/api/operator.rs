//! What operators run: the `user` commands on the database, and SIGTERM.

use std::process::Stdio;
use std::time::Duration;

use serde_json::json;

use crate::helpers::{TestApp, code, names, new_regular_user_groups, server_command};

/// Runs `mlte-graphql user <args>` on the app's database with `stdin` as input.
async fn user_command(app: &TestApp, args: &[&str], stdin: &str) -> (bool, String) {
    let args: Vec<&str> = ["user"].into_iter().chain(args.iter().copied()).collect();
    app.run_command(&args, stdin).await
}

#[tokio::test]
async fn an_operator_creates_users_beside_a_running_server() {
    let app = TestApp::spawn().await;
    let (ok, text) = user_command(&app, &["create", "--username", "ops", "--role", "admin"], "ops-password\n").await;
    assert!(ok, "{text}");
    let (ok, text) = user_command(&app, &["create", "--username", "ann"], "ann-password\n").await;
    assert!(ok, "{text}");
    let ops = app.login("ops", "ops-password").await;
    let body = app.gql(Some(&ops), "{ users { username role groups { name } } }", json!({})).await;
    let users = body["data"]["users"].as_array().unwrap();
    assert_eq!(users[2], json!({"username": "ops", "role": "ADMIN", "groups": []}));
    assert_eq!(users[1]["role"], "REGULAR");
    assert_eq!(names(&users[1]["groups"]), new_regular_user_groups("ann"), "a regular user's default groups: {body}");
}

#[tokio::test]
async fn operator_commands_fail_clearly_with_a_nonzero_status() {
    let app = TestApp::spawn().await;
    let (ok, text) = user_command(&app, &["create", "--username", "admin"], "some-password\n").await;
    assert!(!ok);
    assert!(text.contains("already exists"), "{text}");
    let (ok, text) = user_command(&app, &["create", "--username", "short"], "short\n").await;
    assert!(!ok);
    assert!(text.contains("at least 8"), "{text}");
    let (ok, text) = user_command(&app, &["reset-password", "--username", "nobody"], "long-enough\n").await;
    assert!(!ok);
    assert!(text.contains("no user"), "{text}");
    let (ok, text) = user_command(&app, &["disable", "--username", "admin"], "").await;
    assert!(!ok);
    assert!(text.contains("last enabled ADMIN"), "{text}");
}

#[tokio::test]
async fn a_password_reset_unlocks_a_locked_out_operator_and_kills_old_tokens() {
    let app = TestApp::spawn().await;
    let old = app.admin().await;
    for _ in 0..5 {
        app.gql(None, "mutation { login(username: \"admin\", password: \"forgotten-it\") { accessToken } }", json!({}))
            .await;
    }
    let (ok, text) = user_command(&app, &["reset-password", "--username", "admin"], "brand-new-password\n").await;
    assert!(ok, "{text}");
    assert_eq!(code(&app.gql(Some(&old), "{ me { username } }", json!({})).await), Some("UNAUTHENTICATED"));
    app.login("admin", "brand-new-password").await;
}

#[tokio::test]
async fn disable_and_enable_act_at_once_on_the_server() {
    let app = TestApp::spawn().await;
    let bob = app.regular_user("bob").await;
    let (ok, text) = user_command(&app, &["disable", "--username", "bob"], "").await;
    assert!(ok, "{text}");
    assert_eq!(code(&app.gql(Some(&bob), "{ me { username } }", json!({})).await), Some("FORBIDDEN"));
    let (ok, text) = user_command(&app, &["enable", "--username", "bob"], "").await;
    assert!(ok, "{text}");
    assert_eq!(app.gql(Some(&bob), "{ me { username } }", json!({})).await["data"]["me"]["username"], "bob");
}

#[tokio::test]
async fn sigterm_finishes_requests_in_flight_and_exits_zero() {
    let first = TestApp::spawn().await;
    let mut server = first.another_process().await;
    let admin = server.admin().await;
    // A request that takes half a second (a test hook), in flight when SIGTERM comes.
    let slow = server.gql(Some(&admin), "{ user(username: \"sleep-for-test\") { username } }", json!({}));
    let terminate = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let pid = server.process_id().unwrap().to_string();
        let status = tokio::process::Command::new("kill").args(["-TERM", &pid]).status().await.unwrap();
        assert!(status.success());
    };
    let (body, ()) = tokio::join!(slow, terminate);
    assert_eq!(code(&body), Some("NOT_FOUND"), "the request in flight was answered: {body}");
    let status = tokio::time::timeout(Duration::from_secs(10), server.wait_for_exit()).await.expect("exits");
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn a_first_start_without_secrets_prints_a_random_admin_password_once_and_warns_about_the_key() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("first.db").display());
    let start = || {
        server_command()
            .env("DATABASE_URL", &database_url)
            .env("MLTE_LISTEN", "127.0.0.1:0")
            .env_remove("MLTE_ADMIN_PASSWORD")
            .env_remove("MLTE_JWT_SECRET")
            .env("RUST_LOG", "info")
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap()
    };
    // Reads the log until the server listens; returns the address and what came before.
    async fn until_listening(child: &mut tokio::process::Child) -> (String, String) {
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut log = String::new();
        loop {
            let line = lines.next_line().await.unwrap().expect("the server starts");
            if let Some(addr) = line.split("listen=").nth(1) {
                return (addr.trim().to_owned(), log);
            }
            log.push_str(&line);
            log.push('\n');
        }
    }
    let mut first = start();
    let (addr, log) = until_listening(&mut first).await;
    assert!(log.contains("MLTE_JWT_SECRET is not set"), "{log}");
    let password = log
        .lines()
        .find_map(|line| line.strip_prefix("created user admin with password: "))
        .unwrap_or_else(|| panic!("no password printed: {log}"))
        .to_owned();
    let body: serde_json::Value = reqwest::Client::new()
        .post(format!("http://{addr}/api/token"))
        .form(&[("grant_type", "password"), ("username", "admin"), ("password", password.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(body["access_token"].is_string(), "{body}");
    drop(first);

    // A second start on the same database creates nobody and prints no password.
    let mut second = start();
    let (_, log) = until_listening(&mut second).await;
    assert!(!log.contains("password"), "{log}");
}

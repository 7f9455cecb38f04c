//! RULES §6 throttling: per-username lockout with back-off, per-address limit.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, LOGIN, TestApp, code, password_of, try_login};

async fn fail(app: &TestApp, username: &str, times: usize) {
    for _ in 0..times {
        assert_eq!(code(&try_login(app, username, "wrong-password").await), Some("UNAUTHENTICATED"));
    }
}

fn retry_after(body: &Value) -> u64 {
    body["errors"][0]["extensions"]["retryAfter"].as_u64().unwrap_or_else(|| panic!("no retryAfter: {body}"))
}

#[tokio::test]
async fn five_failures_lock_the_account_even_for_the_right_password_then_success_resets() {
    let app = TestApp::spawn().await;
    app.regular_user("bob").await;
    fail(&app, "bob", 5).await;
    let refused = try_login(&app, "bob", &password_of("bob")).await;
    assert_eq!(code(&refused), Some("RATE_LIMITED"), "{refused}");
    assert_eq!(retry_after(&refused), 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let body = try_login(&app, "bob", &password_of("bob")).await;
    assert!(body["data"]["login"]["accessToken"].is_string(), "{body}");
    // The count starts again: four more failures lock nothing.
    fail(&app, "bob", 4).await;
    app.login("bob", &password_of("bob")).await;
}

#[tokio::test]
async fn four_failures_lock_nothing() {
    let app = TestApp::spawn().await;
    app.regular_user("bob").await;
    fail(&app, "bob", 4).await;
    app.login("bob", &password_of("bob")).await;
}

#[tokio::test]
async fn unknown_usernames_are_locked_alike() {
    let app = TestApp::spawn().await;
    fail(&app, "ghost", 5).await;
    assert_eq!(code(&try_login(&app, "ghost", "whatever-password").await), Some("RATE_LIMITED"));
    // Other accounts are untouched.
    app.admin().await;
}

#[tokio::test]
async fn each_further_failure_doubles_the_lock_and_refused_attempts_do_not_count() {
    let app = TestApp::spawn().await;
    app.regular_user("bob").await;
    fail(&app, "bob", 5).await;
    for _ in 0..3 {
        assert_eq!(code(&try_login(&app, "bob", "wrong-password").await), Some("RATE_LIMITED"));
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    fail(&app, "bob", 1).await;
    let refused = try_login(&app, "bob", &password_of("bob")).await;
    assert_eq!(retry_after(&refused), 2, "the sixth failure locks for 2 s, not more: {refused}");
}

#[tokio::test]
async fn token_endpoint_failures_count_with_login_and_a_locked_account_gets_429_with_retry_after() {
    let app = TestApp::spawn().await;
    app.regular_user("bob").await;
    fail(&app, "bob", 3).await;
    for _ in 0..2 {
        let response = app
            .client
            .post(app.url("/api/token"))
            .form(&[("grant_type", "password"), ("username", "bob"), ("password", "wrong-password")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
    }
    let response = app
        .client
        .post(app.url("/api/token"))
        .form(&[("grant_type", "password"), ("username", "bob"), ("password", &password_of("bob"))])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(code(&try_login(&app, "bob", &password_of("bob")).await), Some("RATE_LIMITED"));
}

#[tokio::test]
async fn one_address_at_its_failure_limit_is_refused_for_every_account() {
    let app = TestApp::spawn_with(|config| config.login_address_max_failures = 3).await;
    for user in ["a", "b", "c"] {
        fail(&app, user, 1).await;
    }
    let refused = try_login(&app, "admin", ADMIN_PASSWORD).await;
    assert_eq!(code(&refused), Some("RATE_LIMITED"), "{refused}");
    assert!((1..=600).contains(&retry_after(&refused)));
}

#[tokio::test]
async fn an_address_one_failure_short_of_its_limit_is_not_yet_refused() {
    let app = TestApp::spawn_with(|config| config.login_address_max_failures = 3).await;
    for user in ["a", "b"] {
        fail(&app, user, 1).await;
    }
    app.admin().await;
}

#[tokio::test]
async fn a_lock_holds_across_processes_sharing_the_database() {
    let first = TestApp::spawn().await;
    first.regular_user("bob").await;
    let second = first.another_process().await;
    fail(&first, "bob", 5).await;
    assert_eq!(code(&try_login(&second, "bob", &password_of("bob")).await), Some("RATE_LIMITED"));
}

/// A failed login sent as if through a proxy that appended `client` to
/// X-Forwarded-For.
async fn fail_as(app: &TestApp, client: &str, username: &str) -> Value {
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("x-forwarded-for", format!("6.6.6.6, {client}"))
        .json(&json!({ "query": LOGIN, "variables": { "u": username, "p": "wrong-password" } }))
        .send()
        .await
        .unwrap();
    response.json().await.unwrap()
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_address_limit_hits_one_client_not_everyone() {
    let app = TestApp::spawn_with(|config| {
        config.login_address_max_failures = 3;
        config.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    for user in ["a", "b", "c"] {
        assert_eq!(code(&fail_as(&app, "203.0.113.1", user).await), Some("UNAUTHENTICATED"));
    }
    assert_eq!(code(&fail_as(&app, "203.0.113.1", "d").await), Some("RATE_LIMITED"), "that client is at its limit");
    // Another client behind the same proxy, even one claiming the first's address
    // further left in the header, is not.
    assert_eq!(code(&fail_as(&app, "203.0.113.2", "d").await), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn x_forwarded_for_from_a_peer_that_is_not_a_trusted_proxy_is_ignored() {
    let app = TestApp::spawn_with(|config| config.login_address_max_failures = 3).await;
    for (client, user) in [("203.0.113.1", "a"), ("203.0.113.2", "b"), ("203.0.113.3", "c")] {
        assert_eq!(code(&fail_as(&app, client, user).await), Some("UNAUTHENTICATED"));
    }
    // All of them came from the loopback peer: one address, at its limit.
    assert_eq!(code(&fail_as(&app, "203.0.113.4", "d").await), Some("RATE_LIMITED"));
}

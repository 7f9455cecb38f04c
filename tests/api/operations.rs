//! What operators watch: metrics and logs.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, TestApp, code};

#[tokio::test]
async fn metrics_count_requests_by_operation_and_outcome_logins_latency_and_the_pool() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for _ in 0..2 {
        app.gql(Some(&admin), "query Me { me { username } }", json!({})).await;
    }
    app.gql(None, "query Me { me { username } }", json!({})).await;
    app.gql(None, "mutation { login(username: \"admin\", password: \"wrong-password\") { accessToken } }", json!({}))
        .await;
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = response.text().await.unwrap();
    for expected in [
        "mlte_graphql_requests_total{operation=\"Me\",outcome=\"ok\"} 2",
        "mlte_graphql_requests_total{operation=\"Me\",outcome=\"UNAUTHENTICATED\"} 1",
        "mlte_graphql_requests_total{operation=\"anonymous\",outcome=\"UNAUTHENTICATED\"} 1",
        "mlte_graphql_login_failures_total{reason=\"bad_credentials\"} 1",
        "mlte_graphql_http_request_duration_seconds_bucket{route=\"/graphql\",le=\"+Inf\"}",
        "mlte_graphql_db_pool_connections{state=\"in_use\"}",
        "mlte_graphql_db_pool_connections{state=\"idle\"}",
    ] {
        assert!(text.contains(expected), "{expected} in\n{text}");
    }
}

#[tokio::test]
async fn json_logs_carry_the_request_id_and_never_a_password_or_token() {
    let first = TestApp::spawn().await;
    let server = first
        .another_process_with_env(&[
            ("MLTE_LOG_FORMAT", "json"),
            ("RUST_LOG", "debug,sqlx::query=debug,tower_http=debug"),
        ])
        .await;
    let token = server.admin().await;
    let response = server.post_query(&token, "{ user(username: \"nobody\") { username } }").await;
    let request_id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(code(&response.json::<Value>().await.unwrap()), Some("NOT_FOUND"));
    let grant = [("grant_type", "password"), ("username", "admin"), ("password", ADMIN_PASSWORD)];
    let token_response = server.client.post(server.url("/api/token")).form(&grant).send().await.unwrap();
    let other_token = token_response.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
    let change = "mutation { editUser(input: {username: \"admin\", password: \"a-changed-password\"}) { username } }";
    assert!(server.gql(Some(&other_token), change, json!({})).await["errors"].is_null());

    tokio::time::sleep(Duration::from_millis(200)).await; // let the log lines arrive
    let logs = server.logs();
    let lines: Vec<&str> = logs.lines().collect();
    assert!(lines.len() > 5, "{logs}");
    for line in &lines {
        let parsed: Result<Value, _> = serde_json::from_str(line);
        assert!(parsed.is_ok(), "not JSON: {line}");
    }
    assert!(logs.contains(&request_id), "the request id {request_id} is in the log");
    for secret in [ADMIN_PASSWORD, "a-changed-password", token.as_str(), other_token.as_str()] {
        assert!(!logs.contains(secret), "a secret leaked into the log");
    }
    // Nor a fragment of a token (its signature).
    let signature = token.rsplit('.').next().unwrap();
    assert!(!logs.contains(signature));
}

//! Browsers on other origins (SPAs): CORS only for the configured origins.

use serde_json::json;

use mlte_graphql::config::CorsOrigins;

use crate::helpers::{TestApp, server_command};

const SPA: &str = "http://spa.example:3000";

fn origins(list: &str) -> CorsOrigins {
    CorsOrigins::parse(list).unwrap()
}

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(reqwest::Method::OPTIONS, app.url("/graphql"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization, content-type")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_configured_origin_passes_preflight_and_reads_responses() {
    let app =
        TestApp::spawn_with(|config| config.cors_origins = origins(&format!("{SPA}, http://other.example"))).await;
    let response = preflight(&app, SPA).await;
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(response.headers()["access-control-allow-origin"], SPA);
    let methods = response.headers()["access-control-allow-methods"].to_str().unwrap().to_owned();
    assert!(methods.contains("POST"), "{methods}");
    let allowed = response.headers()["access-control-allow-headers"].to_str().unwrap().to_ascii_lowercase();
    assert!(allowed.contains("authorization") && allowed.contains("content-type"), "{allowed}");

    let admin = app.admin().await;
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("origin", SPA)
        .bearer_auth(&admin)
        .json(&json!({"query": "{ me { username } }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["access-control-allow-origin"], SPA);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["data"]["me"]["username"], "admin");
}

#[tokio::test]
async fn other_origins_get_no_cors_headers() {
    let app = TestApp::spawn_with(|config| config.cors_origins = origins(SPA)).await;
    let response = preflight(&app, "http://evil.example").await;
    assert!(response.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn without_configured_origins_there_is_no_cors() {
    let app = TestApp::spawn().await;
    let response = preflight(&app, SPA).await;
    assert!(response.headers().get("access-control-allow-origin").is_none());
}

async fn preflight_with_headers(app: &TestApp, origin: &str, headers: &str) -> reqwest::Response {
    app.client
        .request(reqwest::Method::OPTIONS, app.url("/graphql"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", headers)
        .send()
        .await
        .unwrap()
}

fn allowed_headers(response: &reqwest::Response) -> String {
    response.headers()["access-control-allow-headers"].to_str().unwrap().to_ascii_lowercase()
}

#[tokio::test]
async fn any_origin_is_answered_with_a_star_and_the_headers_clients_send_are_allowed() {
    let app = TestApp::spawn_with(|config| config.cors_origins = origins("*")).await;
    let response =
        preflight_with_headers(&app, "https://anywhere.example", "authorization, apollographql-client-name").await;
    assert!(response.status().is_success());
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    let allowed = allowed_headers(&response);
    for header in [
        "authorization",
        "content-type",
        "accept",
        "x-request-id",
        "apollographql-client-name",
        "apollographql-client-version",
        "apollo-require-preflight",
    ] {
        assert!(allowed.contains(header), "{header} in {allowed}");
    }
    assert!(!allowed.contains("x-custom"), "no others: {allowed}");
}

#[tokio::test]
async fn more_request_headers_can_be_allowed_and_retry_after_is_exposed_with_vary_origin() {
    let app = TestApp::spawn_with(|config| {
        config.cors_origins = origins(SPA);
        config.cors_allow_headers = vec!["x-custom".to_owned()];
    })
    .await;
    assert!(allowed_headers(&preflight_with_headers(&app, SPA, "x-custom").await).contains("x-custom"));
    let response = app.client.get(app.url("/health")).header("origin", SPA).send().await.unwrap();
    let exposed = response.headers()["access-control-expose-headers"].to_str().unwrap().to_ascii_lowercase();
    assert!(exposed.contains("x-request-id") && exposed.contains("retry-after"), "{exposed}");
    // Every response, even to another origin, says it varies by origin.
    let other = app.client.get(app.url("/health")).header("origin", "http://evil.example").send().await.unwrap();
    for response in [&response, &other] {
        let vary = response.headers()["vary"].to_str().unwrap().to_ascii_lowercase();
        assert!(vary.contains("origin"), "{vary}");
    }
}

#[tokio::test]
async fn a_bad_origin_stops_the_process_with_status_2_before_the_database_is_touched() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("never.db");
    for bad in ["http://localhost:3000/", "localhost:3000", "*, http://x.org", "HTTP://X.ORG"] {
        let output = server_command()
            .arg("serve")
            .env("DATABASE_URL", format!("sqlite://{}", database.display()))
            .env("MLTE_CORS_ORIGINS", bad)
            .output()
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{bad}: {stderr}");
        assert!(stderr.contains("--cors-origin") && stderr.contains("MLTE_CORS_ORIGINS"), "{bad}: {stderr}");
        assert!(!database.exists(), "nothing created for {bad}");
    }
}

//! Browsers on other origins (SPAs): CORS only for the configured origins.

use serde_json::json;

use crate::helpers::TestApp;

const SPA: &str = "http://spa.example:3000";

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
        TestApp::spawn_with(|config| config.cors_origins = vec![SPA.to_owned(), "http://other.example".to_owned()])
            .await;
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
    let app = TestApp::spawn_with(|config| config.cors_origins = vec![SPA.to_owned()]).await;
    let response = preflight(&app, "http://evil.example").await;
    assert!(response.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn without_configured_origins_there_is_no_cors() {
    let app = TestApp::spawn().await;
    let response = preflight(&app, SPA).await;
    assert!(response.headers().get("access-control-allow-origin").is_none());
}

//! RULES §12: migrations run once before a deployment (`migrate`, `serve
//! --no-migrate`), and a stopping process drains: `/health` says so while every other
//! request is still served, then it exits 0.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{TestApp, code, run_binary};

/// A new, empty database of the suite's kind, as a URL.
async fn fresh_database(dir: &tempfile::TempDir) -> String {
    match crate::DATABASE {
        crate::helpers::Database::Sqlite => format!("sqlite://{}", dir.path().join("fresh.db").display()),
        crate::helpers::Database::Postgres => crate::helpers::postgres::fresh_schema().await,
    }
}

#[tokio::test]
async fn serve_no_migrate_refuses_pending_migrations_until_migrate_ran() {
    let dir = tempfile::tempdir().unwrap();
    let database = fresh_database(&dir).await;
    let (status, text) = run_binary(&database, &["serve", "--no-migrate"]).await;
    assert_eq!(status, Some(1), "{text}");
    assert!(text.contains("pending migrations") && text.contains("20261127000001_users_groups"), "{text}");
    assert!(text.contains("mlte-graphql migrate"), "says what to do: {text}");
    for _ in 0..2 {
        let (status, text) = run_binary(&database, &["migrate"]).await;
        assert_eq!(status, Some(0), "migrate, also with nothing to do: {text}");
    }
    // Now it serves without migrating: started as a test app would be, it answers.
    let app = TestApp::spawn_on(&database, &[("MLTE_NO_MIGRATE", "true")]).await;
    assert_eq!(
        app.gql(Some(&app.admin().await), "{ me { username } }", json!({})).await["data"]["me"]["username"],
        "admin"
    );
}

#[tokio::test]
async fn a_stopping_process_drains_then_exits_zero() {
    let first = TestApp::spawn().await;
    let mut app = first.another_process_with_env(&[("MLTE_SHUTDOWN_GRACE_SECS", "2")]).await;
    let admin = app.admin().await;
    let pid = app.process_id().unwrap().to_string();
    let killed = tokio::process::Command::new("kill").args(["-TERM", &pid]).status().await.unwrap();
    assert!(killed.success());
    // Until the signal is seen: then /health says "draining".
    let mut polls = 0;
    loop {
        let response = app.client.get(app.url("/health")).send().await.unwrap();
        if response.status() == 503 {
            assert_eq!(response.json::<serde_json::Value>().await.unwrap(), json!({ "status": "draining" }));
            break;
        }
        assert!(polls < 100, "never drained");
        polls += 1;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Everything else is still served, each answer closing its connection.
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&admin)
        .json(&json!({ "query": "{ me { username } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["connection"], "close");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!((code(&body), &body["data"]["me"]["username"]), (None, &json!("admin")), "{body}");
    assert!(app.wait_for_exit().await.success(), "exits 0 after the grace");
}

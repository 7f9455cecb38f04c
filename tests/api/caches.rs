//! The process's caches (verified tokens, users' groups, parsed documents) past their
//! size (issue 17): they forget some entries, never answer one caller with another's,
//! and never make a revoked, disabled or re-grouped user's token act on old state.

use serde_json::{Value, json};

use crate::helpers::{TestApp, code};

/// `me` with a document of the caller's own (an alias per caller), so that the
/// parsed-document cache turns over too.
async fn me(app: &TestApp, token: &str, n: usize) -> Value {
    let query = format!("{{ me {{ name{n}: username groups {{ name }} }} }}");
    app.gql(Some(token), &query, json!({})).await
}

fn has_group(body: &Value, group: &str) -> bool {
    body["data"]["me"]["groups"].as_array().is_some_and(|groups| groups.iter().any(|g| g["name"] == group))
}

#[tokio::test]
async fn caches_smaller_than_the_callers_keep_every_answer_its_own_and_current() {
    let app = TestApp::spawn_with(|config| {
        config.token_cache_entries = 2;
        config.groups_cache_entries = 2;
        config.document_cache_entries = 2;
    })
    .await;
    let admin = app.admin().await;
    let names: Vec<String> = (0..6).map(|i| format!("user{i}")).collect();
    let mut tokens = Vec::new();
    for name in &names {
        tokens.push(app.regular_user(name).await);
    }
    // Three rotations of six callers through caches of two: each request evicts.
    for _ in 0..3 {
        for (n, (name, token)) in names.iter().zip(&tokens).enumerate() {
            let body = me(&app, token, n).await;
            assert_eq!(body["data"]["me"][format!("name{n}")], json!(name), "{body}");
            assert!(has_group(&body, &format!("read-user-{name}")), "{body}");
        }
    }

    // Changes made while the caches hold (some of) them act at the next request.
    let body = app.gql(Some(&admin), "mutation { revokeTokens(username: \"user0\") }", json!({})).await;
    assert_eq!(code(&body), None, "{body}");
    let body = app
        .gql(
            Some(&admin),
            "mutation { editUser(input: {username: \"user1\", disabled: true}) { username } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&body), None, "{body}");
    app.add_groups("user2", &["read-model"]).await;

    for _ in 0..2 {
        for (n, (name, token)) in names.iter().zip(&tokens).enumerate() {
            let body = me(&app, token, n).await;
            match n {
                0 => assert_eq!(code(&body), Some("UNAUTHENTICATED"), "revoked: {body}"),
                1 => assert_eq!(code(&body), Some("FORBIDDEN"), "disabled: {body}"),
                _ => {
                    assert_eq!(body["data"]["me"][format!("name{n}")], json!(name), "{body}");
                    assert_eq!(has_group(&body, "read-model"), n == 2, "{name}: {body}");
                }
            }
        }
    }
}

#[tokio::test]
async fn concurrent_callers_through_tiny_caches_each_get_their_own_answer() {
    let app = TestApp::spawn_with(|config| {
        config.token_cache_entries = 3;
        config.groups_cache_entries = 3;
        config.document_cache_entries = 3;
    })
    .await;
    let names: Vec<String> = (0..8).map(|i| format!("crowd{i}")).collect();
    let mut tokens = Vec::new();
    for name in &names {
        tokens.push(app.regular_user(name).await);
    }
    let mut requests = Vec::new();
    for round in 0..10 {
        for (n, token) in tokens.iter().enumerate() {
            let query = format!("{{ me {{ name{n}: username groups {{ name }} }} }}");
            requests.push((n, round, app.spawn_gql(Some(token), &query, json!({}), 0)));
        }
    }
    for (n, round, request) in requests {
        let body = request.await.expect("the request task");
        assert_eq!(body["data"]["me"][format!("name{n}")], json!(names[n]), "round {round}: {body}");
    }
}

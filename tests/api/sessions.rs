//! RULES §8: sessions that end when they should (`refreshToken`, `--session-max-secs`)
//! and `revokeTokens`, "log out everywhere", acting at once on every process.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, code, password_of, try_login};

const REFRESH: &str = "mutation { refreshToken { accessToken tokenType expiresIn } }";
const REVOKE: &str = "mutation($u: String!) { revokeTokens(username: $u) }";
const ME: &str = "{ me { username } }";

/// A token's claims, read without checking it (the server checks; this reads).
fn claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

async fn refresh(app: &TestApp, token: &str) -> Value {
    app.gql(Some(token), REFRESH, json!({})).await
}

fn new_token(body: &Value) -> String {
    body["data"]["refreshToken"]["accessToken"].as_str().unwrap_or_else(|| panic!("no token: {body}")).to_owned()
}

#[tokio::test]
async fn a_refresh_gives_a_new_token_of_the_same_session_and_the_old_one_stays_valid() {
    let app = TestApp::spawn().await;
    let first = app.regular_user("ann").await;
    let body = refresh(&app, &first).await;
    assert_eq!(body["data"]["refreshToken"]["tokenType"], "bearer", "{body}");
    assert_eq!(body["data"]["refreshToken"]["expiresIn"], 7200);
    let second = new_token(&body);
    let (before, after) = (claims(&first), claims(&second));
    assert_eq!(after["sub"], "ann");
    assert_eq!(after["sst"], before["sst"], "the session's start carries over");
    assert_eq!(after["exp"].as_u64().unwrap() - after["iat"].as_u64().unwrap(), 7200);
    for token in [&first, &second] {
        assert_eq!(app.gql(Some(token), ME, json!({})).await["data"]["me"]["username"], "ann");
    }
    // Refreshing needs a valid token.
    assert_eq!(code(&app.gql(Some("not-a-token"), REFRESH, json!({})).await), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn no_token_outlives_its_session_and_refreshing_after_it_is_unauthenticated() {
    let app = TestApp::spawn_with(|config| config.session_max_secs = 3).await;
    app.regular_user("ann").await;
    let login = try_login(&app, "ann", &password_of("ann")).await;
    assert_eq!(login["data"]["login"]["expiresIn"], 3, "a session shorter than the lifetime shortens it: {login}");
    let first = login["data"]["login"]["accessToken"].as_str().unwrap().to_owned();
    let session_end = claims(&first)["sst"].as_u64().unwrap() + 3;
    assert_eq!(claims(&first)["exp"].as_u64().unwrap(), session_end);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let body = refresh(&app, &first).await;
    let second = new_token(&body);
    assert_eq!(claims(&second)["exp"].as_u64().unwrap(), session_end, "a refresh ends with the session");
    assert_eq!(
        body["data"]["refreshToken"]["expiresIn"].as_u64().unwrap(),
        session_end - claims(&second)["iat"].as_u64().unwrap(),
        "expiresIn says how long the token given lives"
    );
    // The OAuth2 endpoint says the same.
    let response = app
        .client
        .post(app.url("/api/token"))
        .form(&[("grant_type", "password"), ("username", "ann"), ("password", &password_of("ann"))])
        .send()
        .await
        .unwrap();
    assert_eq!(response.json::<Value>().await.unwrap()["expires_in"], 3);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(code(&refresh(&app, &second).await), Some("UNAUTHENTICATED"), "the session is over");
}

#[tokio::test]
async fn revoking_ends_every_token_of_the_user_on_every_process_and_new_logins_work_at_once() {
    let a = TestApp::spawn().await;
    let b = a.another_process().await;
    let first = a.regular_user("ann").await;
    let refreshed = new_token(&refresh(&a, &first).await);
    // Warm the second process's caches with both tokens.
    for token in [&first, &refreshed] {
        assert_eq!(code(&b.gql(Some(token), ME, json!({})).await), None);
    }
    let body = a.gql(Some(&first), REVOKE, json!({ "u": "me" })).await;
    assert_eq!(body["data"]["revokeTokens"], true, "{body}");
    for token in [&first, &refreshed] {
        assert_eq!(code(&b.gql(Some(token), ME, json!({})).await), Some("UNAUTHENTICATED"));
        assert_eq!(code(&a.gql(Some(token), ME, json!({})).await), Some("UNAUTHENTICATED"));
    }
    // The password is unchanged, and a login in the same second works.
    let again = a.login("ann", &password_of("ann")).await;
    assert_eq!(code(&b.gql(Some(&again), ME, json!({})).await), None);
}

#[tokio::test]
async fn who_may_revoke_whose_tokens() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let ann = app.regular_user("ann").await;
    let bob = app.regular_user("bob").await;
    let helpdesk = app.regular_user("helpdesk").await;
    app.add_groups("helpdesk", &["edit-user"]).await;
    let revoke = |token: String, username: &'static str| {
        let app = &app;
        async move { app.gql(Some(&token), REVOKE, json!({ "u": username })).await }
    };
    assert_eq!(code(&revoke(ann.clone(), "bob").await), Some("FORBIDDEN"), "another user");
    assert_eq!(code(&revoke(helpdesk.clone(), "admin").await), Some("FORBIDDEN"), "an ADMIN, by a non-admin");
    assert_eq!(code(&revoke(helpdesk.clone(), "nobody").await), Some("NOT_FOUND"));
    assert_eq!(code(&revoke(ann.clone(), "nobody").await), Some("FORBIDDEN"), "the check comes first");
    assert_eq!(code(&app.gql(Some(&bob), ME, json!({})).await), None, "nothing was revoked");
    assert_eq!(revoke(helpdesk.clone(), "bob").await["data"]["revokeTokens"], true);
    assert_eq!(code(&app.gql(Some(&bob), ME, json!({})).await), Some("UNAUTHENTICATED"));
    assert_eq!(revoke(admin.clone(), "admin").await["data"]["revokeTokens"], true);
    assert_eq!(code(&app.gql(Some(&admin), ME, json!({})).await), Some("UNAUTHENTICATED"));
}

//! RULES §3 and §6: a non-admin changes its own password only with the right
//! `currentPassword`; a password change ends the tokens issued before it.

use serde_json::json;

use super::{can_log_in, snapshot};
use crate::helpers::{TestApp, assert_code, assert_ok, code, edit_user, password_of, query_me};

#[tokio::test]
async fn non_admin_changing_its_own_password_without_current_password_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bob = app.regular_user("bob").await;
    let before = snapshot(&app, &admin).await;

    for username in ["bob", "me"] {
        let body = edit_user(&app, &bob, json!({ "username": username, "password": "brand-new-password" })).await;
        let refused = code(&body);
        assert!(
            refused == Some("FORBIDDEN") || refused == Some("BAD_USER_INPUT"),
            "bob changes {username}'s password without currentPassword: {body}"
        );
    }

    assert_eq!(snapshot(&app, &admin).await, before, "nothing changed");
    assert!(can_log_in(&app, "bob", &password_of("bob")).await, "the old password still works");
    assert!(!can_log_in(&app, "bob", "brand-new-password").await);
    assert_ok(&query_me(&app, &bob).await, "bob's token still works");
}

#[tokio::test]
async fn non_admin_changing_its_own_password_with_a_wrong_current_password_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bob = app.regular_user("bob").await;
    let before = snapshot(&app, &admin).await;

    let body = edit_user(
        &app,
        &bob,
        json!({ "username": "me", "password": "brand-new-password", "currentPassword": "not-bobs-password" }),
    )
    .await;
    let refused = code(&body);
    assert!(refused == Some("FORBIDDEN") || refused == Some("BAD_USER_INPUT"), "wrong currentPassword: {body}");

    assert_eq!(snapshot(&app, &admin).await, before, "nothing changed");
    assert!(can_log_in(&app, "bob", &password_of("bob")).await, "the old password still works");
    assert!(!can_log_in(&app, "bob", "brand-new-password").await);
    assert_ok(&query_me(&app, &bob).await, "bob's token still works");
}

#[tokio::test]
async fn non_admin_changes_its_own_password_with_the_right_current_password_and_old_tokens_die() {
    let app = TestApp::spawn().await;
    let bob = app.regular_user("bob").await;

    let body = edit_user(
        &app,
        &bob,
        json!({ "username": "bob", "password": "brand-new-password", "currentPassword": password_of("bob") }),
    )
    .await;
    assert_ok(&body, "bob changes its password");

    assert_code(&query_me(&app, &bob).await, "UNAUTHENTICATED", "the token issued before the change");
    assert!(!can_log_in(&app, "bob", &password_of("bob")).await, "the old password no longer works");
    let fresh = app.login("bob", "brand-new-password").await;
    let me = query_me(&app, &fresh).await;
    assert_ok(&me, "a token for the new password");
    assert_eq!(me["data"]["me"]["username"], "bob");
}

#[tokio::test]
async fn admin_sets_a_regular_users_password_without_current_password() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bob = app.regular_user("bob").await;
    assert_ok(&edit_user(&app, &admin, json!({ "username": "bob", "password": "reset-password" })).await, "reset");
    assert_code(&query_me(&app, &bob).await, "UNAUTHENTICATED", "bob's token before the reset");
    assert!(can_log_in(&app, "bob", "reset-password").await);
}

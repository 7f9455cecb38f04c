//! RULES §2: a refused user mutation changes nothing.

use serde_json::json;

use super::{can_log_in, carol_with_profile, snapshot};
use crate::helpers::{TestApp, assert_code, assert_ok, create_user, edit_user, query_user, query_users};

#[tokio::test]
async fn failed_create_user_with_an_unknown_group_leaves_no_user_behind() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let before = snapshot(&app, &admin).await;

    let body = create_user(
        &app,
        &admin,
        json!({ "username": "ghost", "password": "ghost-password", "groups": ["read-user", "no-such-group"] }),
    )
    .await;
    assert_code(&body, "BAD_USER_INPUT", "createUser with an unknown group");

    assert_code(&query_user(&app, &admin, "ghost").await, "NOT_FOUND", "no ghost");
    assert_eq!(snapshot(&app, &admin).await, before, "no user and no group left behind");
    assert!(!can_log_in(&app, "ghost", "ghost-password").await);
    // The name is still free.
    assert_ok(&create_user(&app, &admin, json!({ "username": "ghost", "password": "ghost-password" })).await, "retry");
}

#[tokio::test]
async fn failed_create_user_with_invalid_input_leaves_no_user_behind() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let before = snapshot(&app, &admin).await;
    let attempts = [
        json!({ "username": "ghost", "password": "short" }),
        json!({ "username": "ghost", "password": "ghost-password", "email": "no-at-sign" }),
        json!({ "username": "me", "password": "ghost-password" }),
        json!({ "username": "has space", "password": "ghost-password" }),
        json!({ "username": "", "password": "ghost-password" }),
    ];
    for input in attempts {
        assert_code(&create_user(&app, &admin, input.clone()).await, "BAD_USER_INPUT", &format!("createUser {input}"));
    }
    assert_eq!(snapshot(&app, &admin).await, before);
}

#[tokio::test]
async fn failed_edit_user_with_an_unknown_group_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    carol_with_profile(&app, &admin).await;
    let before = snapshot(&app, &admin).await;

    let body = edit_user(
        &app,
        &admin,
        json!({
            "username": "carol",
            "email": "changed@example.org",
            "fullName": null,
            "password": "changed-password",
            "groups": ["read-user", "no-such-group"],
        }),
    )
    .await;
    assert_code(&body, "BAD_USER_INPUT", "editUser with an unknown group");

    assert_eq!(snapshot(&app, &admin).await, before, "nothing changed");
    assert!(can_log_in(&app, "carol", "carol-password").await, "password unchanged");
}

#[tokio::test]
async fn failed_demotion_with_an_unknown_group_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.create_user(&admin, json!({ "username": "root", "password": "root-password", "role": "ADMIN" })).await;
    let root = app.login("root", "root-password").await;
    let before = snapshot(&app, &admin).await;

    let body =
        edit_user(&app, &admin, json!({ "username": "root", "role": "REGULAR", "groups": ["no-such-group"] })).await;
    assert_code(&body, "BAD_USER_INPUT", "demotion with an unknown group");

    assert_eq!(snapshot(&app, &admin).await, before, "still ADMIN, in no group, no group created");
    assert_ok(&query_users(&app, &root).await, "root is still an admin");
}

#[tokio::test]
async fn failed_edit_user_with_invalid_input_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    carol_with_profile(&app, &admin).await;
    let before = snapshot(&app, &admin).await;
    let attempts = [
        json!({ "username": "carol", "fullName": "Valid", "email": "no-at-sign" }),
        json!({ "username": "carol", "email": "ok@example.org", "password": "short" }),
        json!({ "username": "carol", "email": "ok@example.org", "fullName": "x".repeat(257) }),
    ];
    for input in attempts {
        assert_code(&edit_user(&app, &admin, input.clone()).await, "BAD_USER_INPUT", &format!("editUser {input}"));
    }
    assert_eq!(snapshot(&app, &admin).await, before);
    assert!(can_log_in(&app, "carol", "carol-password").await);
}

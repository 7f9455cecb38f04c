//! RULES §3: the last enabled ADMIN can be neither deleted, disabled nor demoted.

use serde_json::json;

use super::{read_back, snapshot};
use crate::helpers::{TestApp, assert_code, assert_ok, delete_user, edit_user, query_users};

#[tokio::test]
async fn last_enabled_admin_cannot_be_deleted_disabled_or_demoted() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let before = snapshot(&app, &admin).await;

    for username in ["admin", "me"] {
        assert_code(&delete_user(&app, &admin, username).await, "BAD_USER_INPUT", "delete the last admin");
        assert_code(
            &edit_user(&app, &admin, json!({ "username": username, "disabled": true })).await,
            "BAD_USER_INPUT",
            "disable the last admin",
        );
        assert_code(
            &edit_user(&app, &admin, json!({ "username": username, "role": "REGULAR" })).await,
            "BAD_USER_INPUT",
            "demote the last admin",
        );
    }

    assert_eq!(snapshot(&app, &admin).await, before, "nothing changed");
    assert_ok(&query_users(&app, &admin).await, "the admin is still an enabled admin");
}

#[tokio::test]
async fn a_disabled_second_admin_does_not_save_the_last_enabled_one() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.create_user(
        &admin,
        json!({ "username": "root", "password": "root-password", "role": "ADMIN", "disabled": true }),
    )
    .await;
    let before = snapshot(&app, &admin).await;

    assert_code(&delete_user(&app, &admin, "admin").await, "BAD_USER_INPUT", "delete the last enabled admin");
    assert_code(
        &edit_user(&app, &admin, json!({ "username": "admin", "disabled": true })).await,
        "BAD_USER_INPUT",
        "disable the last enabled admin",
    );
    assert_code(
        &edit_user(&app, &admin, json!({ "username": "admin", "role": "REGULAR" })).await,
        "BAD_USER_INPUT",
        "demote the last enabled admin",
    );
    assert_eq!(snapshot(&app, &admin).await, before, "nothing changed");

    // The disabled one is no last enabled ADMIN: it may go.
    assert_ok(&delete_user(&app, &admin, "root").await, "delete a disabled admin");
}

#[tokio::test]
async fn with_a_second_enabled_admin_an_admin_can_be_disabled_demoted_and_deleted() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.create_user(&admin, json!({ "username": "root", "password": "root-password", "role": "ADMIN" })).await;

    let body = edit_user(&app, &admin, json!({ "username": "root", "disabled": true })).await;
    assert_ok(&body, "disable root");
    assert_eq!(read_back(&app, &admin, "root").await["disabled"], true);
    // root disabled: admin is the last enabled one again.
    assert_code(&delete_user(&app, &admin, "me").await, "BAD_USER_INPUT", "delete the last enabled admin");
    assert_ok(&edit_user(&app, &admin, json!({ "username": "root", "disabled": false })).await, "enable root");

    let body = edit_user(&app, &admin, json!({ "username": "root", "role": "REGULAR" })).await;
    assert_ok(&body, "demote root");
    assert_eq!(read_back(&app, &admin, "root").await["role"], "REGULAR");
    assert_ok(&edit_user(&app, &admin, json!({ "username": "root", "role": "ADMIN" })).await, "promote root again");

    // An admin may demote or delete itself while another admin remains enabled.
    let root = app.login("root", "root-password").await;
    assert_ok(&edit_user(&app, &root, json!({ "username": "me", "role": "REGULAR" })).await, "root demotes itself");
    assert_eq!(read_back(&app, &admin, "root").await["role"], "REGULAR");
    assert_ok(&edit_user(&app, &admin, json!({ "username": "root", "role": "ADMIN" })).await, "promote root again");

    let root = app.login("root", "root-password").await;
    let body = delete_user(&app, &root, "admin").await;
    assert_ok(&body, "root deletes the other admin");
    assert_eq!(body["data"]["deleteUser"]["role"], "ADMIN");
    assert!(read_back(&app, &root, "admin").await.is_null());
    assert_code(&delete_user(&app, &root, "root").await, "BAD_USER_INPUT", "root is now the last enabled admin");
}

//! RULES §3: only an ADMIN sets `role`, `groups` or `disabled` on `createUser`, or changes
//! them on `editUser`.

use serde_json::json;

use super::{can_log_in, group_names, member_of, read_back, snapshot};
use crate::helpers::{
    TestApp, assert_code, assert_ok, create_user, delete_user, edit_user, new_regular_user_groups, password_of,
    query_me, query_users,
};

#[tokio::test]
async fn only_admin_sets_role_groups_or_disabled_on_create_user() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let creator = member_of(&app, "creator", &["create-user"]).await;
    let before = snapshot(&app, &admin).await;

    for (field, value) in [
        ("role", json!("ADMIN")),
        ("disabled", json!(true)),
        ("groups", json!(["read-user"])),
        ("groups", json!(["create-user"])),
    ] {
        let mut input = json!({ "username": "carol", "password": "carol-password" });
        input[field] = value.clone();
        let body = create_user(&app, &creator, input).await;
        assert_code(&body, "FORBIDDEN", &format!("creator createUser with {field} = {value}"));
    }

    assert_eq!(snapshot(&app, &admin).await, before, "no user was created");
    assert!(!can_log_in(&app, "carol", "carol-password").await);
}

#[tokio::test]
async fn admin_creates_users_with_role_groups_and_disabled() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;

    let body =
        create_user(&app, &admin, json!({ "username": "root", "password": "root-password", "role": "ADMIN" })).await;
    assert_ok(&body, "admin creates an admin");
    assert_eq!(read_back(&app, &admin, "root").await["role"], "ADMIN");
    let root = app.login("root", "root-password").await;
    assert_ok(&query_users(&app, &root).await, "the new admin lists users");

    let body =
        create_user(&app, &admin, json!({ "username": "off", "password": "off-password", "disabled": true })).await;
    assert_ok(&body, "admin creates a disabled user");
    assert_eq!(read_back(&app, &admin, "off").await["disabled"], true);

    let body = create_user(
        &app,
        &admin,
        json!({ "username": "reader", "password": "reader-password", "groups": ["read-user", "edit-model"] }),
    )
    .await;
    assert_ok(&body, "admin creates a user with extra groups");
    let mut expected = new_regular_user_groups("reader");
    expected.extend(["read-user".to_owned(), "edit-model".to_owned()]);
    expected.sort();
    assert_eq!(group_names(&read_back(&app, &admin, "reader").await), expected);
    let reader = app.login("reader", "reader-password").await;
    assert_ok(&query_users(&app, &reader).await, "the extra group grants its permission");
}

#[tokio::test]
async fn regular_user_cannot_promote_itself_to_admin() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bob = app.regular_user("bob").await;
    let before = snapshot(&app, &admin).await;

    for username in ["bob", "me"] {
        let body = edit_user(&app, &bob, json!({ "username": username, "role": "ADMIN" })).await;
        assert_code(&body, "FORBIDDEN", &format!("bob promotes {username}"));
        // Not even slipped in beside an allowed change.
        let body = edit_user(&app, &bob, json!({ "username": username, "role": "ADMIN", "fullName": "Boss" })).await;
        assert_code(&body, "FORBIDDEN", "bob promotes itself while editing its name");
    }

    assert_eq!(snapshot(&app, &admin).await, before, "nothing changed");
    assert_code(&query_users(&app, &bob).await, "FORBIDDEN", "bob is still no admin");
}

#[tokio::test]
async fn regular_user_cannot_change_its_own_groups_or_disable_itself() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bob = app.regular_user("bob").await;
    let before = snapshot(&app, &admin).await;

    let mut more = new_regular_user_groups("bob");
    more.push("read-user".to_owned());
    let attempts = [
        json!({ "username": "bob", "groups": more }),
        json!({ "username": "me", "groups": ["read-user", "edit-user", "create-user"] }),
        json!({ "username": "bob", "groups": [] }),
        json!({ "username": "bob", "disabled": true }),
    ];
    for input in attempts {
        assert_code(&edit_user(&app, &bob, input.clone()).await, "FORBIDDEN", &format!("bob editUser {input}"));
    }

    assert_eq!(snapshot(&app, &admin).await, before, "nothing changed");
    assert_code(&query_users(&app, &bob).await, "FORBIDDEN", "bob did not get read-user");
    assert_ok(&query_me(&app, &bob).await, "bob is not disabled");
}

#[tokio::test]
async fn edit_user_member_cannot_change_role_groups_or_disabled_of_others() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let editor = member_of(&app, "editor", &["edit-user"]).await;
    app.regular_user("alice").await;
    let before = snapshot(&app, &admin).await;

    let attempts = [
        json!({ "username": "alice", "role": "ADMIN" }),
        json!({ "username": "alice", "disabled": true }),
        json!({ "username": "alice", "groups": ["read-user"] }),
        json!({ "username": "alice", "groups": [] }),
        json!({ "username": "editor", "role": "ADMIN" }),
        json!({ "username": "me", "groups": ["read-user"] }),
    ];
    for input in attempts {
        assert_code(&edit_user(&app, &editor, input.clone()).await, "FORBIDDEN", &format!("editor editUser {input}"));
    }

    assert_eq!(snapshot(&app, &admin).await, before, "nothing changed");
}

#[tokio::test]
async fn admin_changes_role_groups_and_disabled_on_edit_user() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bob = app.regular_user("bob").await;

    let body = edit_user(&app, &admin, json!({ "username": "bob", "groups": ["read-user", "read-model"] })).await;
    assert_ok(&body, "admin replaces bob's groups");
    assert_eq!(group_names(&read_back(&app, &admin, "bob").await), ["read-model", "read-user"]);
    assert_ok(&query_users(&app, &bob).await, "bob now lists users");

    let body = edit_user(&app, &admin, json!({ "username": "bob", "disabled": true })).await;
    assert_ok(&body, "admin disables bob");
    assert_eq!(read_back(&app, &admin, "bob").await["disabled"], true);
    assert_code(&query_me(&app, &bob).await, "FORBIDDEN", "a disabled user's token");

    let body = edit_user(&app, &admin, json!({ "username": "bob", "disabled": false, "role": "ADMIN" })).await;
    assert_ok(&body, "admin enables and promotes bob");
    let stored = read_back(&app, &admin, "bob").await;
    assert_eq!(stored["disabled"], false);
    assert_eq!(stored["role"], "ADMIN");
    let bob = app.login("bob", &password_of("bob")).await;
    assert_ok(&delete_user(&app, &bob, "admin").await, "bob, now ADMIN, may delete the other admin");
}

//! RULES §3, the table: what ADMIN, a plain REGULAR user and the members of `read-user`,
//! `edit-user` and `create-user` may do to users.

use serde_json::json;

use super::{can_log_in, group_names, member_of, read_back, snapshot};
use crate::helpers::{
    TestApp, assert_code, assert_ok, create_user, delete_user, edit_user, new_regular_user_groups, password_of,
    query_me, query_user, query_users, usernames,
};

// ---------------------------------------------------------------- §3 table: ADMIN

#[tokio::test]
async fn admin_reads_lists_creates_edits_and_deletes_any_user() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regular_user("alice").await;

    let me = query_me(&app, &admin).await;
    assert_ok(&me, "admin me");
    assert_eq!(me["data"]["me"]["username"], "admin");
    assert_eq!(me["data"]["me"]["role"], "ADMIN");

    let alice = query_user(&app, &admin, "alice").await;
    assert_ok(&alice, "admin user(alice)");
    assert_eq!(alice["data"]["user"]["username"], "alice");

    let users = query_users(&app, &admin).await;
    assert_ok(&users, "admin users");
    assert_eq!(usernames(&users), ["admin", "alice"]);

    let created = create_user(&app, &admin, json!({ "username": "carol", "password": "carol-password" })).await;
    assert_ok(&created, "admin createUser");
    assert_eq!(created["data"]["createUser"]["username"], "carol");
    assert_eq!(created["data"]["createUser"]["role"], "REGULAR");
    assert_eq!(created["data"]["createUser"]["disabled"], false);
    assert!(can_log_in(&app, "carol", "carol-password").await);

    let edited = edit_user(&app, &admin, json!({ "username": "alice", "email": "alice@example.org" })).await;
    assert_ok(&edited, "admin editUser");
    assert_eq!(edited["data"]["editUser"]["email"], "alice@example.org");
    assert_eq!(read_back(&app, &admin, "alice").await["email"], "alice@example.org");

    let deleted = delete_user(&app, &admin, "carol").await;
    assert_ok(&deleted, "admin deleteUser");
    assert_eq!(deleted["data"]["deleteUser"]["username"], "carol");
    assert!(read_back(&app, &admin, "carol").await.is_null());
}

#[tokio::test]
async fn admin_reading_a_missing_user_gets_not_found_and_null() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let body = query_user(&app, &admin, "nobody").await;
    assert_code(&body, "NOT_FOUND", "admin user(nobody)");
    assert!(body["data"]["user"].is_null(), "{body}");
    assert_code(&edit_user(&app, &admin, json!({ "username": "nobody", "fullName": "X" })).await, "NOT_FOUND", "edit");
    assert_code(&delete_user(&app, &admin, "nobody").await, "NOT_FOUND", "delete");
}

#[tokio::test]
async fn admin_may_edit_and_delete_another_admin() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.create_user(&admin, json!({ "username": "root", "password": "root-password", "role": "ADMIN" })).await;
    let edited = edit_user(&app, &admin, json!({ "username": "root", "fullName": "Root" })).await;
    assert_ok(&edited, "admin edits admin");
    assert_eq!(read_back(&app, &admin, "root").await["fullName"], "Root");
    assert_ok(&delete_user(&app, &admin, "root").await, "admin deletes admin");
    assert!(read_back(&app, &admin, "root").await.is_null());
}

// ---------------------------------------------------------------- §3 table: plain REGULAR

#[tokio::test]
async fn plain_regular_user_reads_itself_through_me_and_its_own_name() {
    let app = TestApp::spawn().await;
    let bob = app.regular_user("bob").await;

    let me = query_me(&app, &bob).await;
    assert_ok(&me, "bob me");
    assert_eq!(me["data"]["me"]["username"], "bob");
    assert_eq!(me["data"]["me"]["role"], "REGULAR");

    let own = query_user(&app, &bob, "bob").await;
    assert_ok(&own, "bob user(bob)");
    assert_eq!(own["data"]["user"], me["data"]["me"]);
}

#[tokio::test]
async fn plain_regular_user_cannot_read_another_user_or_list_users() {
    let app = TestApp::spawn().await;
    let bob = app.regular_user("bob").await;
    app.regular_user("alice").await;

    let other = query_user(&app, &bob, "alice").await;
    assert_code(&other, "FORBIDDEN", "bob user(alice)");
    assert!(other["data"]["user"].is_null(), "{other}");
    assert_code(&query_user(&app, &bob, "admin").await, "FORBIDDEN", "bob user(admin)");
    // The permission check comes first: a missing user is no different.
    assert_code(&query_user(&app, &bob, "nobody").await, "FORBIDDEN", "bob user(nobody)");
    let users = query_users(&app, &bob).await;
    assert_code(&users, "FORBIDDEN", "bob users");
    assert!(users["data"].is_null() || users["data"]["users"].is_null(), "{users}");
}

#[tokio::test]
async fn plain_regular_user_cannot_create_edit_or_delete_other_users() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bob = app.regular_user("bob").await;
    app.regular_user("alice").await;
    let before = snapshot(&app, &admin).await;

    assert_code(
        &create_user(&app, &bob, json!({ "username": "carol", "password": "carol-password" })).await,
        "FORBIDDEN",
        "bob createUser",
    );
    assert_code(
        &edit_user(&app, &bob, json!({ "username": "alice", "email": "evil@example.org" })).await,
        "FORBIDDEN",
        "bob editUser(alice)",
    );
    assert_code(
        &edit_user(&app, &bob, json!({ "username": "alice", "password": "stolen-password" })).await,
        "FORBIDDEN",
        "bob changes alice's password",
    );
    assert_code(
        &edit_user(&app, &bob, json!({ "username": "admin", "fullName": "Pwned" })).await,
        "FORBIDDEN",
        "admin",
    );
    assert_code(&delete_user(&app, &bob, "alice").await, "FORBIDDEN", "bob deleteUser(alice)");
    assert_code(&delete_user(&app, &bob, "admin").await, "FORBIDDEN", "bob deleteUser(admin)");

    assert_eq!(snapshot(&app, &admin).await, before, "denied mutations changed nothing");
    assert!(can_log_in(&app, "alice", &password_of("alice")).await);
    assert!(!can_log_in(&app, "alice", "stolen-password").await);
}

#[tokio::test]
async fn plain_regular_user_edits_its_own_profile() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bob = app.regular_user("bob").await;
    let body = edit_user(&app, &bob, json!({ "username": "bob", "email": "bob@example.org", "fullName": "Bob" })).await;
    assert_ok(&body, "bob edits bob");
    assert_eq!(body["data"]["editUser"]["email"], "bob@example.org");
    let stored = read_back(&app, &admin, "bob").await;
    assert_eq!(stored["email"], "bob@example.org");
    assert_eq!(stored["fullName"], "Bob");
}

#[tokio::test]
async fn regular_user_may_delete_itself_through_its_own_edit_group() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bob = app.regular_user("bob").await;
    let body = delete_user(&app, &bob, "bob").await;
    assert_ok(&body, "bob deletes bob");
    assert!(read_back(&app, &admin, "bob").await.is_null());
    assert_code(&query_me(&app, &bob).await, "UNAUTHENTICATED", "token of a deleted user");
}

// ---------------------------------------------------------------- §3 table: read-user

#[tokio::test]
async fn read_user_member_reads_and_lists_every_user() {
    let app = TestApp::spawn().await;
    let reader = member_of(&app, "reader", &["read-user"]).await;
    app.regular_user("alice").await;

    assert_ok(&query_me(&app, &reader).await, "reader me");
    let alice = query_user(&app, &reader, "alice").await;
    assert_ok(&alice, "reader user(alice)");
    assert_eq!(alice["data"]["user"]["username"], "alice");
    let admin_user = query_user(&app, &reader, "admin").await;
    assert_ok(&admin_user, "reader user(admin)");
    assert_eq!(admin_user["data"]["user"]["role"], "ADMIN");
    let users = query_users(&app, &reader).await;
    assert_ok(&users, "reader users");
    assert_eq!(usernames(&users), ["admin", "alice", "reader"]);
    // Allowed to look, so a missing user is NOT_FOUND.
    assert_code(&query_user(&app, &reader, "nobody").await, "NOT_FOUND", "reader user(nobody)");
}

#[tokio::test]
async fn read_user_member_cannot_create_edit_or_delete_other_users() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let reader = member_of(&app, "reader", &["read-user"]).await;
    app.regular_user("alice").await;
    let before = snapshot(&app, &admin).await;

    assert_code(
        &create_user(&app, &reader, json!({ "username": "carol", "password": "carol-password" })).await,
        "FORBIDDEN",
        "reader createUser",
    );
    assert_code(&edit_user(&app, &reader, json!({ "username": "alice", "fullName": "A" })).await, "FORBIDDEN", "edit");
    assert_code(&delete_user(&app, &reader, "alice").await, "FORBIDDEN", "reader deleteUser(alice)");

    assert_eq!(snapshot(&app, &admin).await, before, "denied mutations changed nothing");
}

// ---------------------------------------------------------------- §3 table: edit-user

#[tokio::test]
async fn edit_user_member_edits_and_deletes_regular_users() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let editor = member_of(&app, "editor", &["edit-user"]).await;
    app.regular_user("alice").await;
    app.regular_user("carol").await;

    let body = edit_user(&app, &editor, json!({ "username": "alice", "fullName": "Alice A." })).await;
    assert_ok(&body, "editor editUser(alice)");
    assert_eq!(read_back(&app, &admin, "alice").await["fullName"], "Alice A.");

    let body = delete_user(&app, &editor, "carol").await;
    assert_ok(&body, "editor deleteUser(carol)");
    assert_eq!(body["data"]["deleteUser"]["username"], "carol");
    assert!(read_back(&app, &admin, "carol").await.is_null());
}

#[tokio::test]
async fn edit_user_member_cannot_read_list_or_create_users() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let editor = member_of(&app, "editor", &["edit-user"]).await;
    app.regular_user("alice").await;
    let before = snapshot(&app, &admin).await;

    assert_ok(&query_me(&app, &editor).await, "editor me");
    assert_code(&query_user(&app, &editor, "alice").await, "FORBIDDEN", "editor user(alice)");
    assert_code(&query_users(&app, &editor).await, "FORBIDDEN", "editor users");
    assert_code(
        &create_user(&app, &editor, json!({ "username": "carol", "password": "carol-password" })).await,
        "FORBIDDEN",
        "editor createUser",
    );

    assert_eq!(snapshot(&app, &admin).await, before, "denied mutations changed nothing");
}

#[tokio::test]
async fn edit_user_member_cannot_edit_or_delete_an_admin() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    // Two admins, so that deleting one would otherwise be allowed.
    app.create_user(&admin, json!({ "username": "root", "password": "root-password", "role": "ADMIN" })).await;
    let editor = member_of(&app, "editor", &["edit-user"]).await;
    let before = snapshot(&app, &admin).await;

    for target in ["admin", "root"] {
        assert_code(
            &edit_user(&app, &editor, json!({ "username": target, "fullName": "Pwned" })).await,
            "FORBIDDEN",
            "editor edits an admin",
        );
        assert_code(
            &edit_user(&app, &editor, json!({ "username": target, "password": "taken-over-password" })).await,
            "FORBIDDEN",
            "editor changes an admin's password",
        );
        assert_code(&delete_user(&app, &editor, target).await, "FORBIDDEN", "editor deletes an admin");
    }

    assert_eq!(snapshot(&app, &admin).await, before, "denied mutations changed nothing");
    assert!(can_log_in(&app, "root", "root-password").await);
}

// ---------------------------------------------------------------- §3 table: create-user

#[tokio::test]
async fn create_user_member_creates_users_with_default_values() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let creator = member_of(&app, "creator", &["create-user"]).await;

    let body = create_user(
        &app,
        &creator,
        json!({ "username": "carol", "password": "carol-password", "email": "c@example.org", "fullName": "Carol" }),
    )
    .await;
    assert_ok(&body, "creator createUser");
    let stored = read_back(&app, &admin, "carol").await;
    assert_eq!(stored["role"], "REGULAR");
    assert_eq!(stored["disabled"], false);
    assert_eq!(stored["email"], "c@example.org");
    assert_eq!(group_names(&stored), new_regular_user_groups("carol"));

    // Spelling the defaults out is not setting them to anything else.
    let body = create_user(
        &app,
        &creator,
        json!({ "username": "dave", "password": "dave-password", "role": "REGULAR", "disabled": false, "groups": [] }),
    )
    .await;
    assert_ok(&body, "creator createUser with explicit defaults");
    assert_eq!(group_names(&read_back(&app, &admin, "dave").await), new_regular_user_groups("dave"));
}

#[tokio::test]
async fn create_user_member_cannot_read_edit_or_delete_users_even_those_it_created() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let creator = member_of(&app, "creator", &["create-user"]).await;
    app.regular_user("alice").await;
    assert_ok(
        &create_user(&app, &creator, json!({ "username": "carol", "password": "carol-password" })).await,
        "creator createUser",
    );
    let before = snapshot(&app, &admin).await;

    assert_ok(&query_me(&app, &creator).await, "creator me");
    for target in ["alice", "carol"] {
        assert_code(&query_user(&app, &creator, target).await, "FORBIDDEN", "creator reads");
        assert_code(
            &edit_user(&app, &creator, json!({ "username": target, "fullName": "X" })).await,
            "FORBIDDEN",
            "edit",
        );
        assert_code(&delete_user(&app, &creator, target).await, "FORBIDDEN", "creator deletes");
    }
    assert_code(&query_users(&app, &creator).await, "FORBIDDEN", "creator users");

    assert_eq!(snapshot(&app, &admin).await, before, "denied mutations changed nothing");
}

#[tokio::test]
async fn creating_a_taken_username_is_already_exists() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regular_user("alice").await;
    let before = snapshot(&app, &admin).await;
    let body = create_user(&app, &admin, json!({ "username": "alice", "password": "another-password" })).await;
    assert_code(&body, "ALREADY_EXISTS", "createUser(alice) again");
    assert_eq!(snapshot(&app, &admin).await, before);
    assert!(can_log_in(&app, "alice", &password_of("alice")).await);
}

//! RULES §3 and the schema's `EditUserInput`: an omitted field is unchanged, an explicit
//! null clears it, `me` names the caller, and a user mutation answers what it wrote.

use serde_json::json;

use super::{can_log_in, carol_with_profile, read_back};
use crate::helpers::{TestApp, assert_ok, delete_user, edit_user, query_me, query_user};

#[tokio::test]
async fn edit_user_leaves_omitted_fields_unchanged() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    carol_with_profile(&app, &admin).await;
    let before = read_back(&app, &admin, "carol").await;

    let body = edit_user(&app, &admin, json!({ "username": "carol", "fullName": "Carol D." })).await;
    assert_ok(&body, "edit fullName only");
    let mut expected = before.clone();
    expected["fullName"] = json!("Carol D.");
    assert_eq!(body["data"]["editUser"], expected, "the returned user");
    assert_eq!(read_back(&app, &admin, "carol").await, expected, "the stored user");

    let body = edit_user(&app, &admin, json!({ "username": "carol", "email": "new@example.org" })).await;
    assert_ok(&body, "edit email only");
    expected["email"] = json!("new@example.org");
    assert_eq!(read_back(&app, &admin, "carol").await, expected);

    let body = edit_user(&app, &admin, json!({ "username": "carol" })).await;
    assert_ok(&body, "edit nothing");
    assert_eq!(read_back(&app, &admin, "carol").await, expected);
    assert!(can_log_in(&app, "carol", "carol-password").await, "password untouched");
}

#[tokio::test]
async fn edit_user_with_explicit_null_clears_email_and_full_name() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    carol_with_profile(&app, &admin).await;

    let body = edit_user(&app, &admin, json!({ "username": "carol", "email": null })).await;
    assert_ok(&body, "clear email");
    let stored = read_back(&app, &admin, "carol").await;
    assert!(stored["email"].is_null(), "{stored}");
    assert_eq!(stored["fullName"], "Carol C.", "fullName untouched");

    let body = edit_user(&app, &admin, json!({ "username": "carol", "fullName": null })).await;
    assert_ok(&body, "clear fullName");
    assert!(body["data"]["editUser"]["fullName"].is_null(), "{body}");
    let stored = read_back(&app, &admin, "carol").await;
    assert!(stored["fullName"].is_null(), "{stored}");
    assert!(stored["email"].is_null(), "{stored}");

    // Also through an inline literal null, by the user itself.
    let carol = app.login("carol", "carol-password").await;
    assert_ok(&edit_user(&app, &carol, json!({ "username": "me", "email": "c@example.org" })).await, "set email");
    let body = app
        .gql(Some(&carol), r#"mutation { editUser(input: {username: "carol", email: null}) { email } }"#, json!({}))
        .await;
    assert_ok(&body, "clear email with a literal null");
    assert!(read_back(&app, &admin, "carol").await["email"].is_null());
}

#[tokio::test]
async fn edit_user_with_username_me_edits_the_caller() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bob = app.regular_user("bob").await;

    let body = edit_user(&app, &bob, json!({ "username": "me", "fullName": "Bob B." })).await;
    assert_ok(&body, "bob edits me");
    assert_eq!(body["data"]["editUser"]["username"], "bob");
    assert_eq!(read_back(&app, &admin, "bob").await["fullName"], "Bob B.");

    let body = edit_user(&app, &admin, json!({ "username": "me", "fullName": "The Admin" })).await;
    assert_ok(&body, "admin edits me");
    assert_eq!(body["data"]["editUser"]["username"], "admin");
    assert_eq!(read_back(&app, &admin, "admin").await["fullName"], "The Admin");
    assert_eq!(read_back(&app, &admin, "bob").await["fullName"], "Bob B.", "bob untouched");
}

#[tokio::test]
async fn user_me_is_the_caller() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bob = app.regular_user("bob").await;

    let body = query_user(&app, &bob, "me").await;
    assert_ok(&body, "bob user(me)");
    assert_eq!(body["data"]["user"], query_me(&app, &bob).await["data"]["me"]);
    assert_eq!(body["data"]["user"]["username"], "bob");

    let body = query_user(&app, &admin, "me").await;
    assert_ok(&body, "admin user(me)");
    assert_eq!(body["data"]["user"]["username"], "admin");
}

#[tokio::test]
async fn delete_user_returns_the_user_as_it_was_including_groups() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    carol_with_profile(&app, &admin).await;
    app.add_groups("carol", &["read-user", "edit-model"]).await;
    let before = read_back(&app, &admin, "carol").await;
    assert_eq!(before["groups"].as_array().unwrap().len(), 8, "{before}");

    let body = delete_user(&app, &admin, "carol").await;
    assert_ok(&body, "delete carol");
    assert_eq!(body["data"]["deleteUser"], before);
    assert!(read_back(&app, &admin, "carol").await.is_null());
}

#[tokio::test]
async fn delete_user_me_deletes_the_caller() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bob = app.regular_user("bob").await;
    let body = delete_user(&app, &bob, "me").await;
    assert_ok(&body, "bob deletes me");
    assert_eq!(body["data"]["deleteUser"]["username"], "bob");
    assert!(read_back(&app, &admin, "bob").await.is_null());
    assert!(!read_back(&app, &admin, "admin").await.is_null());
}

#[tokio::test]
async fn a_mutation_answers_with_what_it_wrote_even_about_the_caller() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    // The caller's own groups and models were read to authenticate it; the answer must
    // still show them as written.
    let body = app
        .gql(
            Some(&admin),
            "mutation { createModel(id: \"m1\") { id } \
             editUser(input: {username: \"me\", groups: [\"read-model\"]}) { groups { name } models { id } } }",
            json!({}),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(body["data"]["editUser"], json!({"groups": [{"name": "read-model"}], "models": [{"id": "m1"}]}));
}

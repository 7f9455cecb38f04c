//! The typed example client (`examples/typed_client`) against a live server.

#[path = "api/helpers/mod.rs"]
#[allow(dead_code, unused_imports)] // this binary uses a few of the helpers
mod helpers;

#[path = "../examples/typed_client/client.rs"]
mod client;

const DATABASE: helpers::Database = helpers::Database::Sqlite;

use client::{Client, CreateModel, Me, UsersWithModels, create_model, me, users_with_models};
use helpers::{ADMIN_PASSWORD, TestApp, password_of};

#[tokio::test]
async fn the_typed_client_logs_in_reads_creates_and_lists() {
    let app = TestApp::spawn().await;
    app.regular_user("ann").await;
    let base = format!("http://{}", app.addr);

    let mut ann = Client::new(&base);
    let token = ann.login("ann", &password_of("ann")).await.unwrap();
    assert_eq!((token.token_type.as_str(), token.expires_in), ("bearer", 7200));
    let me = ann.run::<Me>(me::Variables).await.unwrap().me;
    assert_eq!((me.username.as_str(), me.role), ("ann", me::Role::REGULAR));
    assert!(me.groups.iter().any(|g| g.name == "read-user-ann"));
    let created = ann.run::<CreateModel>(create_model::Variables { id: "ann-model".to_owned() }).await.unwrap();
    assert_eq!(created.create_model.id, "ann-model");

    // A regular user may not list users: the error's code reaches the caller.
    let refused = ann.run::<UsersWithModels>(users_with_models::Variables).await.unwrap_err();
    assert!(refused.to_string().starts_with("FORBIDDEN"), "{refused}");

    let mut admin = Client::new(&base);
    admin.login("admin", ADMIN_PASSWORD).await.unwrap();
    let users = admin.run::<UsersWithModels>(users_with_models::Variables).await.unwrap().users;
    let listed: Vec<(&str, Vec<&str>)> =
        users.iter().map(|u| (u.username.as_str(), u.models.iter().map(|m| m.id.as_str()).collect())).collect();
    assert_eq!(listed, [("admin", vec!["ann-model"]), ("ann", vec!["ann-model"])]);
    assert_eq!(users[0].role, users_with_models::Role::ADMIN);

    // A paginated search, followed by its cursors: every match once, in order.
    let admin_token = app.admin().await;
    for name in ["anna", "hannah", "joanne", "bob"] {
        app.create_user(&admin_token, serde_json::json!({ "username": name, "password": "password-x" })).await;
    }
    assert_eq!(admin.search_all("ann", 2).await.unwrap(), ["ann", "anna", "hannah", "joanne"]);
    assert_eq!(admin.search_all("ann", 1000).await.unwrap().len(), 4);
}

#[tokio::test]
async fn a_wrong_password_is_an_unauthenticated_error() {
    let app = TestApp::spawn().await;
    let error = Client::new(&format!("http://{}", app.addr)).login("admin", "wrong-password").await.unwrap_err();
    assert!(error.to_string().starts_with("UNAUTHENTICATED"), "{error}");
}

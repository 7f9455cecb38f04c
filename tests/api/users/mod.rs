//! Users over HTTP: who may read, create, edit and delete whom (RULES §3), the
//! default groups (§4), patch semantics, orderings (§7) and failed mutations (§2).
//! The helpers here are the ones only these tests use.

use serde_json::{Value, json};

use crate::helpers::{TestApp, USER_FIELDS, query_user, try_login};

mod access_table;
mod concurrency;
mod default_groups;
mod edit_semantics;
mod failed_mutations;
mod last_admin;
mod listing_plan;
mod orderings;
mod own_password;
mod privileges;

/// The user as the admin reads it (`null` when it does not exist).
async fn read_back(app: &TestApp, admin: &str, username: &str) -> Value {
    query_user(app, admin, username).await["data"]["user"].clone()
}

/// Every user and every group with its permissions, as the admin sees them.
async fn snapshot(app: &TestApp, admin: &str) -> Value {
    let body = app
        .gql(
            Some(admin),
            &format!(
                "{{ users {{ {USER_FIELDS} }} groups {{ name permissions {{ resourceType resourceId method }} }} }}"
            ),
            json!({}),
        )
        .await;
    assert!(body["errors"].is_null(), "snapshot failed: {body}");
    body["data"].clone()
}

/// The group names of a user object.
fn group_names(user: &Value) -> Vec<String> {
    user["groups"]
        .as_array()
        .unwrap_or_else(|| panic!("no groups in {user}"))
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Whether `login(username, password)` succeeds.
async fn can_log_in(app: &TestApp, username: &str, password: &str) -> bool {
    try_login(app, username, password).await["data"]["login"]["accessToken"].is_string()
}

/// A REGULAR user in `groups` on top of its defaults, and its token.
async fn member_of(app: &TestApp, username: &str, groups: &[&str]) -> String {
    let token = app.regular_user(username).await;
    app.add_groups(username, groups).await;
    token
}

/// Creates `carol` (as `admin`) with an email and a full name.
async fn carol_with_profile(app: &TestApp, admin: &str) {
    app.create_user(
        admin,
        json!({
            "username": "carol",
            "password": "carol-password",
            "email": "carol@example.org",
            "fullName": "Carol C.",
        }),
    )
    .await;
}

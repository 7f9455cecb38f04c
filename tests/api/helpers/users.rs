//! Users over GraphQL: the queries and mutations, whole responses back, and who exists.

use serde_json::{Value, json};

use super::{TestApp, assert_ok};

/// What the user wrappers below ask of a `User`.
pub const USER_FIELDS: &str = "username email fullName disabled role groups { name }";

/// `me` as `token`.
pub async fn query_me(app: &TestApp, token: &str) -> Value {
    app.gql(Some(token), &format!("{{ me {{ {USER_FIELDS} }} }}"), json!({})).await
}

/// `user(username)` as `token`.
pub async fn query_user(app: &TestApp, token: &str, username: &str) -> Value {
    app.gql(
        Some(token),
        &format!("query($u: String!) {{ user(username: $u) {{ {USER_FIELDS} }} }}"),
        json!({ "u": username }),
    )
    .await
}

/// `users` as `token`.
pub async fn query_users(app: &TestApp, token: &str) -> Value {
    app.gql(Some(token), &format!("{{ users {{ {USER_FIELDS} }} }}"), json!({})).await
}

/// `createUser(input)` as `token`, whatever it answers ([`TestApp::create_user`] must succeed).
pub async fn create_user(app: &TestApp, token: &str, input: Value) -> Value {
    app.gql(
        Some(token),
        &format!("mutation($i: CreateUserInput!) {{ createUser(input: $i) {{ {USER_FIELDS} }} }}"),
        json!({ "i": input }),
    )
    .await
}

/// `editUser(input)` as `token`.
pub async fn edit_user(app: &TestApp, token: &str, input: Value) -> Value {
    app.gql(
        Some(token),
        &format!("mutation($i: EditUserInput!) {{ editUser(input: $i) {{ {USER_FIELDS} }} }}"),
        json!({ "i": input }),
    )
    .await
}

/// `deleteUser(username)` as `token`.
pub async fn delete_user(app: &TestApp, token: &str, username: &str) -> Value {
    app.gql(
        Some(token),
        &format!("mutation($u: String!) {{ deleteUser(username: $u) {{ {USER_FIELDS} }} }}"),
        json!({ "u": username }),
    )
    .await
}

/// The usernames of a `users` response, in its order.
pub fn usernames(body: &Value) -> Vec<String> {
    body["data"]["users"]
        .as_array()
        .unwrap_or_else(|| panic!("no users in {body}"))
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_owned())
        .collect()
}

/// Every username, as `token` lists them; panics unless `users` succeeds.
pub async fn all_usernames(app: &TestApp, token: &str) -> Vec<String> {
    let body = query_users(app, token).await;
    assert_ok(&body, "users");
    usernames(&body)
}

/// Whether a user of that name exists, as the admin lists users.
pub async fn user_exists(app: &TestApp, admin: &str, username: &str) -> bool {
    all_usernames(app, admin).await.iter().any(|u| u == username)
}

/// `login(username, password)` without a token, whatever it answers ([`TestApp::login`]
/// must succeed).
pub async fn try_login(app: &TestApp, username: &str, password: &str) -> Value {
    app.gql(None, LOGIN, json!({ "u": username, "p": password })).await
}

/// The `login` mutation, its variables `u` and `p`.
pub const LOGIN: &str =
    "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken tokenType expiresIn } }";

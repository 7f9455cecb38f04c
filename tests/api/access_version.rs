//! What a user may do is cached per process while the database's access version
//! holds (RULES §8: as current as the database). Every write that changes it —
//! memberships, a group's permissions, groups and models going, role, `disabled`,
//! password, the user going — is seen at once by a second process whose cache was
//! warm.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_ok, code, must_create_group, names};

const ME: &str = "{ me { role groups { name permissions { resourceType resourceId method } } models { id } } }";

/// `u`'s `me` as `process` answers it.
async fn me(process: &TestApp, token: &str) -> Value {
    process.gql(Some(token), ME, json!({})).await
}

fn group_names(body: &Value) -> Vec<String> {
    names(&body["data"]["me"]["groups"])
}

async fn ok(app: &TestApp, token: &str, query: &str, variables: Value) {
    assert_ok(&app.gql(Some(token), query, variables).await, query);
}

#[tokio::test]
async fn every_write_that_changes_what_a_user_may_do_is_seen_at_once_by_another_process() {
    let a = TestApp::spawn().await;
    let b = a.another_process().await;
    let admin = a.admin().await;
    let token = a.regular_user("u").await;
    must_create_group(&a, &admin, json!({ "name": "extra", "permissions": [] })).await;

    // A membership.
    assert!(!group_names(&me(&b, &token).await).contains(&"extra".to_owned()));
    a.add_groups("u", &["extra"]).await;
    assert!(group_names(&me(&b, &token).await).contains(&"extra".to_owned()), "membership");

    // A group's permissions.
    ok(
        &a,
        &admin,
        "mutation { editGroup(input: {name: \"extra\", permissions: [{resourceType: USER, method: GET}]}) { name } }",
        json!({}),
    )
    .await;
    let body = me(&b, &token).await;
    let extra = body["data"]["me"]["groups"].as_array().unwrap().iter().find(|g| g["name"] == "extra").unwrap();
    assert_eq!(extra["permissions"], json!([{ "resourceType": "USER", "resourceId": null, "method": "GET" }]));
    assert_eq!(code(&b.gql(Some(&token), "{ users { username } }", json!({})).await), None, "the new permission acts");

    // A group going.
    ok(&a, &admin, "mutation { deleteGroup(name: \"extra\") { name } }", json!({})).await;
    assert!(!group_names(&me(&b, &token).await).contains(&"extra".to_owned()), "group deletion");
    assert_eq!(code(&b.gql(Some(&token), "{ users { username } }", json!({})).await), Some("FORBIDDEN"));

    // A model and its groups, created by the user through one process, then deleted.
    ok(&a, &token, "mutation { createModel(id: \"m1\") { id } }", json!({})).await;
    let body = me(&b, &token).await;
    assert!(group_names(&body).contains(&"read-model-m1".to_owned()), "model creation: {body}");
    assert_eq!(body["data"]["me"]["models"], json!([{ "id": "m1" }]));
    ok(&a, &admin, "mutation { deleteModel(id: \"m1\") { id } }", json!({})).await;
    let body = me(&b, &token).await;
    assert!(!group_names(&body).contains(&"read-model-m1".to_owned()), "model deletion: {body}");
    assert_eq!(body["data"]["me"]["models"], json!([]));

    // Role.
    ok(&a, &admin, "mutation { editUser(input: {username: \"u\", role: ADMIN}) { username } }", json!({})).await;
    assert_eq!(me(&b, &token).await["data"]["me"]["role"], "ADMIN", "promotion");
    ok(&a, &admin, "mutation { editUser(input: {username: \"u\", role: REGULAR}) { username } }", json!({})).await;
    assert_eq!(me(&b, &token).await["data"]["me"]["role"], "REGULAR", "demotion");

    // Disabled.
    ok(&a, &admin, "mutation { editUser(input: {username: \"u\", disabled: true}) { username } }", json!({})).await;
    assert_eq!(code(&me(&b, &token).await), Some("FORBIDDEN"), "disabling");
    ok(&a, &admin, "mutation { editUser(input: {username: \"u\", disabled: false}) { username } }", json!({})).await;
    assert_eq!(code(&me(&b, &token).await), None, "enabling");

    // Password.
    ok(
        &a,
        &admin,
        "mutation { editUser(input: {username: \"u\", password: \"another-password\"}) { username } }",
        json!({}),
    )
    .await;
    assert_eq!(code(&me(&b, &token).await), Some("UNAUTHENTICATED"), "a password change ends older tokens");

    // The user going.
    let token = a.login("u", "another-password").await;
    assert_eq!(code(&me(&b, &token).await), None);
    ok(&a, &admin, "mutation { deleteUser(username: \"u\") { username } }", json!({})).await;
    assert_eq!(code(&me(&b, &token).await), Some("UNAUTHENTICATED"), "deletion");
}

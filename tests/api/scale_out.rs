//! Several server processes sharing one database, as behind a load balancer.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{GROUPS_WITHOUT_ID, TestApp, code, password_of};

/// Sends `query` ten times at once, alternating between the two processes.
async fn ten_at_once(apps: [&TestApp; 2], token: &str, query: &str, variables: Value) -> Vec<Value> {
    join_all((0..10).map(|i| apps[i % 2].gql(Some(token), query, variables.clone()))).await
}

fn assert_one_winner(results: &[Value]) {
    let successes = results.iter().filter(|body| body["errors"].is_null()).count();
    let taken = results.iter().filter(|body| code(body) == Some("ALREADY_EXISTS")).count();
    assert_eq!((successes, taken), (1, 9), "{results:#?}");
}

#[tokio::test]
async fn ten_simultaneous_creations_of_one_name_over_two_processes_give_one_winner() {
    let first = TestApp::spawn().await;
    let second = first.another_process().await;
    let admin = first.admin().await;
    let apps = [&first, &second];

    let user = json!({"i": {"username": "race", "password": "race-password"}});
    let created =
        ten_at_once(apps, &admin, "mutation($i: CreateUserInput!) { createUser(input: $i) { username } }", user).await;
    assert_one_winner(&created);

    let created = ten_at_once(apps, &admin, "mutation { createModel(id: \"race\") { id } }", json!({})).await;
    assert_one_winner(&created);

    let group = json!({"i": {"name": "race", "permissions": [{"resourceType": "MODEL"}]}});
    let created =
        ten_at_once(apps, &admin, "mutation($i: GroupInput!) { createGroup(input: $i) { name } }", group).await;
    assert_one_winner(&created);

    // Exactly one of each, with exactly one set of derived groups.
    let body = second.gql(Some(&admin), "{ users { username } models { id } groups { name } }", json!({})).await;
    let names = |list: &str, key: &str| -> Vec<String> {
        body["data"][list].as_array().unwrap().iter().map(|v| v[key].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(names("users", "username"), ["admin", "race"]);
    assert_eq!(names("models", "id"), ["race"]);
    let groups = names("groups", "name");
    for expected in ["race", "read-model-race", "edit-model-race", "read-user-race", "edit-user-race"] {
        assert_eq!(groups.iter().filter(|g| *g == expected).count(), 1, "{expected} in {groups:?}");
    }
    assert_eq!(groups.len(), GROUPS_WITHOUT_ID.len() + 5, "{groups:?}");
}

#[tokio::test]
async fn processes_sharing_a_secret_accept_each_others_tokens_and_password_changes() {
    let first = TestApp::spawn().await;
    let second = first.another_process().await;
    let token = first.regular_user("bob").await;
    let me = "{ me { username } }";
    assert_eq!(second.gql(Some(&token), me, json!({})).await["data"]["me"]["username"], "bob");

    let change = "mutation($p: String!, $c: String!) { editUser(input: {username: \"me\", password: $p, currentPassword: $c}) { username } }";
    let body = first.gql(Some(&token), change, json!({"p": "bob-new-password", "c": password_of("bob")})).await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(code(&second.gql(Some(&token), me, json!({})).await), Some("UNAUTHENTICATED"));
    let fresh = second.login("bob", "bob-new-password").await;
    assert_eq!(first.gql(Some(&fresh), me, json!({})).await["data"]["me"]["username"], "bob");
}

#[tokio::test]
async fn two_processes_starting_at_once_on_an_empty_database_both_serve_with_one_admin() {
    let (first, second) = TestApp::spawn_two_processes_at_once().await;
    let admin = second.admin().await;
    let body = first.gql(Some(&admin), "{ users { username role } groups { name } }", json!({})).await;
    assert_eq!(body["data"]["users"], json!([{"username": "admin", "role": "ADMIN"}]));
    assert_eq!(body["data"]["groups"].as_array().unwrap().len(), GROUPS_WITHOUT_ID.len());
}

#[tokio::test]
async fn a_group_change_through_one_process_acts_at_once_on_another() {
    let first = TestApp::spawn().await;
    let second = first.another_process().await;
    let admin = first.admin().await;
    let bob = first.regular_user("bob").await;
    // The second process has read (and may keep) bob's groups.
    assert_eq!(second.gql(Some(&bob), "{ me { username } }", json!({})).await["data"]["me"]["username"], "bob");
    let edit = "mutation { editUser(input: {username: \"bob\", groups: [\"create-model\"]}) { username } }";
    assert!(first.gql(Some(&admin), edit, json!({})).await["errors"].is_null());
    // Without read-user-bob, bob may no longer read itself, on either process.
    assert_eq!(code(&second.gql(Some(&bob), "{ me { username } }", json!({})).await), Some("FORBIDDEN"));
    let body = second.gql(Some(&bob), "mutation { createModel(id: \"m\") { id } }", json!({})).await;
    assert!(body["errors"].is_null(), "create-model still holds: {body}");
}

//! RULES §3 under concurrency: simultaneous `createUser` of one name give one user.

use serde_json::{Value, json};

use super::{group_names, read_back};
use crate::helpers::{
    TestApp, USER_FIELDS, all_group_names, code, groups_without_id_and_own_groups_of, new_regular_user_groups,
    query_users, usernames,
};

#[tokio::test]
async fn ten_simultaneous_create_user_with_one_username_give_one_user_and_nine_already_exists() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let url = app.url("/graphql");
    let query = format!("mutation($i: CreateUserInput!) {{ createUser(input: $i) {{ {USER_FIELDS} }} }}");

    let requests = (0..10).map(|i| {
        let client = app.client.clone();
        let url = url.clone();
        let admin = admin.clone();
        let body = json!({
            "query": query,
            "variables": { "i": { "username": "dup", "password": format!("dup-password-{i}") } },
        });
        tokio::spawn(async move {
            let response = client.post(url).bearer_auth(admin).json(&body).send().await.expect("request sent");
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.expect("JSON body")
        })
    });
    let bodies: Vec<Value> =
        futures_util::future::join_all(requests).await.into_iter().map(|r| r.expect("task")).collect();

    let successes: Vec<&Value> = bodies.iter().filter(|b| b["errors"].is_null()).collect();
    let already: Vec<&Value> = bodies.iter().filter(|b| code(b) == Some("ALREADY_EXISTS")).collect();
    assert_eq!(successes.len(), 1, "exactly one success: {bodies:#?}");
    assert_eq!(already.len(), 9, "nine ALREADY_EXISTS: {bodies:#?}");
    assert_eq!(successes[0]["data"]["createUser"]["username"], "dup");

    let users = usernames(&query_users(&app, &admin).await);
    assert_eq!(users, ["admin", "dup"]);
    assert_eq!(group_names(&read_back(&app, &admin, "dup").await), new_regular_user_groups("dup"));
    let groups = groups_without_id_and_own_groups_of(&["dup"]);
    assert_eq!(all_group_names(&app, &admin).await, groups, "the losers left no groups behind");
}

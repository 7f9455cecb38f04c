//! RULES §10: `Model.access`, the access review: every user who passes GET, PUT or
//! DELETE on a model by §3, with those methods and the groups that grant them; pages
//! by cursor; null with FORBIDDEN without (MODEL, id, PUT) and (USER, null, GET).

use serde_json::{Value, json};

use crate::helpers::{TestApp, code, must_create_group};

const ADD: &str = "mutation($u: String!, $g: [String!]!) { addUserToGroups(username: $u, groups: $g) { username } }";
const ACCESS: &str = "query($m: String!, $first: Int, $after: String) { model(id: $m) { id access(first: $first, \
                      after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { username \
                      role methods groups } } } } }";

async fn join(app: &TestApp, admin: &str, username: &str, groups: &[&str]) {
    let body = app.gql(Some(admin), ADD, json!({ "u": username, "g": groups })).await;
    assert_eq!(code(&body), None, "{body}");
}

async fn create_model(app: &TestApp, admin: &str, id: &str) {
    let body =
        app.gql(Some(admin), "mutation($id: String!) { createModel(id: $id) { id } }", json!({ "id": id })).await;
    assert_eq!(code(&body), None, "{body}");
}

/// The nodes of `model(id).access` as (username, methods, groups), all pages of `first`.
async fn review(app: &TestApp, token: &str, model: &str, first: i64) -> (Vec<(String, Vec<String>, Vec<String>)>, i64) {
    let mut all = Vec::new();
    let mut after = Value::Null;
    loop {
        let body = app.gql(Some(token), ACCESS, json!({ "m": model, "first": first, "after": after })).await;
        assert_eq!(code(&body), None, "{body}");
        let access = &body["data"]["model"]["access"];
        for edge in access["edges"].as_array().unwrap() {
            let node = &edge["node"];
            let strings = |v: &Value| v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect();
            all.push((
                node["username"].as_str().unwrap().to_owned(),
                strings(&node["methods"]),
                strings(&node["groups"]),
            ));
        }
        if access["pageInfo"]["hasNextPage"] != json!(true) {
            return (all, access["totalCount"].as_i64().unwrap());
        }
        after = access["pageInfo"]["endCursor"].clone();
    }
}

fn row(username: &str, methods: &[&str], groups: &[&str]) -> (String, Vec<String>, Vec<String>) {
    (
        username.to_owned(),
        methods.iter().map(|m| m.to_string()).collect(),
        groups.iter().map(|g| g.to_string()).collect(),
    )
}

#[tokio::test]
async fn access_lists_everyone_who_reaches_the_model_with_methods_and_groups() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    create_model(&app, &admin, "m").await;
    create_model(&app, &admin, "other").await;
    for user in ["ann", "bob", "cat", "dan", "eve", "fay"] {
        app.regular_user(user).await;
    }
    join(&app, &admin, "ann", &["read-model-m"]).await;
    join(&app, &admin, "bob", &["read-model"]).await;
    join(&app, &admin, "cat", &["edit-model-m", "read-model-other"]).await;
    join(&app, &admin, "dan", &["read-model-m"]).await;
    let body = app
        .gql(Some(&admin), "mutation { editUser(input: {username: \"dan\", disabled: true}) { username } }", json!({}))
        .await;
    assert_eq!(code(&body), None, "{body}");
    must_create_group(
        &app,
        &admin,
        json!({ "name": "anything-m", "permissions": [{ "resourceType": "MODEL", "resourceId": "m", "method": "ANY" }] }),
    )
    .await;
    join(&app, &admin, "fay", &["anything-m", "read-model"]).await;
    // eve has only MLTE's defaults: create-model (POST) is no right on an existing model.
    let expected = vec![
        row("admin", &["GET", "PUT", "DELETE"], &[]),
        row("ann", &["GET"], &["read-model-m"]),
        row("bob", &["GET"], &["read-model"]),
        row("cat", &["PUT", "DELETE"], &["edit-model-m"]),
        row("dan", &["GET"], &["read-model-m"]),
        row("fay", &["GET", "PUT", "DELETE"], &["anything-m", "read-model"]),
    ];
    for first in [1, 2, 50] {
        let (listed, total) = review(&app, &admin, "m", first).await;
        assert_eq!(listed, expected, "pages of {first}");
        assert_eq!(total, 6);
    }
    let (other, total) = review(&app, &admin, "other", 50).await;
    let names: Vec<&str> = other.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(names, ["admin", "bob", "cat", "fay"]);
    assert_eq!(total, 4);
}

#[tokio::test]
async fn one_cursor_pages_every_model_and_changes_between_pages_neither_repeat_nor_skip() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for model in ["m1", "m2"] {
        create_model(&app, &admin, model).await;
    }
    for user in ["u1", "u2", "u3", "u4"] {
        app.regular_user(user).await;
        join(&app, &admin, user, &["read-model"]).await;
    }
    let query = "query($after: String) { models { id access(first: 2, after: $after) { pageInfo { endCursor } \
                 nodes { username } } } }";
    let body = app.gql(Some(&admin), query, json!({ "after": null })).await;
    assert_eq!(code(&body), None, "{body}");
    let first_page = |body: &Value, i: usize| -> Vec<String> {
        body["data"]["models"][i]["access"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["username"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(first_page(&body, 0), ["admin", "u1"]);
    assert_eq!(first_page(&body, 1), ["admin", "u1"]);
    let cursor = body["data"]["models"][0]["access"]["pageInfo"]["endCursor"].clone();
    // u2 leaves, u0 (before the cursor) and u5 join, between the pages.
    let body = app.gql(Some(&admin), "mutation { deleteUser(username: \"u2\") { username } }", json!({})).await;
    assert_eq!(code(&body), None, "{body}");
    for user in ["u0", "u5"] {
        app.regular_user(user).await;
        join(&app, &admin, user, &["read-model"]).await;
    }
    let body = app.gql(Some(&admin), query, json!({ "after": cursor })).await;
    assert_eq!(code(&body), None, "{body}");
    assert_eq!(first_page(&body, 0), ["u3", "u4"], "the same cursor under each model");
    assert_eq!(first_page(&body, 1), ["u3", "u4"]);
    // A cursor of another field is refused.
    let search = app.gql(Some(&admin), "{ searchUsers(first: 1) { pageInfo { endCursor } } }", json!({})).await;
    let foreign = search["data"]["searchUsers"]["pageInfo"]["endCursor"].clone();
    let body = app.gql(Some(&admin), ACCESS, json!({ "m": "m1", "first": 2, "after": foreign })).await;
    assert_eq!(code(&body), Some("BAD_USER_INPUT"), "{body}");
    let body = app.gql(Some(&admin), ACCESS, json!({ "m": "m1", "first": 0 })).await;
    assert_eq!(code(&body), Some("BAD_USER_INPUT"), "{body}");
}

#[tokio::test]
async fn without_put_on_the_model_and_get_on_users_access_is_null_with_forbidden() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    create_model(&app, &admin, "m").await;
    let editor = app.regular_user("editor").await;
    join(&app, &admin, "editor", &["edit-model-m", "read-model-m"]).await;
    let query = "{ model(id: \"m\") { id access { totalCount } } }";
    let body = app.gql(Some(&editor), query, json!({})).await;
    assert_eq!(code(&body), Some("FORBIDDEN"), "{body}");
    assert_eq!(body["data"]["model"], json!({ "id": "m", "access": null }), "the rest stands: {body}");
    assert_eq!(body["errors"][0]["path"], json!(["model", "access"]));
    join(&app, &admin, "editor", &["read-user"]).await;
    let body = app.gql(Some(&editor), query, json!({})).await;
    assert_eq!(code(&body), None, "{body}");
    assert_eq!(body["data"]["model"]["access"]["totalCount"], json!(2), "admin and editor: {body}");
}

/// A small deterministic generator, so that a failure can be run again.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[tokio::test]
async fn access_agrees_with_allowed_asked_as_each_user_for_random_groups() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let models = ["m0", "m1", "m2"];
    for model in models {
        create_model(&app, &admin, model).await;
    }
    let users: Vec<String> = (0..6).map(|i| format!("p{i}")).collect();
    let mut tokens = Vec::new();
    for user in &users {
        tokens.push(app.regular_user(user).await);
    }
    let methods = ["GET", "PUT", "DELETE", "POST", "ANY"];
    for seed in [7_u64, 11] {
        let mut random = Lcg(seed);
        for g in 0..5 {
            let permissions: Vec<Value> = (0..=random.below(3))
                .map(|_| {
                    let id = match random.below(4) {
                        0 => Value::Null,
                        n => json!(models[(n - 1) as usize]),
                    };
                    json!({ "resourceType": "MODEL", "resourceId": id, "method": methods[random.below(5) as usize] })
                })
                .collect();
            must_create_group(&app, &admin, json!({ "name": format!("s{seed}-g{g}"), "permissions": permissions }))
                .await;
        }
        for user in &users {
            let groups: Vec<String> =
                (0..5).filter(|_| random.below(3) == 0).map(|g| format!("s{seed}-g{g}")).collect();
            let refs: Vec<&str> = groups.iter().map(String::as_str).collect();
            if !refs.is_empty() {
                join(&app, &admin, user, &refs).await;
            }
        }
        for model in models {
            let (listed, total) = review(&app, &admin, model, 3).await;
            assert_eq!(total as usize, listed.len());
            for (user, token) in users.iter().zip(&tokens) {
                let checks: Vec<Value> = ["GET", "PUT", "DELETE"]
                    .iter()
                    .map(|m| json!({ "resourceType": "MODEL", "resourceId": model, "method": m }))
                    .collect();
                let body = app
                    .gql(Some(token), "query($c: [PermissionInput!]!) { allowed(checks: $c) }", json!({ "c": checks }))
                    .await;
                let allowed: Vec<bool> = serde_json::from_value(body["data"]["allowed"].clone()).unwrap();
                let expected: Vec<String> = ["GET", "PUT", "DELETE"]
                    .iter()
                    .zip(&allowed)
                    .filter(|(_, ok)| **ok)
                    .map(|(m, _)| m.to_string())
                    .collect();
                let reviewed = listed.iter().find(|r| &r.0 == user).map(|r| r.1.clone()).unwrap_or_default();
                assert_eq!(reviewed, expected, "seed {seed}, {user} on {model}");
            }
        }
    }
}

#[tokio::test]
async fn a_page_and_its_total_come_from_one_snapshot_while_memberships_change() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    create_model(&app, &admin, "m").await;
    let users: Vec<String> = (0..8).map(|i| format!("r{i}")).collect();
    for user in &users {
        app.regular_user(user).await;
    }
    const REMOVE: &str =
        "mutation($u: String!, $g: [String!]!) { removeUserFromGroups(username: $u, groups: $g) { username } }";
    // Memberships come and go while pages are read, all at once.
    let mut writes = Vec::new();
    for round in 0..3 {
        for user in &users {
            let mutation = if round % 2 == 0 { ADD } else { REMOVE };
            writes.push(app.spawn_gql(Some(&admin), mutation, json!({ "u": user, "g": ["read-model-m"] }), 0));
        }
    }
    let query = "{ model(id: \"m\") { access(first: 1000) { totalCount nodes { username } } } }";
    let reads: Vec<_> = (0..24).map(|_| app.spawn_gql(Some(&admin), query, json!({}), 0)).collect();
    for read in reads {
        let body = read.await.unwrap();
        assert_eq!(code(&body), None, "{body}");
        let access = &body["data"]["model"]["access"];
        let listed = access["nodes"].as_array().unwrap().len() as i64;
        assert_eq!(access["totalCount"].as_i64(), Some(listed), "the page and its total disagree: {body}");
        assert_eq!(access["nodes"][0]["username"], "admin", "{body}");
    }
    for write in writes {
        assert_eq!(code(&write.await.unwrap()), None);
    }
    // Once the writes are done, the review agrees with each user's own groups,
    // whichever order the additions and removals ran in.
    let (listed, total) = review(&app, &admin, "m", 3).await;
    assert_eq!(total as usize, listed.len());
    for user in &users {
        let body = app
            .gql(Some(&admin), "query($u: String!) { user(username: $u) { groups { name } } }", json!({ "u": user }))
            .await;
        let member = crate::helpers::names(&body["data"]["user"]["groups"]).contains(&"read-model-m".to_owned());
        assert_eq!(listed.iter().any(|r| &r.0 == user), member, "{user}: {listed:?}");
    }
}

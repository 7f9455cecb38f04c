//! Listings of every user with plain fields are answered from a plan, without the
//! executor (issue 17, `graphql::users_listing`): each answer must be the
//! executor's, byte for byte, for every caller, and follow the data as it changes.

use serde_json::{Value, json};

use crate::helpers::{TestApp, code};

#[tokio::test]
async fn a_planned_listing_answers_what_the_executor_answers() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let ann = app.regular_user("ann").await;
    let bob = app.regular_user("bob").await;
    app.create_user(
        &admin,
        json!({ "username": "zoe", "password": "password-zoe", "email": "zoe@example.org",
                "fullName": "Zoë \"Z\" \\ 😀 </script>", "role": "ADMIN" }),
    )
    .await;
    for model in ["m1", "m2", "m3"] {
        let body =
            app.gql(Some(&ann), &format!("mutation {{ createModel(id: \"{model}\") {{ id }} }}"), json!({})).await;
        assert_eq!(code(&body), None, "{body}");
    }
    let body = app
        .gql(
            Some(&admin),
            "mutation { createGroup(input: {name: \"readers\", permissions: [{resourceType: MODEL, method: GET}, \
             {resourceType: USER, resourceId: \"ann\", method: ANY}]}) { name } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&body), None, "{body}");
    app.add_groups("bob", &["readers"]).await;
    let body = app
        .gql(Some(&admin), "mutation { editUser(input: {username: \"bob\", disabled: true}) { username } }", json!({}))
        .await;
    assert_eq!(code(&body), None, "{body}");

    // A user who reads no model.
    app.create_user(&admin, json!({ "username": "dan", "password": "password-dan" })).await;

    let full = "{ users { username email fullName role disabled groups { name permissions { resourceType resourceId method } } models { id } } }";
    let aliased = "query L { all: users { __typename u: username r: role g: groups { __typename n: name \
                   p: permissions { __typename m: method t: resourceType i: resourceId } } m: models { __typename i: id } } }";
    let requests = [
        json!({ "query": "{ users { username models { id } } }" }),
        json!({ "query": full }),
        json!({ "query": aliased }),
        json!({ "query": aliased, "operationName": "L" }),
        json!({ "query": aliased, "operationName": "Other" }),
        json!({ "query": "{ users { groups { name } } }" }),
        json!({ "query": "{ users { email fullName disabled } }", "variables": { "unused": 1 } }),
    ];
    let mut answered = Vec::new();
    for request in &requests {
        for caller in [Some(admin.as_str()), Some(ann.as_str()), Some(bob.as_str()), Some("not-a-token"), None] {
            let first = app.post_for_bytes(caller, request).await;
            for _ in 0..2 {
                assert_eq!(app.post_for_bytes(caller, request).await, first, "{request} as {caller:?}");
            }
            answered.push(first.1);
        }
    }
    // The comparison compared something: the admin's full listing has every user with
    // their groups and models, and the others are refused.
    let admin_full: Value = serde_json::from_str(&answered[5]).expect("JSON");
    let users = admin_full["data"]["users"].as_array().expect("a list");
    assert_eq!(
        users.iter().map(|u| u["username"].clone()).collect::<Vec<_>>(),
        json!(["admin", "ann", "bob", "dan", "zoe"]).as_array().unwrap().clone()
    );
    assert_eq!(users[2]["models"], json!([{ "id": "m1" }, { "id": "m2" }, { "id": "m3" }]), "{admin_full}");
    assert_eq!(users[3]["models"], json!([]), "{admin_full}");
    assert_eq!(users[4]["fullName"], json!("Zoë \"Z\" \\ 😀 </script>"));
    let ann_full: Value = serde_json::from_str(&answered[6]).expect("JSON");
    assert_eq!(code(&ann_full), Some("FORBIDDEN"), "{ann_full}");

    // The plan reads the data of each request: a new user shows in the next answer.
    app.create_user(&admin, json!({ "username": "carl", "password": "password-carl" })).await;
    let (status, body) = app.post_for_bytes(Some(&admin), &requests[0]).await;
    assert_eq!(status, 200);
    let body: Value = serde_json::from_str(&body).expect("JSON");
    let names: Vec<&str> =
        body["data"]["users"].as_array().unwrap().iter().filter_map(|u| u["username"].as_str()).collect();
    assert_eq!(names, ["admin", "ann", "bob", "carl", "dan", "zoe"], "{body}");
}

/// Past 1,000 users the listing reads every user's model grants at once (one row per
/// model-reading permission with its group's members): each user's models must be
/// those its groups and role give, through the executor and through the plan alike.
#[tokio::test]
async fn a_listing_of_more_than_a_thousand_users_gives_each_its_own_models() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for m in 0..10 {
        let body =
            app.gql(Some(&admin), &format!("mutation {{ createModel(id: \"m{m}\") {{ id }} }}"), json!({})).await;
        assert_eq!(code(&body), None, "{body}");
    }
    for k in 0..5 {
        let query = format!(
            "mutation {{ createGroup(input: {{name: \"g{k}\", permissions: [{{resourceType: MODEL, resourceId: \"m{k}\", method: GET}}, \
             {{resourceType: MODEL, resourceId: \"m{}\", method: ANY}}, {{resourceType: MODEL, resourceId: \"m{}\", method: PUT}}, \
             {{resourceType: MODEL, resourceId: \"not-a-model\", method: GET}}]}}) {{ name }} }}",
            k + 5,
            (k + 1) % 5
        );
        let body = app.gql(Some(&admin), &query, json!({})).await;
        assert_eq!(code(&body), None, "{body}");
    }
    let body = app
        .gql(Some(&admin), "mutation { createGroup(input: {name: \"all-readers\", permissions: [{resourceType: MODEL, method: GET}]}) { name } }", json!({}))
        .await;
    assert_eq!(code(&body), None, "{body}");
    let users = 1200;
    let series = format!("WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {})", users - 1);
    app.execute_sql(&format!(
        "{series} INSERT INTO users (username, password_hash, email, full_name, disabled, role, token_version) \
         SELECT 'u' || (10000 + i), 'x', NULL, NULL, 0, CASE WHEN i = 3 THEN 'ADMIN' ELSE 'REGULAR' END, 'v' FROM n"
    ))
    .await;
    app.execute_sql(&format!(
        "{series} INSERT INTO user_groups (username, group_name) SELECT 'u' || (10000 + i), 'g' || (i % 5) FROM n WHERE i % 11 <> 0"
    ))
    .await;
    app.execute_sql(&format!(
        "{series} INSERT INTO user_groups (username, group_name) SELECT 'u' || (10000 + i), 'all-readers' FROM n WHERE i % 7 = 0"
    ))
    .await;

    let all: Vec<Value> = (0..10).map(|m| json!({ "id": format!("m{m}") })).collect();
    let mut expected = vec![json!({ "username": "admin", "models": all })];
    for i in 0..users {
        let models = if i == 3 || i % 7 == 0 {
            json!(all)
        } else if i % 11 == 0 {
            json!([])
        } else {
            json!([{ "id": format!("m{}", i % 5) }, { "id": format!("m{}", i % 5 + 5) }])
        };
        expected.push(json!({ "username": format!("u{}", 10000 + i), "models": models }));
    }
    for _ in 0..3 {
        let body = app.gql(Some(&admin), "{ users { username models { id } } }", json!({})).await;
        assert_eq!(code(&body), None, "{body}");
        let listed = body["data"]["users"].as_array().expect("a list");
        assert_eq!(listed.len(), expected.len());
        for (got, want) in listed.iter().zip(&expected) {
            assert_eq!(got, want);
        }
    }
}

/// Past 1,000 users a listing with groups reads every user's groups at once (each
/// group built once, shared by its members): each user's groups and models must be
/// what `user(username)`, which reads that user alone, answers.
#[tokio::test]
async fn a_listing_of_more_than_a_thousand_users_with_groups_gives_each_its_own_groups() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for k in 0..4 {
        let query = format!(
            "mutation {{ createGroup(input: {{name: \"g{k}\", permissions: [{{resourceType: MODEL, resourceId: \"m{k}\", method: GET}}, \
             {{resourceType: USER, method: PUT}}]}}) {{ name }} }}"
        );
        let body = app.gql(Some(&admin), &query, json!({})).await;
        assert_eq!(code(&body), None, "{body}");
        let body =
            app.gql(Some(&admin), &format!("mutation {{ createModel(id: \"m{k}\") {{ id }} }}"), json!({})).await;
        assert_eq!(code(&body), None, "{body}");
    }
    let body = app
        .gql(Some(&admin), "mutation { createGroup(input: {name: \"empty\", permissions: []}) { name } }", json!({}))
        .await;
    assert_eq!(code(&body), None, "{body}");
    let users = 1100;
    let series = format!("WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {})", users - 1);
    app.execute_sql(&format!(
        "{series} INSERT INTO users (username, password_hash, email, full_name, disabled, role, token_version) \
         SELECT 'u' || (10000 + i), 'x', 'u' || i || '@example.org', NULL, i % 2, 'REGULAR', 'v' FROM n"
    ))
    .await;
    for (group, condition) in
        [("g0", "i % 2 = 0"), ("g1", "i % 3 = 0"), ("g2", "i % 5 = 0"), ("g3", "i % 7 = 1"), ("empty", "i % 4 = 3")]
    {
        app.execute_sql(&format!(
            "{series} INSERT INTO user_groups (username, group_name) SELECT 'u' || (10000 + i), '{group}' FROM n WHERE {condition}"
        ))
        .await;
    }
    let fields = "username email disabled groups { name permissions { resourceType resourceId method } } models { id }";
    for _ in 0..2 {
        let body = app.gql(Some(&admin), &format!("{{ users {{ {fields} }} }}"), json!({})).await;
        assert_eq!(code(&body), None, "{body}");
        let listed = body["data"]["users"].as_array().expect("a list");
        assert_eq!(listed.len(), users + 1);
        for i in (0..users).step_by(37).chain([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) {
            let username = format!("u{}", 10000 + i);
            let alone =
                app.gql(Some(&admin), &format!("{{ user(username: \"{username}\") {{ {fields} }} }}"), json!({})).await;
            assert_eq!(listed[i + 1], alone["data"]["user"], "{username}");
        }
        let with_empty = &listed[4]; // u10003: g3? no; empty (3 % 4 = 3); g1 (3 % 3 = 0)
        assert_eq!(with_empty["groups"][0]["name"], "empty", "{with_empty}");
        assert_eq!(with_empty["groups"][0]["permissions"], json!([]), "{with_empty}");
    }
}

/// A listing keeps every user's model grants while the access version holds: a
/// change of groups through this process or another one shows in the next listing.
#[tokio::test]
async fn a_listing_shows_each_change_of_groups_made_through_any_process() {
    let app = TestApp::spawn().await;
    let other = app.another_process().await;
    let admin = app.admin().await;
    let ann = app.regular_user("ann").await;
    app.regular_user("bob").await;
    for model in ["m1", "m2"] {
        let body =
            app.gql(Some(&ann), &format!("mutation {{ createModel(id: \"{model}\") {{ id }} }}"), json!({})).await;
        assert_eq!(code(&body), None, "{body}");
    }
    let models_of = |body: &Value, username: &str| {
        let users = body["data"]["users"].as_array().cloned().unwrap_or_default();
        users.iter().find(|u| u["username"] == username).map(|u| u["models"].clone()).unwrap_or(Value::Null)
    };
    let listing = "{ users { username models { id } } }";
    let steps: [(&TestApp, &str, Value); 3] = [
        (&app, "[\"read-model-m1\"]", json!([{ "id": "m1" }])),
        (&other, "[\"read-model-m1\", \"read-model-m2\"]", json!([{ "id": "m1" }, { "id": "m2" }])),
        (&other, "[]", json!([])),
    ];
    for (through, groups, expected) in steps {
        // Twice first: the second listing is answered from the plan, with the grants kept.
        for _ in 0..2 {
            let body = app.gql(Some(&admin), listing, json!({})).await;
            assert_eq!(code(&body), None, "{body}");
        }
        let other_admin = through.admin().await;
        let edit = format!("mutation {{ editUser(input: {{username: \"bob\", groups: {groups}}}) {{ username }} }}");
        let body = through.gql(Some(&other_admin), &edit, json!({})).await;
        assert_eq!(code(&body), None, "{body}");
        let body = app.gql(Some(&admin), listing, json!({})).await;
        assert_eq!(models_of(&body, "bob"), expected, "after bob's groups became {groups}: {body}");
        assert_eq!(models_of(&body, "ann"), json!([{ "id": "m1" }, { "id": "m2" }]), "{body}");
    }
}

/// Listings sent at the same time as a change of groups: whatever each of them shows,
/// once the change is acknowledged the next listing shows it (a listing that read
/// before the change never leaves its models kept for after it).
#[tokio::test]
async fn listings_racing_a_change_of_groups_never_keep_the_state_before_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let ann = app.regular_user("ann").await;
    app.regular_user("bob").await;
    let body = app.gql(Some(&ann), "mutation { createModel(id: \"m1\") { id } }", json!({})).await;
    assert_eq!(code(&body), None, "{body}");
    let listing = "{ users { username models { id } } }";
    let bob_models = |body: &Value| body["data"]["users"][2]["models"].clone();
    for round in 0..6 {
        let (groups, expected) =
            if round % 2 == 0 { ("[\"read-model-m1\"]", json!([{ "id": "m1" }])) } else { ("[]", json!([])) };
        let edit = format!("mutation {{ editUser(input: {{username: \"bob\", groups: {groups}}}) {{ username }} }}");
        let mut listings: Vec<_> = (0..8).map(|i| app.spawn_gql(Some(&admin), listing, json!({}), i % 3)).collect();
        let edited = app.spawn_gql(Some(&admin), &edit, json!({}), 1);
        listings.extend((0..8).map(|i| app.spawn_gql(Some(&admin), listing, json!({}), 1 + i % 3)));
        let edited = edited.await.expect("the edit");
        assert_eq!(code(&edited), None, "{edited}");
        for answer in listings {
            let body = answer.await.expect("a listing");
            assert_eq!(code(&body), None, "{body}");
            assert_eq!(body["data"]["users"][2]["username"], "bob", "{body}");
        }
        let body = app.gql(Some(&admin), listing, json!({})).await;
        assert_eq!(bob_models(&body), expected, "round {round}: after bob's groups became {groups}: {body}");
    }
}

//! RULES §10: `searchUsers`: every filter given holds, ASCII letters compare
//! case-insensitively and every other character exactly, pages by opaque keyed
//! cursors sorted by username's bytes, `totalCount` of every match.

use serde_json::{Value, json};

use crate::helpers::{TestApp, code};

const SEARCH: &str = "query($q: String, $role: Role, $disabled: Boolean, $group: String, $first: Int, $after: String) { \
    searchUsers(query: $q, role: $role, disabled: $disabled, group: $group, first: $first, after: $after) { \
      totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { username } } nodes { username } } }";

fn usernames(body: &Value) -> Vec<String> {
    let nodes = body["data"]["searchUsers"]["nodes"].as_array().unwrap_or_else(|| panic!("{body}"));
    nodes.iter().map(|n| n["username"].as_str().unwrap().to_owned()).collect()
}

async fn seed(app: &TestApp, admin: &str) {
    for (username, email, full_name) in [
        ("alice", "alice@example.org", "Alice Liddell"),
        ("Bob", "bob@example.org", "Bob 100%_done"),
        ("carol", "c@x.org", "Carol O'Neil"),
        ("dave", "dave@example.org", "Émile Zola"),
        ("Zed", "zed@example.org", "émile zed"),
    ] {
        app.create_user(
            admin,
            json!({ "username": username, "password": "password-x", "email": email, "fullName": full_name }),
        )
        .await;
    }
}

#[tokio::test]
async fn filters_match_as_the_rules_say() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    seed(&app, &admin).await;
    let search = |variables: Value| {
        let (app, admin) = (&app, &admin);
        async move { app.gql(Some(admin), SEARCH, variables).await }
    };
    // Sorted by bytes: upper case first.
    assert_eq!(usernames(&search(json!({})).await), ["Bob", "Zed", "admin", "alice", "carol", "dave"]);
    assert_eq!(usernames(&search(json!({ "q": "ALI" })).await), ["alice"], "ASCII letters fold");
    assert_eq!(usernames(&search(json!({ "q": "EXAMPLE.ORG" })).await), ["Bob", "Zed", "alice", "dave"], "email");
    assert_eq!(usernames(&search(json!({ "q": "%_" })).await), ["Bob"], "% and _ are themselves");
    assert_eq!(usernames(&search(json!({ "q": "o'n" })).await), ["carol"], "' is itself");
    assert_eq!(usernames(&search(json!({ "q": "émile" })).await), ["Zed"], "é does not match É");
    assert_eq!(usernames(&search(json!({ "role": "ADMIN" })).await), ["admin"]);
    let body = app
        .gql(
            Some(&admin),
            "mutation { editUser(input: {username: \"carol\", disabled: true}) { username } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&body), None, "{body}");
    assert_eq!(usernames(&search(json!({ "disabled": true })).await), ["carol"]);
    assert_eq!(usernames(&search(json!({ "group": "read-user-dave" })).await), ["dave"]);
    assert_eq!(usernames(&search(json!({ "group": "no-such-group" })).await), Vec::<String>::new());
    assert_eq!(
        usernames(&search(json!({ "q": "e", "role": "REGULAR", "disabled": false })).await),
        ["Bob", "Zed", "alice", "dave"]
    );
}

#[tokio::test]
async fn pages_follow_keyed_cursors_and_a_deletion_between_pages_skips_no_one() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    seed(&app, &admin).await;
    let first = app.gql(Some(&admin), SEARCH, json!({ "first": 2 })).await;
    assert_eq!(usernames(&first), ["Bob", "Zed"]);
    let connection = &first["data"]["searchUsers"];
    assert_eq!(connection["totalCount"], 6);
    assert_eq!(connection["pageInfo"]["hasNextPage"], true);
    assert_eq!(connection["pageInfo"]["hasPreviousPage"], false);
    let after = connection["pageInfo"]["endCursor"].as_str().unwrap().to_owned();
    // Zed, the last one seen, goes: the next page still starts right after it.
    let body = app.gql(Some(&admin), "mutation { deleteUser(username: \"Zed\") { username } }", json!({})).await;
    assert_eq!(code(&body), None, "{body}");
    let second = app.gql(Some(&admin), SEARCH, json!({ "first": 10, "after": after })).await;
    assert_eq!(usernames(&second), ["admin", "alice", "carol", "dave"]);
    assert_eq!(second["data"]["searchUsers"]["pageInfo"]["hasNextPage"], false);
    assert_eq!(second["data"]["searchUsers"]["totalCount"], 5);
    // A cursor is for its own field and filters.
    assert_eq!(code(&app.gql(Some(&admin), SEARCH, json!({ "q": "a", "after": after })).await), Some("BAD_USER_INPUT"));
    for first in [0, 1001] {
        assert_eq!(code(&app.gql(Some(&admin), SEARCH, json!({ "first": first })).await), Some("BAD_USER_INPUT"));
    }
    assert_eq!(usernames(&app.gql(Some(&admin), SEARCH, json!({ "first": null })).await).len(), 5, "null is 50");
}

#[tokio::test]
async fn searching_needs_the_right_to_list_users() {
    let app = TestApp::spawn().await;
    let ann = app.regular_user("ann").await;
    assert_eq!(code(&app.gql(Some(&ann), SEARCH, json!({})).await), Some("FORBIDDEN"));
    app.add_groups("ann", &["read-user"]).await;
    assert_eq!(usernames(&app.gql(Some(&ann), SEARCH, json!({})).await), ["admin", "ann"]);
}

const MEMBERS: &str = "query($g: String!, $first: Int, $after: String) { group(name: $g) { name \
    members(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { username } } } }";

#[tokio::test]
async fn a_groups_members_are_paged_by_username() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    seed(&app, &admin).await;
    for user in ["dave", "Bob", "alice"] {
        app.add_groups(user, &["read-model"]).await;
    }
    let body = app.gql(Some(&admin), MEMBERS, json!({ "g": "read-model", "first": 2 })).await;
    let members = &body["data"]["group"]["members"];
    assert_eq!(members["nodes"], json!([{ "username": "Bob" }, { "username": "alice" }]), "{body}");
    assert_eq!(members["totalCount"], 3);
    let after = members["pageInfo"]["endCursor"].as_str().unwrap();
    let body = app.gql(Some(&admin), MEMBERS, json!({ "g": "read-model", "after": after })).await;
    assert_eq!(body["data"]["group"]["members"]["nodes"], json!([{ "username": "dave" }]), "{body}");
}

#[tokio::test]
async fn without_the_rights_members_is_null_with_forbidden_and_the_rest_stands() {
    let app = TestApp::spawn().await;
    let ann = app.regular_user("ann").await;
    // read-group lets ann read groups but not list users.
    app.add_groups("ann", &["read-group"]).await;
    let body = app.gql(Some(&ann), MEMBERS, json!({ "g": "read-model" })).await;
    assert_eq!(body["data"]["group"], json!({ "name": "read-model", "members": null }), "{body}");
    assert_eq!(code(&body), Some("FORBIDDEN"));
    assert_eq!(body["errors"][0]["path"], json!(["group", "members"]));
    app.add_groups("ann", &["read-user"]).await;
    let body = app.gql(Some(&ann), MEMBERS, json!({ "g": "read-model" })).await;
    assert_eq!(body["data"]["group"]["members"]["totalCount"], 0, "{body}");
}

#[tokio::test]
async fn the_search_index_follows_creations_edits_and_deletions() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    seed(&app, &admin).await;
    let found = |q: &'static str| {
        let (app, admin) = (&app, &admin);
        async move { usernames(&app.gql(Some(admin), SEARCH, json!({ "q": q })).await) }
    };
    app.create_user(
        &admin,
        json!({ "username": "quoted", "password": "password-x", "fullName": "Ann \"the Hammer\" Lee" }),
    )
    .await;
    assert_eq!(found("\"the ha").await, ["quoted"], "a quote in the query is itself");
    let edit = "mutation { editUser(input: {username: \"alice\", email: \"alice@new.example\", fullName: null}) { username } }";
    assert_eq!(code(&app.gql(Some(&admin), edit, json!({})).await), None);
    assert_eq!(found("new.exa").await, ["alice"], "the new email");
    assert_eq!(found("alice@example").await, Vec::<String>::new(), "not the old one");
    assert_eq!(found("liddell").await, Vec::<String>::new(), "nor the cleared full name");
    let delete = "mutation { deleteUser(username: \"dave\") { username } }";
    assert_eq!(code(&app.gql(Some(&admin), delete, json!({})).await), None);
    assert_eq!(found("zola").await, Vec::<String>::new(), "a deleted user is gone");
    // A user deleted and created again is found once.
    app.create_user(&admin, json!({ "username": "dave", "password": "password-x", "fullName": "Dave Again" })).await;
    assert_eq!(found("again").await, ["dave"]);
    assert_eq!(found("dav").await, ["dave"]);
}

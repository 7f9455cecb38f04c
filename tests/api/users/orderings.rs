//! RULES §7: users, and each user's groups, sorted by their bytes.

use serde_json::json;

use super::{group_names, member_of, read_back};
use crate::helpers::{TestApp, assert_ok, edit_user, password_of, query_me, query_users, usernames};

#[tokio::test]
async fn users_are_sorted_by_the_bytes_of_their_usernames() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let names = ["b", "B", "a", "_x", "A", "a.b", "a-b", "Z9", "0", "@x", "ab", "aB"];
    for name in names {
        app.create_user(&admin, json!({ "username": name, "password": password_of(name) })).await;
    }
    let mut expected: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    expected.push("admin".to_owned());
    expected.sort();

    assert_eq!(usernames(&query_users(&app, &admin).await), expected);
    let reader = member_of(&app, "reader", &["read-user"]).await;
    expected.push("reader".to_owned());
    expected.sort();
    assert_eq!(usernames(&query_users(&app, &reader).await), expected);
}

#[tokio::test]
async fn user_groups_are_sorted_by_name() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bob = app.regular_user("bob").await;
    app.add_groups("bob", &["read-user", "edit-model", "create-group", "read-catalog", "edit-user"]).await;

    let groups = group_names(&read_back(&app, &admin, "bob").await);
    let mut sorted = groups.clone();
    sorted.sort();
    assert_eq!(groups, sorted);
    assert_eq!(groups.len(), 11, "{groups:?}");
    assert_eq!(group_names(&query_me(&app, &bob).await["data"]["me"]), sorted);
    let listed = query_users(&app, &bob).await;
    let bob_listed = listed["data"]["users"].as_array().unwrap().iter().find(|u| u["username"] == "bob").unwrap();
    assert_eq!(group_names(bob_listed), sorted);

    // Given in reverse order, still sorted.
    let mut reversed = sorted.clone();
    reversed.reverse();
    assert_ok(&edit_user(&app, &admin, json!({ "username": "bob", "groups": reversed })).await, "replace groups");
    assert_eq!(group_names(&read_back(&app, &admin, "bob").await), sorted);
}

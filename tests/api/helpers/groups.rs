//! Groups and permissions: the group names RULES §4 gives, permissions as comparable
//! tuples, and the group wrappers more than one test file uses.

use serde_json::{Value, json};

use super::{TestApp, assert_ok};

/// The 15 groups without id that a new database holds (RULES §4), sorted by name.
pub const GROUPS_WITHOUT_ID: [&str; 15] = [
    "create-catalog",
    "create-custom_list",
    "create-group",
    "create-model",
    "create-user",
    "edit-catalog",
    "edit-custom_list",
    "edit-group",
    "edit-model",
    "edit-user",
    "read-catalog",
    "read-custom_list",
    "read-group",
    "read-model",
    "read-user",
];

/// The groups a new REGULAR user `username` is put in, its own two included, sorted by name (RULES §4).
pub fn new_regular_user_groups(username: &str) -> Vec<String> {
    let mut names = vec![
        "create-model".to_owned(),
        "create-custom_list".to_owned(),
        "edit-custom_list".to_owned(),
        format!("edit-user-{username}"),
        "read-custom_list".to_owned(),
        format!("read-user-{username}"),
    ];
    names.sort();
    names
}

/// Every group of a new database once these REGULAR users exist: the 15 without id
/// and each user's own `read-user-<u>` and `edit-user-<u>`, sorted by name.
pub fn groups_without_id_and_own_groups_of(usernames: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = GROUPS_WITHOUT_ID.map(str::to_owned).to_vec();
    for username in usernames {
        names.extend([format!("edit-user-{username}"), format!("read-user-{username}")]);
    }
    names.sort();
    names
}

/// The `name` of each object of a list, in its order.
pub fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_owned())
        .collect()
}

/// The names of every group, as the admin lists them; panics unless `groups` succeeds.
pub async fn all_group_names(app: &TestApp, admin: &str) -> Vec<String> {
    let body = app.gql(Some(admin), "{ groups { name } }", json!({})).await;
    assert_ok(&body, "groups");
    names(&body["data"]["groups"])
}

/// `createGroup(input)` as `token`, answering the group with its permissions.
pub async fn create_group(app: &TestApp, token: &str, input: Value) -> Value {
    app.gql(
        Some(token),
        "mutation($i: GroupInput!) { createGroup(input: $i) { name permissions { resourceType resourceId method } } }",
        json!({ "i": input }),
    )
    .await
}

/// Creates a group as `token` and returns it; panics unless it succeeds.
pub async fn must_create_group(app: &TestApp, token: &str, input: Value) -> Value {
    let body = create_group(app, token, input).await;
    assert_ok(&body, "createGroup");
    body["data"]["createGroup"].clone()
}

/// A permission as tuples compare and sort: (resourceType, resourceId, method).
pub type PermissionTuple = (String, Option<String>, String);

/// A permission tuple from its three parts.
pub fn perm(resource_type: &str, id: Option<&str>, method: &str) -> PermissionTuple {
    (resource_type.to_owned(), id.map(str::to_owned), method.to_owned())
}

/// A list of `{ resourceType resourceId method }` objects as tuples, in its order.
pub fn perms(list: &Value) -> Vec<PermissionTuple> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|p| {
            (
                p["resourceType"].as_str().unwrap().to_owned(),
                p["resourceId"].as_str().map(str::to_owned),
                p["method"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The same, sorted: for comparing a group's permissions as a set.
pub fn sorted_perms(list: &Value) -> Vec<PermissionTuple> {
    let mut out = perms(list);
    out.sort();
    out
}

/// One group's permissions as a sorted set, as the admin reads the group; panics
/// unless `group(name)` succeeds.
pub async fn group_perms(app: &TestApp, admin: &str, name: &str) -> Vec<PermissionTuple> {
    let body = app
        .gql(
            Some(admin),
            "query($n: String!) { group(name: $n) { name permissions { resourceType resourceId method } } }",
            json!({ "n": name }),
        )
        .await;
    assert_ok(&body, &format!("group({name})"));
    assert_eq!(body["data"]["group"]["name"], name);
    sorted_perms(&body["data"]["group"]["permissions"])
}

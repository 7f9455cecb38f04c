//! Groups and permissions: who may read and change them, what they grant (RULES §3, §4, §5, §7).

use serde_json::{Value, json};

use crate::helpers::{
    PermissionTuple, TestApp, all_group_names, assert_code, assert_ok, code, create_group, group_perms,
    must_create_group, must_create_model, names, perm, perms, sorted_perms,
};

const GROUPS: &str = "{ groups { name permissions { resourceType resourceId method } } }";
const GROUP: &str = "query($n: String!) { group(name: $n) { name permissions { resourceType resourceId method } } }";
const PERMISSIONS: &str = "{ permissions { resourceType resourceId method } }";
const EDIT: &str =
    "mutation($i: GroupInput!) { editGroup(input: $i) { name permissions { resourceType resourceId method } } }";
const DELETE: &str =
    "mutation($n: String!) { deleteGroup(name: $n) { name permissions { resourceType resourceId method } } }";
/// Everything a group operation could change: every group and every user's groups.
const STATE: &str = "{ groups { name permissions { resourceType resourceId method } } \
                     users { username groups { name } } }";

/// A list of permission tuples, sorted.
fn sorted(mut list: Vec<PermissionTuple>) -> Vec<PermissionTuple> {
    list.sort();
    list
}

async fn list_groups(app: &TestApp, token: &str) -> Value {
    app.gql(Some(token), GROUPS, json!({})).await
}

async fn get_group(app: &TestApp, token: &str, name: &str) -> Value {
    app.gql(Some(token), GROUP, json!({ "n": name })).await
}

async fn list_permissions(app: &TestApp, token: &str) -> Value {
    app.gql(Some(token), PERMISSIONS, json!({})).await
}

async fn edit_group(app: &TestApp, token: &str, input: Value) -> Value {
    app.gql(Some(token), EDIT, json!({ "i": input })).await
}

async fn delete_group(app: &TestApp, token: &str, name: &str) -> Value {
    app.gql(Some(token), DELETE, json!({ "n": name })).await
}

/// Every group with its permissions and every user's groups, as the admin sees them.
async fn state(app: &TestApp, admin: &str) -> Value {
    let body = app.gql(Some(admin), STATE, json!({})).await;
    assert_ok(&body, "reading the state");
    body["data"].clone()
}

/// The names of a user's groups, as the admin sees them.
async fn groups_of(app: &TestApp, admin: &str, username: &str) -> Vec<String> {
    let body = app
        .gql(Some(admin), "query($u: String!) { user(username: $u) { groups { name } } }", json!({ "u": username }))
        .await;
    assert_ok(&body, "user.groups");
    names(&body["data"]["user"]["groups"])
}

fn target_input() -> Value {
    json!({ "name": "target", "permissions": [{ "resourceType": "CATALOG", "resourceId": "t", "method": "GET" }] })
}

/// What every role gets for each of the six group operations, in this order:
/// groups, group(target), permissions, createGroup(new), editGroup(target), deleteGroup(target).
async fn try_every_operation(app: &TestApp, token: &str) -> [Value; 6] {
    [
        list_groups(app, token).await,
        get_group(app, token, "target").await,
        list_permissions(app, token).await,
        create_group(app, token, json!({ "name": "new", "permissions": [{ "resourceType": "MODEL" }] })).await,
        edit_group(
            app,
            token,
            json!({ "name": "target", "permissions": [{ "resourceType": "USER", "resourceId": null, "method": "ANY" }] }),
        )
        .await,
        delete_group(app, token, "target").await,
    ]
}

const OPERATIONS: [&str; 6] = ["groups", "group", "permissions", "createGroup", "editGroup", "deleteGroup"];

/// Spawns an app with a `target` group, and a REGULAR `bob` in `extra` groups.
async fn app_with_bob_in(extra: &[&str]) -> (TestApp, String, String) {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    must_create_group(&app, &admin, target_input()).await;
    let bob = app.regular_user("bob").await;
    if !extra.is_empty() {
        app.add_groups("bob", extra).await;
    }
    (app, admin, bob)
}

/// Checks the outcome of each operation: `None` means it succeeded, `Some(code)` it was refused.
fn check_outcomes(who: &str, bodies: &[Value; 6], expected: [Option<&str>; 6]) {
    for ((body, operation), expected) in bodies.iter().zip(OPERATIONS).zip(expected) {
        match expected {
            None => assert_ok(body, &format!("{operation} by {who}")),
            Some(expected) => assert_code(body, expected, &format!("{operation} by {who}")),
        }
    }
}

#[tokio::test]
async fn an_admin_may_run_every_group_operation() {
    let (app, admin, _bob) = app_with_bob_in(&[]).await;
    let bodies = try_every_operation(&app, &admin).await;
    check_outcomes("admin", &bodies, [None; 6]);

    assert!(names(&bodies[0]["data"]["groups"]).contains(&"target".to_owned()));
    assert_eq!(bodies[1]["data"]["group"]["name"], "target");
    assert_eq!(sorted_perms(&bodies[1]["data"]["group"]["permissions"]), [perm("CATALOG", Some("t"), "GET")]);
    assert!(perms(&bodies[2]["data"]["permissions"]).contains(&perm("CATALOG", Some("t"), "GET")));
    assert_eq!(bodies[3]["data"]["createGroup"]["name"], "new");
    assert_eq!(bodies[4]["data"]["editGroup"]["name"], "target");
    assert_eq!(sorted_perms(&bodies[4]["data"]["editGroup"]["permissions"]), [perm("USER", None, "ANY")]);
    assert_eq!(bodies[5]["data"]["deleteGroup"]["name"], "target");

    let groups = all_group_names(&app, &admin).await;
    assert!(groups.contains(&"new".to_owned()), "{groups:?}");
    assert!(!groups.contains(&"target".to_owned()), "{groups:?}");
    assert_eq!(group_perms(&app, &admin, "new").await, [perm("MODEL", None, "ANY")]);
}

#[tokio::test]
async fn a_plain_regular_user_is_forbidden_every_group_operation_and_changes_nothing() {
    let (app, admin, bob) = app_with_bob_in(&[]).await;
    let before = state(&app, &admin).await;

    let bodies = try_every_operation(&app, &bob).await;
    check_outcomes("a plain user", &bodies, [Some("FORBIDDEN"); 6]);

    assert_eq!(state(&app, &admin).await, before, "refused operations changed nothing");
}

#[tokio::test]
async fn a_user_in_read_group_may_read_groups_but_not_change_them() {
    let (app, admin, bob) = app_with_bob_in(&["read-group"]).await;
    let before = state(&app, &admin).await;

    let bodies = try_every_operation(&app, &bob).await;
    check_outcomes(
        "a read-group member",
        &bodies,
        [None, None, None, Some("FORBIDDEN"), Some("FORBIDDEN"), Some("FORBIDDEN")],
    );

    assert_eq!(bodies[0]["data"]["groups"], before["groups"], "a reader sees what the admin sees");
    assert_eq!(sorted_perms(&bodies[1]["data"]["group"]["permissions"]), [perm("CATALOG", Some("t"), "GET")]);
    let admin_permissions = list_permissions(&app, &admin).await;
    assert_eq!(bodies[2]["data"]["permissions"], admin_permissions["data"]["permissions"]);
    assert_eq!(state(&app, &admin).await, before, "refused mutations changed nothing");

    // The permission check passed, so an unknown group is NOT_FOUND.
    assert_code(&get_group(&app, &bob, "ghost").await, "NOT_FOUND", "group(ghost) by a reader");
}

#[tokio::test]
async fn a_user_in_create_group_may_create_groups_and_nothing_else() {
    let (app, admin, bob) = app_with_bob_in(&["create-group"]).await;
    let before = state(&app, &admin).await;

    let bodies = try_every_operation(&app, &bob).await;
    check_outcomes(
        "a create-group member",
        &bodies,
        [Some("FORBIDDEN"), Some("FORBIDDEN"), Some("FORBIDDEN"), None, Some("FORBIDDEN"), Some("FORBIDDEN")],
    );
    assert_eq!(bodies[3]["data"]["createGroup"]["name"], "new");

    let after = state(&app, &admin).await;
    let mut expected_groups = before["groups"].as_array().unwrap().clone();
    expected_groups.push(
        json!({ "name": "new", "permissions": [{ "resourceType": "MODEL", "resourceId": null, "method": "ANY" }] }),
    );
    expected_groups.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    assert_eq!(after["groups"], json!(expected_groups), "only the new group was added");
    assert_eq!(after["users"], before["users"], "creating a group put nobody in it");

    // Creating a group gives no right to change it afterwards.
    assert_code(
        &edit_group(&app, &bob, json!({ "name": "new", "permissions": [] })).await,
        "FORBIDDEN",
        "editGroup(new) by its creator",
    );
    assert_code(&delete_group(&app, &bob, "new").await, "FORBIDDEN", "deleteGroup(new) by its creator");
    assert_eq!(state(&app, &admin).await, after);
}

#[tokio::test]
async fn a_user_in_edit_group_may_edit_and_delete_groups_and_nothing_else() {
    let (app, admin, bob) = app_with_bob_in(&["edit-group"]).await;
    let before = state(&app, &admin).await;

    let bodies = try_every_operation(&app, &bob).await;
    check_outcomes(
        "an edit-group member",
        &bodies,
        [Some("FORBIDDEN"), Some("FORBIDDEN"), Some("FORBIDDEN"), Some("FORBIDDEN"), None, None],
    );
    assert_eq!(sorted_perms(&bodies[4]["data"]["editGroup"]["permissions"]), [perm("USER", None, "ANY")]);
    assert_eq!(sorted_perms(&bodies[5]["data"]["deleteGroup"]["permissions"]), [perm("USER", None, "ANY")]);

    let after = state(&app, &admin).await;
    let expected_groups: Vec<Value> =
        before["groups"].as_array().unwrap().iter().filter(|g| g["name"] != "target").cloned().collect();
    assert_eq!(after["groups"], json!(expected_groups), "target deleted, no group created");
    assert_eq!(after["users"], before["users"]);

    // The permission check passed, so an unknown group is NOT_FOUND.
    assert_code(&delete_group(&app, &bob, "ghost").await, "NOT_FOUND", "deleteGroup(ghost) by an editor");
    assert_code(
        &edit_group(&app, &bob, json!({ "name": "ghost", "permissions": [] })).await,
        "NOT_FOUND",
        "editGroup(ghost) by an editor",
    );
}

#[tokio::test]
async fn a_grant_on_one_group_reaches_that_group_but_not_the_listings() {
    let (app, admin, bob) = app_with_bob_in(&[]).await;
    must_create_group(
        &app,
        &admin,
        json!({ "name": "sees-target", "permissions": [{ "resourceType": "GROUP", "resourceId": "target", "method": "GET" }] }),
    )
    .await;
    app.add_groups("bob", &["sees-target"]).await;

    let body = get_group(&app, &bob, "target").await;
    assert_ok(&body, "group(target) with a grant on target");
    assert_eq!(body["data"]["group"]["name"], "target");
    assert_code(&get_group(&app, &bob, "sees-target").await, "FORBIDDEN", "group(sees-target)");
    assert_code(&list_groups(&app, &bob).await, "FORBIDDEN", "groups with a grant on one group");
    assert_code(&list_permissions(&app, &bob).await, "FORBIDDEN", "permissions with a grant on one group");
    assert_code(
        &edit_group(&app, &bob, json!({ "name": "target", "permissions": [] })).await,
        "FORBIDDEN",
        "editGroup(target) with only GET on it",
    );
}

#[tokio::test]
async fn creating_a_group_whose_name_is_taken_is_already_exists_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    must_create_group(&app, &admin, target_input()).await;
    let before = state(&app, &admin).await;

    for name in ["target", "read-model", "create-group"] {
        let body = create_group(
            &app,
            &admin,
            json!({ "name": name, "permissions": [{ "resourceType": "USER", "method": "ANY" }] }),
        )
        .await;
        assert_code(&body, "ALREADY_EXISTS", &format!("createGroup({name}) again"));
    }

    assert_eq!(state(&app, &admin).await, before, "the existing groups kept their permissions");
}

#[tokio::test]
async fn editing_deleting_or_reading_an_unknown_group_is_not_found() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let before = state(&app, &admin).await;

    let body = get_group(&app, &admin, "ghost").await;
    assert_code(&body, "NOT_FOUND", "group(ghost)");
    assert!(body["data"]["group"].is_null(), "{body}");
    assert_code(
        &edit_group(&app, &admin, json!({ "name": "ghost", "permissions": [{ "resourceType": "USER" }] })).await,
        "NOT_FOUND",
        "editGroup(ghost)",
    );
    assert_code(&delete_group(&app, &admin, "ghost").await, "NOT_FOUND", "deleteGroup(ghost)");

    assert_eq!(state(&app, &admin).await, before, "editing an unknown group did not create it");
}

#[tokio::test]
async fn a_group_name_breaking_the_rules_is_bad_user_input() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let before = state(&app, &admin).await;

    let too_long = "g".repeat(129);
    let bad = ["", "has space", "a/b", "a@b", "read-model-x~2", "tab\tname", "nul\0name", "é", "semi;colon", &too_long];
    for name in bad {
        let body = create_group(&app, &admin, json!({ "name": name, "permissions": [] })).await;
        assert_code(&body, "BAD_USER_INPUT", &format!("createGroup({name:?})"));
    }
    assert_eq!(state(&app, &admin).await, before, "no bad group was created");

    for name in ["g".repeat(128), "A.z_0-9".to_owned(), "-".to_owned()] {
        let body = create_group(&app, &admin, json!({ "name": name, "permissions": [] })).await;
        assert_ok(&body, &format!("createGroup({name:?})"));
        assert_eq!(body["data"]["createGroup"]["name"], name.as_str());
    }
}

#[tokio::test]
async fn an_omitted_or_null_resource_id_means_all_and_an_omitted_method_means_any() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;

    // Through variables.
    let created = must_create_group(
        &app,
        &admin,
        json!({ "name": "vars", "permissions": [
            { "resourceType": "CATALOG" },
            { "resourceType": "MODEL", "resourceId": null, "method": "GET" },
            { "resourceType": "GROUP", "resourceId": "g1" },
        ] }),
    )
    .await;
    let expected =
        sorted(vec![perm("CATALOG", None, "ANY"), perm("MODEL", None, "GET"), perm("GROUP", Some("g1"), "ANY")]);
    assert_eq!(sorted_perms(&created["permissions"]), expected);
    assert_eq!(group_perms(&app, &admin, "vars").await, expected);

    // Inline in the document.
    let body = app
        .gql(
            Some(&admin),
            "mutation { createGroup(input: {name: \"inline\", permissions: [\
             {resourceType: USER}, {resourceType: CUSTOM_LIST, resourceId: null, method: PUT}]}) { name } }",
            json!({}),
        )
        .await;
    assert_ok(&body, "inline createGroup");
    assert_eq!(
        group_perms(&app, &admin, "inline").await,
        sorted(vec![perm("USER", None, "ANY"), perm("CUSTOM_LIST", None, "PUT")])
    );

    // And they mean what they say: `vars` lets bob read any model, however named.
    let alice = app.regular_user("alice").await;
    let bob = app.regular_user("bob").await;
    for id in ["m1", "other-model"] {
        must_create_model(&app, &alice, id).await;
    }
    let body = app.gql(Some(&bob), "{ models { id } }", json!({})).await;
    assert_ok(&body, "models");
    assert_eq!(body["data"]["models"], json!([]));
    app.add_groups("bob", &["vars"]).await;
    let body = app.gql(Some(&bob), "{ models { id } }", json!({})).await;
    assert_ok(&body, "models");
    assert_eq!(body["data"]["models"], json!([{ "id": "m1" }, { "id": "other-model" }]));
    // GROUP g1 with an omitted method (ANY) allows every method on g1 only.
    must_create_group(&app, &admin, json!({ "name": "g1", "permissions": [] })).await;
    assert_ok(&get_group(&app, &bob, "g1").await, "group(g1) with GROUP/g1/ANY");
    assert_ok(
        &edit_group(&app, &bob, json!({ "name": "g1", "permissions": [] })).await,
        "editGroup(g1) with GROUP/g1/ANY",
    );
    assert_code(&get_group(&app, &bob, "vars").await, "FORBIDDEN", "group(vars) with GROUP/g1/ANY");
    assert_ok(&delete_group(&app, &bob, "g1").await, "deleteGroup(g1) with GROUP/g1/ANY");
}

#[tokio::test]
async fn editing_a_group_replaces_its_permission_list() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let alice = app.regular_user("alice").await;
    let bob = app.regular_user("bob").await;
    must_create_model(&app, &alice, "m1").await;
    must_create_group(
        &app,
        &admin,
        json!({ "name": "team", "permissions": [
            { "resourceType": "CATALOG", "resourceId": "only-in-team", "method": "GET" },
            { "resourceType": "MODEL", "resourceId": null, "method": "GET" },
        ] }),
    )
    .await;
    app.add_groups("bob", &["team"]).await;
    assert_ok(&app.gql(Some(&bob), "{ model(id: \"m1\") { id } }", json!({})).await, "model(m1) through team");

    let body = edit_group(
        &app,
        &admin,
        json!({ "name": "team", "permissions": [{ "resourceType": "CUSTOM_LIST", "resourceId": "l", "method": "PUT" }] }),
    )
    .await;
    assert_ok(&body, "editGroup(team)");
    assert_eq!(body["data"]["editGroup"]["name"], "team");
    assert_eq!(perms(&body["data"]["editGroup"]["permissions"]), [perm("CUSTOM_LIST", Some("l"), "PUT")]);
    assert_eq!(group_perms(&app, &admin, "team").await, [perm("CUSTOM_LIST", Some("l"), "PUT")]);

    let all = perms(&list_permissions(&app, &admin).await["data"]["permissions"]);
    assert!(!all.contains(&perm("CATALOG", Some("only-in-team"), "GET")), "the old permission is gone: {all:?}");
    assert!(all.contains(&perm("CUSTOM_LIST", Some("l"), "PUT")), "{all:?}");

    // The old grant no longer works; bob is still in the group.
    assert_eq!(code(&app.gql(Some(&bob), "{ model(id: \"m1\") { id } }", json!({})).await), Some("FORBIDDEN"));
    let body = app.gql(Some(&bob), "{ models { id } }", json!({})).await;
    assert_eq!(body["data"]["models"], json!([]), "{body}");
    assert!(groups_of(&app, &admin, "bob").await.contains(&"team".to_owned()));

    // An empty list empties the group.
    let body = edit_group(&app, &admin, json!({ "name": "team", "permissions": [] })).await;
    assert_ok(&body, "editGroup(team, [])");
    assert_eq!(body["data"]["editGroup"]["permissions"], json!([]));
    assert!(group_perms(&app, &admin, "team").await.is_empty());
}

#[tokio::test]
async fn deleting_a_group_removes_it_from_every_users_groups() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bob = app.regular_user("bob").await;
    let carol = app.regular_user("carol").await;
    must_create_group(
        &app,
        &admin,
        json!({ "name": "team", "permissions": [
            { "resourceType": "USER", "resourceId": null, "method": "GET" },
            { "resourceType": "CATALOG", "resourceId": "only-in-team", "method": "DELETE" },
        ] }),
    )
    .await;
    app.add_groups("bob", &["team"]).await;
    app.add_groups("carol", &["team"]).await;
    assert_ok(&app.gql(Some(&bob), "{ users { username } }", json!({})).await, "users through team");

    let body = delete_group(&app, &admin, "team").await;
    assert_ok(&body, "deleteGroup(team)");
    assert_eq!(body["data"]["deleteGroup"]["name"], "team");
    assert_eq!(
        sorted_perms(&body["data"]["deleteGroup"]["permissions"]),
        sorted(vec![perm("USER", None, "GET"), perm("CATALOG", Some("only-in-team"), "DELETE")]),
        "deleteGroup returns the group as it was"
    );

    let body = app.gql(Some(&admin), "{ users { username groups { name } } }", json!({})).await;
    assert_ok(&body, "users");
    for user in body["data"]["users"].as_array().unwrap() {
        assert!(!names(&user["groups"]).contains(&"team".to_owned()), "{user}");
    }
    for (who, token) in [("bob", &bob), ("carol", &carol)] {
        let body = app.gql(Some(token), "{ me { groups { name } } }", json!({})).await;
        assert_ok(&body, "me");
        assert!(!names(&body["data"]["me"]["groups"]).contains(&"team".to_owned()), "{who}: {body}");
        assert_code(&app.gql(Some(token), "{ users { username } }", json!({})).await, "FORBIDDEN", "users after");
    }
    assert!(!all_group_names(&app, &admin).await.contains(&"team".to_owned()));
    let all = perms(&list_permissions(&app, &admin).await["data"]["permissions"]);
    assert!(!all.contains(&perm("CATALOG", Some("only-in-team"), "DELETE")), "{all:?}");

    // A new group of the same name starts empty of members.
    must_create_group(&app, &admin, json!({ "name": "team", "permissions": [{ "resourceType": "USER" }] })).await;
    assert!(!groups_of(&app, &admin, "bob").await.contains(&"team".to_owned()));
    assert!(!groups_of(&app, &admin, "carol").await.contains(&"team".to_owned()));
    assert_code(&app.gql(Some(&bob), "{ users { username } }", json!({})).await, "FORBIDDEN", "users by bob");
}

#[tokio::test]
async fn groups_are_sorted_by_name() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for name in ["b", "B", "a", "_x", "Z-1", "0", "a.b", "a-b", "ab", "read-model-", "readers"] {
        must_create_group(&app, &admin, json!({ "name": name, "permissions": [] })).await;
    }
    app.regular_user("bob").await;

    let listed = all_group_names(&app, &admin).await;
    let mut expected = listed.clone();
    expected.sort();
    assert_eq!(listed, expected, "groups come in byte order");
    for name in ["b", "B", "a", "_x", "Z-1", "0", "read-model", "edit-custom_list", "read-user-bob", "edit-user-bob"] {
        assert!(listed.contains(&name.to_owned()), "{name} is listed: {listed:?}");
    }
    let position = |name: &str| listed.iter().position(|n| n == name).unwrap();
    let in_order = ["0", "B", "Z-1", "_x", "a", "a-b", "a.b", "ab", "b", "read-model", "read-model-", "readers"];
    for pair in in_order.windows(2) {
        assert!(position(pair[0]) < position(pair[1]), "{} before {}: {listed:?}", pair[0], pair[1]);
    }

    // A user's own groups are sorted the same way.
    app.add_groups("bob", &["b", "B", "_x", "a"]).await;
    let own = groups_of(&app, &admin, "bob").await;
    let mut expected = own.clone();
    expected.sort();
    assert_eq!(own, expected);
}

#[tokio::test]
async fn permissions_lists_every_distinct_permission_once_in_contract_order() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let p = |t: &str, id: Option<&str>, m: &str| json!({ "resourceType": t, "resourceId": id, "method": m });
    must_create_group(
        &app,
        &admin,
        json!({ "name": "p1", "permissions": [
            p("CUSTOM_LIST", Some("l"), "PUT"), p("CATALOG", None, "ANY"), p("CATALOG", Some("a"), "GET"),
            p("CATALOG", Some("A"), "DELETE"), p("CATALOG", Some("a"), "ANY"), p("USER", Some("u"), "GET"),
        ] }),
    )
    .await;
    must_create_group(
        &app,
        &admin,
        json!({ "name": "p2", "permissions": [
            p("CATALOG", Some("a"), "GET"), p("CATALOG", None, "ANY"), p("MODEL", Some("m"), "POST"),
            p("CATALOG", Some("a"), "PUT"), p("CATALOG", Some("a"), "POST"), p("CATALOG", Some("a"), "DELETE"),
            p("CATALOG", Some("a-"), "GET"), p("CATALOG", Some("B"), "GET"),
        ] }),
    )
    .await;
    app.regular_user("bob").await;

    let body = list_permissions(&app, &admin).await;
    assert_ok(&body, "permissions");
    let listed = perms(&body["data"]["permissions"]);

    // Exactly the union of every group's permissions, without repeats, in order.
    let groups = list_groups(&app, &admin).await;
    let mut union: Vec<PermissionTuple> =
        groups["data"]["groups"].as_array().unwrap().iter().flat_map(|g| perms(&g["permissions"])).collect();
    union.sort();
    union.dedup();
    assert_eq!(listed, union, "permissions is the sorted, distinct union of the groups' permissions");
    for pair in listed.windows(2) {
        assert!(pair[0] < pair[1], "strictly increasing, so no duplicate: {pair:?}");
    }

    // Resource types and methods compare by name, null ids first, ids by bytes.
    let mut types: Vec<&str> = listed.iter().map(|p| p.0.as_str()).collect();
    types.dedup();
    assert_eq!(types, ["CATALOG", "CUSTOM_LIST", "GROUP", "MODEL", "USER"]);
    let catalog: Vec<PermissionTuple> = listed.iter().filter(|p| p.0 == "CATALOG").cloned().collect();
    let mut expected = vec![perm("CATALOG", None, "ANY")];
    // The default catalog groups hold the four null-id methods.
    expected.extend(["DELETE", "GET", "POST", "PUT"].map(|m| perm("CATALOG", None, m)));
    expected.push(perm("CATALOG", Some("A"), "DELETE"));
    expected.push(perm("CATALOG", Some("B"), "GET"));
    expected.extend(["ANY", "DELETE", "GET", "POST", "PUT"].map(|m| perm("CATALOG", Some("a"), m)));
    expected.push(perm("CATALOG", Some("a-"), "GET"));
    assert_eq!(catalog, expected);
    let custom_list: Vec<PermissionTuple> = listed.iter().filter(|p| p.0 == "CUSTOM_LIST").cloned().collect();
    let mut expected: Vec<PermissionTuple> =
        ["DELETE", "GET", "POST", "PUT"].map(|m| perm("CUSTOM_LIST", None, m)).into();
    expected.push(perm("CUSTOM_LIST", Some("l"), "PUT"));
    assert_eq!(custom_list, expected);

    // A permission shared by two groups stays while one of them holds it.
    assert_ok(&delete_group(&app, &admin, "p1").await, "deleteGroup(p1)");
    let listed = perms(&list_permissions(&app, &admin).await["data"]["permissions"]);
    assert_eq!(listed.iter().filter(|p| **p == perm("CATALOG", Some("a"), "GET")).count(), 1);
    assert!(!listed.contains(&perm("CATALOG", Some("A"), "DELETE")));
    assert_ok(&delete_group(&app, &admin, "p2").await, "deleteGroup(p2)");
    let listed = perms(&list_permissions(&app, &admin).await["data"]["permissions"]);
    assert!(!listed.iter().any(|p| p.1.as_deref() == Some("a")), "{listed:?}");
}

#[tokio::test]
async fn a_group_granting_any_on_users_lets_a_regular_user_list_users() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bob = app.regular_user("bob").await;
    app.regular_user("carol").await;
    assert_code(&app.gql(Some(&bob), "{ users { username } }", json!({})).await, "FORBIDDEN", "users before");

    must_create_group(
        &app,
        &admin,
        json!({ "name": "user-admins", "permissions": [{ "resourceType": "USER", "method": "ANY" }] }),
    )
    .await;
    app.add_groups("bob", &["user-admins"]).await;

    let body = app.gql(Some(&bob), "{ users { username } }", json!({})).await;
    assert_ok(&body, "users with USER/null/ANY");
    assert_eq!(body["data"]["users"], json!([{ "username": "admin" }, { "username": "bob" }, { "username": "carol" }]));
    let body = app.gql(Some(&bob), "{ user(username: \"carol\") { username } }", json!({})).await;
    assert_ok(&body, "user(carol) with USER/null/ANY");
}

#[tokio::test]
async fn a_hand_made_read_user_group_is_not_handed_to_a_later_user_of_that_name() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    must_create_group(
        &app,
        &admin,
        json!({ "name": "read-user-carol", "permissions": [{ "resourceType": "USER", "resourceId": null }] }),
    )
    .await;
    must_create_group(&app, &admin, json!({ "name": "edit-user-carol", "permissions": [{ "resourceType": "GROUP" }] }))
        .await;

    let carol = app.regular_user("carol").await;

    let groups = groups_of(&app, &admin, "carol").await;
    assert!(!groups.contains(&"read-user-carol".to_owned()), "carol is not in the hand-made group: {groups:?}");
    assert!(!groups.contains(&"edit-user-carol".to_owned()), "carol is not in the hand-made group: {groups:?}");
    assert_eq!(group_perms(&app, &admin, "read-user-carol").await, [perm("USER", None, "ANY")], "unchanged");
    assert_eq!(group_perms(&app, &admin, "edit-user-carol").await, [perm("GROUP", None, "ANY")], "unchanged");

    // Carol's own read group exists under another name and grants her GET on herself.
    let body = app
        .gql(
            Some(&carol),
            "{ me { username groups { name permissions { resourceType resourceId method } } } }",
            json!({}),
        )
        .await;
    assert_ok(&body, "me by carol");
    assert_eq!(body["data"]["me"]["username"], "carol");
    let own_read: Vec<&Value> = body["data"]["me"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| sorted_perms(&g["permissions"]) == [perm("USER", Some("carol"), "GET")])
        .collect();
    assert_eq!(own_read.len(), 1, "carol has her own read group: {body}");
    assert_ne!(own_read[0]["name"], "read-user-carol");
    let body = app.gql(Some(&carol), "{ user(username: \"carol\") { username } }", json!({})).await;
    assert_ok(&body, "user(carol) by carol");

    // And none of the hand-made groups' rights.
    assert_code(&app.gql(Some(&carol), "{ users { username } }", json!({})).await, "FORBIDDEN", "users by carol");
    assert_code(
        &app.gql(Some(&carol), "{ user(username: \"admin\") { username } }", json!({})).await,
        "FORBIDDEN",
        "user(admin) by carol",
    );
    assert_code(&list_groups(&app, &carol).await, "FORBIDDEN", "groups by carol");
    assert_code(&delete_group(&app, &carol, "read-user-carol").await, "FORBIDDEN", "deleteGroup by carol");
    assert!(all_group_names(&app, &admin).await.contains(&"read-user-carol".to_owned()));
}

#[tokio::test]
async fn an_unknown_group_is_a_null_group_field_inside_a_data_object() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;

    // `group` is nullable: its error nulls the field, not the whole response (GraphQL §6.4.4).
    let body = get_group(&app, &admin, "ghost").await;
    assert_code(&body, "NOT_FOUND", "group(ghost)");
    assert_eq!(body["data"], json!({ "group": null }), "{body}");
}

#[tokio::test]
async fn another_user_read_again_shows_its_groups_permissions_as_edited_in_between() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regular_user("bob").await;
    let team = |permissions: Value| json!({ "name": "team", "permissions": permissions });
    let body = create_group(&app, &admin, team(json!([{ "resourceType": "MODEL", "method": "GET" }]))).await;
    assert!(body["errors"].is_null(), "{body}");
    app.add_groups("bob", &["team"]).await;
    let team_of_bob = || async {
        let query = r#"{ user(username: "bob") { groups { name permissions { resourceType resourceId method } } } }"#;
        let body = app.gql(Some(&admin), query, json!({})).await;
        let groups = body["data"]["user"]["groups"].as_array().unwrap_or_else(|| panic!("{body}")).clone();
        groups.iter().find(|g| g["name"] == "team").map(|g| perms(&g["permissions"]))
    };
    assert_eq!(team_of_bob().await, Some(vec![perm("MODEL", None, "GET")]));

    let edited = json!([{ "resourceType": "MODEL", "method": "GET" }, { "resourceType": "USER", "resourceId": "bob", "method": "PUT" }]);
    let body = edit_group(&app, &admin, team(edited)).await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(team_of_bob().await, Some(vec![perm("MODEL", None, "GET"), perm("USER", Some("bob"), "PUT")]));

    let body = delete_group(&app, &admin, "team").await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(team_of_bob().await, None, "the deleted group is gone from bob's");
}

//! RULES §10: `addUserToGroups` / `removeUserFromGroups`, membership changes without
//! the read-modify-write race of `editUser(groups: …)`; ADMIN only.

use serde_json::{Value, json};

use crate::helpers::{TestApp, code, must_create_group, names};

const ADD: &str =
    "mutation($u: String!, $g: [String!]!) { addUserToGroups(username: $u, groups: $g) { username groups { name } } }";
const REMOVE: &str = "mutation($u: String!, $g: [String!]!) { removeUserFromGroups(username: $u, groups: $g) { username groups { name } } }";

async fn groups_of(app: &TestApp, admin: &str, username: &str) -> Vec<String> {
    let body = app
        .gql(Some(admin), "query($u: String!) { user(username: $u) { groups { name } } }", json!({ "u": username }))
        .await;
    names(&body["data"]["user"]["groups"])
}

fn answered_groups(body: &Value, field: &str) -> Vec<String> {
    names(&body["data"][field]["groups"])
}

#[tokio::test]
async fn an_admin_adds_and_removes_memberships_and_held_or_absent_ones_are_no_error() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regular_user("ann").await;
    let before = groups_of(&app, &admin, "ann").await;
    let body = app.gql(Some(&admin), ADD, json!({ "u": "ann", "g": ["read-user", "create-model"] })).await;
    assert_eq!(code(&body), None, "{body}");
    let mut expected = before.clone();
    expected.push("read-user".to_owned());
    expected.sort();
    assert_eq!(answered_groups(&body, "addUserToGroups"), expected, "the user as it is after");
    let body = app.gql(Some(&admin), REMOVE, json!({ "u": "ann", "g": ["read-user", "edit-model"] })).await;
    assert_eq!(code(&body), None, "{body}");
    assert_eq!(answered_groups(&body, "removeUserFromGroups"), before);
    assert_eq!(groups_of(&app, &admin, "ann").await, before);
}

#[tokio::test]
async fn a_missing_group_changes_nothing_and_only_an_admin_may() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let ann = app.regular_user("ann").await;
    let helpdesk = app.regular_user("helpdesk").await;
    app.add_groups("helpdesk", &["edit-user"]).await;
    let before = groups_of(&app, &admin, "ann").await;
    let body = app.gql(Some(&admin), ADD, json!({ "u": "ann", "g": ["read-user", "nope"] })).await;
    assert_eq!(code(&body), Some("BAD_USER_INPUT"), "{body}");
    let body = app.gql(Some(&admin), REMOVE, json!({ "u": "ann", "g": ["create-model", "nope"] })).await;
    assert_eq!(code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(groups_of(&app, &admin, "ann").await, before, "nothing changed");
    for token in [&ann, &helpdesk] {
        assert_eq!(
            code(&app.gql(Some(token), ADD, json!({ "u": "ann", "g": ["read-user"] })).await),
            Some("FORBIDDEN")
        );
        assert_eq!(
            code(&app.gql(Some(token), REMOVE, json!({ "u": "ann", "g": ["create-model"] })).await),
            Some("FORBIDDEN")
        );
    }
    assert_eq!(code(&app.gql(Some(&admin), ADD, json!({ "u": "nobody", "g": [] })).await), Some("NOT_FOUND"));
    assert_eq!(groups_of(&app, &admin, "ann").await, before);
}

#[tokio::test]
async fn a_membership_change_writes_groups_to_the_audit_log_only_when_it_changed_something() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regular_user("ann").await;
    for groups in [["read-user"], ["read-user"]] {
        let body = app.gql(Some(&admin), ADD, json!({ "u": "ann", "g": groups })).await;
        assert_eq!(code(&body), None, "{body}");
    }
    let log = app.gql(Some(&admin), "{ auditLog(first: 2) { nodes { action targetId fields } } }", json!({})).await;
    assert_eq!(
        log["data"]["auditLog"]["nodes"],
        json!([
            { "action": "addUserToGroups", "targetId": "ann", "fields": [] },
            { "action": "addUserToGroups", "targetId": "ann", "fields": ["groups"] },
        ])
    );
}

/// Two additions at once both stand: neither undoes the other, as two
/// `editUser(groups: …)` computed from the same read would.
#[tokio::test]
async fn two_additions_at_once_both_stand() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regular_user("ann").await;
    for round in 0..20 {
        let (g1, g2) = (format!("a{round}"), format!("b{round}"));
        for name in [&g1, &g2] {
            must_create_group(&app, &admin, json!({ "name": name, "permissions": [] })).await;
        }
        let first = app.spawn_gql(Some(&admin), ADD, json!({ "u": "ann", "g": [g1] }), 0);
        let second = app.spawn_gql(Some(&admin), ADD, json!({ "u": "ann", "g": [g2] }), round % 5 * 8);
        for body in [first.await.unwrap(), second.await.unwrap()] {
            assert_eq!(code(&body), None, "{body}");
        }
        let groups = groups_of(&app, &admin, "ann").await;
        assert!(groups.contains(&g1) && groups.contains(&g2), "round {round}: {groups:?}");
    }
}

/// A removal racing the deletion of its group: the removal first (both succeed) or
/// the deletion (the removal names a group that is gone: BAD_USER_INPUT); never an
/// internal error, and the user ends outside the group either way.
#[tokio::test]
async fn a_removal_racing_the_deletion_of_its_group_ends_as_one_serial_order() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regular_user("ann").await;
    for round in 0..20 {
        let group = format!("g{round}");
        must_create_group(&app, &admin, json!({ "name": group, "permissions": [] })).await;
        let body = app.gql(Some(&admin), ADD, json!({ "u": "ann", "g": [group] })).await;
        assert_eq!(code(&body), None, "{body}");
        let remove = app.spawn_gql(Some(&admin), REMOVE, json!({ "u": "ann", "g": [group] }), 0);
        let delete = app.spawn_gql(
            Some(&admin),
            "mutation($n: String!) { deleteGroup(name: $n) { name } }",
            json!({ "n": group }),
            round % 5 * 8,
        );
        let (remove, delete) = (remove.await.unwrap(), delete.await.unwrap());
        assert_eq!(code(&delete), None, "{delete}");
        assert!(matches!(code(&remove), None | Some("BAD_USER_INPUT")), "round {round}: {remove}");
        assert!(!groups_of(&app, &admin, "ann").await.contains(&group), "round {round}");
    }
}

//! RULES §4: the default groups of a new database and of a new user, and names that
//! collide handing no rights over.

use serde_json::{Value, json};

use super::{group_names, read_back, snapshot};
use crate::helpers::{
    GROUPS_WITHOUT_ID, TestApp, all_group_names, assert_code, assert_ok, create_user, delete_user, edit_user,
    groups_without_id_and_own_groups_of, new_regular_user_groups, query_me, query_user, sorted_perms,
};

#[tokio::test]
async fn new_database_holds_exactly_the_fifteen_default_groups() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    assert_eq!(all_group_names(&app, &admin).await, GROUPS_WITHOUT_ID);
}

#[tokio::test]
async fn new_regular_user_is_in_exactly_the_default_groups_sorted_by_name() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bob = app.regular_user("bob").await;

    let expected = [
        "create-custom_list",
        "create-model",
        "edit-custom_list",
        "edit-user-bob",
        "read-custom_list",
        "read-user-bob",
    ];
    assert_eq!(group_names(&read_back(&app, &admin, "bob").await), expected);
    assert_eq!(group_names(&query_me(&app, &bob).await["data"]["me"]), expected);

    assert_eq!(all_group_names(&app, &admin).await, groups_without_id_and_own_groups_of(&["bob"]));
}

#[tokio::test]
async fn own_user_groups_grant_read_and_edit_of_that_user_only() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regular_user("bob").await;

    let permissions = |body: &Value| sorted_perms(&body["data"]["group"]["permissions"]);
    let query = "query($n: String!) { group(name: $n) { name permissions { resourceType resourceId method } } }";
    let read = app.gql(Some(&admin), query, json!({ "n": "read-user-bob" })).await;
    assert_eq!(permissions(&read), [("USER".to_owned(), Some("bob".to_owned()), "GET".to_owned())]);
    let edit = app.gql(Some(&admin), query, json!({ "n": "edit-user-bob" })).await;
    let bob = || Some("bob".to_owned());
    assert_eq!(
        permissions(&edit),
        [
            ("USER".to_owned(), bob(), "DELETE".to_owned()),
            ("USER".to_owned(), bob(), "POST".to_owned()),
            ("USER".to_owned(), bob(), "PUT".to_owned()),
        ]
    );
}

#[tokio::test]
async fn admin_created_with_role_admin_is_in_no_group() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let body =
        create_user(&app, &admin, json!({ "username": "root", "password": "root-password", "role": "ADMIN" })).await;
    assert_ok(&body, "create root");
    assert_eq!(body["data"]["createUser"]["groups"], json!([]));
    assert_eq!(read_back(&app, &admin, "root").await["groups"], json!([]));
    assert_eq!(read_back(&app, &admin, "admin").await["groups"], json!([]), "the bootstrap admin");
    assert_eq!(all_group_names(&app, &admin).await, GROUPS_WITHOUT_ID, "no group made for an admin");
}

#[tokio::test]
async fn delete_user_removes_its_own_read_and_edit_groups() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regular_user("bob").await;
    app.regular_user("alice").await;

    assert_ok(&delete_user(&app, &admin, "bob").await, "delete bob");
    assert_eq!(all_group_names(&app, &admin).await, groups_without_id_and_own_groups_of(&["alice"]));
    assert_eq!(group_names(&read_back(&app, &admin, "alice").await), new_regular_user_groups("alice"));

    // A re-created bob starts afresh, with groups of its own.
    let bob = app.regular_user("bob").await;
    assert_eq!(group_names(&query_me(&app, &bob).await["data"]["me"]), new_regular_user_groups("bob"));
}

#[tokio::test]
async fn users_a_dash_b_and_a_triple_underscore_b_cannot_reach_each_other() {
    for (first, second) in [("a-b", "a___b"), ("a___b", "a-b")] {
        let app = TestApp::spawn().await;
        let admin = app.admin().await;
        let first_token = app.regular_user(first).await;
        let second_token = app.regular_user(second).await;
        let before = snapshot(&app, &admin).await;

        for (me, token, other) in [(first, &first_token, second), (second, &second_token, first)] {
            let own = query_user(&app, token, me).await;
            assert_ok(&own, &format!("{me} reads itself"));
            assert_eq!(own["data"]["user"]["username"], me);
            assert_eq!(query_me(&app, token).await["data"]["me"]["username"], me);

            let what = format!("{me} (created {}) reaching {other}", if me == first { "first" } else { "second" });
            assert_code(&query_user(&app, token, other).await, "FORBIDDEN", &format!("{what}: user"));
            assert_code(
                &edit_user(&app, token, json!({ "username": other, "fullName": "Hijacked" })).await,
                "FORBIDDEN",
                &format!("{what}: editUser"),
            );
            assert_code(
                &edit_user(&app, token, json!({ "username": other, "password": "hijacked-password" })).await,
                "FORBIDDEN",
                &format!("{what}: editUser password"),
            );
            assert_code(&delete_user(&app, token, other).await, "FORBIDDEN", &format!("{what}: deleteUser"));
        }
        assert_eq!(snapshot(&app, &admin).await, before, "nothing changed");

        // Deleting one leaves the other's rights intact.
        assert_ok(&delete_user(&app, &admin, first).await, "delete the first");
        let own = query_user(&app, &second_token, second).await;
        assert_ok(&own, "the second still reads itself");
        assert_ok(
            &edit_user(&app, &second_token, json!({ "username": second, "fullName": "Still me" })).await,
            "the second still edits itself",
        );
        assert_eq!(read_back(&app, &admin, second).await["groups"], before_groups(&before, second));
    }
}

/// A user's groups in a snapshot.
fn before_groups(snapshot: &Value, username: &str) -> Value {
    snapshot["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == username)
        .unwrap_or_else(|| panic!("{username} not in {snapshot}"))["groups"]
        .clone()
}

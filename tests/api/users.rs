//! Users over HTTP: who may read, create, edit and delete whom (RULES §3), the
//! default groups (§4), patch semantics, orderings (§7) and failed mutations (§2).

use serde_json::{Value, json};

use crate::helpers::{
    GROUPS_WITHOUT_ID, TestApp, USER_FIELDS, all_group_names, assert_code, assert_ok, code, create_user, delete_user,
    edit_user, groups_without_id_and_own_groups_of, new_regular_user_groups, password_of, query_me, query_user,
    query_users, sorted_perms, try_login, usernames,
};

// ---------------------------------------------------------------- helpers

/// The user as the admin reads it (`null` when it does not exist).
async fn read_back(app: &TestApp, admin: &str, username: &str) -> Value {
    query_user(app, admin, username).await["data"]["user"].clone()
}

/// Every user and every group with its permissions, as the admin sees them.
async fn snapshot(app: &TestApp, admin: &str) -> Value {
    let body = app
        .gql(
            Some(admin),
            &format!(
                "{{ users {{ {USER_FIELDS} }} groups {{ name permissions {{ resourceType resourceId method }} }} }}"
            ),
            json!({}),
        )
        .await;
    assert!(body["errors"].is_null(), "snapshot failed: {body}");
    body["data"].clone()
}

/// The group names of a user object.
fn group_names(user: &Value) -> Vec<String> {
    user["groups"]
        .as_array()
        .unwrap_or_else(|| panic!("no groups in {user}"))
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Whether `login(username, password)` succeeds.
async fn can_log_in(app: &TestApp, username: &str, password: &str) -> bool {
    try_login(app, username, password).await["data"]["login"]["accessToken"].is_string()
}

/// A REGULAR user in `groups` on top of its defaults, and its token.
async fn member_of(app: &TestApp, username: &str, groups: &[&str]) -> String {
    let token = app.regular_user(username).await;
    app.add_groups(username, groups).await;
    token
}

// ---------------------------------------------------------------- §3 table: ADMIN

#[tokio::test]
async fn admin_reads_lists_creates_edits_and_deletes_any_user() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regular_user("alice").await;

    let me = query_me(&app, &admin).await;
    assert_ok(&me, "admin me");
    assert_eq!(me["data"]["me"]["username"], "admin");
    assert_eq!(me["data"]["me"]["role"], "ADMIN");

    let alice = query_user(&app, &admin, "alice").await;
    assert_ok(&alice, "admin user(alice)");
    assert_eq!(alice["data"]["user"]["username"], "alice");

    let users = query_users(&app, &admin).await;
    assert_ok(&users, "admin users");
    assert_eq!(usernames(&users), ["admin", "alice"]);

    let created = create_user(&app, &admin, json!({ "username": "carol", "password": "carol-password" })).await;
    assert_ok(&created, "admin createUser");
    assert_eq!(created["data"]["createUser"]["username"], "carol");
    assert_eq!(created["data"]["createUser"]["role"], "REGULAR");
    assert_eq!(created["data"]["createUser"]["disabled"], false);
    assert!(can_log_in(&app, "carol", "carol-password").await);

    let edited = edit_user(&app, &admin, json!({ "username": "alice", "email": "alice@example.org" })).await;
    assert_ok(&edited, "admin editUser");
    assert_eq!(edited["data"]["editUser"]["email"], "alice@example.org");
    assert_eq!(read_back(&app, &admin, "alice").await["email"], "alice@example.org");

    let deleted = delete_user(&app, &admin, "carol").await;
    assert_ok(&deleted, "admin deleteUser");
    assert_eq!(deleted["data"]["deleteUser"]["username"], "carol");
    assert!(read_back(&app, &admin, "carol").await.is_null());
}

#[tokio::test]
async fn admin_reading_a_missing_user_gets_not_found_and_null() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let body = query_user(&app, &admin, "nobody").await;
    assert_code(&body, "NOT_FOUND", "admin user(nobody)");
    assert!(body["data"]["user"].is_null(), "{body}");
    assert_code(&edit_user(&app, &admin, json!({ "username": "nobody", "fullName": "X" })).await, "NOT_FOUND", "edit");
    assert_code(&delete_user(&app, &admin, "nobody").await, "NOT_FOUND", "delete");
}

#[tokio::test]
async fn admin_may_edit_and_delete_another_admin() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.create_user(&admin, json!({ "username": "root", "password": "root-password", "role": "ADMIN" })).await;
    let edited = edit_user(&app, &admin, json!({ "username": "root", "fullName": "Root" })).await;
    assert_ok(&edited, "admin edits admin");
    assert_eq!(read_back(&app, &admin, "root").await["fullName"], "Root");
    assert_ok(&delete_user(&app, &admin, "root").await, "admin deletes admin");
    assert!(read_back(&app, &admin, "root").await.is_null());
}

// ---------------------------------------------------------------- §3 table: plain REGULAR

#[tokio::test]
async fn plain_regular_user_reads_itself_through_me_and_its_own_name() {
    let app = TestApp::spawn().await;
    let bob = app.regular_user("bob").await;

    let me = query_me(&app, &bob).await;
    assert_ok(&me, "bob me");
    assert_eq!(me["data"]["me"]["username"], "bob");
    assert_eq!(me["data"]["me"]["role"], "REGULAR");

    let own = query_user(&app, &bob, "bob").await;
    assert_ok(&own, "bob user(bob)");
    assert_eq!(own["data"]["user"], me["data"]["me"]);
}

#[tokio::test]
async fn plain_regular_user_cannot_read_another_user_or_list_users() {
    let app = TestApp::spawn().await;
    let bob = app.regular_user("bob").await;
    app.regular_user("alice").await;

    let other = query_user(&app, &bob, "alice").await;
    assert_code(&other, "FORBIDDEN", "bob user(alice)");
    assert!(other["data"]["user"].is_null(), "{other}");
    assert_code(&query_user(&app, &bob, "admin").await, "FORBIDDEN", "bob user(admin)");
    // The permission check comes first: a missing user is no different.
    assert_code(&query_user(&app, &bob, "nobody").await, "FORBIDDEN", "bob user(nobody)");
    let users = query_users(&app, &bob).await;
    assert_code(&users, "FORBIDDEN", "bob users");
    assert!(users["data"].is_null() || users["data"]["users"].is_null(), "{users}");
}

#[tokio::test]
async fn plain_regular_user_cannot_create_edit_or_delete_other_users() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bob = app.regular_user("bob").await;
    app.regular_user("alice").await;
    let before = snapshot(&app, &admin).await;

    assert_code(
        &create_user(&app, &bob, json!({ "username": "carol", "password": "carol-password" })).await,
        "FORBIDDEN",
        "bob createUser",
    );
    assert_code(
        &edit_user(&app, &bob, json!({ "username": "alice", "email": "evil@example.org" })).await,
        "FORBIDDEN",
        "bob editUser(alice)",
    );
    assert_code(
        &edit_user(&app, &bob, json!({ "username": "alice", "password": "stolen-password" })).await,
        "FORBIDDEN",
        "bob changes alice's password",
    );
    assert_code(
        &edit_user(&app, &bob, json!({ "username": "admin", "fullName": "Pwned" })).await,
        "FORBIDDEN",
        "admin",
    );
    assert_code(&delete_user(&app, &bob, "alice").await, "FORBIDDEN", "bob deleteUser(alice)");
    assert_code(&delete_user(&app, &bob, "admin").await, "FORBIDDEN", "bob deleteUser(admin)");

    assert_eq!(snapshot(&app, &admin).await, before, "denied mutations changed nothing");
    assert!(can_log_in(&app, "alice", &password_of("alice")).await);
    assert!(!can_log_in(&app, "alice", "stolen-password").await);
}

#[tokio::test]
async fn plain_regular_user_edits_its_own_profile() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bob = app.regular_user("bob").await;
    let body = edit_user(&app, &bob, json!({ "username": "bob", "email": "bob@example.org", "fullName": "Bob" })).await;
    assert_ok(&body, "bob edits bob");
    assert_eq!(body["data"]["editUser"]["email"], "bob@example.org");
    let stored = read_back(&app, &admin, "bob").await;
    assert_eq!(stored["email"], "bob@example.org");
    assert_eq!(stored["fullName"], "Bob");
}

#[tokio::test]
async fn regular_user_may_delete_itself_through_its_own_edit_group() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bob = app.regular_user("bob").await;
    let body = delete_user(&app, &bob, "bob").await;
    assert_ok(&body, "bob deletes bob");
    assert!(read_back(&app, &admin, "bob").await.is_null());
    assert_code(&query_me(&app, &bob).await, "UNAUTHENTICATED", "token of a deleted user");
}

// ---------------------------------------------------------------- §3 table: read-user

#[tokio::test]
async fn read_user_member_reads_and_lists_every_user() {
    let app = TestApp::spawn().await;
    let reader = member_of(&app, "reader", &["read-user"]).await;
    app.regular_user("alice").await;

    assert_ok(&query_me(&app, &reader).await, "reader me");
    let alice = query_user(&app, &reader, "alice").await;
    assert_ok(&alice, "reader user(alice)");
    assert_eq!(alice["data"]["user"]["username"], "alice");
    let admin_user = query_user(&app, &reader, "admin").await;
    assert_ok(&admin_user, "reader user(admin)");
    assert_eq!(admin_user["data"]["user"]["role"], "ADMIN");
    let users = query_users(&app, &reader).await;
    assert_ok(&users, "reader users");
    assert_eq!(usernames(&users), ["admin", "alice", "reader"]);
    // Allowed to look, so a missing user is NOT_FOUND.
    assert_code(&query_user(&app, &reader, "nobody").await, "NOT_FOUND", "reader user(nobody)");
}

#[tokio::test]
async fn read_user_member_cannot_create_edit_or_delete_other_users() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let reader = member_of(&app, "reader", &["read-user"]).await;
    app.regular_user("alice").await;
    let before = snapshot(&app, &admin).await;

    assert_code(
        &create_user(&app, &reader, json!({ "username": "carol", "password": "carol-password" })).await,
        "FORBIDDEN",
        "reader createUser",
    );
    assert_code(&edit_user(&app, &reader, json!({ "username": "alice", "fullName": "A" })).await, "FORBIDDEN", "edit");
    assert_code(&delete_user(&app, &reader, "alice").await, "FORBIDDEN", "reader deleteUser(alice)");

    assert_eq!(snapshot(&app, &admin).await, before, "denied mutations changed nothing");
}

// ---------------------------------------------------------------- §3 table: edit-user

#[tokio::test]
async fn edit_user_member_edits_and_deletes_regular_users() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let editor = member_of(&app, "editor", &["edit-user"]).await;
    app.regular_user("alice").await;
    app.regular_user("carol").await;

    let body = edit_user(&app, &editor, json!({ "username": "alice", "fullName": "Alice A." })).await;
    assert_ok(&body, "editor editUser(alice)");
    assert_eq!(read_back(&app, &admin, "alice").await["fullName"], "Alice A.");

    let body = delete_user(&app, &editor, "carol").await;
    assert_ok(&body, "editor deleteUser(carol)");
    assert_eq!(body["data"]["deleteUser"]["username"], "carol");
    assert!(read_back(&app, &admin, "carol").await.is_null());
}

#[tokio::test]
async fn edit_user_member_cannot_read_list_or_create_users() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let editor = member_of(&app, "editor", &["edit-user"]).await;
    app.regular_user("alice").await;
    let before = snapshot(&app, &admin).await;

    assert_ok(&query_me(&app, &editor).await, "editor me");
    assert_code(&query_user(&app, &editor, "alice").await, "FORBIDDEN", "editor user(alice)");
    assert_code(&query_users(&app, &editor).await, "FORBIDDEN", "editor users");
    assert_code(
        &create_user(&app, &editor, json!({ "username": "carol", "password": "carol-password" })).await,
        "FORBIDDEN",
        "editor createUser",
    );

    assert_eq!(snapshot(&app, &admin).await, before, "denied mutations changed nothing");
}

#[tokio::test]
async fn edit_user_member_cannot_edit_or_delete_an_admin() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    // Two admins, so that deleting one would otherwise be allowed.
    app.create_user(&admin, json!({ "username": "root", "password": "root-password", "role": "ADMIN" })).await;
    let editor = member_of(&app, "editor", &["edit-user"]).await;
    let before = snapshot(&app, &admin).await;

    for target in ["admin", "root"] {
        assert_code(
            &edit_user(&app, &editor, json!({ "username": target, "fullName": "Pwned" })).await,
            "FORBIDDEN",
            "editor edits an admin",
        );
        assert_code(
            &edit_user(&app, &editor, json!({ "username": target, "password": "taken-over-password" })).await,
            "FORBIDDEN",
            "editor changes an admin's password",
        );
        assert_code(&delete_user(&app, &editor, target).await, "FORBIDDEN", "editor deletes an admin");
    }

    assert_eq!(snapshot(&app, &admin).await, before, "denied mutations changed nothing");
    assert!(can_log_in(&app, "root", "root-password").await);
}

// ---------------------------------------------------------------- §3 table: create-user

#[tokio::test]
async fn create_user_member_creates_users_with_default_values() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let creator = member_of(&app, "creator", &["create-user"]).await;

    let body = create_user(
        &app,
        &creator,
        json!({ "username": "carol", "password": "carol-password", "email": "c@example.org", "fullName": "Carol" }),
    )
    .await;
    assert_ok(&body, "creator createUser");
    let stored = read_back(&app, &admin, "carol").await;
    assert_eq!(stored["role"], "REGULAR");
    assert_eq!(stored["disabled"], false);
    assert_eq!(stored["email"], "c@example.org");
    assert_eq!(group_names(&stored), new_regular_user_groups("carol"));

    // Spelling the defaults out is not setting them to anything else.
    let body = create_user(
        &app,
        &creator,
        json!({ "username": "dave", "password": "dave-password", "role": "REGULAR", "disabled": false, "groups": [] }),
    )
    .await;
    assert_ok(&body, "creator createUser with explicit defaults");
    assert_eq!(group_names(&read_back(&app, &admin, "dave").await), new_regular_user_groups("dave"));
}

#[tokio::test]
async fn create_user_member_cannot_read_edit_or_delete_users_even_those_it_created() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let creator = member_of(&app, "creator", &["create-user"]).await;
    app.regular_user("alice").await;
    assert_ok(
        &create_user(&app, &creator, json!({ "username": "carol", "password": "carol-password" })).await,
        "creator createUser",
    );
    let before = snapshot(&app, &admin).await;

    assert_ok(&query_me(&app, &creator).await, "creator me");
    for target in ["alice", "carol"] {
        assert_code(&query_user(&app, &creator, target).await, "FORBIDDEN", "creator reads");
        assert_code(
            &edit_user(&app, &creator, json!({ "username": target, "fullName": "X" })).await,
            "FORBIDDEN",
            "edit",
        );
        assert_code(&delete_user(&app, &creator, target).await, "FORBIDDEN", "creator deletes");
    }
    assert_code(&query_users(&app, &creator).await, "FORBIDDEN", "creator users");

    assert_eq!(snapshot(&app, &admin).await, before, "denied mutations changed nothing");
}

#[tokio::test]
async fn creating_a_taken_username_is_already_exists() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regular_user("alice").await;
    let before = snapshot(&app, &admin).await;
    let body = create_user(&app, &admin, json!({ "username": "alice", "password": "another-password" })).await;
    assert_code(&body, "ALREADY_EXISTS", "createUser(alice) again");
    assert_eq!(snapshot(&app, &admin).await, before);
    assert!(can_log_in(&app, "alice", &password_of("alice")).await);
}

// ---------------------------------------------------------------- §3: role, groups, disabled

#[tokio::test]
async fn only_admin_sets_role_groups_or_disabled_on_create_user() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let creator = member_of(&app, "creator", &["create-user"]).await;
    let before = snapshot(&app, &admin).await;

    for (field, value) in [
        ("role", json!("ADMIN")),
        ("disabled", json!(true)),
        ("groups", json!(["read-user"])),
        ("groups", json!(["create-user"])),
    ] {
        let mut input = json!({ "username": "carol", "password": "carol-password" });
        input[field] = value.clone();
        let body = create_user(&app, &creator, input).await;
        assert_code(&body, "FORBIDDEN", &format!("creator createUser with {field} = {value}"));
    }

    assert_eq!(snapshot(&app, &admin).await, before, "no user was created");
    assert!(!can_log_in(&app, "carol", "carol-password").await);
}

#[tokio::test]
async fn admin_creates_users_with_role_groups_and_disabled() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;

    let body =
        create_user(&app, &admin, json!({ "username": "root", "password": "root-password", "role": "ADMIN" })).await;
    assert_ok(&body, "admin creates an admin");
    assert_eq!(read_back(&app, &admin, "root").await["role"], "ADMIN");
    let root = app.login("root", "root-password").await;
    assert_ok(&query_users(&app, &root).await, "the new admin lists users");

    let body =
        create_user(&app, &admin, json!({ "username": "off", "password": "off-password", "disabled": true })).await;
    assert_ok(&body, "admin creates a disabled user");
    assert_eq!(read_back(&app, &admin, "off").await["disabled"], true);

    let body = create_user(
        &app,
        &admin,
        json!({ "username": "reader", "password": "reader-password", "groups": ["read-user", "edit-model"] }),
    )
    .await;
    assert_ok(&body, "admin creates a user with extra groups");
    let mut expected = new_regular_user_groups("reader");
    expected.extend(["read-user".to_owned(), "edit-model".to_owned()]);
    expected.sort();
    assert_eq!(group_names(&read_back(&app, &admin, "reader").await), expected);
    let reader = app.login("reader", "reader-password").await;
    assert_ok(&query_users(&app, &reader).await, "the extra group grants its permission");
}

#[tokio::test]
async fn regular_user_cannot_promote_itself_to_admin() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bob = app.regular_user("bob").await;
    let before = snapshot(&app, &admin).await;

    for username in ["bob", "me"] {
        let body = edit_user(&app, &bob, json!({ "username": username, "role": "ADMIN" })).await;
        assert_code(&body, "FORBIDDEN", &format!("bob promotes {username}"));
        // Not even slipped in beside an allowed change.
        let body = edit_user(&app, &bob, json!({ "username": username, "role": "ADMIN", "fullName": "Boss" })).await;
        assert_code(&body, "FORBIDDEN", "bob promotes itself while editing its name");
    }

    assert_eq!(snapshot(&app, &admin).await, before, "nothing changed");
    assert_code(&query_users(&app, &bob).await, "FORBIDDEN", "bob is still no admin");
}

#[tokio::test]
async fn regular_user_cannot_change_its_own_groups_or_disable_itself() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bob = app.regular_user("bob").await;
    let before = snapshot(&app, &admin).await;

    let mut more = new_regular_user_groups("bob");
    more.push("read-user".to_owned());
    let attempts = [
        json!({ "username": "bob", "groups": more }),
        json!({ "username": "me", "groups": ["read-user", "edit-user", "create-user"] }),
        json!({ "username": "bob", "groups": [] }),
        json!({ "username": "bob", "disabled": true }),
    ];
    for input in attempts {
        assert_code(&edit_user(&app, &bob, input.clone()).await, "FORBIDDEN", &format!("bob editUser {input}"));
    }

    assert_eq!(snapshot(&app, &admin).await, before, "nothing changed");
    assert_code(&query_users(&app, &bob).await, "FORBIDDEN", "bob did not get read-user");
    assert_ok(&query_me(&app, &bob).await, "bob is not disabled");
}

#[tokio::test]
async fn edit_user_member_cannot_change_role_groups_or_disabled_of_others() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let editor = member_of(&app, "editor", &["edit-user"]).await;
    app.regular_user("alice").await;
    let before = snapshot(&app, &admin).await;

    let attempts = [
        json!({ "username": "alice", "role": "ADMIN" }),
        json!({ "username": "alice", "disabled": true }),
        json!({ "username": "alice", "groups": ["read-user"] }),
        json!({ "username": "alice", "groups": [] }),
        json!({ "username": "editor", "role": "ADMIN" }),
        json!({ "username": "me", "groups": ["read-user"] }),
    ];
    for input in attempts {
        assert_code(&edit_user(&app, &editor, input.clone()).await, "FORBIDDEN", &format!("editor editUser {input}"));
    }

    assert_eq!(snapshot(&app, &admin).await, before, "nothing changed");
}

#[tokio::test]
async fn admin_changes_role_groups_and_disabled_on_edit_user() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bob = app.regular_user("bob").await;

    let body = edit_user(&app, &admin, json!({ "username": "bob", "groups": ["read-user", "read-model"] })).await;
    assert_ok(&body, "admin replaces bob's groups");
    assert_eq!(group_names(&read_back(&app, &admin, "bob").await), ["read-model", "read-user"]);
    assert_ok(&query_users(&app, &bob).await, "bob now lists users");

    let body = edit_user(&app, &admin, json!({ "username": "bob", "disabled": true })).await;
    assert_ok(&body, "admin disables bob");
    assert_eq!(read_back(&app, &admin, "bob").await["disabled"], true);
    assert_code(&query_me(&app, &bob).await, "FORBIDDEN", "a disabled user's token");

    let body = edit_user(&app, &admin, json!({ "username": "bob", "disabled": false, "role": "ADMIN" })).await;
    assert_ok(&body, "admin enables and promotes bob");
    let stored = read_back(&app, &admin, "bob").await;
    assert_eq!(stored["disabled"], false);
    assert_eq!(stored["role"], "ADMIN");
    let bob = app.login("bob", &password_of("bob")).await;
    assert_ok(&delete_user(&app, &bob, "admin").await, "bob, now ADMIN, may delete the other admin");
}

// ---------------------------------------------------------------- §3: own password

#[tokio::test]
async fn non_admin_changing_its_own_password_without_current_password_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bob = app.regular_user("bob").await;
    let before = snapshot(&app, &admin).await;

    for username in ["bob", "me"] {
        let body = edit_user(&app, &bob, json!({ "username": username, "password": "brand-new-password" })).await;
        let refused = code(&body);
        assert!(
            refused == Some("FORBIDDEN") || refused == Some("BAD_USER_INPUT"),
            "bob changes {username}'s password without currentPassword: {body}"
        );
    }

    assert_eq!(snapshot(&app, &admin).await, before, "nothing changed");
    assert!(can_log_in(&app, "bob", &password_of("bob")).await, "the old password still works");
    assert!(!can_log_in(&app, "bob", "brand-new-password").await);
    assert_ok(&query_me(&app, &bob).await, "bob's token still works");
}

#[tokio::test]
async fn non_admin_changing_its_own_password_with_a_wrong_current_password_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bob = app.regular_user("bob").await;
    let before = snapshot(&app, &admin).await;

    let body = edit_user(
        &app,
        &bob,
        json!({ "username": "me", "password": "brand-new-password", "currentPassword": "not-bobs-password" }),
    )
    .await;
    let refused = code(&body);
    assert!(refused == Some("FORBIDDEN") || refused == Some("BAD_USER_INPUT"), "wrong currentPassword: {body}");

    assert_eq!(snapshot(&app, &admin).await, before, "nothing changed");
    assert!(can_log_in(&app, "bob", &password_of("bob")).await, "the old password still works");
    assert!(!can_log_in(&app, "bob", "brand-new-password").await);
    assert_ok(&query_me(&app, &bob).await, "bob's token still works");
}

#[tokio::test]
async fn non_admin_changes_its_own_password_with_the_right_current_password_and_old_tokens_die() {
    let app = TestApp::spawn().await;
    let bob = app.regular_user("bob").await;

    let body = edit_user(
        &app,
        &bob,
        json!({ "username": "bob", "password": "brand-new-password", "currentPassword": password_of("bob") }),
    )
    .await;
    assert_ok(&body, "bob changes its password");

    assert_code(&query_me(&app, &bob).await, "UNAUTHENTICATED", "the token issued before the change");
    assert!(!can_log_in(&app, "bob", &password_of("bob")).await, "the old password no longer works");
    let fresh = app.login("bob", "brand-new-password").await;
    let me = query_me(&app, &fresh).await;
    assert_ok(&me, "a token for the new password");
    assert_eq!(me["data"]["me"]["username"], "bob");
}

#[tokio::test]
async fn admin_sets_a_regular_users_password_without_current_password() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bob = app.regular_user("bob").await;
    assert_ok(&edit_user(&app, &admin, json!({ "username": "bob", "password": "reset-password" })).await, "reset");
    assert_code(&query_me(&app, &bob).await, "UNAUTHENTICATED", "bob's token before the reset");
    assert!(can_log_in(&app, "bob", "reset-password").await);
}

// ---------------------------------------------------------------- §3: the last enabled ADMIN

#[tokio::test]
async fn last_enabled_admin_cannot_be_deleted_disabled_or_demoted() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let before = snapshot(&app, &admin).await;

    for username in ["admin", "me"] {
        assert_code(&delete_user(&app, &admin, username).await, "BAD_USER_INPUT", "delete the last admin");
        assert_code(
            &edit_user(&app, &admin, json!({ "username": username, "disabled": true })).await,
            "BAD_USER_INPUT",
            "disable the last admin",
        );
        assert_code(
            &edit_user(&app, &admin, json!({ "username": username, "role": "REGULAR" })).await,
            "BAD_USER_INPUT",
            "demote the last admin",
        );
    }

    assert_eq!(snapshot(&app, &admin).await, before, "nothing changed");
    assert_ok(&query_users(&app, &admin).await, "the admin is still an enabled admin");
}

#[tokio::test]
async fn a_disabled_second_admin_does_not_save_the_last_enabled_one() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.create_user(
        &admin,
        json!({ "username": "root", "password": "root-password", "role": "ADMIN", "disabled": true }),
    )
    .await;
    let before = snapshot(&app, &admin).await;

    assert_code(&delete_user(&app, &admin, "admin").await, "BAD_USER_INPUT", "delete the last enabled admin");
    assert_code(
        &edit_user(&app, &admin, json!({ "username": "admin", "disabled": true })).await,
        "BAD_USER_INPUT",
        "disable the last enabled admin",
    );
    assert_code(
        &edit_user(&app, &admin, json!({ "username": "admin", "role": "REGULAR" })).await,
        "BAD_USER_INPUT",
        "demote the last enabled admin",
    );
    assert_eq!(snapshot(&app, &admin).await, before, "nothing changed");

    // The disabled one is no last enabled ADMIN: it may go.
    assert_ok(&delete_user(&app, &admin, "root").await, "delete a disabled admin");
}

#[tokio::test]
async fn with_a_second_enabled_admin_an_admin_can_be_disabled_demoted_and_deleted() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.create_user(&admin, json!({ "username": "root", "password": "root-password", "role": "ADMIN" })).await;

    let body = edit_user(&app, &admin, json!({ "username": "root", "disabled": true })).await;
    assert_ok(&body, "disable root");
    assert_eq!(read_back(&app, &admin, "root").await["disabled"], true);
    // root disabled: admin is the last enabled one again.
    assert_code(&delete_user(&app, &admin, "me").await, "BAD_USER_INPUT", "delete the last enabled admin");
    assert_ok(&edit_user(&app, &admin, json!({ "username": "root", "disabled": false })).await, "enable root");

    let body = edit_user(&app, &admin, json!({ "username": "root", "role": "REGULAR" })).await;
    assert_ok(&body, "demote root");
    assert_eq!(read_back(&app, &admin, "root").await["role"], "REGULAR");
    assert_ok(&edit_user(&app, &admin, json!({ "username": "root", "role": "ADMIN" })).await, "promote root again");

    // An admin may demote or delete itself while another admin remains enabled.
    let root = app.login("root", "root-password").await;
    assert_ok(&edit_user(&app, &root, json!({ "username": "me", "role": "REGULAR" })).await, "root demotes itself");
    assert_eq!(read_back(&app, &admin, "root").await["role"], "REGULAR");
    assert_ok(&edit_user(&app, &admin, json!({ "username": "root", "role": "ADMIN" })).await, "promote root again");

    let root = app.login("root", "root-password").await;
    let body = delete_user(&app, &root, "admin").await;
    assert_ok(&body, "root deletes the other admin");
    assert_eq!(body["data"]["deleteUser"]["role"], "ADMIN");
    assert!(read_back(&app, &root, "admin").await.is_null());
    assert_code(&delete_user(&app, &root, "root").await, "BAD_USER_INPUT", "root is now the last enabled admin");
}

// ---------------------------------------------------------------- §4: default groups

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

// ---------------------------------------------------------------- EditUserInput patch semantics

async fn carol_with_profile(app: &TestApp, admin: &str) {
    app.create_user(
        admin,
        json!({
            "username": "carol",
            "password": "carol-password",
            "email": "carol@example.org",
            "fullName": "Carol C.",
        }),
    )
    .await;
}

#[tokio::test]
async fn edit_user_leaves_omitted_fields_unchanged() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    carol_with_profile(&app, &admin).await;
    let before = read_back(&app, &admin, "carol").await;

    let body = edit_user(&app, &admin, json!({ "username": "carol", "fullName": "Carol D." })).await;
    assert_ok(&body, "edit fullName only");
    let mut expected = before.clone();
    expected["fullName"] = json!("Carol D.");
    assert_eq!(body["data"]["editUser"], expected, "the returned user");
    assert_eq!(read_back(&app, &admin, "carol").await, expected, "the stored user");

    let body = edit_user(&app, &admin, json!({ "username": "carol", "email": "new@example.org" })).await;
    assert_ok(&body, "edit email only");
    expected["email"] = json!("new@example.org");
    assert_eq!(read_back(&app, &admin, "carol").await, expected);

    let body = edit_user(&app, &admin, json!({ "username": "carol" })).await;
    assert_ok(&body, "edit nothing");
    assert_eq!(read_back(&app, &admin, "carol").await, expected);
    assert!(can_log_in(&app, "carol", "carol-password").await, "password untouched");
}

#[tokio::test]
async fn edit_user_with_explicit_null_clears_email_and_full_name() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    carol_with_profile(&app, &admin).await;

    let body = edit_user(&app, &admin, json!({ "username": "carol", "email": null })).await;
    assert_ok(&body, "clear email");
    let stored = read_back(&app, &admin, "carol").await;
    assert!(stored["email"].is_null(), "{stored}");
    assert_eq!(stored["fullName"], "Carol C.", "fullName untouched");

    let body = edit_user(&app, &admin, json!({ "username": "carol", "fullName": null })).await;
    assert_ok(&body, "clear fullName");
    assert!(body["data"]["editUser"]["fullName"].is_null(), "{body}");
    let stored = read_back(&app, &admin, "carol").await;
    assert!(stored["fullName"].is_null(), "{stored}");
    assert!(stored["email"].is_null(), "{stored}");

    // Also through an inline literal null, by the user itself.
    let carol = app.login("carol", "carol-password").await;
    assert_ok(&edit_user(&app, &carol, json!({ "username": "me", "email": "c@example.org" })).await, "set email");
    let body = app
        .gql(Some(&carol), r#"mutation { editUser(input: {username: "carol", email: null}) { email } }"#, json!({}))
        .await;
    assert_ok(&body, "clear email with a literal null");
    assert!(read_back(&app, &admin, "carol").await["email"].is_null());
}

#[tokio::test]
async fn edit_user_with_username_me_edits_the_caller() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bob = app.regular_user("bob").await;

    let body = edit_user(&app, &bob, json!({ "username": "me", "fullName": "Bob B." })).await;
    assert_ok(&body, "bob edits me");
    assert_eq!(body["data"]["editUser"]["username"], "bob");
    assert_eq!(read_back(&app, &admin, "bob").await["fullName"], "Bob B.");

    let body = edit_user(&app, &admin, json!({ "username": "me", "fullName": "The Admin" })).await;
    assert_ok(&body, "admin edits me");
    assert_eq!(body["data"]["editUser"]["username"], "admin");
    assert_eq!(read_back(&app, &admin, "admin").await["fullName"], "The Admin");
    assert_eq!(read_back(&app, &admin, "bob").await["fullName"], "Bob B.", "bob untouched");
}

#[tokio::test]
async fn user_me_is_the_caller() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bob = app.regular_user("bob").await;

    let body = query_user(&app, &bob, "me").await;
    assert_ok(&body, "bob user(me)");
    assert_eq!(body["data"]["user"], query_me(&app, &bob).await["data"]["me"]);
    assert_eq!(body["data"]["user"]["username"], "bob");

    let body = query_user(&app, &admin, "me").await;
    assert_ok(&body, "admin user(me)");
    assert_eq!(body["data"]["user"]["username"], "admin");
}

#[tokio::test]
async fn delete_user_returns_the_user_as_it_was_including_groups() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    carol_with_profile(&app, &admin).await;
    app.add_groups("carol", &["read-user", "edit-model"]).await;
    let before = read_back(&app, &admin, "carol").await;
    assert_eq!(before["groups"].as_array().unwrap().len(), 8, "{before}");

    let body = delete_user(&app, &admin, "carol").await;
    assert_ok(&body, "delete carol");
    assert_eq!(body["data"]["deleteUser"], before);
    assert!(read_back(&app, &admin, "carol").await.is_null());
}

#[tokio::test]
async fn delete_user_me_deletes_the_caller() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bob = app.regular_user("bob").await;
    let body = delete_user(&app, &bob, "me").await;
    assert_ok(&body, "bob deletes me");
    assert_eq!(body["data"]["deleteUser"]["username"], "bob");
    assert!(read_back(&app, &admin, "bob").await.is_null());
    assert!(!read_back(&app, &admin, "admin").await.is_null());
}

// ---------------------------------------------------------------- §7 orderings

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

// ---------------------------------------------------------------- concurrency

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

// ---------------------------------------------------------------- failed mutations change nothing

#[tokio::test]
async fn failed_create_user_with_an_unknown_group_leaves_no_user_behind() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let before = snapshot(&app, &admin).await;

    let body = create_user(
        &app,
        &admin,
        json!({ "username": "ghost", "password": "ghost-password", "groups": ["read-user", "no-such-group"] }),
    )
    .await;
    assert_code(&body, "BAD_USER_INPUT", "createUser with an unknown group");

    assert_code(&query_user(&app, &admin, "ghost").await, "NOT_FOUND", "no ghost");
    assert_eq!(snapshot(&app, &admin).await, before, "no user and no group left behind");
    assert!(!can_log_in(&app, "ghost", "ghost-password").await);
    // The name is still free.
    assert_ok(&create_user(&app, &admin, json!({ "username": "ghost", "password": "ghost-password" })).await, "retry");
}

#[tokio::test]
async fn failed_create_user_with_invalid_input_leaves_no_user_behind() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let before = snapshot(&app, &admin).await;
    let attempts = [
        json!({ "username": "ghost", "password": "short" }),
        json!({ "username": "ghost", "password": "ghost-password", "email": "no-at-sign" }),
        json!({ "username": "me", "password": "ghost-password" }),
        json!({ "username": "has space", "password": "ghost-password" }),
        json!({ "username": "", "password": "ghost-password" }),
    ];
    for input in attempts {
        assert_code(&create_user(&app, &admin, input.clone()).await, "BAD_USER_INPUT", &format!("createUser {input}"));
    }
    assert_eq!(snapshot(&app, &admin).await, before);
}

#[tokio::test]
async fn failed_edit_user_with_an_unknown_group_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    carol_with_profile(&app, &admin).await;
    let before = snapshot(&app, &admin).await;

    let body = edit_user(
        &app,
        &admin,
        json!({
            "username": "carol",
            "email": "changed@example.org",
            "fullName": null,
            "password": "changed-password",
            "groups": ["read-user", "no-such-group"],
        }),
    )
    .await;
    assert_code(&body, "BAD_USER_INPUT", "editUser with an unknown group");

    assert_eq!(snapshot(&app, &admin).await, before, "nothing changed");
    assert!(can_log_in(&app, "carol", "carol-password").await, "password unchanged");
}

#[tokio::test]
async fn failed_demotion_with_an_unknown_group_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.create_user(&admin, json!({ "username": "root", "password": "root-password", "role": "ADMIN" })).await;
    let root = app.login("root", "root-password").await;
    let before = snapshot(&app, &admin).await;

    let body =
        edit_user(&app, &admin, json!({ "username": "root", "role": "REGULAR", "groups": ["no-such-group"] })).await;
    assert_code(&body, "BAD_USER_INPUT", "demotion with an unknown group");

    assert_eq!(snapshot(&app, &admin).await, before, "still ADMIN, in no group, no group created");
    assert_ok(&query_users(&app, &root).await, "root is still an admin");
}

#[tokio::test]
async fn failed_edit_user_with_invalid_input_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    carol_with_profile(&app, &admin).await;
    let before = snapshot(&app, &admin).await;
    let attempts = [
        json!({ "username": "carol", "fullName": "Valid", "email": "no-at-sign" }),
        json!({ "username": "carol", "email": "ok@example.org", "password": "short" }),
        json!({ "username": "carol", "email": "ok@example.org", "fullName": "x".repeat(257) }),
    ];
    for input in attempts {
        assert_code(&edit_user(&app, &admin, input.clone()).await, "BAD_USER_INPUT", &format!("editUser {input}"));
    }
    assert_eq!(snapshot(&app, &admin).await, before);
    assert!(can_log_in(&app, "carol", "carol-password").await);
}

#[tokio::test]
async fn a_mutation_answers_with_what_it_wrote_even_about_the_caller() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    // The caller's own groups and models were read to authenticate it; the answer must
    // still show them as written.
    let body = app
        .gql(
            Some(&admin),
            "mutation { createModel(id: \"m1\") { id } \
             editUser(input: {username: \"me\", groups: [\"read-model\"]}) { groups { name } models { id } } }",
            json!({}),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(body["data"]["editUser"], json!({"groups": [{"name": "read-model"}], "models": [{"id": "m1"}]}));
}

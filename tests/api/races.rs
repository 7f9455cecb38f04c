//! RULES §3 under concurrency: two conflicting mutations sent at once, again and
//! again, always end in a state that some serial order of them gives, with the
//! answers that order gives. The second request of a round starts a few
//! milliseconds after the first, a different offset each round, so that the rounds
//! meet the first one at different points of its work; nothing asserts on timing.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, code, must_create_group, names, password_of, try_login};

const ROUNDS: u64 = 20;

/// Who sends one request of a race, the document, and its variables.
type Request<'a> = (&'a str, &'a str, Value);

/// Sends `first`, and `second` `offset_ms` later, each from a task of its own; both
/// answers.
async fn race(app: &TestApp, first: Request<'_>, second: Request<'_>, offset_ms: u64) -> (Value, Value) {
    let first = app.spawn_gql(Some(first.0), first.1, first.2, 0);
    let second = app.spawn_gql(Some(second.0), second.1, second.2, offset_ms);
    (first.await.unwrap(), second.await.unwrap())
}

/// The offset of round `round`'s second request: 0 to 32 ms.
fn offset(round: u64) -> u64 {
    (round % 5) * 8
}

/// The offset for a first request that changes a password (two Argon2 runs before
/// its transaction): 0 to 95 ms, so that the second lands before, during and after.
fn offset_past_argon2(round: u64) -> u64 {
    (round % 20) * 5
}

const EDIT_USER: &str = "mutation($i: EditUserInput!) { editUser(input: $i) { username } }";
const DELETE_USER: &str = "mutation($u: String!) { deleteUser(username: $u) { username } }";
const READ_USER: &str = "query($u: String!) { user(username: $u) { role disabled email groups { name } } }";

/// The user as an admin reads it; null when it does not exist.
async fn read_user(app: &TestApp, admin: &str, username: &str) -> Value {
    app.gql(Some(admin), READ_USER, json!({ "u": username })).await["data"]["user"].clone()
}

/// A REGULAR user changes its password and sends its groups and `disabled` unchanged,
/// while an ADMIN disables it and takes all but its own groups away (the race of
/// issue 11). Either the user's edit came first (both succeed, the password is new)
/// or the admin's (the user's edit is refused, the password is the old one); the user
/// always ends disabled with the admin's groups.
#[tokio::test]
async fn a_self_edit_racing_an_admins_disable_and_revoke_ends_as_one_serial_order() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let mut self_edit_first = 0;
    for round in 0..ROUNDS {
        let u = format!("racer{round}");
        let token = app.regular_user(&u).await;
        let groups = names(&read_user(&app, &admin, &u).await["groups"]);
        // Sorted by name, as `User.groups` lists them.
        let revoked = json!([format!("edit-user-{u}"), format!("read-user-{u}")]);
        let new_password = format!("new-password-{u}");
        let (own, admins) = race(
            &app,
            (
                &token,
                EDIT_USER,
                json!({ "i": { "username": "me", "password": new_password, "currentPassword": password_of(&u),
                           "disabled": false, "groups": groups } }),
            ),
            (&admin, EDIT_USER, json!({ "i": { "username": u, "disabled": true, "groups": revoked } })),
            offset_past_argon2(round),
        )
        .await;
        assert_eq!(code(&admins), None, "the admin's edit always succeeds: {admins}");
        let after = read_user(&app, &admin, &u).await;
        assert_eq!(after["disabled"], true, "round {round}: {own} {after}");
        assert_eq!(json!(names(&after["groups"])), revoked, "round {round}: {own} {after}");
        // A disabled user's right password is FORBIDDEN at login, a wrong one UNAUTHENTICATED.
        match code(&own) {
            None => {
                self_edit_first += 1;
                assert_eq!(code(&try_login(&app, &u, &new_password).await), Some("FORBIDDEN"));
            }
            Some("FORBIDDEN") => {
                assert_eq!(code(&try_login(&app, &u, &password_of(&u)).await), Some("FORBIDDEN"));
            }
            other => panic!("round {round}: the user's edit answered {other:?}: {own}"),
        }
    }
    eprintln!("the self-edit came first in {self_edit_first} of {ROUNDS} rounds");
}

/// A member of `edit-user` sends `role: REGULAR` ("unchanged") with an email while an
/// ADMIN promotes the same user: the promotion always stands.
#[tokio::test]
async fn an_unchanged_role_from_a_helpdesk_never_undoes_a_concurrent_promotion() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let helpdesk = app.regular_user("helpdesk").await;
    app.add_groups("helpdesk", &["edit-user"]).await;
    for round in 0..ROUNDS {
        let u = format!("target{round}");
        app.regular_user(&u).await;
        let email = format!("{u}@example.org");
        let (edit, promote) = race(
            &app,
            (&helpdesk, EDIT_USER, json!({ "i": { "username": u, "role": "REGULAR", "email": email } })),
            (&admin, EDIT_USER, json!({ "i": { "username": u, "role": "ADMIN" } })),
            offset(round),
        )
        .await;
        assert_eq!(code(&promote), None, "{promote}");
        let after = read_user(&app, &admin, &u).await;
        assert_eq!(after["role"], "ADMIN", "round {round}: {edit} {after}");
        match code(&edit) {
            None => assert_eq!(after["email"], email.as_str(), "round {round}"),
            Some("FORBIDDEN") => assert!(after["email"].is_null(), "round {round}: {after}"),
            other => panic!("round {round}: the helpdesk's edit answered {other:?}: {edit}"),
        }
    }
}

/// A member of `edit-user` deletes a user while an ADMIN promotes it: either the
/// deletion came first (the promotion finds no user) or the promotion (and an ADMIN
/// cannot be deleted by a non-admin).
#[tokio::test]
async fn a_helpdesk_deletion_racing_a_promotion_ends_as_one_serial_order() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let helpdesk = app.regular_user("helpdesk").await;
    app.add_groups("helpdesk", &["edit-user"]).await;
    for round in 0..ROUNDS {
        let u = format!("target{round}");
        app.regular_user(&u).await;
        let (delete, promote) = race(
            &app,
            (&helpdesk, DELETE_USER, json!({ "u": u })),
            (&admin, EDIT_USER, json!({ "i": { "username": u, "role": "ADMIN" } })),
            offset(round),
        )
        .await;
        let after = read_user(&app, &admin, &u).await;
        match (code(&delete), code(&promote)) {
            (None, Some("NOT_FOUND")) => assert!(after.is_null(), "round {round}: {after}"),
            (Some("FORBIDDEN"), None) => assert_eq!(after["role"], "ADMIN", "round {round}: {after}"),
            other => panic!("round {round}: no serial order answers {other:?}: {delete} {promote}"),
        }
    }
}

/// Two ADMINs delete each other at once: whichever runs first wins, the other finds
/// itself gone; one enabled ADMIN always remains.
#[tokio::test]
async fn two_admins_deleting_each_other_at_once_leave_one() {
    let app = TestApp::spawn().await;
    let mut keeper = ("admin".to_owned(), app.admin().await);
    for round in 0..ROUNDS {
        let other = format!("second{round}");
        app.create_user(&keeper.1, json!({ "username": other, "password": password_of(&other), "role": "ADMIN" }))
            .await;
        let other_token = app.login(&other, &password_of(&other)).await;
        let (first, second) = race(
            &app,
            (&keeper.1, DELETE_USER, json!({ "u": other })),
            (&other_token, DELETE_USER, json!({ "u": keeper.0 })),
            offset(round),
        )
        .await;
        let (loser, winner) = match (code(&first), code(&second)) {
            (None, Some("UNAUTHENTICATED")) => (other.clone(), keeper.clone()),
            (Some("UNAUTHENTICATED"), None) => (keeper.0.clone(), (other.clone(), other_token)),
            answers => panic!("round {round}: no serial order answers {answers:?}: {first} {second}"),
        };
        assert!(read_user(&app, &winner.1, &loser).await.is_null(), "round {round}");
        let survivor = read_user(&app, &winner.1, &winner.0).await;
        assert_eq!((&survivor["role"], &survivor["disabled"]), (&json!("ADMIN"), &json!(false)), "round {round}");
        keeper = winner;
    }
}

/// An ADMIN disables a second ADMIN while the second demotes the first: at least
/// one enabled ADMIN remains.
#[tokio::test]
async fn two_admins_disabling_and_demoting_each_other_at_once_leave_an_enabled_admin() {
    let app = TestApp::spawn().await;
    for round in 0..ROUNDS {
        let admin = app.admin().await;
        let other = format!("second{round}");
        app.create_user(&admin, json!({ "username": other, "password": password_of(&other), "role": "ADMIN" })).await;
        let other_token = app.login(&other, &password_of(&other)).await;
        let (disable, demote) = race(
            &app,
            (&admin, EDIT_USER, json!({ "i": { "username": other, "disabled": true } })),
            (&other_token, EDIT_USER, json!({ "i": { "username": "admin", "role": "REGULAR" } })),
            offset(round),
        )
        .await;
        let mut ok = 0;
        for body in [&disable, &demote] {
            match code(body) {
                None => ok += 1,
                Some("FORBIDDEN" | "BAD_USER_INPUT") => {}
                other => panic!("round {round}: {other:?}: {body}"),
            }
        }
        assert_eq!(ok, 1, "exactly one of them wins, round {round}: {disable} {demote}");
        // Put things back for the next round: whoever is still an enabled ADMIN does it.
        let (keeper, keeper_name) = if code(&disable).is_none() { (admin, "admin") } else { (other_token, &*other) };
        assert_eq!(read_user(&app, &keeper, keeper_name).await["role"], "ADMIN");
        if code(&demote).is_none() {
            let body =
                app.gql(Some(&keeper), EDIT_USER, json!({ "i": { "username": "admin", "role": "ADMIN" } })).await;
            assert_eq!(code(&body), None, "{body}");
        }
        let body = app.gql(Some(&app.admin().await), DELETE_USER, json!({ "u": other })).await;
        assert_eq!(code(&body), None, "{body}");
    }
}

const EDIT_GROUP: &str = "mutation($n: String!, $p: [PermissionInput!]!) { \
     editGroup(input: {name: $n, permissions: $p}) { name } }";

async fn group_permissions(app: &TestApp, admin: &str, name: &str) -> Value {
    let body = app
        .gql(
            Some(admin),
            "query($n: String!) { group(name: $n) { permissions { resourceType resourceId method } } }",
            json!({ "n": name }),
        )
        .await;
    body["data"]["group"]["permissions"].clone()
}

/// Two edits of one group's permissions at once: the group ends with exactly one of
/// the two sets, never a mix.
#[tokio::test]
async fn two_edits_of_one_group_at_once_leave_one_of_the_two_sets() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    must_create_group(&app, &admin, json!({ "name": "g", "permissions": [] })).await;
    let set = |id: &str| {
        json!([
            { "resourceType": "MODEL", "resourceId": id, "method": "GET" },
            { "resourceType": "MODEL", "resourceId": id, "method": "PUT" },
        ])
    };
    for round in 0..ROUNDS {
        let (a, b) = (format!("a{round}"), format!("b{round}"));
        let (first, second) = race(
            &app,
            (&admin, EDIT_GROUP, json!({ "n": "g", "p": set(&a) })),
            (&admin, EDIT_GROUP, json!({ "n": "g", "p": set(&b) })),
            offset(round),
        )
        .await;
        assert_eq!((code(&first), code(&second)), (None, None), "{first} {second}");
        let permissions = group_permissions(&app, &admin, "g").await;
        assert!(permissions == set(&a) || permissions == set(&b), "round {round}: a mix: {permissions}");
    }
}

/// An edit of a group's permissions racing its deletion: either the edit came first
/// (both succeed, the group is gone) or the deletion (the edit finds no group).
#[tokio::test]
async fn an_edit_of_a_group_racing_its_deletion_ends_as_one_serial_order() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for round in 0..ROUNDS {
        let name = format!("g{round}");
        must_create_group(&app, &admin, json!({ "name": name, "permissions": [] })).await;
        let permission = json!([{ "resourceType": "USER", "resourceId": null, "method": "GET" }]);
        let (edit, delete) = race(
            &app,
            (&admin, EDIT_GROUP, json!({ "n": name, "p": permission })),
            (&admin, "mutation($n: String!) { deleteGroup(name: $n) { name } }", json!({ "n": name })),
            offset(round),
        )
        .await;
        assert_eq!(code(&delete), None, "{delete}");
        assert!(matches!(code(&edit), None | Some("NOT_FOUND")), "round {round}: {edit}");
        assert!(
            group_permissions(&app, &admin, &name).await.is_null(),
            "round {round}: the group outlived its deletion"
        );
        let body = app.gql(Some(&admin), "{ permissions { resourceType resourceId method } }", json!({})).await;
        assert_eq!(code(&body), None, "{body}");
    }
}

/// Two replacements of one user's group list at once: it ends as exactly one of
/// them, never their union.
#[tokio::test]
async fn two_replacements_of_a_users_groups_at_once_leave_one_of_the_two_lists() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regular_user("u").await;
    for round in 0..ROUNDS {
        let first_list = json!(["read-model", "read-user"]);
        let second_list = json!(["edit-model", "read-group"]);
        let (first, second) = race(
            &app,
            (&admin, EDIT_USER, json!({ "i": { "username": "u", "groups": first_list } })),
            (&admin, EDIT_USER, json!({ "i": { "username": "u", "groups": second_list } })),
            offset(round),
        )
        .await;
        assert_eq!((code(&first), code(&second)), (None, None), "{first} {second}");
        let groups = json!(names(&read_user(&app, &admin, "u").await["groups"]));
        assert!(groups == first_list || groups == second_list, "round {round}: {groups}");
    }
}

/// A user's group list replaced while one of the groups named is deleted: either the
/// replacement came first (the user ends without the deleted group) or the deletion
/// (the replacement names a group that no longer exists: BAD_USER_INPUT, nothing
/// changes).
#[tokio::test]
async fn a_membership_edit_racing_the_deletion_of_its_group_ends_as_one_serial_order() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regular_user("u").await;
    for round in 0..ROUNDS {
        let name = format!("g{round}");
        must_create_group(&app, &admin, json!({ "name": name, "permissions": [] })).await;
        let before = names(&read_user(&app, &admin, "u").await["groups"]);
        let wanted = json!(["read-model", name]);
        let (edit, delete) = race(
            &app,
            (&admin, EDIT_USER, json!({ "i": { "username": "u", "groups": wanted } })),
            (&admin, "mutation($n: String!) { deleteGroup(name: $n) { name } }", json!({ "n": name })),
            offset(round),
        )
        .await;
        assert_eq!(code(&delete), None, "{delete}");
        let after = names(&read_user(&app, &admin, "u").await["groups"]);
        match code(&edit) {
            None => assert_eq!(after, ["read-model"], "round {round}"),
            Some("BAD_USER_INPUT") => assert_eq!(after, before, "round {round}"),
            other => panic!("round {round}: the edit answered {other:?}: {edit}"),
        }
    }
}

/// Mutation fields of one document run in order, each seeing what the ones before
/// did: after deleting itself the caller is gone (RULES §3). The later field is
/// non-null, so its error nulls `data` (GraphQL's null propagation).
#[tokio::test]
async fn a_mutation_after_deleting_oneself_in_the_same_document_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let token = app.regular_user("leaver").await;
    let body = app
        .gql(
            Some(&token),
            "mutation { gone: deleteUser(username: \"me\") { username } \
             after: editUser(input: {username: \"me\", fullName: \"x\"}) { username } }",
            json!({}),
        )
        .await;
    let codes: Vec<&str> =
        body["errors"].as_array().unwrap().iter().map(|e| e["extensions"]["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["UNAUTHENTICATED"], "{body}");
    assert_eq!(body["errors"][0]["path"], json!(["after"]), "{body}");
    assert!(read_user(&app, &admin, "leaver").await.is_null(), "the first field ran: the user is gone");
}

/// A transaction PostgreSQL aborts for a deadlock is run again (RULES §3), never
/// answered INTERNAL_SERVER_ERROR. A connection of the test's own holds a group that
/// an edit needs, then waits for the user the edit holds; PostgreSQL breaks the
/// cycle on the server's side (the test's connection waits far longer before it
/// looks for deadlocks), and the server's log says it ran the transaction again.
#[tokio::test]
async fn a_transaction_aborted_for_a_deadlock_is_run_again() {
    use sqlx::{Connection, PgConnection, Row};
    if crate::DATABASE != crate::helpers::Database::Postgres {
        return; // SQLite has one writer at a time: its transactions cannot deadlock.
    }
    let app = TestApp::spawn().await;
    let server = app.another_process().await;
    let admin = server.admin().await;
    server.regular_user("u").await;
    must_create_group(&server, &admin, json!({ "name": "held", "permissions": [] })).await;

    let mut conn = PgConnection::connect(app.database_url()).await.expect("connect");
    sqlx::query("SET deadlock_timeout = '60s'").execute(&mut conn).await.unwrap();
    sqlx::query("BEGIN").execute(&mut conn).await.unwrap();
    sqlx::query("SELECT name FROM groups WHERE name = 'held' FOR UPDATE").fetch_one(&mut conn).await.unwrap();
    let edit = server.spawn_gql(Some(&admin), EDIT_USER, json!({ "i": { "username": "u", "groups": ["held"] } }), 0);
    // Until the edit's transaction waits for the group this connection holds.
    loop {
        let waiting: i64 =
            sqlx::query("SELECT count(*) FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))")
                .fetch_one(&mut conn)
                .await
                .unwrap()
                .get(0);
        if waiting > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Now this connection waits for the user the edit holds: a cycle, which the
    // server's transaction is aborted to break.
    sqlx::query("SELECT username FROM users WHERE username = 'u' FOR UPDATE").fetch_one(&mut conn).await.unwrap();
    sqlx::query("ROLLBACK").execute(&mut conn).await.unwrap();

    let body = edit.await.unwrap();
    assert_eq!(code(&body), None, "the edit succeeded on its second run: {body}");
    assert_eq!(names(&read_user(&server, &admin, "u").await["groups"]), ["held"]);
    let logs = server.logs();
    assert!(
        logs.contains("write transaction aborted; running it again") && logs.contains("40P01")
            || logs.contains("deadlock"),
        "{logs}"
    );
}

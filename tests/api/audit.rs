//! RULES §9: one event per change, in the change's transaction; none for a failure;
//! `auditLog` for ADMINs, newest first, filtered and paged.

use serde_json::{Value, json};

use crate::helpers::{TestApp, code, password_of, try_login};

const LOG: &str = "query($actor: String, $type: ResourceType, $id: String, $since: String, $first: Int, $after: String) { \
    auditLog(actor: $actor, targetType: $type, targetId: $id, since: $since, first: $first, after: $after) { \
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } \
      edges { cursor node { id at actor action targetType targetId fields requestId } } } }";

/// The whole log, newest first, as (actor, action, targetType, targetId, fields).
async fn summary(app: &TestApp, admin: &str) -> Vec<Value> {
    let body = app.gql(Some(admin), LOG, json!({ "first": 1000 })).await;
    assert_eq!(code(&body), None, "{body}");
    body["data"]["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let n = &e["node"];
            json!([n["actor"], n["action"], n["targetType"], n["targetId"], n["fields"]])
        })
        .collect()
}

/// `createModel(id: "m<i>")` for i below `count`, all sent at once.
fn create_models_at_once(app: &TestApp, admin: &str, count: usize) -> Vec<tokio::task::JoinHandle<Value>> {
    let create = "mutation($id: String!) { createModel(id: $id) { id } }";
    (0..count).map(|i| app.spawn_gql(Some(admin), create, json!({ "id": format!("m{i}") }), 0)).collect()
}

/// Runs `query` as `token` with an `x-request-id` of the test's own.
async fn with_request_id(app: &TestApp, token: &str, request_id: &str, query: &str) -> Value {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .header("x-request-id", request_id)
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap();
    response.json().await.unwrap()
}

#[tokio::test]
async fn each_successful_mutation_writes_one_event_with_what_changed() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let ok = |body: Value| assert_eq!(code(&body), None, "{body}");
    ok(app.gql(Some(&admin), "mutation { createUser(input: {username: \"ann\", password: \"password-ann\", email: \"a@x.org\"}) { username } }", json!({})).await);
    let ann = app.login("ann", &password_of("ann")).await;
    ok(app
        .gql(
            Some(&ann),
            "mutation { editUser(input: {username: \"me\", fullName: \"Ann\", email: \"a@x.org\"}) { username } }",
            json!({}),
        )
        .await);
    ok(app.gql(Some(&ann), "mutation { editUser(input: {username: \"me\"}) { username } }", json!({})).await);
    ok(app.gql(Some(&admin), "mutation { editUser(input: {username: \"ann\", password: \"another-one\", disabled: false, groups: [\"read-model\"]}) { username } }", json!({})).await);
    ok(app.gql(Some(&admin), "mutation { revokeTokens(username: \"ann\") }", json!({})).await);
    ok(app.gql(Some(&admin), "mutation { createModel(id: \"m\") { id } }", json!({})).await);
    ok(app.gql(Some(&admin), "mutation { createGroup(input: {name: \"g\", permissions: [{resourceType: MODEL, method: GET}]}) { name } }", json!({})).await);
    ok(app
        .gql(
            Some(&admin),
            "mutation { editGroup(input: {name: \"g\", permissions: [{resourceType: MODEL, method: GET}]}) { name } }",
            json!({}),
        )
        .await);
    ok(app
        .gql(Some(&admin), "mutation { editGroup(input: {name: \"g\", permissions: []}) { name } }", json!({}))
        .await);
    ok(app.gql(Some(&admin), "mutation { deleteGroup(name: \"g\") { name } }", json!({})).await);
    ok(app.gql(Some(&admin), "mutation { deleteModel(id: \"m\") { id } }", json!({})).await);
    ok(app.gql(Some(&admin), "mutation { refreshToken { accessToken } }", json!({})).await);
    ok(app.gql(Some(&admin), "mutation { deleteUser(username: \"ann\") { username } }", json!({})).await);
    let expected = json!([
        ["admin", "deleteUser", "USER", "ann", []],
        ["admin", "deleteModel", "MODEL", "m", []],
        ["admin", "deleteGroup", "GROUP", "g", []],
        ["admin", "editGroup", "GROUP", "g", ["permissions"]],
        ["admin", "editGroup", "GROUP", "g", []],
        ["admin", "createGroup", "GROUP", "g", ["permissions"]],
        ["admin", "createModel", "MODEL", "m", []],
        ["admin", "revokeTokens", "USER", "ann", []],
        ["admin", "editUser", "USER", "ann", ["groups", "password"]],
        ["ann", "editUser", "USER", "ann", []],
        ["ann", "editUser", "USER", "ann", ["fullName"]],
        ["admin", "createUser", "USER", "ann", ["email", "password"]],
        [null, "createUser", "USER", "admin", ["password", "role"]],
    ]);
    assert_eq!(json!(summary(&app, &admin).await), expected, "logins and refreshes write none; the bootstrap one");
}

#[tokio::test]
async fn an_event_keeps_the_request_id_and_the_database_time() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let body = with_request_id(&app, &admin, "trace-42.a_b", "mutation { createModel(id: \"m\") { id } }").await;
    assert_eq!(code(&body), None, "{body}");
    // Not an id this server could have made: replaced by one of its own.
    let body = with_request_id(&app, &admin, "has spaces", "mutation { createModel(id: \"n\") { id } }").await;
    assert_eq!(code(&body), None, "{body}");
    let log = app.gql(Some(&admin), LOG, json!({ "type": "MODEL" })).await;
    let nodes: Vec<&Value> = log["data"]["auditLog"]["edges"].as_array().unwrap().iter().map(|e| &e["node"]).collect();
    assert_eq!(nodes[1]["requestId"], "trace-42.a_b");
    let replaced = nodes[0]["requestId"].as_str().unwrap();
    assert!(replaced.len() == 16 && replaced.bytes().all(|b| b.is_ascii_hexdigit()), "{replaced}");
    let at = nodes[0]["at"].as_str().unwrap();
    assert!(at.len() == 24 && at.ends_with('Z') && at.as_bytes()[19] == b'.', "RFC 3339, UTC, ms: {at}");
}

#[tokio::test]
async fn a_failed_mutation_writes_no_event() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let ann = app.regular_user("ann").await;
    let before = summary(&app, &admin).await.len();
    for (token, query) in [
        (
            &admin,
            "mutation { createUser(input: {username: \"bob\", password: \"password-bob\", groups: [\"nope\"]}) { username } }",
        ),
        (&admin, "mutation { createUser(input: {username: \"ann\", password: \"password-ann\"}) { username } }"),
        (&admin, "mutation { editUser(input: {username: \"admin\", role: REGULAR}) { username } }"),
        (&ann, "mutation { editUser(input: {username: \"me\", role: ADMIN}) { username } }"),
        (&ann, "mutation { deleteUser(username: \"admin\") { username } }"),
        (&admin, "mutation { editGroup(input: {name: \"nope\", permissions: []}) { name } }"),
        (&admin, "mutation { deleteModel(id: \"nope\") { id } }"),
        (&admin, "mutation { revokeTokens(username: \"nope\") }"),
    ] {
        let body = app.gql(Some(token), query, json!({})).await;
        assert!(code(&body).is_some(), "{query} should fail: {body}");
    }
    assert_eq!(summary(&app, &admin).await.len(), before, "no event for a failure");
}

#[tokio::test]
async fn fifty_mutations_at_once_write_fifty_events_with_distinct_ids() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for request in create_models_at_once(&app, &admin, 50) {
        assert_eq!(code(&request.await.unwrap()), None);
    }
    let body = app.gql(Some(&admin), LOG, json!({ "type": "MODEL", "first": 1000 })).await;
    let edges = body["data"]["auditLog"]["edges"].as_array().unwrap();
    assert_eq!(body["data"]["auditLog"]["totalCount"], 50);
    let mut ids: Vec<i64> = edges.iter().map(|e| e["node"]["id"].as_str().unwrap().parse().unwrap()).collect();
    let mut targets: Vec<&str> = edges.iter().map(|e| e["node"]["targetId"].as_str().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first, distinct: {ids:?}");
    ids.dedup();
    targets.sort();
    targets.dedup();
    assert_eq!((ids.len(), targets.len()), (50, 50));
}

#[tokio::test]
async fn an_operator_command_writes_an_event_without_actor_or_request() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regular_user("ann").await;
    let (ok, text) = app.run_command(&["user", "disable", "--username", "ann"], "").await;
    assert!(ok, "{text}");
    let body = app.gql(Some(&admin), LOG, json!({ "first": 1 })).await;
    let node = &body["data"]["auditLog"]["edges"][0]["node"];
    assert_eq!(
        json!([node["actor"], node["action"], node["targetId"], node["fields"], node["requestId"]]),
        json!([null, "user disable", "ann", ["disabled"], null])
    );
}

#[tokio::test]
async fn a_lockout_of_an_existing_user_writes_one_event_and_of_an_unknown_name_none() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regular_user("ann").await;
    for user in ["ann", "ghost"] {
        for _ in 0..5 {
            assert_eq!(code(&try_login(&app, user, "wrong-password").await), Some("UNAUTHENTICATED"));
        }
        assert_eq!(code(&try_login(&app, user, "wrong-password").await), Some("RATE_LIMITED"));
    }
    let body = app.gql(Some(&admin), LOG, json!({ "actor": null, "first": 5 })).await;
    let locked: Vec<&Value> = body["data"]["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .filter(|n| n["action"] == "loginLocked")
        .collect();
    assert_eq!(locked.len(), 1, "{body}");
    assert_eq!(
        json!([locked[0]["actor"], locked[0]["targetType"], locked[0]["targetId"]]),
        json!([null, "USER", "ann"])
    );
    assert!(locked[0]["requestId"].is_string());
}

#[tokio::test]
async fn the_log_is_filtered_by_every_argument_and_paged_by_opaque_cursors() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let ann = app.regular_user("ann").await;
    for i in 0..5 {
        let body = app
            .gql(Some(&ann), "mutation($id: String!) { createModel(id: $id) { id } }", json!({ "id": format!("m{i}") }))
            .await;
        assert_eq!(code(&body), None, "{body}");
    }
    let page = |variables: Value| {
        let (app, admin) = (&app, &admin);
        async move { app.gql(Some(admin), LOG, variables).await }
    };
    let first = page(json!({ "actor": "ann", "first": 2 })).await;
    let log = &first["data"]["auditLog"];
    assert_eq!(log["totalCount"], 5, "{first}");
    assert_eq!(log["pageInfo"]["hasNextPage"], true);
    assert_eq!(log["pageInfo"]["hasPreviousPage"], false);
    let ids = |log: &Value| -> Vec<String> {
        log["edges"].as_array().unwrap().iter().map(|e| e["node"]["targetId"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(ids(log), ["m4", "m3"]);
    let after = log["pageInfo"]["endCursor"].as_str().unwrap();
    let second = page(json!({ "actor": "ann", "first": 10, "after": after })).await;
    assert_eq!(ids(&second["data"]["auditLog"]), ["m2", "m1", "m0"]);
    assert_eq!(second["data"]["auditLog"]["pageInfo"]["hasNextPage"], false);
    assert_eq!(second["data"]["auditLog"]["totalCount"], 5, "every match, not just this page");
    // A cursor is for the same filters only.
    assert_eq!(code(&page(json!({ "actor": "admin", "after": after })).await), Some("BAD_USER_INPUT"));
    assert_eq!(code(&page(json!({ "after": "garbage" })).await), Some("BAD_USER_INPUT"));
    // Filters.
    assert_eq!(ids(&page(json!({ "type": "MODEL", "id": "m2" })).await["data"]["auditLog"]), ["m2"]);
    // The caller, admin, created ann.
    assert_eq!(page(json!({ "actor": "me" })).await["data"]["auditLog"]["totalCount"], 1);
    assert_eq!(page(json!({ "since": "2999-01-01T00:00:00Z" })).await["data"]["auditLog"]["totalCount"], 0);
    assert_eq!(page(json!({ "since": "2000-01-01T00:00:00+02:00" })).await["data"]["auditLog"]["totalCount"], 7);
    assert_eq!(code(&page(json!({ "since": "yesterday" })).await), Some("BAD_USER_INPUT"));
    for first in [0, 1001] {
        assert_eq!(code(&page(json!({ "first": first })).await), Some("BAD_USER_INPUT"));
    }
    // ADMIN only.
    assert_eq!(code(&app.gql(Some(&ann), LOG, json!({})).await), Some("FORBIDDEN"));
}

#[tokio::test]
async fn events_past_the_retention_are_never_shown_and_are_deleted() {
    let app = TestApp::spawn_with(|config| config.audit_retention_days = 1).await;
    let admin = app.admin().await;
    let old = crate::helpers::now_ms() - 2 * 86_400_000;
    app.execute_sql(&format!(
        "INSERT INTO audit_events (id, at, actor, action, target_type, target_id, fields, request_id) \
         VALUES (0, {old}, 'ghost', 'createModel', 'MODEL', 'old', '', NULL)"
    ))
    .await;
    let body = app.gql(Some(&admin), LOG, json!({ "id": "old" })).await;
    assert_eq!(body["data"]["auditLog"]["totalCount"], 0, "{body}");
    // A process starting on the database deletes it.
    let second = app.another_process_with_env(&[("MLTE_AUDIT_RETENTION_DAYS", "1")]).await;
    let mut polls = 0;
    while app.count_rows("audit_events WHERE target_id = 'old'").await > 0 {
        assert!(polls < 250, "never deleted");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        polls += 1;
    }
    drop(second);
}

#[tokio::test]
async fn operators_read_the_log_with_audit_list() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for id in ["m1", "m2", "m3"] {
        let body =
            app.gql(Some(&admin), "mutation($id: String!) { createModel(id: $id) { id } }", json!({ "id": id })).await;
        assert_eq!(code(&body), None, "{body}");
    }
    let (ok, text) = app.run_command(&["audit", "list", "--actor", "admin", "--limit", "2", "--json"], "").await;
    assert!(ok, "{text}");
    let lines: Vec<Value> = text.lines().map(|line| serde_json::from_str(line).expect("a JSON line")).collect();
    let targets: Vec<&str> = lines.iter().map(|l| l["targetId"].as_str().unwrap()).collect();
    assert_eq!(targets, ["m3", "m2"], "{text}");
    assert_eq!(lines[0]["action"], "createModel");
    let (ok, text) = app.run_command(&["audit", "list", "--since", "2000-01-01T00:00:00Z"], "").await;
    assert!(ok, "{text}");
    assert_eq!(text.lines().count(), 4, "three models and the bootstrap: {text}");
    assert!(text.lines().last().unwrap().contains(" - createUser USER admin [password,role] -"), "{text}");
    let (ok, text) = app.run_command(&["audit", "list", "--since", "yesterday"], "").await;
    assert!(!ok && text.contains("RFC 3339"), "{text}");
}

/// Ids increase in commit order: a reader that keeps asking for what is newer than
/// the last id it saw, while fifty changes commit at once, misses none of them.
#[tokio::test]
async fn a_reader_polling_for_newer_ids_misses_no_event() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let newest = |app: &TestApp, admin: &str| {
        let request = app.client.post(app.url("/graphql")).bearer_auth(admin).json(&json!({
            "query": "{ auditLog(targetType: MODEL, first: 1000) { edges { node { id } } } }"
        }));
        async move {
            let body: Value = request.send().await.unwrap().json().await.unwrap();
            let edges = body["data"]["auditLog"]["edges"].as_array().cloned().unwrap_or_default();
            edges.iter().map(|e| e["node"]["id"].as_str().unwrap().parse::<i64>().unwrap()).collect::<Vec<_>>()
        }
    };
    let writers = create_models_at_once(&app, &admin, 50);
    let (mut last_seen, mut seen) = (0, std::collections::BTreeSet::new());
    let poll = async |last_seen: &mut i64, seen: &mut std::collections::BTreeSet<i64>| {
        for id in newest(&app, &admin).await.into_iter().filter(|id| *id > *last_seen) {
            seen.insert(id);
        }
        *last_seen = seen.last().copied().unwrap_or(0);
    };
    while !writers.iter().all(|w| w.is_finished()) {
        poll(&mut last_seen, &mut seen).await;
    }
    for writer in writers {
        assert_eq!(code(&writer.await.unwrap()), None);
    }
    poll(&mut last_seen, &mut seen).await;
    assert_eq!(seen.len(), 50, "every event seen by asking only for newer ids");
}

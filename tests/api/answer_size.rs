//! Answers bounded by `--max-response-bytes` (RULES §11), and lists written out a
//! chunk at a time: what a client reads must be what the tree would have given,
//! across chunks and with failures inside the items.

use serde_json::{Value, json};

use crate::helpers::{TestApp, code};

/// Inserts `n` users (`bulk-0000`…) in one statement: a listing longer than a chunk
/// without `n` Argon2 hashes. They cannot log in, which the listing does not need.
async fn insert_users(app: &TestApp, n: usize) {
    let rows: Vec<String> = (0..n)
        .map(|i| format!("('bulk-{i:04}', 'not-a-hash', 'bulk{i}@example.org', NULL, 0, 'REGULAR', 'v')"))
        .collect();
    let sql = format!(
        "INSERT INTO users (username, password_hash, email, full_name, disabled, role, token_version) VALUES {}",
        rows.join(", ")
    );
    app.execute_sql(&sql).await;
}

#[tokio::test]
async fn an_answer_past_the_bound_is_response_too_large_with_no_data_and_smaller_ones_pass() {
    let app = TestApp::spawn_with(|config| config.max_response_bytes = 4_096).await;
    let admin = app.admin().await;
    insert_users(&app, 100).await;
    // ~100 × 60 bytes: past 4 KiB.
    let big = "{ users { username email } }";
    for (accept, status) in [("application/graphql-response+json", 400), ("application/json", 200)] {
        let (got, body) = app.post_accepting(Some(&admin), accept, json!({ "query": big })).await;
        assert_eq!(got, status, "{accept}: {body}");
        assert_eq!(code(&body), Some("RESPONSE_TOO_LARGE"), "{body}");
        assert!(body.get("data").is_none(), "a request error has no data: {body}");
        assert!(body["errors"][0].get("path").is_none(), "{body}");
    }
    // An answer without any list, too: the bound is on the whole answer (15 × ~90 bytes).
    let aliases: String = (0..15).map(|i| format!("a{i}: me {{ username email fullName role disabled }} ")).collect();
    let tiny = TestApp::spawn_with(|config| config.max_response_bytes = 1_000).await;
    let tiny_admin = tiny.admin().await;
    let (_, body) = tiny
        .post_accepting(Some(&tiny_admin), "application/json", json!({ "query": format!("{{ {aliases} }}") }))
        .await;
    assert_eq!(code(&body), Some("RESPONSE_TOO_LARGE"), "{body}");
    // Under the bound, the same server answers.
    let (status, body) = app
        .post_accepting(Some(&admin), "application/graphql-response+json", json!({ "query": "{ me { username } }" }))
        .await;
    assert_eq!((status, &body["data"]["me"]["username"]), (200, &json!("admin")), "{body}");
}

#[tokio::test]
async fn a_listing_longer_than_a_chunk_reads_as_one_sorted_list() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    insert_users(&app, 700).await;
    let body = app.gql(Some(&admin), "{ me { username } users { username email } }", json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    let users = body["data"]["users"].as_array().unwrap();
    assert_eq!(users.len(), 701, "every user once");
    let mut expected: Vec<String> = (0..700).map(|i| format!("bulk-{i:04}")).collect();
    expected.push("admin".to_owned());
    expected.sort();
    let got: Vec<&str> = users.iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(got, expected, "sorted, across chunks");
    assert_eq!(users[700]["email"], json!("bulk699@example.org"));
    assert_eq!(body["data"]["me"]["username"], json!("admin"));
}

#[tokio::test]
async fn a_failure_inside_listed_users_nulls_only_its_field_in_every_item() {
    let app = TestApp::spawn().await;
    // USER null GET (read-user) but no GROUP GET: each group's members is null.
    let token = app.regular_user("reader").await;
    app.add_groups("reader", &["read-user"]).await;
    let body = app.gql(Some(&token), "{ users { username groups { name members { totalCount } } } }", json!({})).await;
    assert_eq!(code(&body), Some("FORBIDDEN"), "{body}");
    let users = body["data"]["users"].as_array().unwrap_or_else(|| panic!("the listing stands: {body}"));
    let reader = users.iter().find(|u| u["username"] == "reader").unwrap();
    let groups = reader["groups"].as_array().unwrap();
    assert!(groups.iter().any(|g| g["name"] == "read-user"), "{body}");
    for group in groups {
        assert_eq!(group.get("members"), Some(&Value::Null), "null, not left out: {group}");
    }
    let errors = body["errors"].as_array().unwrap();
    let listed_groups: usize = users.iter().map(|u| u["groups"].as_array().unwrap().len()).sum();
    assert_eq!(errors.len(), listed_groups, "one FORBIDDEN per group listed: {body}");
    assert!(errors.iter().all(|e| e["path"][0] == "users" && e["path"][4] == "members"), "{body}");
}

#[tokio::test]
async fn listings_past_the_memory_budget_wait_for_their_turn_and_all_get_their_answer() {
    // A budget smaller than any one listing's reservation: they run one at a time.
    let app = TestApp::spawn_with(|config| config.heavy_memory_bytes = 64 * 1024).await;
    let admin = app.admin().await;
    insert_users(&app, 300).await;
    let query = "{ users { username email } }";
    let burst: Vec<_> = (0..12).map(|_| app.spawn_gql(Some(&admin), query, json!({}), 0)).collect();
    for request in burst {
        let body = request.await.unwrap();
        assert!(body.get("errors").is_none(), "queued, not refused: {body}");
        assert_eq!(body["data"]["users"].as_array().map(Vec::len), Some(301), "{body}");
    }
}

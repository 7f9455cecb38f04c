//! RULES §1: automatic persisted queries (Apollo's protocol). A hash the server holds
//! runs its stored query, which passes every check the query sent in full would; an
//! unknown hash answers PERSISTED_QUERY_NOT_FOUND so that clients resend the query.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{TestApp, code};

fn hash(query: &str) -> String {
    Sha256::digest(query.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

/// GETs the query stored under `query`'s hash, by the hash alone.
async fn get_by_hash(app: &TestApp, token: &str, query: &str) -> reqwest::Response {
    let extensions = serde_json::to_string(&persisted(&hash(query))).unwrap();
    let request = app.client.get(app.url("/graphql")).bearer_auth(token);
    request.query(&[("extensions", extensions.as_str())]).send().await.unwrap()
}

const JSON: &str = "application/json";
const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

#[tokio::test]
async fn an_unknown_hash_asks_for_the_query_then_the_hash_alone_runs_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let query = "query Me { me { username } }";
    let only_hash = json!({ "extensions": persisted(&hash(query)) });
    for (accept, status) in [(JSON, 200), (GRAPHQL_RESPONSE, 400)] {
        let (got, body) = app.post_accepting(Some(&admin), accept, only_hash.clone()).await;
        assert_eq!((got, code(&body)), (status, Some("PERSISTED_QUERY_NOT_FOUND")), "{body}");
        assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");
        assert!(body.get("data").is_none(), "{body}");
    }
    let (status, body) =
        app.post_accepting(Some(&admin), JSON, json!({ "query": query, "extensions": persisted(&hash(query)) })).await;
    assert_eq!((status, &body["data"]["me"]["username"]), (200, &json!("admin")), "{body}");
    let (status, body) = app.post_accepting(Some(&admin), JSON, only_hash).await;
    assert_eq!((status, &body["data"]["me"]["username"]), (200, &json!("admin")), "{body}");
    // Over GET too.
    let response = get_by_hash(&app, &admin, query).await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["me"]["username"], "admin", "{body}");
}

#[tokio::test]
async fn a_query_that_does_not_match_its_hash_or_another_version_is_refused_and_kept_nowhere() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let query = "{ me { username } }";
    let wrong = hash("{ me { role } }");
    let (status, body) = app
        .post_accepting(Some(&admin), GRAPHQL_RESPONSE, json!({ "query": query, "extensions": persisted(&wrong) }))
        .await;
    assert_eq!((status, code(&body)), (400, Some("BAD_USER_INPUT")), "{body}");
    let version_2 = json!({ "persistedQuery": { "version": 2, "sha256Hash": hash(query) } });
    let (status, body) =
        app.post_accepting(Some(&admin), GRAPHQL_RESPONSE, json!({ "query": query, "extensions": version_2 })).await;
    assert_eq!((status, code(&body)), (400, Some("BAD_USER_INPUT")), "{body}");
    let (_, body) = app.post_accepting(Some(&admin), JSON, json!({ "extensions": persisted(&wrong) })).await;
    assert_eq!(code(&body), Some("PERSISTED_QUERY_NOT_FOUND"), "nothing kept under the wrong hash: {body}");
}

#[tokio::test]
async fn a_stored_query_passes_every_check_on_every_use() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    // Two listings of every user: refused, but kept (registering stores it whatever
    // its execution does), and refused again when only its hash is sent.
    let listings = "{ a: users { username } b: users { username } }";
    let register = json!({ "query": listings, "extensions": persisted(&hash(listings)) });
    assert_eq!(code(&app.post_accepting(Some(&admin), JSON, register).await.1), Some("BAD_USER_INPUT"));
    let (_, body) = app.post_accepting(Some(&admin), JSON, json!({ "extensions": persisted(&hash(listings)) })).await;
    assert_eq!(code(&body), Some("BAD_USER_INPUT"), "{body}");
    // A stored query needs a token like any other.
    let me = "{ me { username } }";
    app.post_accepting(Some(&admin), JSON, json!({ "query": me, "extensions": persisted(&hash(me)) })).await;
    let (_, body) = app.post_accepting(None, JSON, json!({ "extensions": persisted(&hash(me)) })).await;
    assert_eq!(code(&body), Some("UNAUTHENTICATED"), "{body}");
    // A stored mutation over GET is refused as any mutation over GET.
    let mutation = "mutation { createModel(id: \"m\") { id } }";
    let (status, _) = app
        .post_accepting(Some(&admin), JSON, json!({ "query": mutation, "extensions": persisted(&hash(mutation)) }))
        .await;
    assert_eq!(status, 200);
    let response = get_by_hash(&app, &admin, mutation).await;
    assert_eq!(response.status(), 405);
}

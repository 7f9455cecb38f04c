//! RULES §10: `allowed(checks)`, the bare §3 check of each permission for the caller,
//! so a frontend knows which buttons to show with one request.

use serde_json::json;

use serde_json::Value;

use crate::helpers::{TestApp, code};

const ALLOWED: &str = "query($c: [PermissionInput!]!) { allowed(checks: $c) }";

#[tokio::test]
async fn each_check_is_the_callers_permission_check_in_order() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let ann = app.regular_user("ann").await;
    let body = app.gql(Some(&ann), "mutation { createModel(id: \"m1\") { id } }", json!({})).await;
    assert_eq!(code(&body), None, "{body}");
    let checks = json!([
        { "resourceType": "MODEL", "resourceId": "m1", "method": "GET" },
        { "resourceType": "MODEL", "resourceId": "m1", "method": "DELETE" },
        { "resourceType": "MODEL", "resourceId": "m2", "method": "GET" },
        { "resourceType": "MODEL", "resourceId": "m1" },
        { "resourceType": "MODEL", "resourceId": null, "method": "GET" },
        { "resourceType": "MODEL", "resourceId": null, "method": "POST" },
        { "resourceType": "USER", "resourceId": "ann", "method": "PUT" },
        { "resourceType": "USER", "resourceId": "me", "method": "PUT" },
        { "resourceType": "USER", "resourceId": null, "method": "GET" },
    ]);
    let body = app.gql(Some(&ann), ALLOWED, json!({ "c": checks })).await;
    // read-model-m1 / edit-model-m1 (own), create-model (MODEL null POST), edit-user-ann;
    // `me` is a literal id here; a null id asks about every model.
    assert_eq!(body["data"]["allowed"], json!([true, true, false, true, false, true, true, false, false]), "{body}");
    let body = app.gql(Some(&admin), ALLOWED, json!({ "c": checks })).await;
    assert_eq!(body["data"]["allowed"], json!(vec![true; 9]), "an ADMIN passes every check");
}

#[tokio::test]
async fn more_than_a_hundred_checks_or_a_disabled_caller_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let ann = app.regular_user("ann").await;
    let checks: Vec<_> = (0..101).map(|_| json!({ "resourceType": "MODEL" })).collect();
    assert_eq!(code(&app.gql(Some(&ann), ALLOWED, json!({ "c": checks[..100] })).await), None);
    assert_eq!(code(&app.gql(Some(&ann), ALLOWED, json!({ "c": checks })).await), Some("BAD_USER_INPUT"));
    let body = app
        .gql(Some(&admin), "mutation { editUser(input: {username: \"ann\", disabled: true}) { username } }", json!({}))
        .await;
    assert_eq!(code(&body), None, "{body}");
    let body = app.gql(Some(&ann), ALLOWED, json!({ "c": [{ "resourceType": "MODEL" }] })).await;
    assert_eq!(code(&body), Some("FORBIDDEN"), "{body}");
}

/// A document that asks only `allowed` is answered from a plan once it has passed
/// the executor's validation: from its second time on. Each is sent three times, as
/// each caller, and every answer must be the first one's, byte for byte, including
/// the requests the plan leaves to the executor for their errors.
#[tokio::test]
async fn a_planned_document_answers_what_the_executor_answers() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let ann = app.regular_user("ann").await;
    let bob = app.regular_user("bob").await;
    let body = app.gql(Some(&ann), "mutation { createModel(id: \"m1\") { id } }", json!({})).await;
    assert_eq!(code(&body), None, "{body}");
    let body = app
        .gql(Some(&admin), "mutation { editUser(input: {username: \"bob\", disabled: true}) { username } }", json!({}))
        .await;
    assert_eq!(code(&body), None, "{body}");
    let written = "{ allowed(checks: [{resourceType: MODEL, resourceId: \"m1\", method: DELETE}, \
                   {resourceType: MODEL, resourceId: \"m2\"}, {resourceType: USER, resourceId: \"me\", method: PUT}, \
                   {resourceType: GROUP, method: GET}]) }";
    let too_many = format!("{{ allowed(checks: [{}]) }}", vec!["{resourceType: MODEL}"; 101].join(", "));
    let named = "query Buttons($c: [PermissionInput!]!) { allowed(checks: $c) }";
    let checks = json!([{ "resourceType": "MODEL", "resourceId": "m1", "method": "PUT" }, { "resourceType": "USER" }]);
    let requests = [
        json!({ "query": written }),
        json!({ "query": too_many }),
        json!({ "query": ALLOWED, "variables": { "c": checks } }),
        json!({ "query": ALLOWED, "variables": { "c": { "resourceType": "MODEL", "resourceId": "m1" } } }),
        json!({ "query": ALLOWED, "variables": { "c": [{ "resourceType": "MODEL", "unknown": 1 }] } }),
        json!({ "query": ALLOWED, "variables": { "c": [{ "resourceType": "NOPE" }] } }),
        json!({ "query": ALLOWED, "variables": {} }),
        json!({ "query": named, "variables": { "c": checks }, "operationName": "Buttons" }),
        json!({ "query": named, "variables": { "c": checks }, "operationName": "Other" }),
    ];
    let mut answered = Vec::new();
    for request in &requests {
        for caller in [Some(admin.as_str()), Some(ann.as_str()), Some(bob.as_str()), Some("not-a-token"), None] {
            let first = app.post_for_bytes(caller, request).await;
            for _ in 0..2 {
                assert_eq!(app.post_for_bytes(caller, request).await, first, "{request} as {caller:?}");
            }
            answered.push(first.1);
        }
    }
    // The answers differ by caller and request: the comparison above compared something.
    let ann_written: Value = serde_json::from_str(&answered[1]).expect("JSON");
    // m2 with any method: the create-model grant (MODEL, every id, POST) passes it.
    assert_eq!(ann_written["data"]["allowed"], json!([true, true, false, false]), "{ann_written}");
    let errors: Vec<_> = answered
        .iter()
        .map(|body| serde_json::from_str::<Value>(body).expect("JSON"))
        .filter(|b| code(b).is_some())
        .collect();
    assert!(errors.len() > 20, "most of these requests fail, each its own way: {}", errors.len());
}

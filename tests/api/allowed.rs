//! RULES §10: `allowed(checks)`, the bare §3 check of each permission for the caller,
//! so a frontend knows which buttons to show with one request.

use serde_json::json;

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

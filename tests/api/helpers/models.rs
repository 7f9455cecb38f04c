//! Models over GraphQL: the wrappers more than one test file uses.

use serde_json::{Value, json};

use super::{TestApp, assert_ok};

/// The `id` of each object of a list, in its order.
pub fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

/// `createModel(id)` as `token`.
pub async fn create_model(app: &TestApp, token: &str, id: &str) -> Value {
    app.gql(Some(token), "mutation($id: String!) { createModel(id: $id) { id } }", json!({ "id": id })).await
}

/// Creates a model as `token`; panics unless it succeeds.
pub async fn must_create_model(app: &TestApp, token: &str, id: &str) {
    let body = create_model(app, token, id).await;
    assert!(body["errors"].is_null(), "createModel({id}) failed: {body}");
    assert_eq!(body["data"]["createModel"]["id"], id, "{body}");
}

/// The ids of the models `token` may read (`models`); panics unless it succeeds.
pub async fn model_ids(app: &TestApp, token: &str) -> Vec<String> {
    let body = app.gql(Some(token), "{ models { id } }", json!({})).await;
    assert_ok(&body, "models");
    ids(&body["data"]["models"])
}

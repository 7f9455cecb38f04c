//! Models: who sees them, who may delete them, the groups they own (RULES §3, §4, §5, §7).

use serde_json::{Value, json};

use crate::helpers::{
    TestApp, all_group_names, assert_code, code, codes, create_model, edit_user, group_perms, ids, model_ids,
    must_create_model, names, perm,
};

const DELETE: &str = "mutation($id: String!) { deleteModel(id: $id) { id } }";
const MODEL: &str = "query($id: String!) { model(id: $id) { id } }";
const ME_MODELS: &str = "{ me { models { id } } }";
const ME_GROUPS: &str = "{ me { groups { name } } }";
const ALL_GROUPS: &str = "{ groups { name permissions { resourceType resourceId method } } }";

async fn delete_model(app: &TestApp, token: &str, id: &str) -> Value {
    app.gql(Some(token), DELETE, json!({ "id": id })).await
}

async fn model(app: &TestApp, token: &str, id: &str) -> Value {
    app.gql(Some(token), MODEL, json!({ "id": id })).await
}

/// `me { models }` as `token` sees it.
async fn my_models(app: &TestApp, token: &str) -> Vec<String> {
    let body = app.gql(Some(token), ME_MODELS, json!({})).await;
    assert!(body["errors"].is_null(), "me.models failed: {body}");
    ids(&body["data"]["me"]["models"])
}

/// `me { groups }` as `token` sees it.
async fn my_groups(app: &TestApp, token: &str) -> Vec<String> {
    let body = app.gql(Some(token), ME_GROUPS, json!({})).await;
    assert!(body["errors"].is_null(), "me.groups failed: {body}");
    names(&body["data"]["me"]["groups"])
}

/// Every group with its permissions, as the admin sees them.
async fn all_groups(app: &TestApp, admin: &str) -> Value {
    let body = app.gql(Some(admin), ALL_GROUPS, json!({})).await;
    assert!(body["errors"].is_null(), "groups failed: {body}");
    body["data"]["groups"].clone()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn assert_forbidden(body: &Value, what: &str) {
    assert_code(body, "FORBIDDEN", what);
}

#[tokio::test]
async fn a_regular_users_model_is_listed_for_it_and_hidden_from_other_users() {
    let app = TestApp::spawn().await;
    let alice = app.regular_user("alice").await;
    let bob = app.regular_user("bob").await;

    must_create_model(&app, &alice, "m1").await;

    assert_eq!(model_ids(&app, &alice).await, ["m1"]);
    assert_eq!(my_models(&app, &alice).await, ["m1"]);
    let body = model(&app, &alice, "m1").await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(body["data"]["model"]["id"], "m1");

    assert!(model_ids(&app, &bob).await.is_empty());
    assert!(my_models(&app, &bob).await.is_empty());
    let body = model(&app, &bob, "m1").await;
    assert_forbidden(&body, "model(m1) by bob");
    assert!(body["data"]["model"].is_null(), "{body}");
    assert_forbidden(&delete_model(&app, &bob, "m1").await, "deleteModel(m1) by bob");
    assert_eq!(model_ids(&app, &alice).await, ["m1"], "bob's refused delete changed nothing");
}

#[tokio::test]
async fn a_user_added_to_the_read_group_reads_the_model_but_cannot_delete_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let alice = app.regular_user("alice").await;
    let bob = app.regular_user("bob").await;
    must_create_model(&app, &alice, "m1").await;

    app.add_groups("bob", &["read-model-m1"]).await;

    let body = model(&app, &bob, "m1").await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(body["data"]["model"]["id"], "m1");
    assert_eq!(model_ids(&app, &bob).await, ["m1"]);
    assert_eq!(my_models(&app, &bob).await, ["m1"]);

    assert_forbidden(&delete_model(&app, &bob, "m1").await, "deleteModel(m1) by a reader");
    assert_eq!(model_ids(&app, &admin).await, ["m1"], "the refused delete changed nothing");
    let groups = all_group_names(&app, &admin).await;
    assert!(groups.contains(&"read-model-m1".to_owned()) && groups.contains(&"edit-model-m1".to_owned()));
    assert_eq!(model_ids(&app, &alice).await, ["m1"]);
}

#[tokio::test]
async fn deleting_a_model_removes_it_and_its_groups_from_every_list() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let alice = app.regular_user("alice").await;
    let bob = app.regular_user("bob").await;
    must_create_model(&app, &alice, "m1").await;
    must_create_model(&app, &alice, "keep").await;
    app.add_groups("bob", &["read-model-m1"]).await;
    assert!(my_groups(&app, &alice).await.contains(&"edit-model-m1".to_owned()));

    let body = delete_model(&app, &alice, "m1").await;
    assert!(body["errors"].is_null(), "deleteModel by its creator: {body}");
    assert_eq!(body["data"]["deleteModel"]["id"], "m1");

    let groups = all_group_names(&app, &admin).await;
    assert!(!groups.contains(&"read-model-m1".to_owned()), "read-model-m1 is gone: {groups:?}");
    assert!(!groups.contains(&"edit-model-m1".to_owned()), "edit-model-m1 is gone: {groups:?}");
    assert!(groups.contains(&"read-model-keep".to_owned()), "the other model's groups stay: {groups:?}");

    assert_eq!(model_ids(&app, &admin).await, ["keep"]);
    assert_eq!(model_ids(&app, &alice).await, ["keep"]);
    assert_eq!(my_models(&app, &alice).await, ["keep"]);
    assert!(model_ids(&app, &bob).await.is_empty());
    assert!(my_models(&app, &bob).await.is_empty());
    for (who, token) in [("alice", &alice), ("bob", &bob)] {
        let groups = my_groups(&app, token).await;
        assert!(!groups.iter().any(|g| g.ends_with("-model-m1")), "{who} keeps no group of m1: {groups:?}");
    }
    let body = app.gql(Some(&admin), "{ users { username models { id } } }", json!({})).await;
    assert!(body["errors"].is_null(), "{body}");
    for user in body["data"]["users"].as_array().unwrap() {
        assert!(!ids(&user["models"]).contains(&"m1".to_owned()), "{user}");
    }
    let body = model(&app, &admin, "m1").await;
    assert_eq!(code(&body), Some("NOT_FOUND"), "{body}");

    // A model recreated under the same id by someone else owes nothing to the old members.
    let carol = app.regular_user("carol").await;
    must_create_model(&app, &carol, "m1").await;
    assert_eq!(model_ids(&app, &alice).await, ["keep"]);
    assert!(model_ids(&app, &bob).await.is_empty());
    assert_forbidden(&model(&app, &bob, "m1").await, "model(m1) by a former reader");
    assert_forbidden(&delete_model(&app, &alice, "m1").await, "deleteModel(m1) by the former creator");
}

#[tokio::test]
async fn creating_a_model_whose_id_is_taken_is_already_exists_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let alice = app.regular_user("alice").await;
    let bob = app.regular_user("bob").await;
    must_create_model(&app, &alice, "m1").await;

    let groups_before = all_groups(&app, &admin).await;
    let bob_groups_before = my_groups(&app, &bob).await;
    let alice_groups_before = my_groups(&app, &alice).await;

    for (who, token) in [("bob", &bob), ("alice", &alice), ("admin", &admin)] {
        let body = create_model(&app, token, "m1").await;
        assert_eq!(code(&body), Some("ALREADY_EXISTS"), "createModel(m1) again by {who}: {body}");
        assert!(body["data"].is_null() || body["data"]["createModel"].is_null(), "{body}");
    }

    assert_eq!(all_groups(&app, &admin).await, groups_before, "no group created or changed");
    assert_eq!(my_groups(&app, &bob).await, bob_groups_before, "bob joined no group");
    assert_eq!(my_groups(&app, &alice).await, alice_groups_before);
    assert!(model_ids(&app, &bob).await.is_empty(), "bob did not gain the model");
    assert_forbidden(&model(&app, &bob, "m1").await, "model(m1) by bob");
    assert_eq!(model_ids(&app, &admin).await, ["m1"]);
}

#[tokio::test]
async fn an_unknown_model_is_not_found() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let alice = app.regular_user("alice").await;

    let body = model(&app, &admin, "nope").await;
    assert_eq!(code(&body), Some("NOT_FOUND"), "{body}");
    assert!(body["data"]["model"].is_null(), "{body}");

    let body = delete_model(&app, &admin, "nope").await;
    assert_eq!(code(&body), Some("NOT_FOUND"), "{body}");

    // The permission check comes first: a user who may not delete it learns nothing.
    assert_forbidden(&delete_model(&app, &alice, "nope").await, "deleteModel(nope) by alice");
    assert_forbidden(&model(&app, &alice, "nope").await, "model(nope) by alice");
    assert!(model_ids(&app, &admin).await.is_empty());
}

#[tokio::test]
async fn a_dashed_model_id_gets_triple_underscore_groups_that_name_the_exact_id() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let alice = app.regular_user("alice").await;
    must_create_model(&app, &alice, "my-model").await;

    assert_eq!(group_perms(&app, &admin, "read-model-my___model").await, [perm("MODEL", Some("my-model"), "GET")]);
    let mut edit = vec![
        perm("MODEL", Some("my-model"), "PUT"),
        perm("MODEL", Some("my-model"), "DELETE"),
        perm("MODEL", Some("my-model"), "POST"),
    ];
    edit.sort();
    assert_eq!(group_perms(&app, &admin, "edit-model-my___model").await, edit);

    let groups = my_groups(&app, &alice).await;
    assert!(groups.contains(&"read-model-my___model".to_owned()), "{groups:?}");
    assert!(groups.contains(&"edit-model-my___model".to_owned()), "{groups:?}");
    assert!(!all_group_names(&app, &admin).await.contains(&"read-model-my-model".to_owned()));

    assert_eq!(model_ids(&app, &alice).await, ["my-model"]);
    let body = delete_model(&app, &alice, "my-model").await;
    assert!(body["errors"].is_null(), "{body}");
    let groups = all_group_names(&app, &admin).await;
    assert!(!groups.iter().any(|g| g.contains("my___model")), "{groups:?}");
}

#[tokio::test]
async fn dashed_and_triple_underscore_model_ids_of_two_users_never_share_rights() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let alice = app.regular_user("alice").await;
    let bob = app.regular_user("bob").await;

    // Both creation orders: dashed first, then underscored first.
    must_create_model(&app, &alice, "a-b").await;
    must_create_model(&app, &bob, "a___b").await;
    must_create_model(&app, &bob, "c___d").await;
    must_create_model(&app, &alice, "c-d").await;

    assert_eq!(model_ids(&app, &alice).await, ["a-b", "c-d"]);
    assert_eq!(my_models(&app, &alice).await, ["a-b", "c-d"]);
    assert_eq!(model_ids(&app, &bob).await, ["a___b", "c___d"]);
    assert_eq!(my_models(&app, &bob).await, ["a___b", "c___d"]);

    for id in ["a___b", "c___d"] {
        assert_forbidden(&model(&app, &alice, id).await, &format!("model({id}) by alice"));
        assert_forbidden(&delete_model(&app, &alice, id).await, &format!("deleteModel({id}) by alice"));
    }
    for id in ["a-b", "c-d"] {
        assert_forbidden(&model(&app, &bob, id).await, &format!("model({id}) by bob"));
        assert_forbidden(&delete_model(&app, &bob, id).await, &format!("deleteModel({id}) by bob"));
    }
    assert_eq!(model_ids(&app, &admin).await, ["a-b", "a___b", "c-d", "c___d"]);

    // Deleting one side leaves the other's model and groups alone.
    for (token, id) in [(&alice, "a-b"), (&bob, "c___d")] {
        let body = delete_model(&app, token, id).await;
        assert!(body["errors"].is_null(), "deleteModel({id}): {body}");
    }
    assert_eq!(model_ids(&app, &bob).await, ["a___b"]);
    assert_eq!(model_ids(&app, &alice).await, ["c-d"]);
    assert_eq!(model_ids(&app, &admin).await, ["a___b", "c-d"]);
    let body = delete_model(&app, &bob, "a___b").await;
    assert!(body["errors"].is_null(), "{body}");
    let body = delete_model(&app, &alice, "c-d").await;
    assert!(body["errors"].is_null(), "{body}");
    let groups = all_group_names(&app, &admin).await;
    assert!(!groups.iter().any(|g| g.starts_with("read-model-") || g.starts_with("edit-model-")), "{groups:?}");
}

#[tokio::test]
async fn an_admin_creating_a_model_is_put_in_no_group() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bob = app.regular_user("bob").await;
    let before = my_groups(&app, &admin).await;
    assert!(before.is_empty(), "an ADMIN starts in no group: {before:?}");

    must_create_model(&app, &admin, "adm").await;

    assert_eq!(my_groups(&app, &admin).await, before, "the admin joined no group");
    let groups = all_group_names(&app, &admin).await;
    assert!(groups.contains(&"read-model-adm".to_owned()), "{groups:?}");
    assert!(groups.contains(&"edit-model-adm".to_owned()), "{groups:?}");
    assert_eq!(model_ids(&app, &admin).await, ["adm"]);
    assert_eq!(my_models(&app, &admin).await, ["adm"]);
    assert!(model_ids(&app, &bob).await.is_empty());
    assert_forbidden(&model(&app, &bob, "adm").await, "model(adm) by bob");
}

#[tokio::test]
async fn models_are_sorted_by_bytes() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let alice = app.regular_user("alice").await;
    let created = ["b", "B", "a", "_x", "Z", "0", "A.1", "z-z", "a-", "a.", "aa", "A"];
    for (i, id) in created.iter().enumerate() {
        // Half the models by the admin, half by alice.
        let token = if i % 2 == 0 { &alice } else { &admin };
        must_create_model(&app, token, id).await;
    }
    let all = strings(&["0", "A", "A.1", "B", "Z", "_x", "a", "a-", "a.", "aa", "b", "z-z"]);
    let mut sorted = strings(&created);
    sorted.sort();
    assert_eq!(sorted, all, "the expected order is byte order");

    assert_eq!(model_ids(&app, &admin).await, all);
    assert_eq!(my_models(&app, &admin).await, all);
    let mine: Vec<String> = all.iter().filter(|id| created.iter().step_by(2).any(|c| c == id)).cloned().collect();
    assert_eq!(model_ids(&app, &alice).await, mine);
    assert_eq!(my_models(&app, &alice).await, mine);
}

#[tokio::test]
async fn users_models_as_admin_equal_what_each_user_sees_in_me_models() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let alice = app.regular_user("alice").await;
    let bob = app.regular_user("bob").await;
    let carol = app.regular_user("carol").await;
    let dave = app.regular_user("dave").await;
    must_create_model(&app, &alice, "alpha-2").await;
    must_create_model(&app, &alice, "alpha1").await;
    must_create_model(&app, &bob, "beta").await;
    must_create_model(&app, &admin, "admins").await;
    app.add_groups("carol", &["read-model-beta"]).await;
    app.add_groups("dave", &["read-model"]).await;

    let body = app.gql(Some(&admin), "{ users { username models { id } } }", json!({})).await;
    assert!(body["errors"].is_null(), "{body}");
    let listed: Vec<(String, Vec<String>)> = body["data"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["username"].as_str().unwrap().to_owned(), ids(&u["models"])))
        .collect();

    let expected = [
        ("admin", &admin, vec!["admins", "alpha-2", "alpha1", "beta"]),
        ("alice", &alice, vec!["alpha-2", "alpha1"]),
        ("bob", &bob, vec!["beta"]),
        ("carol", &carol, vec!["beta"]),
        ("dave", &dave, vec!["admins", "alpha-2", "alpha1", "beta"]),
    ];
    assert_eq!(listed.len(), expected.len(), "{listed:?}");
    for ((listed_name, listed_models), (name, token, models)) in listed.iter().zip(expected) {
        assert_eq!(listed_name, name);
        let own = my_models(&app, token).await;
        assert_eq!(listed_models, &own, "users.models of {name} equals its me.models");
        assert_eq!(own, models, "{name}'s models");
    }
}

#[tokio::test]
async fn a_regular_user_without_create_model_cannot_create_a_model() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bob = app.regular_user("bob").await;
    let body = edit_user(&app, &admin, json!({ "username": "bob", "groups": [] })).await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(body["data"]["editUser"]["groups"], json!([]));
    let groups_before = all_groups(&app, &admin).await;

    assert_forbidden(&create_model(&app, &bob, "x").await, "createModel without create-model");

    assert!(model_ids(&app, &admin).await.is_empty(), "no model was created");
    assert_eq!(all_groups(&app, &admin).await, groups_before, "no group was created");
}

#[tokio::test]
async fn ten_simultaneous_creations_of_one_model_give_one_success_and_nine_already_exists() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let alice = app.regular_user("alice").await;

    let attempts = (0..10).map(|_| create_model(&app, &alice, "race"));
    let bodies = futures_util::future::join_all(attempts).await;

    let successes = bodies.iter().filter(|b| b["errors"].is_null() && b["data"]["createModel"]["id"] == "race").count();
    let mut refused: Vec<String> = bodies.iter().flat_map(codes).collect();
    refused.sort();
    assert_eq!(successes, 1, "exactly one creation succeeds: {bodies:?}");
    assert_eq!(refused, vec!["ALREADY_EXISTS".to_owned(); 9], "{bodies:?}");

    assert_eq!(model_ids(&app, &admin).await, ["race"]);
    assert_eq!(model_ids(&app, &alice).await, ["race"]);
    let race_groups: Vec<String> =
        all_group_names(&app, &admin).await.into_iter().filter(|g| g.contains("race")).collect();
    assert_eq!(race_groups, ["edit-model-race", "read-model-race"]);
    let mine: Vec<String> = my_groups(&app, &alice).await.into_iter().filter(|g| g.contains("race")).collect();
    assert_eq!(mine, ["edit-model-race", "read-model-race"]);
}

#[tokio::test]
async fn a_hand_made_group_named_like_a_future_models_group_is_not_given_to_its_creator() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let alice = app.regular_user("alice").await;
    let bob = app.regular_user("bob").await;
    let body = app
        .gql(
            Some(&admin),
            "mutation { createGroup(input: {name: \"read-model-m1\", permissions: [{resourceType: MODEL, method: GET}]}) { name } }",
            json!({}),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    must_create_model(&app, &admin, "secret").await;

    must_create_model(&app, &alice, "m1").await;

    let groups = my_groups(&app, &alice).await;
    assert!(!groups.contains(&"read-model-m1".to_owned()), "alice is not in the hand-made group: {groups:?}");
    assert_eq!(model_ids(&app, &alice).await, ["m1"], "alice reads her model and nothing else");
    assert_forbidden(&model(&app, &alice, "secret").await, "model(secret) by alice");
    assert_eq!(group_perms(&app, &admin, "read-model-m1").await, [perm("MODEL", None, "GET")]);
    assert_forbidden(&model(&app, &bob, "m1").await, "model(m1) by bob");
}

#[tokio::test]
async fn an_unknown_model_is_a_null_model_field_inside_a_data_object() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;

    // `model` is nullable: its error nulls the field, not the whole response (GraphQL §6.4.4).
    let body = model(&app, &admin, "nope").await;
    assert_eq!(code(&body), Some("NOT_FOUND"), "{body}");
    assert_eq!(body["data"], json!({ "model": null }), "{body}");
}

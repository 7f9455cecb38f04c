//! Documents composed to hurt (issue 12): control characters hidden in variable
//! defaults (RULES §5), and failures under aliases and fragments, which must null
//! only what GraphQL's null propagation says.

use serde_json::{Value, json};

use crate::helpers::{TestApp, code};

#[tokio::test]
async fn a_control_character_in_a_variable_default_is_bad_user_input_and_nothing_runs() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for query in [
        "query($n: String! = \"a\\u0000b\") { user(username: $n) { username } }",
        "query($n: String = \"a\\u001fb\") { user(username: $n) { username } }",
        "mutation($e: String = \"x\\u007f@y\") { editUser(input: {username: \"me\", email: $e}) { username } }",
    ] {
        let body = app.gql(Some(&admin), query, json!({})).await;
        assert_eq!(code(&body), Some("BAD_USER_INPUT"), "{query}: {body}");
        assert!(body.get("data").is_none(), "a request error runs nothing: {body}");
    }
    let me = app.gql(Some(&admin), "{ me { email } }", json!({})).await;
    assert!(me["data"]["me"]["email"].is_null(), "{me}");
}

#[tokio::test]
async fn an_aliased_nullable_failure_nulls_only_its_own_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let body =
        app.gql(Some(&admin), "{ a: me { username } b: user(username: \"nobody\") { username } }", json!({})).await;
    assert_eq!(body["data"], json!({ "a": { "username": "admin" }, "b": null }), "{body}");
    assert_eq!(body["errors"][0]["path"], json!(["b"]), "{body}");
    assert_eq!(code(&body), Some("NOT_FOUND"));
}

#[tokio::test]
async fn a_nullable_failure_inside_a_fragment_nulls_only_its_own_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let query = "query { ...Both } fragment Both on Query { me { username } gone: model(id: \"nope\") { id } }";
    let body = app.gql(Some(&admin), query, json!({})).await;
    assert_eq!(body["data"], json!({ "me": { "username": "admin" }, "gone": null }), "{body}");
    assert_eq!(code(&body), Some("NOT_FOUND"));
}

#[tokio::test]
async fn an_aliased_non_null_failure_nulls_the_whole_answer() {
    let app = TestApp::spawn().await;
    let token = app.regular_user("plain").await;
    let body = app.gql(Some(&token), "{ mine: me { username } everyone: users { username } }", json!({})).await;
    assert_eq!(body["data"], json!(null), "users is non-null: its failure reaches data: {body}");
    assert_eq!(body["errors"][0]["path"], json!(["everyone"]), "{body}");
    assert_eq!(code(&body), Some("FORBIDDEN"));
}

/// POSTs a request accepting the GraphQL response format; its status and body.
async fn post_graphql_response(app: &TestApp, token: &str, query: &str, variables: Value) -> (u16, Value) {
    let body = json!({ "query": query, "variables": variables });
    app.post_accepting(Some(token), "application/graphql-response+json", body).await
}

#[tokio::test]
async fn variables_that_cannot_be_coerced_are_a_request_error() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let user = "query Q($u: String!) { user(username: $u) { username } }";
    let create = "mutation($i: CreateUserInput!) { createUser(input: $i) { username } }";
    for (query, variables) in [
        (user, json!({})),
        (user, json!({ "u": null })),
        (user, json!({ "u": 7 })),
        (create, json!({ "i": { "username": "eve" } })),
        (create, json!({ "i": { "username": "eve", "password": "password-eve", "role": "ROOT" } })),
        (create, json!({ "i": { "username": "eve", "password": "password-eve", "unknown": 1 } })),
    ] {
        let (status, body) = post_graphql_response(&app, &admin, query, variables.clone()).await;
        assert_eq!((status, code(&body)), (400, Some("BAD_USER_INPUT")), "{variables}: {body}");
        assert!(body.get("data").is_none(), "nothing ran: {body}");
    }
    assert!(
        app.gql(Some(&admin), "{ user(username: \"eve\") { username } }", json!({})).await["data"]["user"].is_null()
    );
}

#[tokio::test]
async fn an_operation_lists_every_user_at_most_once_however_it_is_spelled() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for query in [
        "{ a: users { username } b: users { username } }",
        "query { users { username } ...F } fragment F on Query { again: users { role } }",
        "query { a: users { username } ... on Query { b: users { username } } }",
    ] {
        let (status, body) = post_graphql_response(&app, &admin, query, json!({})).await;
        assert_eq!((status, code(&body)), (400, Some("BAD_USER_INPUT")), "{query}: {body}");
        assert!(body.get("data").is_none(), "{body}");
    }
    // One response key twice is one field; a skipped second listing is none.
    for (query, variables) in [
        ("{ users { username } users { role } }", json!({})),
        ("query($s: Boolean!) { a: users { username } b: users @skip(if: $s) { role } }", json!({ "s": true })),
    ] {
        let (status, body) = post_graphql_response(&app, &admin, query, variables).await;
        assert_eq!((status, code(&body)), (200, None), "{query}: {body}");
    }
}

/// RULES §11: a list field counts ten times its selection.
#[tokio::test]
async fn list_fields_weigh_ten_times_their_selection_in_a_documents_complexity() {
    let app = TestApp::spawn_with(|config| config.max_query_complexity = 400).await;
    let admin = app.admin().await;
    let groups = "groups { name permissions { resourceType resourceId method } }";
    // 10 × (1 + 10 × 3) = 310: admitted.
    let body = app.gql(Some(&admin), &format!("{{ {groups} }}"), json!({})).await;
    assert_eq!(code(&body), None, "{body}");
    // Twice: 620, over 400, refused before anything runs.
    let (status, body) =
        post_graphql_response(&app, &admin, &format!("{{ a: {groups} b: {groups} }}"), json!({})).await;
    assert_eq!((status, code(&body)), (400, Some("BAD_USER_INPUT")), "{body}");
    assert!(body.get("data").is_none(), "{body}");
}

#[tokio::test]
async fn the_default_complexity_admits_the_full_listing_of_every_user() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let listing = "{ users { username email fullName role disabled \
                   groups { name permissions { resourceType resourceId method } } models { id } } }";
    let body = app.gql(Some(&admin), listing, json!({})).await;
    assert_eq!(code(&body), None, "{body}");
}

#[tokio::test]
async fn a_document_validated_once_still_has_its_variables_checked_and_an_invalid_one_never_passes() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    // Once it ran, the document is not validated again: its variables still are.
    let query = "query Q($u: String!) { user(username: $u) { username } }";
    let (status, body) = post_graphql_response(&app, &admin, query, json!({ "u": "admin" })).await;
    assert_eq!((status, &body["data"]["user"]["username"]), (200, &json!("admin")), "{body}");
    for variables in [json!({ "u": 7 }), json!({}), json!({ "u": null })] {
        let (status, body) = post_graphql_response(&app, &admin, query, variables.clone()).await;
        assert_eq!(status, 400, "{variables}: {body}");
        assert_eq!(code(&body), Some("BAD_USER_INPUT"), "{body}");
        assert!(body.get("data").is_none(), "{body}");
    }
    // A document that fails validation fails it every time it is sent.
    for _ in 0..3 {
        let (status, body) = post_graphql_response(&app, &admin, "{ me { username nope } }", json!({})).await;
        assert_eq!((status, code(&body)), (400, Some("BAD_USER_INPUT")), "{body}");
        let (status, body) = post_graphql_response(&app, &admin, "{ user(username: 7) { username } }", json!({})).await;
        assert_eq!((status, code(&body)), (400, Some("BAD_USER_INPUT")), "{body}");
    }
}

//! The HTTP surface of RULES §1: `/api/token`, `/health`, GraphQL over GET and POST,
//! and requests that are not valid GraphQL requests (4xx, never executed).

use reqwest::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, TestApp, code, user_exists};

const CREATE_EVE: &str = "mutation { createUser(input: {username: \"eve\", password: \"password-eve\"}) { username } }";

async fn token_grant(app: &TestApp, form: &[(&str, &str)]) -> reqwest::Response {
    app.client.post(app.url("/api/token")).form(form).send().await.unwrap()
}

fn header(response: &reqwest::Response, name: reqwest::header::HeaderName) -> &str {
    response.headers().get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

#[tokio::test]
async fn the_password_grant_answers_a_bearer_token_that_works_on_graphql() {
    let app = TestApp::spawn().await;
    let response =
        token_grant(&app, &[("grant_type", "password"), ("username", "admin"), ("password", ADMIN_PASSWORD)]).await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, CONTENT_TYPE).starts_with("application/json"), "{:?}", response.headers());
    assert_eq!(header(&response, CACHE_CONTROL), "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer", "{body}");
    assert_eq!(body["expires_in"], 7200, "{body}");
    let token = body["access_token"].as_str().expect("access_token");
    let me = app.gql(Some(token), "{ me { username } }", json!({})).await;
    assert_eq!(me["data"]["me"]["username"], "admin", "{me}");
}

#[tokio::test]
async fn the_password_grant_with_a_wrong_password_or_unknown_user_is_invalid_grant_alike() {
    let app = TestApp::spawn().await;
    app.regular_user("bob").await;
    let wrong =
        token_grant(&app, &[("grant_type", "password"), ("username", "bob"), ("password", "wrong-password")]).await;
    assert_eq!(wrong.status(), 400);
    assert!(header(&wrong, CONTENT_TYPE).starts_with("application/json"));
    let wrong: Value = wrong.json().await.unwrap();
    assert_eq!(wrong["error"], "invalid_grant", "{wrong}");
    assert!(wrong["error_description"].is_string(), "{wrong}");
    assert!(wrong.get("access_token").is_none(), "{wrong}");

    let unknown =
        token_grant(&app, &[("grant_type", "password"), ("username", "nobody"), ("password", "wrong-password")]).await;
    assert_eq!(unknown.status(), 400);
    let unknown: Value = unknown.json().await.unwrap();
    assert_eq!(unknown, wrong, "an unknown user and a wrong password give the same error");
}

#[tokio::test]
async fn the_client_credentials_grant_is_unsupported_grant_type() {
    let app = TestApp::spawn().await;
    let response =
        token_grant(&app, &[("grant_type", "client_credentials"), ("username", "admin"), ("password", ADMIN_PASSWORD)])
            .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "unsupported_grant_type", "{body}");
    assert!(body.get("access_token").is_none(), "{body}");
}

#[tokio::test]
async fn a_password_grant_missing_a_field_is_invalid_request() {
    let app = TestApp::spawn().await;
    let cases: [&[(&str, &str)]; 4] = [
        &[("grant_type", "password"), ("password", ADMIN_PASSWORD)],
        &[("grant_type", "password"), ("username", "admin")],
        &[("username", "admin"), ("password", ADMIN_PASSWORD)],
        &[],
    ];
    for form in cases {
        let response = token_grant(&app, form).await;
        assert_eq!(response.status(), 400, "{form:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request", "{form:?}: {body}");
        assert!(body["error_description"].is_string(), "{body}");
    }
}

#[tokio::test]
async fn a_password_grant_sent_as_json_is_refused_with_400() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .post(app.url("/api/token"))
        .json(&json!({ "grant_type": "password", "username": "admin", "password": ADMIN_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"].is_string(), "an OAuth2 error body: {body}");
    assert!(body.get("access_token").is_none(), "{body}");
}

#[tokio::test]
async fn health_answers_ok() {
    let app = TestApp::spawn().await;
    let response = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({ "status": "ok" }));
}

#[tokio::test]
async fn a_query_over_get_with_a_bearer_token_answers_data() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", "{ me { username } }")])
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["me"]["username"], "admin", "{body}");
}

#[tokio::test]
async fn a_query_over_get_with_variables_and_an_operation_name_answers_data() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[
            ("query", "query A { me { username } } query B($u: String!) { user(username: $u) { role } }"),
            ("variables", "{\"u\": \"admin\"}"),
            ("operationName", "B"),
        ])
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["user"]["role"], "ADMIN", "{body}");
}

#[tokio::test]
async fn a_query_over_get_without_a_token_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let response = app.client.get(app.url("/graphql")).query(&[("query", "{ me { username } }")]).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(code(&body), Some("UNAUTHENTICATED"), "{body}");
}

#[tokio::test]
async fn a_mutation_over_get_is_refused_with_405_and_not_executed() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let response =
        app.client.get(app.url("/graphql")).query(&[("query", CREATE_EVE)]).bearer_auth(&admin).send().await.unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
    assert_eq!(response.status(), 405);
    assert!(!user_exists(&app, &admin, "eve").await, "the mutation was executed over GET");
}

#[tokio::test]
async fn a_mutation_chosen_by_operation_name_over_get_is_refused_and_not_executed() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let document = format!("query Q {{ me {{ username }} }} mutation M {}", &CREATE_EVE["mutation ".len()..]);
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", document.as_str()), ("operationName", "M")])
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
    assert!(!user_exists(&app, &admin, "eve").await, "the mutation was executed over GET");
    // The same document with the query chosen runs the query only.
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", document.as_str()), ("operationName", "Q")])
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["me"]["username"], "admin", "{body}");
    assert!(!user_exists(&app, &admin, "eve").await);
}

#[tokio::test]
async fn an_anonymous_mutation_with_a_query_over_get_is_not_executed() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    // Two operations and no operationName: nothing may run, least of all the mutation.
    let document = format!("query Q {{ me {{ username }} }} {CREATE_EVE}");
    let response =
        app.client.get(app.url("/graphql")).query(&[("query", document.as_str())]).bearer_auth(&admin).send().await;
    let _ = response.unwrap();
    assert!(!user_exists(&app, &admin, "eve").await, "the mutation was executed over GET");
}

#[tokio::test]
async fn a_browser_getting_graphql_without_a_query_gets_graphiql() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/graphql"))
        .header(ACCEPT, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(header(&response, CONTENT_TYPE).starts_with("text/html"), "{:?}", response.headers());
    let html = response.text().await.unwrap();
    assert!(html.to_lowercase().contains("graphiql"), "{html}");
    // Relative URLs only: behind a proxy's prefix they keep it (RULES §1).
    assert!(html.contains("src=\"graphiql/playground.js\""), "{html}");
    assert!(!html.contains("=\"/"), "no absolute path in the page: {html}");
    let script = app.client.get(app.url("/graphiql/playground.js")).send().await.unwrap().text().await.unwrap();
    assert!(script.contains("var ENDPOINT = 'graphql';") && script.contains("storage: memoryStorage()"), "{script}");
}

#[tokio::test]
async fn graphql_with_a_trailing_slash_redirects_relatively_keeping_the_query() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for (path, location) in [("/graphql/", "../graphql"), ("/graphql/?query=%7Bme%7D", "../graphql?query=%7Bme%7D")] {
        let response = client.get(app.url(path)).header(ACCEPT, "text/html").send().await.unwrap();
        assert_eq!(response.status(), 308, "{path}");
        assert_eq!(header(&response, reqwest::header::LOCATION), location, "{path}");
    }
    // A POST is redirected with its method kept (308), not executed at the slash.
    let response = client.post(app.url("/graphql/")).json(&json!({ "query": "{ __typename }" })).send().await.unwrap();
    assert_eq!(response.status(), 308);
}

#[tokio::test]
async fn a_post_with_content_type_text_plain_is_refused_and_not_executed() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let response = app
        .client
        .post(app.url("/graphql"))
        .header(CONTENT_TYPE, "text/plain")
        .bearer_auth(&admin)
        .body(json!({ "query": CREATE_EVE }).to_string())
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
    assert!(!user_exists(&app, &admin, "eve").await, "a text/plain request was executed");
}

#[tokio::test]
async fn a_form_encoded_post_is_refused_and_not_executed() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let response =
        app.client.post(app.url("/graphql")).bearer_auth(&admin).form(&[("query", CREATE_EVE)]).send().await.unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
    assert!(!user_exists(&app, &admin, "eve").await, "a form request was executed");
}

#[tokio::test]
async fn a_post_with_bad_json_is_400() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for body in ["{", "{\"query\": ", "not json", "", "{\"query\": \"{ me { username } }\",}"] {
        let response = app
            .client
            .post(app.url("/graphql"))
            .header(CONTENT_TYPE, "application/json")
            .bearer_auth(&admin)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{body:?}");
    }
}

#[tokio::test]
async fn a_batch_as_a_json_array_is_refused_and_not_executed() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&admin)
        .json(&json!([{ "query": "{ me { username } }" }, { "query": CREATE_EVE }]))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
    assert!(!user_exists(&app, &admin, "eve").await, "a batched mutation was executed");
}

#[tokio::test]
async fn a_json_body_that_is_not_an_object_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for body in [json!("{ me { username } }"), json!(null), json!(42), json!(true)] {
        let response = app.client.post(app.url("/graphql")).bearer_auth(&admin).json(&body).send().await.unwrap();
        assert!(response.status().is_client_error(), "{body}: {}", response.status());
    }
}

#[tokio::test]
async fn a_json_object_without_a_query_is_refused_with_4xx() {
    // GraphQL over HTTP: `query` is required; without it the body is not a GraphQL request.
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for body in [json!({ "variables": {} }), json!({}), json!({ "operationName": "Q" })] {
        let response = app.client.post(app.url("/graphql")).bearer_auth(&admin).json(&body).send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_client_error(), "{body}: {status} {text}");
    }
}

#[tokio::test]
async fn an_oversized_body_is_refused_and_not_executed() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let body = json!({ "query": CREATE_EVE, "variables": { "pad": "p".repeat(16 * 1024 * 1024) } });
    let response = app.client.post(app.url("/graphql")).bearer_auth(&admin).json(&body).send().await;
    // The server may answer 413 or close the connection; either way nothing runs.
    if let Ok(response) = response {
        assert!(response.status().is_client_error(), "{}", response.status());
    }
    assert!(!user_exists(&app, &admin, "eve").await, "an oversized request was executed");
}

#[tokio::test]
async fn an_unknown_user_is_null_with_a_not_found_error() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let body = app.gql(Some(&admin), "{ user(username: \"nobody\") { username } }", json!({})).await;
    assert!(body["data"]["user"].is_null(), "{body}");
    assert_eq!(code(&body), Some("NOT_FOUND"), "{body}");
    assert_eq!(body["errors"][0]["path"], json!(["user"]), "{body}");
}

#[tokio::test]
async fn an_unknown_user_is_an_explicit_null_inside_a_data_object() {
    // `user` is nullable, so its error nulls the field only (GraphQL spec, "Handling
    // Execution Errors"), not the whole `data`; the schema says "null with a NOT_FOUND error".
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let body = app.gql(Some(&admin), "{ user(username: \"nobody\") { username } }", json!({})).await;
    assert!(body["data"].is_object(), "data is present: {body}");
    assert!(body["data"].as_object().unwrap().contains_key("user"), "data.user is there, as null: {body}");
    assert!(body["data"]["user"].is_null(), "{body}");
    assert_eq!(code(&body), Some("NOT_FOUND"), "{body}");
    assert_eq!(body["errors"][0]["path"], json!(["user"]), "{body}");
}

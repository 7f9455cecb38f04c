//! Abuse and faults (issue 5): each fails fast with its documented code or status,
//! writes nothing, and leaves the server serving.

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{ADMIN_PASSWORD, TestApp, code, password_of, server_command, user_exists};

const CREATE_BOB: &str = "mutation { createUser(input: {username: \"bob\", password: \"bob-password\"}) { username } }";

async fn post_raw(app: &TestApp, token: &str, body: Vec<u8>) -> reqwest::Response {
    app.client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn still_serving(app: &TestApp, admin: &str) {
    let body = app.gql(Some(admin), "{ me { username } }", json!({})).await;
    assert_eq!(body["data"]["me"]["username"], "admin", "{body}");
}

/// Sends raw bytes and returns the status line the server answers with.
async fn raw_http(app: &TestApp, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response)).await;
    String::from_utf8_lossy(&response).lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_body_over_256_kib_is_413_and_not_executed() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let padding = " ".repeat(300 * 1024);
    let body = json!({ "query": format!("{CREATE_BOB}{padding}") }).to_string().into_bytes();
    assert_eq!(post_raw(&app, &admin, body).await.status(), 413);
    assert!(!user_exists(&app, &admin, "bob").await);
    // Just under the limit is served.
    let body = json!({ "query": format!("{CREATE_BOB}{}", " ".repeat(250 * 1024)) }).to_string().into_bytes();
    assert_eq!(post_raw(&app, &admin, body).await.status(), 200);
    assert!(user_exists(&app, &admin, "bob").await);
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_413_and_not_executed() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let body = json!({ "query": format!("{CREATE_BOB}{}", " ".repeat(300 * 1024)) }).to_string();
    let mut request = format!(
        "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer {admin}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for chunk in body.as_bytes().chunks(16 * 1024) {
        request.extend(format!("{:x}\r\n", chunk.len()).into_bytes());
        request.extend(chunk);
        request.extend(b"\r\n");
    }
    request.extend(b"0\r\n\r\n");
    let status = raw_http(&app, &request).await;
    assert!(status.contains(" 413 "), "{status}");
    assert!(!user_exists(&app, &admin, "bob").await);
}

#[tokio::test]
async fn a_query_fifty_levels_deep_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let query = format!("{{ __schema {{ types {{ {}name{} }} }} }}", "fields { type { ".repeat(25), " } }".repeat(25));
    let body = app.gql(Some(&admin), &query, json!({})).await;
    assert_eq!(code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert!(body["data"].is_null());
    still_serving(&app, &admin).await;
}

#[tokio::test]
async fn alias_amplified_queries_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let query = format!(
        "{{ {} }}",
        (0..100).map(|i| format!("a{i}: users {{ username groups {{ name }} }}")).collect::<Vec<_>>().join(" ")
    );
    let body = app.gql(Some(&admin), &query, json!({})).await;
    assert_eq!(code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert!(body["data"].is_null());
}

#[tokio::test]
async fn an_alias_amplified_login_brute_force_is_refused_and_not_counted() {
    let app = TestApp::spawn().await;
    app.regular_user("bob").await;
    let guesses: Vec<String> = (0..10)
        .map(|i| format!("g{i}: login(username: \"bob\", password: \"guess-{i:04}\") {{ accessToken }}"))
        .collect();
    let body = app.gql(None, &format!("mutation {{ {} }}", guesses.join(" ")), json!({})).await;
    assert_eq!(code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert!(body["data"].is_null());
    // Two logins through a fragment are refused the same way.
    let fragment = "mutation { ...L } fragment L on Mutation { a: login(username: \"bob\", password: \"x-password\") { accessToken } \
                    b: login(username: \"bob\", password: \"y-password\") { accessToken } }";
    assert_eq!(code(&app.gql(None, fragment, json!({})).await), Some("BAD_USER_INPUT"));
    // Nothing ran, so nothing counted towards bob's lock.
    for _ in 0..4 {
        let wrong = app
            .gql(None, "mutation { login(username: \"bob\", password: \"wrong-password\") { accessToken } }", json!({}))
            .await;
        assert_eq!(code(&wrong), Some("UNAUTHENTICATED"));
    }
    app.login("bob", &password_of("bob")).await;
}

#[tokio::test]
async fn fragment_cycles_are_refused_without_hanging() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let query = "query { ...A } fragment A on Query { me { username } ...B } fragment B on Query { ...A }";
    let body = tokio::time::timeout(Duration::from_secs(10), app.gql(Some(&admin), query, json!({}))).await.unwrap();
    assert!(code(&body).is_some(), "{body}");
    assert!(body["data"].is_null());
    still_serving(&app, &admin).await;
}

#[tokio::test]
async fn a_batch_of_a_thousand_operations_is_refused_and_not_executed() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let batch: Vec<Value> = (0..1000).map(|_| json!({ "query": CREATE_BOB })).collect();
    let response = post_raw(&app, &admin, serde_json::to_vec(&batch).unwrap()).await;
    assert_eq!(response.status(), 400);
    assert!(!user_exists(&app, &admin, "bob").await);
}

#[tokio::test]
async fn thirty_failed_logins_for_one_account_end_rate_limited_and_spare_other_accounts() {
    let app = TestApp::spawn().await;
    app.regular_user("bob").await;
    let mut codes = Vec::new();
    for _ in 0..30 {
        let body = app
            .gql(None, "mutation { login(username: \"bob\", password: \"wrong-password\") { accessToken } }", json!({}))
            .await;
        codes.push(code(&body).unwrap().to_owned());
    }
    assert!(codes[..5].iter().all(|c| c == "UNAUTHENTICATED"), "{codes:?}");
    assert!(codes[5..].iter().all(|c| c == "RATE_LIMITED"), "{codes:?}");
    let right = app
        .gql(
            None,
            &format!("mutation {{ login(username: \"bob\", password: \"{}\") {{ accessToken }} }}", password_of("bob")),
            json!({}),
        )
        .await;
    assert_eq!(code(&right), Some("RATE_LIMITED"));
    app.admin().await;
}

#[tokio::test]
async fn two_hundred_simultaneous_logins_all_get_tokens_while_me_still_answers() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let login = "mutation($p: String!) { login(username: \"admin\", password: $p) { accessToken } }";
    let logins = join_all((0..200).map(|_| app.gql(None, login, json!({"p": ADMIN_PASSWORD}))));
    let me = async {
        // Let the logins queue up first, then ask.
        tokio::time::sleep(Duration::from_millis(50)).await;
        app.gql(Some(&admin), "{ me { username } }", json!({})).await
    };
    let (logins, me) = tokio::join!(logins, me);
    assert_eq!(me["data"]["me"]["username"], "admin", "{me}");
    let tokens = logins.iter().filter(|body| body["data"]["login"]["accessToken"].is_string()).count();
    assert_eq!(tokens, 200, "{:?}", logins.iter().find(|b| !b["errors"].is_null()));
}

#[tokio::test]
async fn control_characters_in_lookups_are_bad_user_input_never_internal() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for (query, value) in [
        ("query($v: String!) { user(username: $v) { username } }", "a\u{0}b"),
        ("query($v: String!) { model(id: $v) { id } }", "m\u{0}"),
        ("query($v: String!) { group(name: $v) { name } }", "g\u{1b}"),
        ("mutation($v: String!) { deleteUser(username: $v) { username } }", "\u{0}"),
        ("mutation($v: String!) { deleteModel(id: $v) { id } }", "x\ny"),
    ] {
        let body = app.gql(Some(&admin), query, json!({"v": value})).await;
        assert_eq!(code(&body), Some("BAD_USER_INPUT"), "{query}: {body}");
    }
    let inline = app.gql(Some(&admin), "{ user(username: \"a\\u0000b\") { username } }", json!({})).await;
    assert_eq!(code(&inline), Some("BAD_USER_INPUT"), "{inline}");
    still_serving(&app, &admin).await;
}

#[tokio::test]
async fn sql_metacharacters_are_stored_and_matched_literally() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let full_name = "Robert'); DROP TABLE users;-- \" % _ \\";
    let email = "o'brien+%_@example.org";
    app.create_user(
        &admin,
        json!({"username": "bobby", "password": "bobby-password", "fullName": full_name, "email": email}),
    )
    .await;
    let body =
        app.gql(Some(&admin), "{ user(username: \"bobby\") { fullName email } users { username } }", json!({})).await;
    assert_eq!(body["data"]["user"], json!({"fullName": full_name, "email": email}));
    assert_eq!(body["data"]["users"].as_array().unwrap().len(), 2);
    for lookup in ["x' OR '1'='1", "%", "_obby", "bobby' --"] {
        let body =
            app.gql(Some(&admin), "query($u: String!) { user(username: $u) { username } }", json!({"u": lookup})).await;
        assert_eq!(code(&body), Some("NOT_FOUND"), "{lookup}: {body}");
    }
}

#[tokio::test]
async fn a_panicking_resolver_is_an_internal_error_with_a_request_id_and_the_server_goes_on() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let response = app.post_query(&admin, "{ user(username: \"panic-for-test\") { username } }").await;
    assert_eq!(response.status(), 500);
    let request_id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(code(&body), Some("INTERNAL_SERVER_ERROR"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["requestId"], request_id.as_str());
    assert!(body["errors"][0]["message"].as_str().unwrap().contains(&request_id));
    assert!(!body.to_string().contains("test hook"), "the panic message stays in the log: {body}");
    still_serving(&app, &admin).await;
}

#[tokio::test]
async fn fifty_parallel_mutations_all_succeed() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let results = join_all((0..50).map(|i| {
        app.gql(
            Some(&admin),
            "mutation($id: String!) { createModel(id: $id) { id } }",
            json!({"id": format!("m{i:02}")}),
        )
    }))
    .await;
    for body in &results {
        assert!(body["errors"].is_null(), "{body}");
    }
    let body = app.gql(Some(&admin), "{ models { id } }", json!({})).await;
    assert_eq!(body["data"]["models"].as_array().unwrap().len(), 50);
}

#[tokio::test]
async fn cancelling_one_of_twenty_concurrent_requests_fails_none_of_the_others() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for name in ["ann", "bob", "cid"] {
        app.create_user(&admin, json!({"username": name, "password": "long-password"})).await;
    }
    let query = json!({"query": "{ users { username groups { name } models { id } } }"});
    let requests: Vec<_> = (0..20)
        .map(|_| {
            let request = app.client.post(app.url("/graphql")).bearer_auth(&admin).json(&query);
            tokio::spawn(async move { request.send().await.unwrap().json::<Value>().await.unwrap() })
        })
        .collect();
    requests[7].abort();
    let mut answered = 0;
    for (i, request) in requests.into_iter().enumerate() {
        match request.await {
            Ok(body) => {
                assert!(body["errors"].is_null(), "{body}");
                assert_eq!(body["data"]["users"].as_array().unwrap().len(), 4);
                answered += 1;
            }
            Err(error) => assert!(i == 7 && error.is_cancelled()),
        }
    }
    assert!(answered >= 19);
}

#[tokio::test]
async fn a_client_too_slow_to_send_its_headers_is_cut_off() {
    let app = TestApp::spawn_with(|config| config.read_timeout_secs = 1).await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream.write_all(b"POST /graphql HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut buffer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buffer)).await;
    assert!(read.is_ok(), "the server closed the connection");
    let admin = app.admin().await;
    still_serving(&app, &admin).await;
}

#[tokio::test]
async fn a_client_too_slow_to_send_its_body_is_cut_off() {
    let app = TestApp::spawn_with(|config| config.read_timeout_secs = 1).await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let head =
        "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"qu";
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response)).await;
    assert!(read.is_ok(), "the server gave up on the body");
    let status = String::from_utf8_lossy(&response).lines().next().unwrap_or_default().to_owned();
    assert!(status.is_empty() || status.contains(" 408 ") || status.contains(" 400 "), "{status}");
}

#[tokio::test]
async fn a_request_past_the_time_limit_gets_503_and_the_server_goes_on() {
    let app = TestApp::spawn_with(|config| config.request_timeout_secs = 1).await;
    let admin = app.admin().await;
    let started = std::time::Instant::now();
    let response = app.post_query(&admin, "{ user(username: \"stall-for-test\") { username } }").await;
    assert_eq!(response.status(), 503);
    assert!(started.elapsed() < Duration::from_secs(4), "cut at the limit: {:?}", started.elapsed());
    still_serving(&app, &admin).await;
}

#[tokio::test]
async fn introspection_and_suggestions_can_be_turned_off() {
    let app = TestApp::spawn_with(|config| config.disable_introspection = true).await;
    let admin = app.admin().await;
    let body =
        app.gql(Some(&admin), "{ __schema { types { name } } __type(name: \"User\") { name } }", json!({})).await;
    assert!(
        body["data"]["__schema"].is_null() && body["data"]["__type"].is_null(),
        "nothing of the schema shows: {body}"
    );
    let body = app.gql(Some(&admin), "{ mee { username } }", json!({})).await;
    assert!(!body.to_string().contains("Did you mean"), "{body}");
    still_serving(&app, &admin).await;
}

#[tokio::test]
async fn a_bad_token_is_never_echoed_back() {
    let app = TestApp::spawn().await;
    let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2VjcmV0LXRva2VuLXRleHQ";
    let body = app.gql(Some(token), "{ me { username } }", json!({})).await;
    assert_eq!(code(&body), Some("UNAUTHENTICATED"));
    assert!(!body.to_string().contains("c2VjcmV0LXRva2VuLXRleHQ"), "{body}");
}

#[tokio::test]
async fn the_server_refuses_to_start_with_a_jwt_secret_under_32_bytes() {
    let output = server_command()
        .env("MLTE_JWT_SECRET", "x".repeat(31))
        .env("DATABASE_URL", "sqlite::memory:")
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("32 bytes"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

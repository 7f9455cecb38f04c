//! Token abuse (RULES §2, §6): every bad token is UNAUTHENTICATED, never a 500; password
//! changes, deletion and re-creation kill older tokens; a disabled user is FORBIDDEN.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::header::{AUTHORIZATION, HeaderValue};
use serde_json::{Value, json};

use crate::helpers::{
    ADMIN_PASSWORD, JWT_SECRET, TestApp, assert_ok, code, delete_user, edit_user, password_of, try_login,
};

const ME: &str = "{ me { username } }";

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// The claims a token carries (its payload is only base64, not encrypted).
fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("three segments");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url payload")).expect("JSON claims")
}

fn sign(algorithm: Algorithm, claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(&Header::new(algorithm), claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

async fn me(app: &TestApp, token: Option<&str>) -> Value {
    app.gql(token, ME, json!({})).await
}

/// `{ me }` with a raw `Authorization` header value; the status must be 200 (never a 500).
async fn me_with_header(app: &TestApp, value: HeaderValue) -> Value {
    let response = app
        .client
        .post(app.url("/graphql"))
        .header(AUTHORIZATION, value)
        .json(&json!({ "query": ME }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "a bad token is a GraphQL error, not a transport failure");
    response.json().await.unwrap()
}

fn assert_unauthenticated(body: &Value, what: &str) {
    assert_eq!(code(body), Some("UNAUTHENTICATED"), "{what}: {body}");
    assert!(body["data"]["me"].is_null(), "{what}: no data leaks: {body}");
}

#[tokio::test]
async fn a_request_without_a_token_is_unauthenticated() {
    let app = TestApp::spawn().await;
    assert_unauthenticated(&me(&app, None).await, "no token");
}

#[tokio::test]
async fn garbage_tokens_are_unauthenticated() {
    let app = TestApp::spawn().await;
    for garbage in ["garbage", "a.b.c", "...", "x", "null", "eyJhbGciOiJIUzI1NiJ9", "Bearer", "0"] {
        assert_unauthenticated(&me(&app, Some(garbage)).await, garbage);
    }
}

#[tokio::test]
async fn malformed_authorization_headers_are_unauthenticated() {
    let app = TestApp::spawn().await;
    // "Basic admin:admin-password": the right credentials, but not a bearer token.
    for header in ["Bearer", "Bearer ", "Bearer  ", "Basic YWRtaW46YWRtaW4tcGFzc3dvcmQ=", "Token x.y.z"] {
        let body = me_with_header(&app, HeaderValue::from_str(header).unwrap()).await;
        assert_unauthenticated(&body, header);
    }
}

#[tokio::test]
async fn a_forged_token_carrying_the_real_claims_works_so_the_forgeries_below_are_meaningful() {
    // Control: the test can build an acceptable token, so every refusal below is due
    // to the one thing each forgery changes.
    let app = TestApp::spawn().await;
    let bob = app.regular_user("bob").await;
    let mut claims = claims_of(&bob);
    claims["iat"] = json!(now());
    claims["exp"] = json!(now() + 600);
    let forged = sign(Algorithm::HS256, &claims, JWT_SECRET);
    let body = me(&app, Some(&forged)).await;
    assert_eq!(body["data"]["me"]["username"], "bob", "{body}");
}

#[tokio::test]
async fn a_token_signed_with_another_key_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let bob = app.regular_user("bob").await;
    let token = sign(Algorithm::HS256, &claims_of(&bob), "another-secret-that-is-at-least-32-bytes-long");
    assert_unauthenticated(&me(&app, Some(&token)).await, "wrong key");
}

#[tokio::test]
async fn a_token_with_alg_none_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let bob = app.regular_user("bob").await;
    let claims = claims_of(&bob);
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = json!({ "alg": alg, "typ": "JWT" });
        for signature in ["", "AAAA"] {
            let token = format!("{}.{}.{signature}", b64(&header), b64(&claims));
            assert_unauthenticated(&me(&app, Some(&token)).await, &format!("alg {alg}, signature {signature:?}"));
        }
        // Without the trailing dot either.
        let token = format!("{}.{}", b64(&header), b64(&claims));
        assert_unauthenticated(&me(&app, Some(&token)).await, &format!("alg {alg}, two segments"));
    }
}

#[tokio::test]
async fn a_token_signed_with_hs384_or_hs512_is_unauthenticated_even_with_the_right_key() {
    let app = TestApp::spawn().await;
    let bob = app.regular_user("bob").await;
    let claims = claims_of(&bob);
    for algorithm in [Algorithm::HS512, Algorithm::HS384] {
        let token = sign(algorithm, &claims, JWT_SECRET);
        assert_unauthenticated(&me(&app, Some(&token)).await, &format!("{algorithm:?}"));
    }
}

#[tokio::test]
async fn a_token_whose_header_claims_hs256_but_whose_signature_is_hs512_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let bob = app.regular_user("bob").await;
    let hs512 = sign(Algorithm::HS512, &claims_of(&bob), JWT_SECRET);
    let signature = hs512.rsplit('.').next().unwrap();
    let token = format!("{}.{}.{signature}", b64(&json!({ "alg": "HS256", "typ": "JWT" })), b64(&claims_of(&bob)));
    assert_unauthenticated(&me(&app, Some(&token)).await, "HS512 signature under an HS256 header");
}

#[tokio::test]
async fn an_expired_token_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let bob = app.regular_user("bob").await;
    let mut claims = claims_of(&bob);
    for (iat, exp) in [(now() - 7300, now() - 100), (now() - 10, now() - 1), (1, 2)] {
        claims["iat"] = json!(iat);
        claims["exp"] = json!(exp);
        let token = sign(Algorithm::HS256, &claims, JWT_SECRET);
        assert_unauthenticated(&me(&app, Some(&token)).await, &format!("exp {exp}"));
    }
}

#[tokio::test]
async fn a_token_missing_exp_or_with_a_string_exp_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let bob = app.regular_user("bob").await;
    let claims = claims_of(&bob);
    let mut no_exp = claims.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    let mut string_exp = claims.clone();
    string_exp["exp"] = json!((now() + 600).to_string());
    let mut no_sub = claims.clone();
    no_sub.as_object_mut().unwrap().remove("sub");
    for forged in [no_exp, string_exp, no_sub] {
        let token = sign(Algorithm::HS256, &forged, JWT_SECRET);
        assert_unauthenticated(&me(&app, Some(&token)).await, &forged.to_string());
    }
}

#[tokio::test]
async fn a_token_whose_payload_was_edited_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let bob = app.regular_user("bob").await;
    let segments: Vec<&str> = bob.split('.').collect();
    let mut claims = claims_of(&bob);
    claims["sub"] = json!("admin");
    let token = format!("{}.{}.{}", segments[0], b64(&claims), segments[2]);
    assert_unauthenticated(&me(&app, Some(&token)).await, "sub changed to admin");
}

#[tokio::test]
async fn a_forged_token_for_a_real_user_without_its_version_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let claims = json!({ "sub": "admin", "iat": now(), "exp": now() + 600, "ver": "0" });
    let token = sign(Algorithm::HS256, &claims, JWT_SECRET);
    assert_unauthenticated(&me(&app, Some(&token)).await, "guessed version");
    let no_version = json!({ "sub": "admin", "iat": now(), "exp": now() + 600 });
    let token = sign(Algorithm::HS256, &no_version, JWT_SECRET);
    assert_unauthenticated(&me(&app, Some(&token)).await, "no version");
}

#[tokio::test]
async fn tokens_with_two_or_four_segments_are_unauthenticated() {
    let app = TestApp::spawn().await;
    let bob = app.regular_user("bob").await;
    let segments: Vec<&str> = bob.split('.').collect();
    assert_eq!(segments.len(), 3, "a JWT has three segments");
    let two = format!("{}.{}", segments[0], segments[1]);
    let two_signed = format!("{}.{}", segments[1], segments[2]);
    let four = format!("{bob}.{}", segments[2]);
    let four_empty = format!("{bob}.");
    let leading_dot = format!(".{bob}");
    for token in [two, two_signed, four, four_empty, leading_dot] {
        assert_unauthenticated(&me(&app, Some(&token)).await, &token);
    }
}

#[tokio::test]
async fn a_10_kb_token_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let bob = app.regular_user("bob").await;
    assert_unauthenticated(&me(&app, Some(&"a".repeat(10 * 1024))).await, "10 KB of a");
    // A well-formed, correctly signed token made huge by its payload: it still does
    // not carry the user's version, so it fails, but never with a 500.
    let mut claims = claims_of(&bob);
    claims["pad"] = json!("p".repeat(10 * 1024));
    claims["ver"] = json!("x".repeat(64));
    let token = sign(Algorithm::HS256, &claims, JWT_SECRET);
    assert!(token.len() > 10 * 1024);
    assert_unauthenticated(&me(&app, Some(&token)).await, "10 KB signed token");
    // The same bulk after a real token.
    let padded = format!("{bob}{}", "A".repeat(10 * 1024));
    assert_unauthenticated(&me(&app, Some(&padded)).await, "real token with 10 KB appended");
}

#[tokio::test]
async fn a_non_ascii_token_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let bob = app.regular_user("bob").await;
    for token in ["jeton-é".to_owned(), format!("{bob}é"), "€.€.€".to_owned(), "日本語".to_owned()] {
        let value = HeaderValue::from_bytes(format!("Bearer {token}").as_bytes()).unwrap();
        assert_unauthenticated(&me_with_header(&app, value).await, &token);
    }
    // Raw bytes that are not even UTF-8.
    let value = HeaderValue::from_bytes(b"Bearer \xff\xfe.\xfa.\xf0").unwrap();
    assert_unauthenticated(&me_with_header(&app, value).await, "latin-1 bytes");
}

#[tokio::test]
async fn a_deleted_users_token_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let bob = app.regular_user("bob").await;
    assert_eq!(me(&app, Some(&bob)).await["data"]["me"]["username"], "bob");
    let admin = app.admin().await;
    assert_ok(&delete_user(&app, &admin, "bob").await, "deleteUser(bob)");
    assert_unauthenticated(&me(&app, Some(&bob)).await, "deleted user");
}

#[tokio::test]
async fn a_token_issued_before_an_admin_changed_the_password_is_unauthenticated_and_the_new_password_logs_in() {
    let app = TestApp::spawn().await;
    let bob = app.regular_user("bob").await;
    let admin = app.admin().await;
    let change = json!({ "username": "bob", "password": "a-brand-new-password" });
    assert_ok(&edit_user(&app, &admin, change).await, "the admin sets bob's password");
    assert_unauthenticated(&me(&app, Some(&bob)).await, "token from before the password change");
    let old = try_login(&app, "bob", &password_of("bob")).await;
    assert_eq!(code(&old), Some("UNAUTHENTICATED"), "the old password no longer works: {old}");
    let fresh = app.login("bob", "a-brand-new-password").await;
    assert_eq!(me(&app, Some(&fresh)).await["data"]["me"]["username"], "bob");
}

#[tokio::test]
async fn a_token_issued_before_the_user_changed_its_own_password_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let bob = app.regular_user("bob").await;
    let change = json!({ "username": "me", "password": "bobs-new-password", "currentPassword": password_of("bob") });
    assert_ok(&edit_user(&app, &bob, change).await, "bob changes its own password");
    assert_unauthenticated(&me(&app, Some(&bob)).await, "token from before the own password change");
    let fresh = app.login("bob", "bobs-new-password").await;
    assert_eq!(me(&app, Some(&fresh)).await["data"]["me"]["username"], "bob");
}

#[tokio::test]
async fn a_token_of_a_user_deleted_and_recreated_with_the_same_name_and_password_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let old = app.regular_user("bob").await;
    let admin = app.admin().await;
    assert_ok(&delete_user(&app, &admin, "bob").await, "deleteUser(bob)");
    app.create_user(&admin, json!({ "username": "bob", "password": password_of("bob") })).await;
    assert_unauthenticated(&me(&app, Some(&old)).await, "token of the previous bob");
    let fresh = app.login("bob", &password_of("bob")).await;
    assert_eq!(me(&app, Some(&fresh)).await["data"]["me"]["username"], "bob");
}

#[tokio::test]
async fn a_disabled_users_token_and_login_are_forbidden_until_it_is_enabled_again() {
    let app = TestApp::spawn().await;
    let bob = app.regular_user("bob").await;
    let admin = app.admin().await;
    let set_disabled = |disabled: bool| {
        let (app, admin) = (&app, &admin);
        async move {
            let body = app
                .gql(
                    Some(admin),
                    "mutation($d: Boolean!) { editUser(input: {username: \"bob\", disabled: $d}) { disabled } }",
                    json!({ "d": disabled }),
                )
                .await;
            assert_eq!(body["data"]["editUser"]["disabled"], disabled, "{body}");
        }
    };
    set_disabled(true).await;

    let body = me(&app, Some(&bob)).await;
    assert_eq!(code(&body), Some("FORBIDDEN"), "a disabled user's token: {body}");
    assert!(body["data"]["me"].is_null(), "{body}");

    let body = try_login(&app, "bob", &password_of("bob")).await;
    assert_eq!(code(&body), Some("FORBIDDEN"), "login of a disabled user with the right password: {body}");
    assert!(body["data"]["login"].is_null(), "no token for a disabled user: {body}");

    let body = try_login(&app, "bob", "not-bobs-password").await;
    assert_eq!(code(&body), Some("UNAUTHENTICATED"), "a wrong password stays a wrong password: {body}");

    set_disabled(false).await;
    let fresh = app.login("bob", &password_of("bob")).await;
    assert_eq!(me(&app, Some(&fresh)).await["data"]["me"]["username"], "bob");
}

#[tokio::test]
async fn login_with_an_unknown_user_and_with_a_wrong_password_give_the_same_error() {
    let app = TestApp::spawn().await;
    app.regular_user("bob").await;
    let unknown = try_login(&app, "nobody", "some-password").await;
    let wrong = try_login(&app, "bob", "some-password").await;
    for body in [&unknown, &wrong] {
        assert_eq!(code(body), Some("UNAUTHENTICATED"), "{body}");
        assert!(body["data"]["login"].is_null(), "{body}");
        assert_eq!(body["errors"].as_array().unwrap().len(), 1, "{body}");
    }
    assert_eq!(unknown["errors"][0]["message"], wrong["errors"][0]["message"]);
    assert_eq!(unknown["errors"][0]["extensions"], wrong["errors"][0]["extensions"]);
}

/// RULES §6: both take about the same time because both cost one Argon2id computation
/// (an unknown user is checked against a dummy hash); `/metrics` counts them.
#[tokio::test]
async fn login_with_an_unknown_user_costs_the_same_argon2_work_as_a_wrong_password() {
    let app = TestApp::spawn().await;
    app.regular_user("bob").await;
    let hashes = || app.argon2_hashes();
    let before = hashes().await;
    assert_eq!(code(&try_login(&app, "nobody", "some-password").await), Some("UNAUTHENTICATED"));
    let after_unknown = hashes().await;
    assert_eq!(code(&try_login(&app, "bob", "some-password").await), Some("UNAUTHENTICATED"));
    let after_wrong = hashes().await;
    assert_eq!((after_unknown - before, after_wrong - after_unknown), (1, 1), "unknown user, wrong password");
}

#[tokio::test]
async fn login_with_a_wrong_password_of_an_admin_or_an_empty_password_is_unauthenticated() {
    let app = TestApp::spawn().await;
    for (user, password) in [("admin", "wrong-password"), ("admin", ""), ("admin", "ADMIN-PASSWORD")] {
        let body = try_login(&app, user, password).await;
        assert_eq!(code(&body), Some("UNAUTHENTICATED"), "{user:?}/{password:?}: {body}");
        assert!(body["data"]["login"].is_null(), "{body}");
    }
    // An empty username breaks RULES §5: refused before any password work.
    assert_eq!(code(&try_login(&app, "", "").await), Some("BAD_USER_INPUT"));
    // Usernames are case-sensitive: ADMIN is not admin.
    let body = try_login(&app, "ADMIN", ADMIN_PASSWORD).await;
    assert_eq!(code(&body), Some("UNAUTHENTICATED"), "{body}");
}

#[tokio::test]
async fn login_answers_a_bearer_token_lasting_7200_seconds() {
    let app = TestApp::spawn().await;
    let body = try_login(&app, "admin", ADMIN_PASSWORD).await;
    assert!(body["errors"].is_null(), "{body}");
    let token = &body["data"]["login"];
    assert_eq!(token["tokenType"], "bearer");
    assert_eq!(token["expiresIn"], 7200);
    let access = token["accessToken"].as_str().unwrap();
    let claims = claims_of(access);
    assert_eq!(claims["sub"], "admin");
    assert_eq!(claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(), 7200);
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(access.split('.').next().unwrap()).unwrap()).unwrap();
    assert_eq!(header["alg"], "HS256");
    assert_eq!(me(&app, Some(access)).await["data"]["me"]["username"], "admin");
}

#[tokio::test]
async fn login_works_without_a_token_and_even_with_a_bad_one() {
    let app = TestApp::spawn().await;
    let body = try_login(&app, "admin", ADMIN_PASSWORD).await;
    assert!(body["data"]["login"]["accessToken"].is_string(), "{body}");
    let body = app
        .gql(
            Some("garbage"),
            "mutation($p: String!) { login(username: \"admin\", password: $p) { accessToken } }",
            json!({ "p": ADMIN_PASSWORD }),
        )
        .await;
    assert!(body["data"]["login"]["accessToken"].is_string(), "{body}");
}

#[tokio::test]
async fn introspection_works_without_a_token() {
    let app = TestApp::spawn().await;
    let body = app.gql(None, "{ __typename __schema { queryType { name } } }", json!({})).await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
}

/// Every root field but `login`, each with the arguments it needs.
const ROOT_FIELDS: &[(&str, &str)] = &[
    ("me", "{ me { username } }"),
    ("user", "{ user(username: \"admin\") { username } }"),
    ("user", "{ user(username: \"me\") { username } }"),
    ("users", "{ users { username } }"),
    ("models", "{ models { id } }"),
    ("model", "{ model(id: \"m1\") { id } }"),
    ("groups", "{ groups { name } }"),
    ("group", "{ group(name: \"read-model\") { name } }"),
    ("permissions", "{ permissions { method } }"),
    ("createUser", "mutation { createUser(input: {username: \"eve\", password: \"password-eve\"}) { username } }"),
    ("editUser", "mutation { editUser(input: {username: \"admin\", email: \"eve@evil\"}) { username } }"),
    ("deleteUser", "mutation { deleteUser(username: \"admin\") { username } }"),
    ("createModel", "mutation { createModel(id: \"m1\") { id } }"),
    ("deleteModel", "mutation { deleteModel(id: \"m1\") { id } }"),
    ("createGroup", "mutation { createGroup(input: {name: \"g1\", permissions: []}) { name } }"),
    ("editGroup", "mutation { editGroup(input: {name: \"read-model\", permissions: []}) { name } }"),
    ("deleteGroup", "mutation { deleteGroup(name: \"read-model\") { name } }"),
];

#[tokio::test]
async fn every_root_field_but_login_needs_a_token_and_changes_nothing_without_one() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let snapshot =
        "{ users { username email } models { id } groups { name permissions { resourceType resourceId method } } }";
    let before = app.gql(Some(&admin), snapshot, json!({})).await;
    assert!(before["errors"].is_null(), "{before}");
    for token in [None, Some("garbage")] {
        for (field, query) in ROOT_FIELDS {
            let body = app.gql(token, query, json!({})).await;
            assert_eq!(code(&body), Some("UNAUTHENTICATED"), "{field} with token {token:?}: {body}");
            assert!(body["data"].is_null() || body["data"][field].is_null(), "{field}: {body}");
        }
    }
    let after = app.gql(Some(&admin), snapshot, json!({})).await;
    assert_eq!(before, after, "nothing changed");
}

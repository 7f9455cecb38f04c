//! Property tests over the GraphQL request entry point and the validators: no input
//! makes the server panic or answer 5xx, and the validators agree with their rules.

#[path = "api/helpers/mod.rs"]
#[allow(dead_code, unused_imports)] // this binary uses a few of the helpers
mod helpers;

const DATABASE: helpers::Database = helpers::Database::Sqlite;

use std::sync::OnceLock;

use helpers::TestApp;
use mlte_graphql::domain::validate;
use proptest::prelude::*;
use serde_json::json;

/// One server for every case: a runtime of its own, kept for the whole test binary.
fn app() -> &'static (tokio::runtime::Runtime, TestApp, String) {
    static APP: OnceLock<(tokio::runtime::Runtime, TestApp, String)> = OnceLock::new();
    APP.get_or_init(|| {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (app, admin) = runtime.block_on(async {
            let app = TestApp::spawn().await;
            let admin = app.admin().await;
            (app, admin)
        });
        (runtime, app, admin)
    })
}

/// POSTs `body` with `content_type` as the admin and returns the status.
fn post(body: Vec<u8>, content_type: &str) -> u16 {
    let (runtime, app, admin) = app();
    runtime.block_on(async {
        let response = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(admin)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("the server answers");
        response.status().as_u16()
    })
}

/// Pieces of GraphQL, put together at random.
fn graphql_fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("(".to_owned()),
        Just(")".to_owned()),
        Just("...".to_owned()),
        Just("fragment F on Query".to_owned()),
        Just("query".to_owned()),
        Just("mutation".to_owned()),
        Just("me".to_owned()),
        Just("users".to_owned()),
        Just("username".to_owned()),
        Just("groups { name }".to_owned()),
        Just("models { id }".to_owned()),
        Just("user(username: \"me\")".to_owned()),
        Just("createModel(id: \"m\") { id }".to_owned()),
        Just("deleteUser(username: \"admin\") { username }".to_owned()),
        Just("login(username: \"admin\", password: \"x\") { accessToken }".to_owned()),
        Just("a: ".to_owned()),
        Just("$v".to_owned()),
        Just("@skip(if: true)".to_owned()),
        "[a-zA-Z_][a-zA-Z0-9_]{0,8}",
        "\"[^\"\\\\]{0,12}\"",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_get_a_5xx(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        prop_assert!(post(body, "application/json") < 500);
    }

    #[test]
    fn arbitrary_queries_and_variables_never_get_a_5xx(
        parts in proptest::collection::vec(graphql_fragment(), 0..24),
        variable in any::<String>(),
        operation in proptest::option::of("[A-Za-z]{1,6}"),
    ) {
        let body = json!({ "query": parts.join(" "), "variables": { "v": variable }, "operationName": operation });
        let status = post(serde_json::to_vec(&body).unwrap(), "application/json");
        prop_assert!(status < 500, "{status} for {body}");
    }

    #[test]
    fn arbitrary_json_values_never_get_a_5xx(value in arbitrary_json()) {
        prop_assert!(post(serde_json::to_vec(&value).unwrap(), "application/json") < 500);
    }

    #[test]
    fn usernames_pass_exactly_when_they_follow_the_rules(name in any::<String>()) {
        let follows = !name.is_empty()
            && name.len() <= 64
            && name != "me"
            && name.chars().all(|c| c.is_ascii_alphanumeric() || ".-_@".contains(c));
        prop_assert_eq!(validate::username(&name).is_ok(), follows);
    }

    #[test]
    fn passwords_pass_exactly_when_they_follow_the_rules(password in any::<String>()) {
        let follows = password.chars().count() >= 8 && password.len() <= 1024 && !password.chars().any(char::is_control);
        prop_assert_eq!(validate::password(&password).is_ok(), follows);
    }

    #[test]
    fn validators_never_panic(value in any::<String>()) {
        let _ = validate::email(&value);
        let _ = validate::full_name(&value);
        let _ = validate::resource_name("id", &value);
        let _ = validate::no_control_chars("field", &value);
    }
}

fn arbitrary_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<String>().prop_map(serde_json::Value::from),
        Just(json!("{ me { username } }")),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            proptest::collection::hash_map(
                prop_oneof![
                    Just("query".to_owned()),
                    Just("variables".to_owned()),
                    Just("operationName".to_owned()),
                    "[a-z]{1,6}"
                ],
                inner,
                0..4
            )
            .prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
        ]
    })
}

//! Fail closed (RULES §2: every field except `login` and introspection needs a valid
//! token): every root field the schema serves, read from introspection, is tried
//! without a token and with a bad one, with arguments built from its types. A root
//! field added without a guard cannot be public.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, TestApp, code};

const TYPE_REF: &str = "kind name ofType { kind name ofType { kind name ofType { kind name } } }";

/// The schema's types by name, as introspection gives them.
async fn types(app: &TestApp) -> HashMap<String, Value> {
    let query = format!(
        "{{ __schema {{ types {{ name kind enumValues {{ name }} \
           inputFields {{ name defaultValue type {{ {TYPE_REF} }} }} \
           fields {{ name args {{ name defaultValue type {{ {TYPE_REF} }} }} type {{ {TYPE_REF} }} }} }} }} }}"
    );
    let body = app.gql(None, &query, json!({})).await;
    let types = body["data"]["__schema"]["types"].as_array().unwrap_or_else(|| panic!("introspection: {body}"));
    types.iter().map(|t| (t["name"].as_str().unwrap().to_owned(), t.clone())).collect()
}

/// A GraphQL literal of type `ty` (an introspection type reference).
fn literal(types: &HashMap<String, Value>, ty: &Value) -> String {
    match ty["kind"].as_str().unwrap() {
        "NON_NULL" => literal(types, &ty["ofType"]),
        "LIST" => format!("[{}]", literal(types, &ty["ofType"])),
        _ => {
            let named = &types[ty["name"].as_str().unwrap()];
            match (named["kind"].as_str().unwrap(), named["name"].as_str().unwrap()) {
                ("ENUM", _) => named["enumValues"][0]["name"].as_str().unwrap().to_owned(),
                ("INPUT_OBJECT", _) => {
                    let fields: Vec<String> = named["inputFields"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|f| f["type"]["kind"] == "NON_NULL" && f["defaultValue"].is_null())
                        .map(|f| format!("{}: {}", f["name"].as_str().unwrap(), literal(types, &f["type"])))
                        .collect();
                    format!("{{{}}}", fields.join(", "))
                }
                (_, "Int") => "1".to_owned(),
                (_, "Boolean") => "false".to_owned(),
                _ => "\"probe-value\"".to_owned(),
            }
        }
    }
}

/// The innermost named type of a type reference.
fn named_kind(ty: &Value) -> &str {
    if ty["ofType"].is_null() { ty["kind"].as_str().unwrap() } else { named_kind(&ty["ofType"]) }
}

/// `operation { field(required args) { __typename } }` for each root field.
fn documents(types: &HashMap<String, Value>, root: &str, operation: &str) -> Vec<(String, String)> {
    types[root]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|field| {
            let name = field["name"].as_str().unwrap();
            let args: Vec<String> = field["args"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["type"]["kind"] == "NON_NULL" && a["defaultValue"].is_null())
                .map(|a| format!("{}: {}", a["name"].as_str().unwrap(), literal(types, &a["type"])))
                .collect();
            let args = if args.is_empty() { String::new() } else { format!("({})", args.join(", ")) };
            let selection = if named_kind(&field["type"]) == "OBJECT" { " { __typename }" } else { "" };
            (name.to_owned(), format!("{operation} {{ {name}{args}{selection} }}"))
        })
        .collect()
}

#[tokio::test]
async fn every_root_field_but_login_needs_a_valid_token() {
    let app = TestApp::spawn().await;
    let types = types(&app).await;
    let mut fields = documents(&types, "Query", "query");
    fields.extend(documents(&types, "Mutation", "mutation"));
    assert!(fields.len() >= 15, "introspection found the root fields: {fields:?}");
    for (name, document) in fields.iter().filter(|(name, _)| name != "login") {
        for token in [None, Some("not-a-token")] {
            let body = app.gql(token, document, json!({})).await;
            assert_eq!(code(&body), Some("UNAUTHENTICATED"), "{document} with token {token:?}: {body}");
            assert_eq!(body["errors"][0]["path"], json!([name]), "{body}");
        }
    }
    // The one public field: it answers without a token.
    let login = format!("mutation {{ login(username: \"admin\", password: \"{ADMIN_PASSWORD}\") {{ tokenType }} }}");
    let body = app.gql(None, &login, json!({})).await;
    assert_eq!(body["data"]["login"]["tokenType"], "bearer", "{body}");
}

//! What a GraphQL response says about how it went: its error codes, and assertions on them.

use serde_json::Value;

/// The `extensions.code` of the first error, if any.
pub fn code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

/// The error codes of a response, in order.
pub fn codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| errors.iter().map(|e| e["extensions"]["code"].as_str().unwrap_or("").to_owned()).collect())
        .unwrap_or_default()
}

/// Asserts that the response carries no error; `what` names the request in the message.
pub fn assert_ok(body: &Value, what: &str) {
    assert!(body["errors"].is_null(), "{what} should succeed: {body}");
}

/// Asserts that the response's first error has the code `expected`.
pub fn assert_code(body: &Value, expected: &str, what: &str) {
    assert_eq!(code(body), Some(expected), "{what}: {body}");
}

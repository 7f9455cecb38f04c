//! RULES §5 at every limit: just inside is accepted, just outside is BAD_USER_INPUT,
//! and a refused mutation leaves nothing behind.

use serde_json::{Value, json};

use crate::helpers::{
    TestApp, all_group_names, all_usernames, code, create_group, create_model, create_user, edit_user, model_ids,
    try_login,
};

/// The control characters tried in every string input: C0 (NUL included), DEL and C1.
const CONTROLS: &[char] = &['\0', '\u{1}', '\n', '\r', '\t', '\u{1b}', '\u{7f}', '\u{85}', '\u{9f}'];

fn assert_accepted(body: &Value, field: &str, what: &str) {
    assert!(body["errors"].is_null(), "{what} must be accepted: {body}");
    assert!(body["data"][field].is_object(), "{what}: {body}");
}

fn assert_bad_input(body: &Value, field: &str, what: &str) {
    assert_eq!(code(body), Some("BAD_USER_INPUT"), "{what} must be refused: {body}");
    assert!(body["data"][field].is_null(), "{what}: {body}");
}

/// Creates a user with `input` on top of a valid username and password; asserts BAD_USER_INPUT
/// and that no such user exists afterwards.
async fn assert_user_refused(app: &TestApp, admin: &str, input: Value, what: &str) {
    let username = input["username"].as_str().unwrap().to_owned();
    let body = create_user(app, admin, input).await;
    assert_bad_input(&body, "createUser", what);
    assert!(!all_usernames(app, admin).await.contains(&username), "{what}: the refused user exists");
}

async fn assert_user_accepted(app: &TestApp, admin: &str, input: Value, what: &str) {
    let username = input["username"].as_str().unwrap().to_owned();
    let body = create_user(app, admin, input).await;
    assert_accepted(&body, "createUser", what);
    assert_eq!(body["data"]["createUser"]["username"], username.as_str(), "{what}");
    assert!(all_usernames(app, admin).await.contains(&username), "{what}: the user exists");
}

// ---- username ----

#[tokio::test]
async fn a_username_of_64_characters_is_accepted_and_65_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let u64 = "u".repeat(64);
    assert_user_accepted(&app, &admin, json!({ "username": u64, "password": "password-1" }), "64 characters").await;
    app.login(&u64, "password-1").await;
    let u65 = "v".repeat(65);
    assert_user_refused(&app, &admin, json!({ "username": u65, "password": "password-1" }), "65 characters").await;
}

#[tokio::test]
async fn a_username_of_one_character_and_every_allowed_character_is_accepted() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for username in ["a", "Z", "7", "ABCXYZabcxyz0189._@-", "Jane.Doe_1@example-org.com", ".", "_", "@", "-", "Me"] {
        assert_user_accepted(&app, &admin, json!({ "username": username, "password": "password-1" }), username).await;
    }
}

#[tokio::test]
async fn an_empty_username_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let body = create_user(&app, &admin, json!({ "username": "", "password": "password-1" })).await;
    assert_bad_input(&body, "createUser", "empty username");
    assert_eq!(all_usernames(&app, &admin).await, vec!["admin"]);
}

#[tokio::test]
async fn usernames_with_characters_outside_the_charset_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let refused = [
        "a b",
        " bob",
        "bob ",
        " ",
        "a/b",
        "/",
        "../admin",
        "é",
        "josé",
        "a+b",
        "a:b",
        "a#b",
        "a%20b",
        "a,b",
        "a;b",
        "a'b",
        "a\"b",
        "a\\b",
        "a*b",
        "a(b)",
        "a~b",
        "a!b",
        "a=b",
        "a?b",
        "a&b",
        "a<b>",
        "ａｂ",
        "a\u{200b}b",
        "a\u{a0}b",
        "ß",
        "İ",
    ];
    for username in refused {
        assert_user_refused(&app, &admin, json!({ "username": username, "password": "password-1" }), username).await;
    }
    assert_eq!(all_usernames(&app, &admin).await, vec!["admin"]);
}

#[tokio::test]
async fn the_username_me_is_reserved() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let body = create_user(&app, &admin, json!({ "username": "me", "password": "password-1" })).await;
    assert_bad_input(&body, "createUser", "me");
    assert_eq!(all_usernames(&app, &admin).await, vec!["admin"]);
}

#[tokio::test]
async fn usernames_differing_only_in_case_are_distinct_users() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    assert_user_accepted(&app, &admin, json!({ "username": "bob", "password": "password-lower" }), "bob").await;
    assert_user_accepted(&app, &admin, json!({ "username": "Bob", "password": "password-upper" }), "Bob").await;
    let names = all_usernames(&app, &admin).await;
    assert!(names.contains(&"bob".to_owned()) && names.contains(&"Bob".to_owned()), "{names:?}");

    let lower = app.login("bob", "password-lower").await;
    let upper = app.login("Bob", "password-upper").await;
    for (token, expected) in [(&lower, "bob"), (&upper, "Bob")] {
        let body = app.gql(Some(token), "{ me { username } }", json!({})).await;
        assert_eq!(body["data"]["me"]["username"], expected, "{body}");
    }
    // Each password only opens its own account, and BOB is nobody.
    for (user, password) in [("bob", "password-upper"), ("Bob", "password-lower"), ("BOB", "password-lower")] {
        let body = try_login(&app, user, password).await;
        assert_eq!(code(&body), Some("UNAUTHENTICATED"), "{user}/{password}: {body}");
    }
    let body = app.gql(Some(&admin), "{ user(username: \"BOB\") { username } }", json!({})).await;
    assert_eq!(code(&body), Some("NOT_FOUND"), "{body}");
    // And bob is taken, exactly.
    let body = create_user(&app, &admin, json!({ "username": "bob", "password": "password-again" })).await;
    assert_eq!(code(&body), Some("ALREADY_EXISTS"), "{body}");
}

// ---- password ----

#[tokio::test]
async fn a_password_of_8_characters_is_accepted_and_7_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    assert_user_accepted(&app, &admin, json!({ "username": "p8", "password": "12345678" }), "8 characters").await;
    app.login("p8", "12345678").await;
    assert_user_refused(&app, &admin, json!({ "username": "p7", "password": "1234567" }), "7 characters").await;
    assert_user_refused(&app, &admin, json!({ "username": "p0", "password": "" }), "empty password").await;
}

#[tokio::test]
async fn a_password_is_counted_in_characters_for_its_minimum() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    // Eight characters of two bytes each: eight characters.
    let eight = "é".repeat(8);
    assert_user_accepted(&app, &admin, json!({ "username": "e8", "password": eight }), "8 two-byte characters").await;
    app.login("e8", &eight).await;
    // Seven characters but fourteen bytes: still too short.
    let seven = "é".repeat(7);
    assert_user_refused(&app, &admin, json!({ "username": "e7", "password": seven }), "7 two-byte characters").await;
}

#[tokio::test]
async fn a_password_of_1024_bytes_is_accepted_and_1025_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let long = "p".repeat(1024);
    assert_user_accepted(&app, &admin, json!({ "username": "b1024", "password": long }), "1024 bytes").await;
    app.login("b1024", &long).await;
    let longer = "p".repeat(1025);
    assert_user_refused(&app, &admin, json!({ "username": "b1025", "password": longer }), "1025 bytes").await;
}

#[tokio::test]
async fn a_password_is_counted_in_bytes_for_its_maximum() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    // 512 two-byte characters are 1024 bytes; 513 are 1026 bytes though only 513 characters.
    let fits = "é".repeat(512);
    assert_user_accepted(&app, &admin, json!({ "username": "e512", "password": fits }), "1024 bytes in é").await;
    app.login("e512", &fits).await;
    let over = "é".repeat(513);
    assert_user_refused(&app, &admin, json!({ "username": "e513", "password": over }), "1026 bytes in é").await;
    // 1023 ASCII bytes and one two-byte character: 1025 bytes in 1024 characters.
    let over = format!("{}é", "p".repeat(1023));
    assert_user_refused(&app, &admin, json!({ "username": "mixed", "password": over }), "1025 bytes mixed").await;
}

// ---- email ----

#[tokio::test]
async fn an_email_of_254_characters_is_accepted_and_255_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let e254 = format!("{}@example.org", "a".repeat(254 - "@example.org".len()));
    assert_eq!(e254.chars().count(), 254);
    let body = create_user(&app, &admin, json!({ "username": "e254", "password": "password-1", "email": e254 })).await;
    assert_accepted(&body, "createUser", "254 characters");
    assert_eq!(body["data"]["createUser"]["email"], e254.as_str());
    let e255 = format!("a{e254}");
    assert_user_refused(&app, &admin, json!({ "username": "e255", "password": "password-1", "email": e255 }), "255")
        .await;
}

#[tokio::test]
async fn an_email_is_counted_in_characters() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    // 254 characters, 506 bytes.
    let wide = format!("{}@b", "é".repeat(252));
    assert_eq!(wide.chars().count(), 254);
    let input = json!({ "username": "wide", "password": "password-1", "email": wide });
    assert_user_accepted(&app, &admin, input, "254 characters of which 252 are two bytes").await;
    let wider = format!("{}@b", "é".repeat(253));
    let input = json!({ "username": "wider", "password": "password-1", "email": wider });
    assert_user_refused(&app, &admin, input, "255 characters").await;
}

#[tokio::test]
async fn an_email_needs_exactly_one_at_with_text_on_both_sides() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    assert_user_accepted(&app, &admin, json!({ "username": "ok", "password": "password-1", "email": "a@b" }), "a@b")
        .await;
    for (i, email) in ["ab", "", "@", "@b", "a@", "a@b@c", "a@@b", "@a@b", "a b.example.org"].iter().enumerate() {
        let input = json!({ "username": format!("bad{i}"), "password": "password-1", "email": email });
        assert_user_refused(&app, &admin, input, &format!("email {email:?}")).await;
    }
}

// ---- fullName ----

#[tokio::test]
async fn a_full_name_of_256_characters_is_accepted_and_257_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let n256 = "n".repeat(256);
    let body =
        create_user(&app, &admin, json!({ "username": "n256", "password": "password-1", "fullName": n256 })).await;
    assert_accepted(&body, "createUser", "256 characters");
    assert_eq!(body["data"]["createUser"]["fullName"], n256.as_str());
    let wide = "é".repeat(256);
    let input = json!({ "username": "wide", "password": "password-1", "fullName": wide });
    assert_user_accepted(&app, &admin, input, "256 two-byte characters").await;
    let n257 = "n".repeat(257);
    let input = json!({ "username": "n257", "password": "password-1", "fullName": n257 });
    assert_user_refused(&app, &admin, input, "257 characters").await;
    let wide = "é".repeat(257);
    let input = json!({ "username": "wider", "password": "password-1", "fullName": wide });
    assert_user_refused(&app, &admin, input, "257 two-byte characters").await;
}

// ---- control characters ----

#[tokio::test]
async fn control_characters_in_a_username_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for c in CONTROLS {
        for username in [format!("bo{c}b"), format!("bob{c}"), format!("{c}")] {
            let input = json!({ "username": username, "password": "password-1" });
            assert_user_refused(&app, &admin, input, &format!("username {username:?}")).await;
        }
    }
    assert_eq!(all_usernames(&app, &admin).await, vec!["admin"]);
}

#[tokio::test]
async fn control_characters_in_a_password_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for (i, c) in CONTROLS.iter().enumerate() {
        let input = json!({ "username": format!("pw{i}"), "password": format!("pass{c}word") });
        assert_user_refused(&app, &admin, input, &format!("password with {c:?}")).await;
    }
}

#[tokio::test]
async fn control_characters_in_an_email_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for (i, c) in CONTROLS.iter().enumerate() {
        for (j, email) in [format!("a{c}@b"), format!("a@b{c}"), format!("a@b{c}.org")].iter().enumerate() {
            let input = json!({ "username": format!("em{i}-{j}"), "password": "password-1", "email": email });
            assert_user_refused(&app, &admin, input, &format!("email {email:?}")).await;
        }
    }
}

#[tokio::test]
async fn control_characters_in_a_full_name_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for (i, c) in CONTROLS.iter().enumerate() {
        let input =
            json!({ "username": format!("fn{i}"), "password": "password-1", "fullName": format!("Jane{c}Doe") });
        assert_user_refused(&app, &admin, input, &format!("fullName with {c:?}")).await;
    }
}

#[tokio::test]
async fn control_characters_in_a_group_named_by_create_user_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for (i, c) in CONTROLS.iter().enumerate() {
        let input =
            json!({ "username": format!("gr{i}"), "password": "password-1", "groups": [format!("read-model{c}")] });
        assert_user_refused(&app, &admin, input, &format!("group with {c:?}")).await;
    }
}

#[tokio::test]
async fn control_characters_in_login_inputs_are_bad_user_input() {
    let app = TestApp::spawn().await;
    app.regular_user("bob").await;
    for (i, c) in CONTROLS.iter().enumerate() {
        // A username that would otherwise be a plain unknown user (UNAUTHENTICATED).
        let body = try_login(&app, &format!("ghost{i}{c}"), "password-1").await;
        assert_bad_input(&body, "login", &format!("login username with {c:?}"));
        let body = try_login(&app, &format!("ghost-pw{i}"), &format!("password{c}")).await;
        assert_bad_input(&body, "login", &format!("login password with {c:?}"));
    }
    // The right password with a control character appended is no password at all.
    let body = try_login(&app, "bob", "password-bob\n").await;
    assert_bad_input(&body, "login", "bob's password and a newline");
    let body = try_login(&app, "bob\0", "password-bob").await;
    assert_bad_input(&body, "login", "bob and a NUL");
    app.login("bob", "password-bob").await;
}

#[tokio::test]
async fn control_characters_in_edit_user_inputs_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let input = json!({ "username": "bob", "password": "password-bob", "email": "bob@x", "fullName": "Bob" });
    app.create_user(&admin, input).await;
    for c in CONTROLS {
        for (field, value) in
            [("email", format!("bob{c}@x")), ("fullName", format!("Bob{c}")), ("password", format!("new-password{c}"))]
        {
            let mut input = json!({ "username": "bob" });
            input[field] = json!(value);
            let body = edit_user(&app, &admin, input).await;
            assert_bad_input(&body, "editUser", &format!("editUser {field} {value:?}"));
        }
    }
    let body = app.gql(Some(&admin), "{ user(username: \"bob\") { email fullName } }", json!({})).await;
    assert_eq!(body["data"]["user"], json!({ "email": "bob@x", "fullName": "Bob" }), "{body}");
    app.login("bob", "password-bob").await;
}

#[tokio::test]
async fn edit_user_applies_the_same_limits_and_changes_nothing_when_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let input = json!({ "username": "bob", "password": "password-bob", "email": "bob@x", "fullName": "Bob" });
    app.create_user(&admin, input).await;
    let refused = [
        json!({ "username": "bob", "email": "no-at" }),
        json!({ "username": "bob", "email": format!("{}@b", "a".repeat(253)) }),
        json!({ "username": "bob", "fullName": "n".repeat(257) }),
        json!({ "username": "bob", "password": "1234567" }),
        json!({ "username": "bob", "password": "p".repeat(1025) }),
        json!({ "username": "bob", "groups": ["no-such-group"] }),
        // One bad field spoils the whole edit.
        json!({ "username": "bob", "fullName": "Robert", "email": "a@b@c" }),
    ];
    for input in refused {
        let body = edit_user(&app, &admin, input.clone()).await;
        assert_bad_input(&body, "editUser", &input.to_string());
    }
    let body = app.gql(Some(&admin), "{ user(username: \"bob\") { email fullName groups { name } } }", json!({})).await;
    assert_eq!(body["data"]["user"]["email"], "bob@x", "{body}");
    assert_eq!(body["data"]["user"]["fullName"], "Bob", "{body}");
    let groups = body["data"]["user"]["groups"].as_array().unwrap();
    assert!(groups.iter().any(|g| g["name"] == "read-user-bob"), "groups unchanged: {body}");
    app.login("bob", "password-bob").await;
}

// ---- groups named by createUser ----

#[tokio::test]
async fn create_user_naming_a_group_that_does_not_exist_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let input = json!({ "username": "bob", "password": "password-1", "groups": ["no-such-group"] });
    assert_user_refused(&app, &admin, input, "unknown group").await;
    let input = json!({ "username": "bob", "password": "password-1", "groups": ["read-model", "no-such-group"] });
    assert_user_refused(&app, &admin, input, "one known and one unknown group").await;
    // Group names are exact: no case folding.
    let input = json!({ "username": "bob", "password": "password-1", "groups": ["READ-MODEL"] });
    assert_user_refused(&app, &admin, input, "group name in the wrong case").await;
    // The user's own group does not exist before the user does.
    let input = json!({ "username": "bob", "password": "password-1", "groups": ["read-user-bob"] });
    assert_user_refused(&app, &admin, input, "its own group, not yet there").await;
    let groups = all_group_names(&app, &admin).await;
    assert!(!groups.iter().any(|g| g.ends_with("-user-bob")), "no group of bob is left behind: {groups:?}");
    // An existing group is fine.
    let input = json!({ "username": "bob", "password": "password-1", "groups": ["read-model"] });
    assert_user_accepted(&app, &admin, input, "existing group").await;
}

// ---- model id ----

#[tokio::test]
async fn a_model_id_of_128_characters_is_accepted_and_129_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let m128 = "m".repeat(128);
    let body = create_model(&app, &admin, &m128).await;
    assert_accepted(&body, "createModel", "128 characters");
    assert!(model_ids(&app, &admin).await.contains(&m128));
    let m129 = "n".repeat(129);
    let body = create_model(&app, &admin, &m129).await;
    assert_bad_input(&body, "createModel", "129 characters");
    assert!(!model_ids(&app, &admin).await.contains(&m129));
    let groups = all_group_names(&app, &admin).await;
    assert!(!groups.iter().any(|g| g.contains(&m129)), "no group of the refused model: {groups:?}");
}

#[tokio::test]
async fn model_ids_outside_the_charset_are_refused_and_leave_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for id in ["Model.v1_final-2", "a", ".", "_", "-", "ABCXYZabcxyz0189._-"] {
        let body = create_model(&app, &admin, id).await;
        assert_accepted(&body, "createModel", id);
    }
    let mut refused: Vec<String> =
        ["", "a@b", "@", "a b", " ", "a/b", "../x", "é", "modèle", "a+b", "a:b", "a#b", "a%2Fb", "a\\b", "a*b", "ａ"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    refused.extend(CONTROLS.iter().map(|c| format!("m{c}x")));
    let groups_before = all_group_names(&app, &admin).await;
    let models_before = model_ids(&app, &admin).await;
    for id in &refused {
        let body = create_model(&app, &admin, id).await;
        assert_bad_input(&body, "createModel", &format!("model id {id:?}"));
    }
    assert_eq!(model_ids(&app, &admin).await, models_before, "no refused model exists");
    assert_eq!(all_group_names(&app, &admin).await, groups_before, "no refused model left groups");
}

#[tokio::test]
async fn a_regular_users_refused_model_leaves_it_no_groups() {
    let app = TestApp::spawn().await;
    let bob = app.regular_user("bob").await;
    let body = create_model(&app, &bob, "a@b").await;
    assert_bad_input(&body, "createModel", "a@b by bob");
    let body = app.gql(Some(&bob), "{ me { groups { name } models { id } } }", json!({})).await;
    let groups = body["data"]["me"]["groups"].as_array().unwrap();
    assert!(!groups.iter().any(|g| g["name"].as_str().unwrap().contains("model-a")), "{body}");
    assert_eq!(body["data"]["me"]["models"], json!([]), "{body}");
}

// ---- group name ----

#[tokio::test]
async fn a_group_name_of_128_characters_is_accepted_and_129_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let g128 = "g".repeat(128);
    let body = create_group(&app, &admin, json!({ "name": g128, "permissions": [] })).await;
    assert_accepted(&body, "createGroup", "128 characters");
    assert!(all_group_names(&app, &admin).await.contains(&g128));
    let g129 = "h".repeat(129);
    let body = create_group(&app, &admin, json!({ "name": g129, "permissions": [] })).await;
    assert_bad_input(&body, "createGroup", "129 characters");
    assert!(!all_group_names(&app, &admin).await.contains(&g129));
}

#[tokio::test]
async fn group_names_outside_the_charset_are_refused_and_leave_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for name in ["team.a_b-c", "t", ".", "_", "-", "ABCXYZabcxyz0189._-"] {
        let body = create_group(&app, &admin, json!({ "name": name, "permissions": [] })).await;
        assert_accepted(&body, "createGroup", name);
    }
    let mut refused: Vec<String> =
        ["", "a@b", "@", "a b", " ", "a/b", "../x", "é", "équipe", "a+b", "a:b", "a#b", "a%2Fb", "a\\b", "a*b", "ａ"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    refused.extend(CONTROLS.iter().map(|c| format!("g{c}x")));
    let before = all_group_names(&app, &admin).await;
    for name in &refused {
        let input = json!({ "name": name, "permissions": [{ "resourceType": "MODEL", "method": "GET" }] });
        let body = create_group(&app, &admin, input).await;
        assert_bad_input(&body, "createGroup", &format!("group name {name:?}"));
    }
    assert_eq!(all_group_names(&app, &admin).await, before, "no refused group exists");
}

#[tokio::test]
async fn control_characters_in_a_permission_resource_id_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let before = all_group_names(&app, &admin).await;
    for (i, c) in CONTROLS.iter().enumerate() {
        let permission = json!({ "resourceType": "MODEL", "resourceId": format!("m{c}"), "method": "GET" });
        let input = json!({ "name": format!("g{i}"), "permissions": [permission] });
        let body = create_group(&app, &admin, input).await;
        assert_bad_input(&body, "createGroup", &format!("resourceId with {c:?}"));
    }
    assert_eq!(all_group_names(&app, &admin).await, before, "no refused group exists");
}

// ---- wrongly typed input ----

#[tokio::test]
async fn wrongly_typed_variables_are_bad_user_input_and_change_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let cases = [
        json!({ "username": "eve", "password": "password-eve", "role": "SUPER" }),
        json!({ "username": "eve", "password": "password-eve", "role": "admin" }),
        json!({ "username": "eve", "password": "password-eve", "role": 1 }),
        json!({ "username": "eve", "password": "password-eve", "disabled": "yes" }),
        json!({ "username": "eve", "password": "password-eve", "groups": 7 }),
        json!({ "username": "eve", "password": "password-eve", "groups": [null] }),
        json!({ "username": "eve", "password": 12345678 }),
        json!({ "username": ["eve"], "password": "password-eve" }),
        json!({ "username": "eve" }),
        json!({ "username": "eve", "password": null }),
        json!({ "username": "eve", "password": "password-eve", "unknownField": 1 }),
    ];
    for input in cases {
        let body = create_user(&app, &admin, input.clone()).await;
        assert!(body["errors"].as_array().is_some_and(|e| !e.is_empty()), "{input}: {body}");
        assert_eq!(code(&body), Some("BAD_USER_INPUT"), "{input}: {body}");
        assert!(body["data"].is_null() || body["data"]["createUser"].is_null(), "{input}: {body}");
    }
    // The input missing entirely, and an inline enum literal that does not exist.
    let create_without_input = "mutation($i: CreateUserInput!) { createUser(input: $i) { username } }";
    let body = app.gql(Some(&admin), create_without_input, json!({})).await;
    assert_eq!(code(&body), Some("BAD_USER_INPUT"), "{body}");
    let body = app
        .gql(
            Some(&admin),
            "mutation { createUser(input: {username: \"eve\", password: \"password-eve\", role: SUPER}) { username } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&body), Some("BAD_USER_INPUT"), "{body}");
    let body = app
        .gql(
            Some(&admin),
            "mutation($r: Role!) { editUser(input: {username: \"admin\", role: $r}) { role } }",
            json!({ "r": "SUPER" }),
        )
        .await;
    assert_eq!(code(&body), Some("BAD_USER_INPUT"), "{body}");
    let body = create_group(&app, &admin, json!({ "name": "g", "permissions": [{ "resourceType": "PLANET" }] })).await;
    assert_eq!(code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(all_usernames(&app, &admin).await, vec!["admin"]);
    assert!(!all_group_names(&app, &admin).await.contains(&"g".to_owned()));
}

#[tokio::test]
async fn syntax_errors_and_unknown_fields_carry_a_code() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for query in ["{ me { username }", "{ me { nonsense } }", "{ nonsense }", "mutation { login }"] {
        let body = app.gql(Some(&admin), query, json!({})).await;
        assert!(body["errors"].is_array(), "{query:?}: {body}");
        assert!(code(&body).is_some_and(|c| !c.is_empty()), "{query:?} has an extensions.code: {body}");
    }
}

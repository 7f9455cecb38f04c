//! How many SQL statements one request costs, counted from sqlx's own statement log
//! (target `sqlx::query`). Its own test binary: the counter is process-wide.

#[path = "api/helpers/mod.rs"]
#[allow(dead_code, unused_imports)] // this binary uses a few of the helpers
mod helpers;

const DATABASE: helpers::Database = helpers::Database::Sqlite;

use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::future::join_all;
use helpers::TestApp;
use serde_json::{Value, json};
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

static STATEMENTS: AtomicUsize = AtomicUsize::new(0);

/// The counter is process-wide: tests here take turns.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn count_statements() {
    let log = std::env::var_os("TEST_LOG").is_some().then(|| tracing_subscriber::fmt::layer().with_test_writer());
    let _ = tracing_subscriber::registry()
        .with(CountStatements.with_filter(Targets::new().with_target("sqlx::query", tracing::Level::DEBUG)))
        .with(log.with_filter(tracing_subscriber::filter::LevelFilter::WARN))
        .try_init();
}

struct CountStatements;

impl<S: Subscriber> Layer<S> for CountStatements {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            STATEMENTS.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// `users` REGULAR users and as many models; user i may read models i..i+3 (mod n).
async fn seed(app: &TestApp, users: usize) -> String {
    let admin = app.admin().await;
    let names: Vec<String> = (0..users).map(|i| format!("user{i:04}")).collect();
    join_all(names.iter().map(|name| app.create_user(&admin, json!({"username": name, "password": "password-x"}))))
        .await;
    for i in 0..users {
        let body = app
            .gql(
                Some(&admin),
                "mutation($id: String!) { createModel(id: $id) { id } }",
                json!({"id": format!("model{i:04}")}),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
    }
    join_all(names.iter().enumerate().map(|(i, name)| {
        let groups: Vec<String> = ["create-model".to_owned(), format!("read-user-{name}")]
            .into_iter()
            .chain((i..i + 3).map(|m| format!("read-model-model{:04}", m % users)))
            .collect();
        let admin = admin.clone();
        async move {
            let body = app
                .gql(
                    Some(&admin),
                    "mutation($u: String!, $g: [String!]) { editUser(input: {username: $u, groups: $g}) { username } }",
                    json!({"u": name, "g": groups}),
                )
                .await;
            assert!(body["errors"].is_null(), "{body}");
        }
    }))
    .await;
    admin
}

/// The statements one request runs, after the same request once warmed the pool.
async fn statements_for(app: &TestApp, token: &str, query: &str) -> (usize, Value) {
    app.gql(Some(token), query, json!({})).await;
    let before = STATEMENTS.load(Ordering::SeqCst);
    let body = app.gql(Some(token), query, json!({})).await;
    (STATEMENTS.load(Ordering::SeqCst) - before, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_users_with_groups_and_models_costs_at_most_four_statements_for_10_or_300_users() {
    let _serial = SERIAL.lock().await;
    count_statements();
    let query = "{ users { username groups { name } models { id } } }";
    let mut counts = Vec::new();
    for users in [10, 300] {
        let app = TestApp::spawn().await;
        let admin = seed(&app, users).await;
        let (count, body) = statements_for(&app, &admin, query).await;
        assert!(body["errors"].is_null(), "{body}");
        let listed = body["data"]["users"].as_array().unwrap();
        assert_eq!(listed.len(), users + 1, "every user and admin");
        let first = &listed[1];
        assert_eq!(first["username"], "user0000");
        assert_eq!(first["models"], json!([{"id": "model0000"}, {"id": "model0001"}, {"id": "model0002"}]));
        assert_eq!(first["groups"].as_array().unwrap().len(), 5);
        assert_eq!(listed[0]["models"].as_array().unwrap().len(), users, "admin reads every model");
        counts.push(count);

        // Models without groups take the lighter path; it costs no more statements.
        let (count, body) = statements_for(&app, &admin, "{ users { username models { id } } }").await;
        assert!(body["errors"].is_null(), "{body}");
        assert_eq!(body["data"]["users"][1]["models"], first["models"]);
        counts.push(count);
    }
    assert!(counts.iter().all(|&c| c <= 4), "statements per request: {counts:?}");
    assert_eq!((counts[0], counts[1]), (counts[2], counts[3]), "the count must not grow with users and models");
    assert!(counts[0] > 0, "statements were counted at all");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn my_models_cost_a_fixed_number_of_statements() {
    let _serial = SERIAL.lock().await;
    count_statements();
    let app = TestApp::spawn().await;
    seed(&app, 5).await;
    let token = app.login("user0001", "password-x").await;
    let (count, body) =
        statements_for(&app, &token, "{ me { username groups { name } models { id } } models { id } }").await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(body["data"]["me"]["models"], body["data"]["models"]);
    assert_eq!(body["data"]["models"], json!([{"id": "model0001"}, {"id": "model0002"}, {"id": "model0003"}]));
    assert!(count <= 5, "{count} statements");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_user_with_groups_costs_what_the_caller_costs_plus_one_statement() {
    let _serial = SERIAL.lock().await;
    count_statements();
    let app = TestApp::spawn().await;
    let admin = seed(&app, 5).await;
    let (me, body) = statements_for(&app, &admin, "{ me { username role groups { name } } }").await;
    assert!(body["errors"].is_null(), "{body}");
    let query = r#"{ user(username: "user0002") { username role groups { name } } }"#;
    let (user, body) = statements_for(&app, &admin, query).await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(body["data"]["user"]["username"], "user0002");
    assert_eq!(body["data"]["user"]["groups"].as_array().unwrap().len(), 5, "{body}");
    assert!(me > 0, "statements were counted at all");
    assert_eq!(user, me + 1, "the user's row and its (cached) groups in one statement");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_costs_no_statement_beyond_authenticating_the_caller() {
    let _serial = SERIAL.lock().await;
    count_statements();
    let app = TestApp::spawn().await;
    let token = app.regular_user("ann").await;
    let (me, body) = statements_for(&app, &token, "{ me { username } }").await;
    assert!(body["errors"].is_null(), "{body}");
    let checks =
        (0..100).map(|i| format!("{{resourceType: MODEL, resourceId: \"m{i}\", method: GET}}")).collect::<Vec<_>>();
    let query = format!("{{ allowed(checks: [{}]) }}", checks.join(", "));
    let (allowed, body) = statements_for(&app, &token, &query).await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(body["data"]["allowed"].as_array().unwrap().len(), 100);
    assert_eq!(allowed, me, "100 checks cost what authenticating costs");
    assert!(me > 0, "statements were counted at all");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_review_of_every_model_costs_a_fixed_number_of_statements() {
    let _serial = SERIAL.lock().await;
    count_statements();
    let query = "{ models { id access(first: 5) { totalCount nodes { username methods groups } } } }";
    let mut counts = Vec::new();
    for users in [10, 300] {
        let app = TestApp::spawn().await;
        let admin = seed(&app, users).await;
        let (count, body) = statements_for(&app, &admin, query).await;
        assert!(body["errors"].is_null(), "{body}");
        let models = body["data"]["models"].as_array().unwrap();
        assert_eq!(models.len(), users, "every model");
        // model0002 is read by user0000, user0001 and user0002 (and the admin).
        let access = &models[2]["access"];
        assert_eq!(access["totalCount"], json!(4), "{access}");
        let names: Vec<&str> =
            access["nodes"].as_array().unwrap().iter().map(|n| n["username"].as_str().unwrap()).collect();
        assert_eq!(names, ["admin", "user0000", "user0001", "user0002"]);
        assert_eq!(access["nodes"][1]["methods"], json!(["GET"]));
        assert_eq!(access["nodes"][1]["groups"], json!(["read-model-model0002"]));
        counts.push(count);
        // One model's page costs no more.
        let one = "{ model(id: \"model0002\") { access(first: 2) { nodes { username } } } }";
        let (count, body) = statements_for(&app, &admin, one).await;
        assert!(body["errors"].is_null(), "{body}");
        counts.push(count);
    }
    assert_eq!((counts[0], counts[1]), (counts[2], counts[3]), "the count must not grow with users and models");
    assert!(counts[0] <= 10, "statements per request: {counts:?}");
    assert!(counts[0] > 0, "statements were counted at all");
}

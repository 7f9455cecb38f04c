//! `TestApp`: the real app on a loopback port with a fresh SQLite file, spoken to over HTTP.

use std::net::SocketAddr;
use std::sync::Arc;

use mlte_graphql::config::{Config, Secret};
use serde_json::{Value, json};
use tempfile::TempDir;

/// The bootstrap admin's password in every test app.
pub const ADMIN_PASSWORD: &str = "admin-password";
/// The signing key of every test app, so tests can forge tokens.
pub const JWT_SECRET: &str = "test-secret-that-is-at-least-32-bytes-long";

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    config: Config,
    _dir: Arc<TempDir>,
}

impl TestApp {
    /// A new app on its own empty database.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// A new app on its own empty database, its default test configuration changed by `configure`.
    pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> TestApp {
        init_test_log();
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("mlte.db").display());
        let mut config = Config::for_database(url);
        config.jwt_secret = Some(Secret::new(JWT_SECRET));
        config.admin_password = Some(Secret::new(ADMIN_PASSWORD));
        configure(&mut config);
        Self::start(config, Arc::new(dir)).await
    }

    /// A second server process on the same database, as behind a load balancer.
    pub async fn another_process(&self) -> TestApp {
        Self::start(self.config.clone(), self._dir.clone()).await
    }

    async fn start(config: Config, dir: Arc<TempDir>) -> TestApp {
        let router = mlte_graphql::app::build(&config).await.expect("app builds");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().unwrap();
        tokio::spawn(mlte_graphql::app::serve_on(listener, router, std::future::pending()));
        TestApp { addr, client: reqwest::Client::new(), config, _dir: dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// POSTs a GraphQL request and returns the whole JSON body (status must be 200).
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request =
            self.client.post(self.url("/graphql")).json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request sent");
        assert_eq!(response.status(), 200, "GraphQL over HTTP answers 200");
        response.json().await.expect("JSON body")
    }

    /// Logs in through the `login` mutation; panics unless it succeeds.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let body = self
            .gql(
                None,
                "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }",
                json!({ "u": username, "p": password }),
            )
            .await;
        body["data"]["login"]["accessToken"].as_str().unwrap_or_else(|| panic!("login failed: {body}")).to_owned()
    }

    pub async fn admin(&self) -> String {
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// Creates a REGULAR user (as admin) with password `password-<name>` and returns its token.
    pub async fn regular_user(&self, username: &str) -> String {
        let admin = self.admin().await;
        self.create_user(&admin, json!({ "username": username, "password": password_of(username) })).await;
        self.login(username, &password_of(username)).await
    }

    /// Creates a user as `token`; panics unless it succeeds.
    pub async fn create_user(&self, token: &str, input: Value) -> Value {
        let body = self
            .gql(
                Some(token),
                "mutation($i: CreateUserInput!) { createUser(input: $i) { username } }",
                json!({ "i": input }),
            )
            .await;
        assert!(body["errors"].is_null(), "createUser failed: {body}");
        body
    }

    /// Puts a user in groups on top of the ones it has (as admin).
    pub async fn add_groups(&self, username: &str, groups: &[&str]) {
        let admin = self.admin().await;
        let body = self
            .gql(
                Some(&admin),
                "query($u: String!) { user(username: $u) { groups { name } } }",
                json!({ "u": username }),
            )
            .await;
        let mut names: Vec<String> = body["data"]["user"]["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["name"].as_str().unwrap().to_owned())
            .collect();
        names.extend(groups.iter().map(|g| g.to_string()));
        let body = self
            .gql(
                Some(&admin),
                "mutation($u: String!, $g: [String!]) { editUser(input: {username: $u, groups: $g}) { username } }",
                json!({ "u": username, "g": names }),
            )
            .await;
        assert!(body["errors"].is_null(), "editUser failed: {body}");
    }
}

pub fn password_of(username: &str) -> String {
    format!("password-{username}")
}

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

/// Quiet unless TEST_LOG is set.
fn init_test_log() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}

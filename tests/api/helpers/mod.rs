//! What the API tests share: `TestApp`, the real app on a loopback port with a fresh
//! database, spoken to over HTTP; and the wrappers, builders and assertions that more
//! than one test file uses, re-exported here from the modules below.

use std::net::SocketAddr;
use std::sync::Arc;

use mlte_graphql::config::{Config, Secret};
use serde_json::{Value, json};
use tempfile::TempDir;

mod assertions;
mod groups;
mod models;
pub mod postgres;
mod process;
mod users;

pub use assertions::*;
pub use groups::*;
pub use models::*;
pub use process::*;
pub use users::*;

/// The bootstrap admin's password in every test app.
pub const ADMIN_PASSWORD: &str = "admin-password";
/// The signing key of every test app, so tests can forge tokens.
pub const JWT_SECRET: &str = "test-secret-that-is-at-least-32-bytes-long";

/// One app under test: in this process, or a server process of its own.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    config: Config,
    _dir: Arc<TempDir>,
    /// Set when this app is a server process of its own (killed on drop).
    _process: Option<tokio::process::Child>,
    /// What a server process has written to stderr so far.
    logs: Arc<std::sync::Mutex<String>>,
}

impl TestApp {
    /// A new app on its own empty database.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// A new app on its own empty database, its default test configuration changed by `configure`.
    pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> TestApp {
        let (config, dir) = Self::fresh_config(configure).await;
        Self::start(config, dir).await
    }

    /// Two server processes (the release binary's code, built for tests) starting at
    /// the same moment on one new, empty database.
    pub async fn spawn_two_processes_at_once() -> (TestApp, TestApp) {
        let (config, dir) = Self::fresh_config(|_| {}).await;
        tokio::join!(Self::start_process(config.clone(), dir.clone()), Self::start_process(config, dir))
    }

    /// A server process on `database_url`, a database made elsewhere, with extra
    /// environment variables.
    pub async fn spawn_on(database_url: &str, env: &[(&str, &str)]) -> TestApp {
        let (mut config, dir) = Self::fresh_config(|_| {}).await;
        config.database_url = database_url.to_owned();
        Self::start_process_with_env(config, dir, env).await
    }

    /// Another server process on this app's database, as behind a load balancer.
    pub async fn another_process(&self) -> TestApp {
        Self::start_process(self.config.clone(), self._dir.clone()).await
    }

    /// Like [`Self::another_process`], with extra environment variables.
    pub async fn another_process_with_env(&self, env: &[(&str, &str)]) -> TestApp {
        Self::start_process_with_env(self.config.clone(), self._dir.clone(), env).await
    }

    /// What this app's server process has logged so far.
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }

    async fn start_process(config: Config, dir: Arc<TempDir>) -> TestApp {
        Self::start_process_with_env(config, dir, &[]).await
    }

    /// Runs `mlte-graphql serve` on a free port and waits for it to say where it listens.
    async fn start_process_with_env(config: Config, dir: Arc<TempDir>, env: &[(&str, &str)]) -> TestApp {
        use tokio::io::{AsyncBufReadExt, BufReader};
        let mut child = server_command()
            .arg("serve")
            .env("DATABASE_URL", &config.database_url)
            .env("MLTE_LISTEN", "127.0.0.1:0")
            .env("MLTE_JWT_SECRET", JWT_SECRET)
            .env("MLTE_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("server process starts");
        let logs = Arc::new(std::sync::Mutex::new(String::new()));
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let addr: SocketAddr = loop {
            let line = lines.next_line().await.expect("stderr").expect("the server says where it listens");
            logs.lock().unwrap().push_str(&format!("{line}\n"));
            // `listen=ADDR` in text logs, `"listen":"ADDR"` in JSON ones.
            let text = line.split("listen=").nth(1).map(str::trim);
            let json = line.split("\"listen\":\"").nth(1).and_then(|rest| rest.split('"').next());
            if let Some(addr) = text.or(json) {
                break addr.parse().expect("an address");
            }
        };
        // Keep reading the server's log, so that it never blocks on a full pipe.
        let sink = logs.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                sink.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        TestApp { addr, client: reqwest::Client::new(), config, _dir: dir, _process: Some(child), logs }
    }

    async fn fresh_config(configure: impl FnOnce(&mut Config)) -> (Config, Arc<TempDir>) {
        init_test_log();
        let dir = tempfile::tempdir().expect("temp dir");
        let url = match crate::DATABASE {
            Database::Sqlite => format!("sqlite://{}", dir.path().join("mlte.db").display()),
            Database::Postgres => postgres::fresh_schema().await,
        };
        let mut config = Config::for_database(url);
        config.jwt_secret = Some(Secret::new(JWT_SECRET));
        config.admin_password = Some(Secret::new(ADMIN_PASSWORD));
        configure(&mut config);
        (config, Arc::new(dir))
    }

    async fn start(config: Config, dir: Arc<TempDir>) -> TestApp {
        let app = mlte_graphql::app::build(&config).await.expect("app builds");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().unwrap();
        tokio::spawn(app.serve_on(listener, std::future::pending()));
        TestApp { addr, client: reqwest::Client::new(), config, _dir: dir, _process: None, logs: Arc::default() }
    }

    /// The database this app serves.
    pub fn database_url(&self) -> &str {
        &self.config.database_url
    }

    /// The server process's id, when this app is a process of its own.
    pub fn process_id(&self) -> Option<u32> {
        self._process.as_ref().and_then(tokio::process::Child::id)
    }

    /// Waits for this app's server process to exit and returns its status.
    pub async fn wait_for_exit(&mut self) -> std::process::ExitStatus {
        self._process.as_mut().expect("a server process").wait().await.expect("the process exits")
    }

    /// The address of `path` on this app.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// POSTs `query` with `token` and returns the response as it came, whatever its status.
    pub async fn post_query(&self, token: &str, query: &str) -> reqwest::Response {
        let request = self.client.post(self.url("/graphql")).bearer_auth(token).json(&json!({ "query": query }));
        request.send().await.expect("request sent")
    }

    /// POSTs `body` (a GraphQL request object) accepting `accept`, with `token` if any;
    /// the status and the JSON body, whatever the status.
    pub async fn post_accepting(&self, token: Option<&str>, accept: &str, body: Value) -> (u16, Value) {
        let mut request = self.client.post(self.url("/graphql")).header("accept", accept).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request sent");
        (response.status().as_u16(), response.json().await.expect("JSON body"))
    }

    /// POSTs `body` (a GraphQL request object) with `token` if any; the status and the
    /// body's bytes as they came.
    pub async fn post_for_bytes(&self, token: Option<&str>, body: &Value) -> (u16, String) {
        let mut request = self.client.post(self.url("/graphql")).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request sent");
        (response.status().as_u16(), response.text().await.expect("a body"))
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
        let body = try_login(self, username, password).await;
        body["data"]["login"]["accessToken"].as_str().unwrap_or_else(|| panic!("login failed: {body}")).to_owned()
    }

    /// Logs in as the bootstrap admin and returns its token.
    /// One GraphQL request sent from a task of its own after `delay_ms`, for requests
    /// that must run at once; the task gives the whole JSON body.
    pub fn spawn_gql(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
        delay_ms: u64,
    ) -> tokio::task::JoinHandle<Value> {
        let mut request =
            self.client.post(self.url("/graphql")).json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
            request.send().await.expect("request sent").json().await.expect("JSON body")
        })
    }

    /// Runs `mlte-graphql <args>` on this app's database with `stdin`; whether it
    /// succeeded, and what it printed (stdout, then stderr).
    pub async fn run_command(&self, args: &[&str], stdin: &str) -> (bool, String) {
        use tokio::io::AsyncWriteExt;
        let mut child = server_command()
            .args(args)
            .env("DATABASE_URL", self.database_url())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).await.unwrap();
        let output = child.wait_with_output().await.unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        (output.status.success(), text)
    }

    /// Argon2id computations this app's process has done (its `/metrics`).
    pub async fn argon2_hashes(&self) -> u64 {
        let text = self.client.get(self.url("/metrics")).send().await.unwrap().text().await.unwrap();
        let line = text.lines().find_map(|l| l.strip_prefix("mlte_graphql_argon2_hashes_total "));
        line.and_then(|v| v.trim().parse().ok()).unwrap_or_else(|| panic!("no Argon2 count in {text}"))
    }

    /// Runs one statement on this app's database directly.
    pub async fn execute_sql(&self, sql: &str) {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(self.database_url()).await.expect("connect");
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut conn).await.expect("statement");
    }

    /// Rows in `table` of this app's database, read directly.
    pub async fn count_rows(&self, table: &str) -> i64 {
        use sqlx::{Connection, Row};
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(self.database_url()).await.expect("connect");
        let sql = format!("SELECT COUNT(*) FROM {table}");
        sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_one(&mut conn).await.expect("count").get(0)
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
        let body = create_user(self, token, input).await;
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
        let mut names = names(&body["data"]["user"]["groups"]);
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

/// The database a test binary runs its tests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(dead_code)] // each test binary constructs one of them
pub enum Database {
    Sqlite,
    Postgres,
}

/// The password [`TestApp::regular_user`] gives `username`.
/// Runs `mlte-graphql <args>` on `database` until it exits (within a minute); its
/// status and output.
pub async fn run_binary(database: &str, args: &[&str]) -> (Option<i32>, String) {
    let child = server_command()
        .args(args)
        .env("DATABASE_URL", database)
        .env("MLTE_LISTEN", "127.0.0.1:0")
        .env("MLTE_JWT_SECRET", JWT_SECRET)
        .env("MLTE_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let waited = tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output());
    let output = waited.await.expect("exits within a minute").unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.code(), text)
}

/// The clock in Unix milliseconds.
pub fn now_ms() -> i64 {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    i64::try_from(since_epoch.as_millis()).unwrap()
}

pub fn password_of(username: &str) -> String {
    format!("password-{username}")
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

//! PostgreSQL behind PgBouncer in transaction pooling mode (issue 16, RULES §12):
//! with `--unnamed-statements`, two processes share a pool of two server
//! connections, and every answer is its own request's. A statement that outlived
//! its transaction would fail there ("prepared statement … already exists") or run
//! another request's parameters: each request below asks for something that names
//! its own user, so an answer with anyone else's is caught. PostgreSQL suite only;
//! needs Debian's `pgbouncer` (`.ci/run` installs it).

use std::collections::HashMap;
use std::process::Stdio;

use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};

use crate::helpers::{Database, TestApp, code, postgres, run_binary};

const PGBOUNCER: &str = "/usr/sbin/pgbouncer";

/// PgBouncer on a free port in front of the test server, transaction pooling, two
/// server connections per database; stopped when dropped.
struct Bouncer {
    port: u16,
    _process: tokio::process::Child,
    _dir: tempfile::TempDir,
}

impl Bouncer {
    /// None (said on stderr) where PgBouncer is not installed, unless CI=true.
    async fn start(server: &url::Url) -> Option<Bouncer> {
        if !std::path::Path::new(PGBOUNCER).exists() {
            assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "CI=true but {PGBOUNCER} is missing");
            use std::io::Write;
            let _ = std::io::stderr().write_all(b"\nSKIPPED: the PgBouncer test needs Debian's pgbouncer\n");
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().unwrap().port();
        let config = format!(
            "[databases]\n* = host={host} port={db_port}\n\
             [pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n\
             auth_type = trust\nauth_file = {dir}/users.txt\npool_mode = transaction\n\
             default_pool_size = 2\nmax_client_conn = 200\n\
             ignore_startup_parameters = extra_float_digits\n",
            host = server.host_str().unwrap_or("127.0.0.1"),
            db_port = server.port().unwrap_or(5432),
            dir = dir.path().display(),
        );
        std::fs::write(dir.path().join("pgbouncer.ini"), config).unwrap();
        std::fs::write(dir.path().join("users.txt"), format!("\"{}\" \"\"\n", server.username())).unwrap();
        // PgBouncer refuses to run as root; as root (CI) it switches to postgres.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut command = tokio::process::Command::new(PGBOUNCER);
        if running_as_root() {
            command.args(["-u", "postgres"]);
        }
        let process = command
            .arg(dir.path().join("pgbouncer.ini"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("pgbouncer starts");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Some(Bouncer { port, _process: process, _dir: dir });
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("pgbouncer did not listen on {port}");
    }
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// A new database on the test server (PgBouncer passes no search path, so not a
/// schema), its URL direct and through `bouncer`.
async fn fresh_database(server: &url::Url) -> (String, url::Url) {
    let name = format!("mlte_pgbouncer_{}", std::process::id());
    let mut conn = PgConnection::connect(server.as_str()).await.expect("the test server");
    for sql in [format!("DROP DATABASE IF EXISTS {name}"), format!("CREATE DATABASE {name}")] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await.expect("database made");
    }
    let mut direct = server.clone();
    direct.set_path(&format!("/{name}"));
    (name, direct)
}

#[tokio::test]
async fn through_transaction_pooling_every_answer_is_its_own_requests() {
    if crate::DATABASE != Database::Postgres {
        return;
    }
    let server = url::Url::parse(&postgres::server_url()).expect("a URL");
    let Some(bouncer) = Bouncer::start(&server).await else { return };
    let (name, direct) = fresh_database(&server).await;
    let (status, text) = run_binary(direct.as_str(), &["migrate"]).await;
    assert_eq!(status, Some(0), "{text}");
    let mut pooled = direct.clone();
    pooled.set_port(Some(bouncer.port)).unwrap();

    let env = [("MLTE_UNNAMED_STATEMENTS", "true")];
    let first = TestApp::spawn_on(pooled.as_str(), &env).await;
    let second = first.another_process_with_env(&env).await;
    let apps = [&first, &second];
    let admin = first.admin().await;
    let mut tokens = HashMap::new();
    for i in 0..12 {
        // Usernames of different lengths: parameters bound to another's statement
        // would not even fit the same rows.
        let username = format!("u{i}-{}", "x".repeat(i));
        let body = first
            .gql(
                Some(&admin),
                "mutation($u: String!) { createUser(input: {username: $u, password: \"password-of-user\"}) { username } }",
                json!({ "u": username }),
            )
            .await;
        assert_eq!(code(&body), None, "{body}");
        tokens.insert(username.clone(), apps[i % 2].login(&username, "password-of-user").await);
    }
    // Requests dropped by their clients at random points, some while a transaction
    // begins: none may leave a connection inside a transaction that the next user
    // then runs in (a read-only one would refuse the edits below).
    let dropped: Vec<_> = (0..60u64)
        .map(|i| {
            let request = apps[i as usize % 2]
                .client
                .post(apps[i as usize % 2].url("/graphql"))
                .bearer_auth(&admin)
                .timeout(std::time::Duration::from_micros(200 + 100 * (i % 20)))
                .json(&json!({ "query": "{ users { username } }" }));
            tokio::spawn(async move { request.send().await.is_err() })
        })
        .collect();
    for request in dropped {
        request.await.unwrap();
    }
    let usernames: Vec<String> = tokens.keys().cloned().collect();
    let mut requests = Vec::new();
    for round in 0..20 {
        for (i, username) in usernames.iter().enumerate() {
            let app = apps[(round + i) % 2];
            let expected = json!({ "username": username, "fullName": format!("{username} {round}") });
            let request = match (round + i) % 3 {
                0 => app.spawn_gql(Some(&tokens[username]), "{ me { username } }", json!({}), 0),
                1 => app.spawn_gql(
                    Some(&admin),
                    "query($u: String!) { user(username: $u) { username } }",
                    json!({ "u": username }),
                    0,
                ),
                _ => app.spawn_gql(
                    Some(&admin),
                    "mutation($u: String!, $f: String!) { editUser(input: {username: $u, fullName: $f}) { username fullName } }",
                    json!({ "u": username, "f": expected["fullName"] }),
                    0,
                ),
            };
            requests.push((username.clone(), expected, request));
        }
    }
    let mut answered = 0;
    for (username, expected, request) in requests {
        let body: Value = request.await.unwrap();
        assert_eq!(code(&body), None, "{username}: {body}");
        let data = body["data"].as_object().and_then(|d| d.values().next()).cloned().unwrap_or_default();
        assert_eq!(data["username"], username.as_str(), "{body}");
        if data.get("fullName").is_some() {
            assert_eq!(data, expected, "{body}");
        }
        answered += 1;
    }
    assert_eq!(answered, 20 * 12);
    // The edits landed: each user's last edit is a round's, its own name in it.
    for username in &usernames {
        let body = second
            .gql(Some(&admin), "query($u: String!) { user(username: $u) { fullName } }", json!({ "u": username }))
            .await;
        let full_name = body["data"]["user"]["fullName"].as_str().unwrap_or_default().to_owned();
        assert!(full_name.starts_with(&format!("{username} ")), "{username}: {body}");
    }
    // The reads that need one snapshot (RULES §10) run in the read transaction.
    let body = first.gql(Some(&admin), "mutation { createModel(id: \"m1\") { id } }", json!({})).await;
    assert_eq!(code(&body), None, "{body}");
    let body = second
        .gql(
            Some(&admin),
            "{ model(id: \"m1\") { access(first: 5) { totalCount nodes { username } } } \
               searchUsers(query: \"xxxxxxxxxx\", first: 5) { totalCount nodes { username } } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&body), None, "{body}");
    assert_eq!(body["data"]["model"]["access"]["totalCount"], 1, "the admin alone: {body}");
    assert_eq!(body["data"]["searchUsers"]["totalCount"], 2, "u10-… and u11-…: {body}");
    drop((first, second, bouncer));
    let mut conn = PgConnection::connect(server.as_str()).await.expect("the test server");
    let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(drop)).execute(&mut conn).await;
}

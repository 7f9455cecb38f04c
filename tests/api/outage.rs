//! A database outage costs availability only while it lasts: the process stays up,
//! answers fast and plainly, and serves again once the database is back. The app
//! reaches PostgreSQL through a TCP relay that the test takes down and brings back.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinHandle;

use crate::helpers::{Database, TestApp, code, postgres};

/// Relays connections from `listen` to `target` until dropped; dropping it also cuts
/// every relayed connection, as a database going away would.
struct Relay(JoinHandle<()>);

impl Relay {
    async fn start(listen: SocketAddr, target: SocketAddr) -> Relay {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.bind(listen).unwrap();
        let listener: TcpListener = socket.listen(64).unwrap();
        Relay(tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                connections.spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        }))
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn health(app: &TestApp) -> u16 {
    app.client.get(app.url("/health")).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn an_outage_gives_503_and_fast_internal_errors_and_service_resumes_after_it() {
    // A SQLite file is no server that a relay can cut off: the outage needs PostgreSQL.
    if crate::DATABASE != Database::Postgres {
        return;
    }
    let mut server = reqwest::Url::parse(&postgres::server_url()).unwrap();
    let target: SocketAddr =
        format!("{}:{}", server.host_str().unwrap(), server.port().unwrap_or(5432)).parse().unwrap();
    let free = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let relay = Relay::start(free, target).await;
    server.set_port(Some(free.port())).unwrap();

    let app = TestApp::spawn_with(|config| {
        // The test's schema, reached through the relay.
        let schema_url = reqwest::Url::parse(&config.database_url).unwrap();
        let mut url = server.clone();
        url.set_query(schema_url.query());
        config.database_url = url.to_string();
        config.db_acquire_timeout_secs = 2;
    })
    .await;
    let admin = app.admin().await;
    assert_eq!(health(&app).await, 200);

    drop(relay);
    let started = Instant::now();
    assert_eq!(health(&app).await, 503);
    let body = app.gql(Some(&admin), "{ me { username } }", json!({})).await;
    assert_eq!(code(&body), Some("INTERNAL_SERVER_ERROR"), "{body}");
    let request_id = body["errors"][0]["extensions"]["requestId"].as_str().unwrap();
    assert_eq!(
        body["errors"][0]["message"],
        format!("internal server error (request {request_id})"),
        "no internals leak"
    );
    assert!(started.elapsed() < Duration::from_secs(10), "answers within the acquire timeout: {:?}", started.elapsed());

    let _relay = Relay::start(free, target).await;
    let resumed = async {
        while health(&app).await != 200 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), resumed).await.expect("serves again once the database is back");
    let body = app.gql(Some(&admin), "{ me { username } }", json!({})).await;
    assert_eq!(body["data"]["me"]["username"], "admin", "{body}");
}

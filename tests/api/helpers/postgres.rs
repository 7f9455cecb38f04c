//! A schema of its own in the test PostgreSQL for each test.

use sqlx::{Connection, PgConnection, Row};

/// The test server; `MLTE_TEST_POSTGRES_URL` overrides it.
pub fn server_url() -> String {
    std::env::var("MLTE_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A new empty schema, as a database URL whose search path is that schema. Without
/// a reachable server the PostgreSQL suite is skipped, loudly, unless CI=true.
pub async fn fresh_schema() -> String {
    let server = server_url();
    let mut conn = match PgConnection::connect(&server).await {
        Ok(conn) => conn,
        Err(error) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but PostgreSQL at {server} is not reachable: {error}")
        }
        Err(error) => {
            // Straight to stderr: the harness would capture (and, at exit, lose) eprintln!.
            use std::io::Write;
            let message = format!(
                "\nSKIPPED: the PostgreSQL suite needs PostgreSQL at {server} ({error}); set MLTE_TEST_POSTGRES_URL\n"
            );
            let _ = std::io::stderr().write_all(message.as_bytes());
            std::process::exit(0);
        }
    };
    drop_schemas_of_finished_runs(&mut conn).await;
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let schema = format!("mlte_test_{}_{}", std::process::id(), NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst));
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut conn)
        .await
        .expect("create schema");
    let separator = if server.contains('?') { '&' } else { '?' };
    format!("{server}{separator}options[search_path]={schema}")
}

/// Schemas left by test processes that have ended.
async fn drop_schemas_of_finished_runs(conn: &mut PgConnection) {
    let rows = sqlx::query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'mlte\\_test\\_%'")
        .fetch_all(&mut *conn)
        .await
        .expect("list schemas");
    for row in rows {
        let schema: String = row.get(0);
        let pid = schema.split('_').nth(2).unwrap_or("");
        if !pid.is_empty() && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let drop = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(drop)).execute(&mut *conn).await;
        }
    }
}

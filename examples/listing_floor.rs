//! The floor of the listing `users { username models { id } }` (issue 17, bench only):
//! the same answer made without GraphQL, from the store's reads that the listing makes
//! (every user, every user's model grants, every model id) and `serde_json` of plain
//! structs, in the same runtime as the server. `bench/` runs it on the bench's
//! database and prints the listing's time as a multiple of this one.
//!
//!   cargo run --release --example listing_floor -- DATABASE_URL [REPEATS]
//!
//! Prints one line: `floor median_ms=… min_ms=… bytes=… users=…`.

use std::time::Instant;

use mlte_graphql::auth::policy;
use mlte_graphql::domain::ResourceType;
use mlte_graphql::store::{Db, PoolSettings, models, users};
use serde::Serialize;

#[derive(Serialize)]
struct Answer {
    data: Data,
}

#[derive(Serialize)]
struct Data {
    users: Vec<UserModels>,
}

#[derive(Serialize)]
struct UserModels {
    username: String,
    models: Vec<ModelId>,
}

#[derive(Serialize)]
struct ModelId {
    id: String,
}

/// One listing: the reads, then the JSON bytes.
async fn listing(db: &Db) -> anyhow::Result<Vec<u8>> {
    let mut conn = db.conn().await?;
    let rows = users::list(&mut conn, db.backend).await?;
    let usernames: Vec<String> = rows.iter().map(|row| row.username.clone()).collect();
    let mut grants = users::model_grants(&mut conn, db.backend, &usernames).await?;
    let all_ids = models::list_ids(&mut conn, db.backend).await?;
    drop(conn);
    let users = rows
        .into_iter()
        .map(|row| {
            let ids = match grants.remove(&row.username) {
                Some(grants) => policy::readable(grants.role, &grants.permissions, ResourceType::Model).among(&all_ids),
                None => Vec::new(),
            };
            UserModels { username: row.username, models: ids.into_iter().map(|id| ModelId { id }).collect() }
        })
        .collect();
    Ok(serde_json::to_vec(&Answer { data: Data { users } })?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or_else(|| anyhow::anyhow!("usage: listing_floor DATABASE_URL [REPEATS]"))?;
    let repeats: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(51);
    let settings = PoolSettings {
        max_connections: None,
        acquire_timeout: std::time::Duration::from_secs(5),
        migrate: false,
        unnamed_statements: false,
    };
    let db = Db::connect(&url, &settings).await?;
    let mut bytes = listing(&db).await?.len();
    let mut times = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let start = Instant::now();
        bytes = listing(&db).await?.len();
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let users = listing(&db).await?;
    let users = serde_json::from_slice::<serde_json::Value>(&users)?["data"]["users"].as_array().map_or(0, Vec::len);
    println!("floor median_ms={:.3} min_ms={:.3} bytes={bytes} users={users}", times[times.len() / 2], times[0]);
    Ok(())
}

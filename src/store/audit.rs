//! The `audit_events` table (RULES §9). Times are Unix milliseconds from the
//! database's clock.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{Backend, WriteTx, query};
use crate::domain::ResourceType;
use crate::error::{AppError, AppResult};

/// One change, as the log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: i64,
    pub at: i64,
    pub actor: Option<String>,
    pub action: String,
    pub target_type: ResourceType,
    pub target_id: String,
    /// Sorted names.
    pub fields: Vec<String>,
    pub request_id: Option<String>,
}

/// An event to write; its id and time are the database's.
pub struct NewEvent<'a> {
    pub actor: Option<&'a str>,
    pub action: &'a str,
    pub target_type: ResourceType,
    pub target_id: &'a str,
    pub fields: Vec<&'a str>,
    pub request_id: Option<&'a str>,
}

/// The database's clock in Unix milliseconds, as each database spells it.
fn now_ms(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)",
        Backend::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
    }
}

/// An event kept by its transaction until the commit (see [`WriteTx::record`]).
pub(super) struct PendingEvent {
    actor: Option<String>,
    action: String,
    target_type: ResourceType,
    target_id: String,
    fields: String,
    request_id: Option<String>,
}

impl From<&NewEvent<'_>> for PendingEvent {
    fn from(event: &NewEvent<'_>) -> Self {
        let mut fields = event.fields.clone();
        fields.sort_unstable();
        fields.dedup();
        PendingEvent {
            actor: event.actor.map(str::to_owned),
            action: event.action.to_owned(),
            target_type: event.target_type,
            target_id: event.target_id.to_owned(),
            fields: fields.join(","),
            request_id: event.request_id.map(str::to_owned),
        }
    }
}

/// Writes `event` as the last statement of `tx` before its commit, with the access
/// version's bump when `bump` (one round trip for both). Ids must increase in commit
/// order: on PostgreSQL the id comes from the counter row, which the transaction
/// then holds only until its commit; SQLite's writers take turns for the whole
/// transaction, so the next id after the largest is enough there.
pub(super) async fn write_at_commit(
    tx: &mut AnyConnection,
    backend: Backend,
    event: &PendingEvent,
    bump: bool,
) -> AppResult<()> {
    const COLUMNS: &str = "id, at, actor, action, target_type, target_id, fields, request_id";
    const BUMP: &str = "UPDATE access_version SET version = version + 1 WHERE id = 1";
    let values = "$1, $2, $3, $4, $5, $6";
    let now = now_ms(backend);
    let sql = match backend {
        // One call, two statements: sqlx runs each with the arguments their $N name.
        Backend::Sqlite => format!(
            "{bump}INSERT INTO audit_events ({COLUMNS}) \
             VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM audit_events), {now}, {values})",
            bump = if bump { format!("{BUMP}; ") } else { String::new() }
        ),
        // The counter is referenced by the insert, so taken first; the bump, not
        // referenced, runs after it: every transaction takes the two rows in that order.
        Backend::Postgres => format!(
            "WITH next AS (UPDATE audit_last_id SET last = last + 1 WHERE id = 1 RETURNING last){bump} \
             INSERT INTO audit_events ({COLUMNS}) SELECT next.last, {now}, {values} FROM next",
            bump = if bump { format!(", bump AS ({BUMP})") } else { String::new() }
        ),
    };
    query(sqlx::AssertSqlSafe(sql))
        .bind(event.actor.as_deref())
        .bind(event.action.as_str())
        .bind(event.target_type.as_str())
        .bind(event.target_id.as_str())
        .bind(event.fields.as_str())
        .bind(event.request_id.as_deref())
        .execute(tx)
        .await?;
    Ok(())
}

/// What to read: every filter given must hold.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub actor: Option<String>,
    pub target_type: Option<ResourceType>,
    pub target_id: Option<String>,
    /// At or after (Unix ms).
    pub since: Option<i64>,
    /// Only ids below it: the page after a cursor.
    pub before_id: Option<i64>,
}

/// The newest `limit` events that `filter` matches, newest first, and when
/// `with_total`, how many match in all (`before_id` aside), in one statement: one
/// snapshot.
pub async fn page(
    conn: &mut AnyConnection,
    filter: &EventFilter,
    limit: i64,
    with_total: bool,
) -> AppResult<(Vec<AuditEvent>, Option<i64>)> {
    const COLUMNS: &str = "id, at, actor, action, target_type, target_id, fields, request_id";
    let mut binds: Vec<Bind> = Vec::new();
    let mut page_conditions = filter.conditions(&mut binds);
    if let Some(before_id) = filter.before_id {
        binds.push(Bind::Int(before_id));
        page_conditions.push(format!("id < ${}", binds.len()));
    }
    binds.push(Bind::Int(limit));
    let page = format!(
        "SELECT {COLUMNS} FROM audit_events{} ORDER BY id DESC LIMIT ${}",
        where_clause(&page_conditions),
        binds.len()
    );
    let count_from = format!("audit_events{}", where_clause(&filter.conditions(&mut binds)));
    let sql = super::with_total(page, &count_from, "m.id DESC", with_total);
    let mut query = query(sqlx::AssertSqlSafe(sql));
    for bind in binds {
        query = match bind {
            Bind::Int(value) => query.bind(value),
            Bind::Text(value) => query.bind(value),
        };
    }
    let rows = query.fetch_all(conn).await?;
    let (rows, total) = super::page_rows(&rows, "id", with_total)?;
    Ok((rows.into_iter().map(event).collect::<AppResult<_>>()?, total))
}

/// A value bound to a numbered placeholder.
enum Bind {
    Int(i64),
    Text(String),
}

impl EventFilter {
    /// The filter's conditions, their values appended to `binds` (numbered after them).
    fn conditions(&self, binds: &mut Vec<Bind>) -> Vec<String> {
        let mut conditions = Vec::new();
        let mut add = |column: &str, operator: &str, value: Bind| {
            binds.push(value);
            conditions.push(format!("{column} {operator} ${}", binds.len()));
        };
        if let Some(actor) = &self.actor {
            add("actor", "=", Bind::Text(actor.clone()));
        }
        if let Some(target_type) = self.target_type {
            add("target_type", "=", Bind::Text(target_type.as_str().to_owned()));
        }
        if let Some(target_id) = &self.target_id {
            add("target_id", "=", Bind::Text(target_id.clone()));
        }
        if let Some(since) = self.since {
            add("at", ">=", Bind::Int(since));
        }
        conditions
    }
}

fn where_clause(conditions: &[String]) -> String {
    if conditions.is_empty() { String::new() } else { format!(" WHERE {}", conditions.join(" AND ")) }
}

fn event(row: &AnyRow) -> AppResult<AuditEvent> {
    let target_type: String = row.try_get("target_type")?;
    let fields: String = row.try_get("fields")?;
    Ok(AuditEvent {
        id: row.try_get("id")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        target_type: ResourceType::parse(&target_type)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown target type {target_type:?}")))?,
        target_id: row.try_get("target_id")?,
        fields: fields.split(',').filter(|f| !f.is_empty()).map(str::to_owned).collect(),
        request_id: row.try_get("request_id")?,
    })
}

/// Deletes up to `batch` events older than `before`; how many it deleted. The newest
/// event stays (it is past the retention, so never shown): on SQLite the next id is
/// counted from it.
pub async fn delete_older_than(tx: &mut WriteTx, before: i64, batch: i64) -> AppResult<u64> {
    let deleted = query(
        "DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < $1 \
         AND id < (SELECT MAX(id) FROM audit_events) ORDER BY id LIMIT $2)",
    )
    .bind(before)
    .bind(batch)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(deleted)
}

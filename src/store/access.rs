//! The reads of the access review (RULES §10, `Model.access`): who may GET, PUT or
//! DELETE models, and through which groups. The §3 check turned around: a user
//! reaches a model by its role (ADMIN), by a group's grant for every model, or by a
//! group's grant for that model. The first two are the same for every model, so they
//! are read once however many models a request reviews, a page at a time in
//! username order; the grants for given models are read for those models only.

use std::collections::{HashMap, HashSet};

use sqlx::{AnyConnection, Connection, Row};

use super::{Backend, placeholders, query, users::role_column};
use crate::domain::{Method, Role};
use crate::error::{AppError, AppResult};

/// The grants that can give GET, PUT or DELETE (POST gives no right on an existing model).
const METHODS: &str = "p.method IN ('GET', 'PUT', 'DELETE', 'ANY')";

/// Past this many models (or users), the grants are read for every model (or user)
/// and filtered here, rather than binding more parameters than the databases allow.
const MAX_LISTED_MODELS: usize = 1000;
const MAX_LISTED_USERS: usize = 5000;

/// One group's grant on models: for every model (`model` None) or for one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelGrant {
    pub group: String,
    pub model: Option<String>,
    pub method: Method,
}

/// A user who reaches some model: its role, and its groups' grants that could matter
/// (those for every model, and those for the models asked about).
#[derive(Debug, Clone)]
pub struct Grantee {
    pub role: Role,
    pub grants: Vec<ModelGrant>,
}

/// What the access pages of some models need, read in one snapshot.
#[derive(Debug, Default)]
pub struct Reach {
    /// For each position asked (after that username; None: from the start), the next
    /// users who reach every model, in username order, at most the limit asked.
    pub every_model: HashMap<Option<String>, Vec<String>>,
    /// For each position and model asked, the next users a grant for that model
    /// names, at most the limit asked (in no order).
    pub by_model: HashMap<(Option<String>, String), Vec<String>>,
    /// Every user named above, with its role and grants.
    pub grantees: HashMap<String, Grantee>,
    /// How many users reach every model; read only when asked.
    pub every_model_total: Option<i64>,
    /// For each model, how many users only its own grants make reach it; read only
    /// when asked (a model missing here has none).
    pub only_own_totals: HashMap<String, i64>,
}

/// Reads, in one snapshot, what reviewing `models` needs: after each of `positions`,
/// the next users who reach every model and those each model's own grants name (at
/// most the position's limit of each), their grants, and with `with_total` the counts.
/// A fixed number of statements whatever the number of models and users: two per
/// position, and four more.
pub async fn reach<'a>(
    conn: &mut AnyConnection,
    backend: Backend,
    models: &'a [String],
    positions: &[(Option<String>, i64)],
    with_total: bool,
) -> AppResult<Reach> {
    let begin = match backend {
        Backend::Sqlite => "BEGIN",
        Backend::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    };
    // A connection already in a transaction is a read-only snapshot (ReadConn with
    // unnamed statements), where a second BEGIN is refused.
    let mut own: Option<sqlx::Transaction<'_, sqlx::Any>> = None;
    let tx: &mut AnyConnection = if conn.is_in_transaction() {
        conn
    } else {
        let begun = conn.begin_with(begin).await?;
        own.insert(begun)
    };
    // Bytes, whatever the database's collation (RULES §7).
    let bytes = match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " COLLATE \"C\"",
    };
    let reaches_every_model = format!(
        "(u.role = 'ADMIN' OR EXISTS (SELECT 1 FROM user_groups ug JOIN group_permissions p \
         ON p.group_name = ug.group_name WHERE ug.username = u.username AND p.resource_type = 'MODEL' \
         AND p.resource_id IS NULL AND {METHODS}))"
    );
    let mut reach = Reach::default();
    for (after, limit) in positions {
        let sql = match backend {
            // SQLite walks users in order and checks each: it stops after the page.
            Backend::Sqlite => format!(
                "SELECT u.username FROM users u WHERE u.username > $1 AND {reaches_every_model} \
                 ORDER BY u.username LIMIT $2"
            ),
            // PostgreSQL would hash every member of every group granting on every model
            // for that check: instead, the first of the ADMINs and of each such group's
            // members, each from an index in that order (see the user_search migration).
            Backend::Postgres => format!(
                "SELECT username FROM ( \
                 (SELECT u.username FROM users u WHERE u.role = 'ADMIN' AND u.username{bytes} > $1 \
                 ORDER BY u.username{bytes} LIMIT $2) UNION \
                 (SELECT m.username FROM (SELECT DISTINCT p.group_name FROM group_permissions p \
                 WHERE p.resource_type = 'MODEL' AND p.resource_id IS NULL AND {METHODS}) g \
                 CROSS JOIN LATERAL (SELECT ug.username FROM user_groups ug WHERE ug.group_name = g.group_name \
                 AND ug.username{bytes} > $1 ORDER BY ug.username{bytes} LIMIT $2) m) \
                 ) everyone ORDER BY username{bytes} LIMIT $2"
            ),
        };
        let rows = query(sqlx::AssertSqlSafe(sql))
            .bind(after.as_deref().unwrap_or(""))
            .bind(*limit)
            .fetch_all(&mut *tx)
            .await?;
        let usernames = rows.iter().map(|row| row.try_get::<String, _>(0)).collect::<Result<Vec<_>, _>>()?;
        reach.every_model.insert(after.clone(), usernames);
    }

    // The users the models' own grants name, after each position: the first of them
    // per model, as many as the limit (a window per model, not every member).
    let listed = models.len() <= MAX_LISTED_MODELS;
    let model_filter =
        if listed { format!(" AND p.resource_id IN ({})", placeholders(1, models.len())) } else { String::new() };
    let own_grants = format!(
        "FROM group_permissions p JOIN user_groups ug ON ug.group_name = p.group_name \
         WHERE p.resource_type = 'MODEL' AND p.resource_id IS NOT NULL AND {METHODS}{model_filter}"
    );
    let bind_models = |mut query: sqlx::query::Query<'a, sqlx::Any, sqlx::any::AnyArguments>| {
        if listed {
            for model in models {
                query = query.bind(model.as_str());
            }
        }
        query
    };
    let asked: HashSet<&str> = models.iter().map(String::as_str).collect();
    let (after_param, limit_param) = if listed {
        (format!("${}", models.len() + 1), format!("${}", models.len() + 2))
    } else {
        ("$1".to_owned(), "$2".to_owned())
    };
    for (after, limit) in positions {
        let sql = match backend {
            // SQLite has no LATERAL: per granting group, the username that ends its first
            // members after the position (found by stepping the index), then the
            // members up to it.
            // (MATERIALIZED: flattened, the bound would be found again for every member.)
            Backend::Sqlite => format!(
                "WITH b AS MATERIALIZED (SELECT p.group_name AS group_name, p.resource_id AS resource_id, \
                 (SELECT m.username FROM user_groups m WHERE m.group_name = p.group_name AND m.username > {after_param} \
                 ORDER BY m.username LIMIT 1 OFFSET {limit_param} - 1) AS last \
                 FROM group_permissions p WHERE p.resource_type = 'MODEL' AND p.resource_id IS NOT NULL \
                 AND {METHODS}{model_filter}) \
                 SELECT ug.username AS username, b.resource_id AS resource_id FROM b \
                 JOIN user_groups ug ON ug.group_name = b.group_name \
                 WHERE ug.username > {after_param} AND (b.last IS NULL OR ug.username <= b.last)"
            ),
            // The first members of each granting group, from the index in byte order; a
            // model has few such groups, and its first users are among their first.
            Backend::Postgres => format!(
                "SELECT m.username, p.resource_id FROM group_permissions p CROSS JOIN LATERAL \
                 (SELECT ug.username FROM user_groups ug WHERE ug.group_name = p.group_name \
                 AND ug.username{bytes} > {after_param} ORDER BY ug.username{bytes} LIMIT {limit_param}) m \
                 WHERE p.resource_type = 'MODEL' AND p.resource_id IS NOT NULL AND {METHODS}{model_filter}"
            ),
        };
        let query = bind_models(query(sqlx::AssertSqlSafe(sql))).bind(after.as_deref().unwrap_or("")).bind(*limit);
        for row in query.fetch_all(&mut *tx).await? {
            let model: String = row.try_get("resource_id")?;
            if asked.contains(model.as_str()) {
                reach.by_model.entry((after.clone(), model)).or_default().push(row.try_get("username")?);
            }
        }
    }
    for names in reach.by_model.values_mut() {
        // A user two groups grant it comes twice from PostgreSQL's reading.
        names.sort_unstable();
        names.dedup();
    }
    if with_total {
        // Per model, those its own grants name who do not reach every model anyway.
        let sql = format!(
            "SELECT p.resource_id, COUNT(DISTINCT ug.username) AS n {own_grants} AND EXISTS \
             (SELECT 1 FROM users u WHERE u.username = ug.username AND NOT {reaches_every_model}) \
             GROUP BY p.resource_id"
        );
        for row in bind_models(query(sqlx::AssertSqlSafe(sql))).fetch_all(&mut *tx).await? {
            let model: String = row.try_get("resource_id")?;
            if asked.contains(model.as_str()) {
                reach.only_own_totals.insert(model, row.try_get("n")?);
            }
        }
    }

    // Everyone named, with role and grants: one statement of one row per grant (and
    // one per user, for the role), filtered here to the grants that matter.
    let mut named: Vec<&str> =
        reach.every_model.values().chain(reach.by_model.values()).flatten().map(String::as_str).collect();
    named.sort_unstable();
    named.dedup();
    if !named.is_empty() {
        let listed = named.len() <= MAX_LISTED_USERS;
        let mut binds: Vec<&str> = Vec::new();
        let (users, grant_users) = match listed {
            true => {
                let users = format!(" WHERE u.username IN ({})", placeholders(1, named.len()));
                let grant_users = format!(" AND ug.username IN ({})", placeholders(named.len() + 1, named.len()));
                binds.extend(named.iter().chain(&named));
                (users, grant_users)
            }
            false => (String::new(), String::new()),
        };
        // Only the grants that can matter: for every model, or for one asked about
        // (PostgreSQL would otherwise hash every permission of every group).
        let relevant = match models.len() <= MAX_LISTED_MODELS {
            true => {
                let ids = placeholders(binds.len() + 1, models.len());
                binds.extend(models.iter().map(String::as_str));
                format!(" AND (p.resource_id IS NULL OR p.resource_id IN ({ids}))")
            }
            false => String::new(),
        };
        let sql = format!(
            "SELECT u.username, u.role, NULL AS group_name, NULL AS resource_id, NULL AS method FROM users u{users} \
             UNION ALL SELECT ug.username, NULL, p.group_name, p.resource_id, p.method FROM user_groups ug \
             JOIN group_permissions p ON p.group_name = ug.group_name \
             WHERE p.resource_type = 'MODEL' AND {METHODS}{grant_users}{relevant}"
        );
        let mut query = query(sqlx::AssertSqlSafe(sql));
        for value in binds {
            query = query.bind(value);
        }
        let wanted: HashSet<&str> = named.iter().copied().collect();
        let mut roles = HashMap::new();
        let mut grants: HashMap<String, Vec<ModelGrant>> = HashMap::new();
        for row in query.fetch_all(&mut *tx).await? {
            let username: String = row.try_get("username")?;
            if !wanted.contains(username.as_str()) {
                continue;
            }
            match row.try_get::<Option<String>, _>("group_name")? {
                None => {
                    roles.insert(username, role_column(&row)?);
                }
                Some(group) => {
                    let model: Option<String> = row.try_get("resource_id")?;
                    if model.as_deref().is_some_and(|m| !asked.contains(m)) {
                        continue;
                    }
                    let method: String = row.try_get("method")?;
                    let method = Method::parse(&method)
                        .ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown method {method:?}")))?;
                    grants.entry(username).or_default().push(ModelGrant { group, model, method });
                }
            }
        }
        for (username, role) in roles {
            let grants = grants.remove(&username).unwrap_or_default();
            reach.grantees.insert(username, Grantee { role, grants });
        }
    }

    if with_total {
        // The members of the groups granting on every model, read once (not a lookup per user).
        let sql = format!(
            "SELECT COUNT(*) FROM users u WHERE u.role = 'ADMIN' OR u.username IN (SELECT ug.username \
             FROM group_permissions p JOIN user_groups ug ON ug.group_name = p.group_name \
             WHERE p.resource_type = 'MODEL' AND p.resource_id IS NULL AND {METHODS})"
        );
        reach.every_model_total = Some(query(sqlx::AssertSqlSafe(sql)).fetch_one(&mut *tx).await?.try_get(0)?);
    }
    if let Some(own) = own {
        own.commit().await?;
    }
    Ok(reach)
}

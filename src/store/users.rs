//! The `users` table.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow, Row};

use super::groups::{GroupRow, group_row};
use super::{
    Backend, JOINED_TEXT_SEPARATOR, WriteTx, joined_permission, parse_permission, placeholders, query, query_as,
};

use crate::domain::{Method, Permission, ResourceType, Role};
use crate::error::{AppError, AppResult};

/// A stored user, hash included: never handed to the GraphQL layer as is.
#[derive(Clone)]
pub struct UserRow {
    pub username: String,
    pub password_hash: String,
    pub email: Option<String>,
    pub full_name: Option<String>,
    pub disabled: bool,
    pub role: Role,
    pub token_version: String,
}

impl FromRow<'_, AnyRow> for UserRow {
    fn from_row(row: &AnyRow) -> sqlx::Result<Self> {
        Ok(UserRow {
            username: row.try_get("username")?,
            password_hash: row.try_get("password_hash")?,
            email: row.try_get("email")?,
            full_name: row.try_get("full_name")?,
            disabled: disabled_column(row)?,
            role: role_column(row)?,
            token_version: row.try_get("token_version")?,
        })
    }
}

/// `disabled` is stored as 0 or 1.
fn disabled_column(row: &AnyRow) -> sqlx::Result<bool> {
    Ok(row.try_get::<i64, _>("disabled")? != 0)
}

/// A role as stored; anything else is the database's fault, hence internal.
fn stored_role(role: &str) -> AppResult<Role> {
    Role::parse(role).ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown role {role:?}")))
}

pub(super) fn role_column(row: &AnyRow) -> sqlx::Result<Role> {
    let role: String = row.try_get("role")?;
    Role::parse(&role).ok_or_else(|| sqlx::Error::Decode(format!("unknown role {role:?}").into()))
}

const COLUMNS: &str = "username, password_hash, email, full_name, disabled, role, token_version";

pub async fn find(conn: &mut AnyConnection, username: &str) -> AppResult<Option<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE username = $1");
    Ok(query_as(sqlx::AssertSqlSafe(sql)).bind(username).fetch_optional(conn).await?)
}

/// A user as a listing shows it: no hash, no token version.
#[derive(Debug, Clone)]
pub struct ListedUser {
    pub username: String,
    pub email: Option<String>,
    pub full_name: Option<String>,
    pub disabled: bool,
    pub role: Role,
}

/// username, email, full_name, disabled, role.
type ListedColumns = (String, Option<String>, Option<String>, i64, String);

/// Every user, sorted by username's bytes; in one row (see [`Backend::json_rows`]).
pub async fn list(conn: &mut AnyConnection, backend: Backend) -> AppResult<Vec<ListedUser>> {
    Ok(list_at_version(conn, backend).await?.0)
}

/// [`list`], with the access version it was read at (in the same statement).
pub async fn list_at_version(conn: &mut AnyConnection, backend: Backend) -> AppResult<(Vec<ListedUser>, i64)> {
    let sql = format!(
        "SELECT {} AS users, (SELECT version FROM access_version WHERE id = 1) AS version FROM users",
        backend.json_rows("username, email, full_name, disabled, role")
    );
    let row = query(sqlx::AssertSqlSafe(sql)).fetch_one(conn).await?;
    let version: i64 = row.try_get("version")?;
    let rows: Vec<ListedColumns> =
        serde_json::from_str(&row.try_get::<String, _>("users")?).map_err(AppError::internal)?;
    let mut users = rows
        .into_iter()
        .map(|(username, email, full_name, disabled, role)| {
            let role = stored_role(&role)?;
            Ok(ListedUser { username, email, full_name, disabled: disabled != 0, role })
        })
        .collect::<AppResult<Vec<_>>>()?;
    users.sort_by(|a, b| a.username.cmp(&b.username));
    Ok((users, version))
}

/// Inserts a user; a taken username is ALREADY_EXISTS, decided by the primary key.
pub async fn insert(tx: &mut WriteTx, user: &UserRow) -> AppResult<()> {
    tx.changes_access();
    let sql = format!("INSERT INTO users ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)");
    query(sqlx::AssertSqlSafe(sql))
        .bind(&user.username)
        .bind(&user.password_hash)
        .bind(&user.email)
        .bind(&user.full_name)
        .bind(i64::from(user.disabled))
        .bind(user.role.as_str())
        .bind(&user.token_version)
        .execute(&mut **tx)
        .await
        .map_err(|e| AppError::from_insert(e, || format!("user {:?}", user.username)))?;
    Ok(())
}

/// Writes every column of an existing user.
pub async fn update(tx: &mut WriteTx, user: &UserRow) -> AppResult<()> {
    tx.changes_access();
    query(
        "UPDATE users SET password_hash = $2, email = $3, full_name = $4, disabled = $5, role = $6, \
         token_version = $7 WHERE username = $1",
    )
    .bind(&user.username)
    .bind(&user.password_hash)
    .bind(&user.email)
    .bind(&user.full_name)
    .bind(i64::from(user.disabled))
    .bind(user.role.as_str())
    .bind(&user.token_version)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Deletes a user; its memberships go with it (foreign keys cascade).
pub async fn delete(tx: &mut WriteTx, username: &str) -> AppResult<()> {
    tx.changes_access();
    query("DELETE FROM users WHERE username = $1").bind(username).execute(&mut **tx).await?;
    Ok(())
}

pub async fn count(conn: &mut AnyConnection) -> AppResult<i64> {
    Ok(query("SELECT COUNT(*) FROM users").fetch_one(conn).await?.try_get(0)?)
}

/// A user read to be changed: its row is locked until the transaction ends.
pub async fn find_for_update(tx: &mut WriteTx, username: &str) -> AppResult<Option<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE username = $1{}", tx.for_update());
    Ok(query_as(sqlx::AssertSqlSafe(sql)).bind(username).fetch_optional(&mut **tx).await?)
}

/// The enabled ADMIN users, locked (in one order, so that two such transactions
/// cannot deadlock) until the transaction ends.
pub async fn lock_enabled_admins(tx: &mut WriteTx) -> AppResult<Vec<String>> {
    let sql = format!(
        "SELECT username FROM users WHERE role = 'ADMIN' AND disabled = 0 ORDER BY username{}",
        tx.for_update()
    );
    let rows = query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut **tx).await?;
    Ok(rows.iter().map(|row| row.try_get(0)).collect::<Result<_, _>>()?)
}

/// A user as the permission check needs it: role, state, and groups with permissions.
#[derive(Debug, Clone)]
pub struct UserWithGroups {
    pub username: String,
    pub email: Option<String>,
    pub full_name: Option<String>,
    pub role: Role,
    pub disabled: bool,
    pub token_version: String,
    /// Sorted by name, each group's permissions sorted; shared, as it is read often.
    pub groups: UserGroups,
}

impl UserWithGroups {
    /// Every permission of every group the user is in.
    pub fn permissions(&self) -> Vec<Permission> {
        self.groups.iter().flat_map(|g| g.permissions.iter().cloned()).collect()
    }
}

/// Past this many users, [`access`] reads every user rather than binding a list that
/// could outgrow the databases' limits on bound parameters.
const MAX_LISTED_USERS: usize = 1000;

/// The permissions by which a user may read models (MODEL, with GET or ANY), and
/// its role: all that `User.models` needs, much less than its whole [`UserWithGroups`].
#[derive(Debug, Clone)]
pub struct ModelGrants {
    pub role: Role,
    pub permissions: Vec<Permission>,
}

/// The [`ModelGrants`] of each of `usernames` that exists, in one statement of one
/// row per user: its grants come joined into one text, since a listing of every user
/// would otherwise move ten rows per user from the database.
pub async fn model_grants(
    conn: &mut AnyConnection,
    backend: Backend,
    usernames: &[String],
) -> AppResult<HashMap<String, ModelGrants>> {
    if usernames.is_empty() {
        return Ok(HashMap::new());
    }
    if usernames.len() > MAX_LISTED_USERS {
        return model_grants_of_everyone(conn, backend, usernames).await;
    }
    let [user_filter, grant_filter] = username_filters(usernames, ["WHERE u.username", "AND ug.username"]);
    let resource_ids = backend.joined_text("p.resource_id");
    let sql = format!(
        "SELECT u.username, u.role, g.all_models, g.resource_ids FROM users u LEFT JOIN ( \
         SELECT ug.username AS username, \
         MAX(CASE WHEN p.resource_id IS NULL THEN 1 ELSE 0 END) AS all_models, {resource_ids} AS resource_ids \
         FROM group_permissions p JOIN user_groups ug ON ug.group_name = p.group_name \
         WHERE p.resource_type = 'MODEL' AND p.method IN ('GET', 'ANY'){grant_filter} \
         GROUP BY ug.username) g ON g.username = u.username{user_filter}"
    );
    let query = bind_usernames_twice(query(sqlx::AssertSqlSafe(sql)), usernames, !user_filter.is_empty());
    let wanted: HashSet<&str> = usernames.iter().map(String::as_str).collect();
    let mut found = HashMap::new();
    for row in query.fetch_all(conn).await? {
        let username: String = row.try_get("username")?;
        if !wanted.contains(username.as_str()) {
            continue;
        }
        // GET stands for GET and ANY alike here: both grant reading.
        let grant = |resource_id| Permission { resource_type: ResourceType::Model, resource_id, method: Method::Get };
        let mut permissions = Vec::new();
        if row.try_get::<Option<i64>, _>("all_models")? == Some(1) {
            permissions.push(grant(None));
        }
        if let Some(ids) = row.try_get::<Option<String>, _>("resource_ids")? {
            permissions.extend(ids.split(JOINED_TEXT_SEPARATOR).map(|id| grant(Some(id.to_owned()))));
        }
        found.insert(username, ModelGrants { role: role_column(&row)?, permissions });
    }
    Ok(found)
}

/// Who may read which models, for every user, in one statement of one row (see
/// [`Backend::json_rows`]): every user's role, every model-reading permission (GET or
/// ANY on MODEL) with its group's members joined into one text, every model id, and
/// the access version it was read at. Grouping the grants per user instead has the
/// database sort every membership: 24 ms against 5 ms on SQLite for 1,000 users in 16
/// groups each.
struct ModelReaders {
    roles: Vec<(String, Role)>,
    /// A permission's model id (None: every model) and its group's members.
    grants: Vec<(Option<String>, String)>,
    /// Sorted by bytes.
    ids: Vec<String>,
    version: i64,
}

async fn model_readers(conn: &mut AnyConnection, backend: Backend) -> AppResult<ModelReaders> {
    let members = backend.joined_text("ug.username");
    let users = backend.json_rows("u.username, u.role");
    let grants = backend.json_rows(&format!(
        "p.resource_id, (SELECT {members} FROM user_groups ug WHERE ug.group_name = p.group_name)"
    ));
    let ids = backend.json_values("m.id");
    let sql = format!(
        "SELECT (SELECT {users} FROM users u) AS users, \
         (SELECT {grants} FROM group_permissions p WHERE p.resource_type = 'MODEL' AND p.method IN ('GET', 'ANY')) \
         AS grants, (SELECT {ids} FROM models m) AS ids, (SELECT version FROM access_version WHERE id = 1) AS version"
    );
    let row = query(sqlx::AssertSqlSafe(sql)).fetch_one(conn).await?;
    let column = |name: &str| -> AppResult<String> { Ok(row.try_get::<String, _>(name)?) };
    let users: Vec<(String, String)> = serde_json::from_str(&column("users")?).map_err(AppError::internal)?;
    let roles =
        users.into_iter().map(|(username, role)| Ok((username, stored_role(&role)?))).collect::<AppResult<_>>()?;
    let grants: Vec<(Option<String>, Option<String>)> =
        serde_json::from_str(&column("grants")?).map_err(AppError::internal)?;
    // A group without members grants no one.
    let grants = grants.into_iter().filter_map(|(resource_id, members)| Some((resource_id, members?))).collect();
    let mut ids: Vec<String> = serde_json::from_str(&column("ids")?).map_err(AppError::internal)?;
    ids.sort();
    Ok(ModelReaders { roles, grants, ids, version: row.try_get("version")? })
}

/// [`model_grants`] for a listing of every user, from [`model_readers`].
async fn model_grants_of_everyone(
    conn: &mut AnyConnection,
    backend: Backend,
    usernames: &[String],
) -> AppResult<HashMap<String, ModelGrants>> {
    let readers = model_readers(conn, backend).await?;
    let wanted: HashSet<&str> = usernames.iter().map(String::as_str).collect();
    let mut found: HashMap<String, ModelGrants> = readers
        .roles
        .into_iter()
        .filter(|(username, _)| wanted.contains(username.as_str()))
        .map(|(username, role)| (username, ModelGrants { role, permissions: Vec::new() }))
        .collect();
    // GET stands for GET and ANY alike here: both grant reading.
    for (resource_id, members) in readers.grants {
        for member in members.split(JOINED_TEXT_SEPARATOR) {
            if let Some(user) = found.get_mut(member) {
                let grant = Permission {
                    resource_type: ResourceType::Model,
                    resource_id: resource_id.clone(),
                    method: Method::Get,
                };
                user.permissions.push(grant);
            }
        }
    }
    Ok(found)
}

/// Which models each user may read, for a listing of every user with their models:
/// every model id (sorted) and, per user, all of them or the indices of some. A
/// fraction of [`ModelGrants`]' size (a few bytes per readable model instead of a
/// permission with its own copy of the id), and kept across listings.
#[derive(Debug)]
pub struct ListingModels {
    /// Every model id, sorted by bytes.
    pub ids: Vec<String>,
    readable: HashMap<String, ReadableIds>,
}

#[derive(Debug)]
enum ReadableIds {
    All,
    /// Indices into [`ListingModels::ids`], sorted, without repeats.
    Only(Vec<u32>),
}

impl ListingModels {
    /// The ids of the models `username` may read, sorted; none for an unknown user.
    pub fn of<'a>(&'a self, username: &str) -> Box<dyn Iterator<Item = &'a str> + 'a> {
        match self.readable.get(username) {
            Some(ReadableIds::All) => Box::new(self.ids.iter().map(String::as_str)),
            Some(ReadableIds::Only(indices)) => Box::new(indices.iter().map(|&i| self.ids[i as usize].as_str())),
            None => Box::new(std::iter::empty()),
        }
    }
}

/// [`ListingModels`] as read at one access version, kept for the next listing of
/// every user: while no user, group, permission, membership or model changes (each
/// change bumps the version) a listing reads only its users. Kept only for up to
/// [`MAX_CACHED_LISTING_USERS`] users.
#[derive(Default)]
pub struct ListingModelsCache(std::sync::Mutex<Option<(i64, Arc<ListingModels>)>>);

/// Most users whose readable models [`ListingModelsCache`] keeps (tens of bytes each).
const MAX_CACHED_LISTING_USERS: usize = 100_000;

/// The [`ListingModels`] of a listing whose users were read at access version
/// `version`: from `cache` when it holds them at that version, else read by
/// [`model_readers`] (and kept when read at `version`).
pub async fn listing_models(
    conn: &mut AnyConnection,
    backend: Backend,
    version: i64,
    cache: &ListingModelsCache,
) -> AppResult<Arc<ListingModels>> {
    let kept = || cache.0.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((kept_version, models)) = kept().as_ref()
        && *kept_version == version
    {
        return Ok(Arc::clone(models));
    }
    let ModelReaders { roles, grants, ids, version: read_version } = model_readers(conn, backend).await?;
    let mut readable: HashMap<String, ReadableIds> = roles
        .into_iter()
        .map(|(username, role)| {
            (username, if role == Role::Admin { ReadableIds::All } else { ReadableIds::Only(Vec::new()) })
        })
        .collect();
    for (resource_id, members) in grants {
        // A grant on a model id that is not a model reads nothing.
        let index = match &resource_id {
            Some(id) => match ids.binary_search(id) {
                Ok(index) => Some(index as u32),
                Err(_) => continue,
            },
            None => None,
        };
        for member in members.split(JOINED_TEXT_SEPARATOR) {
            match (readable.get_mut(member), index) {
                (Some(user @ ReadableIds::Only(_)), None) => *user = ReadableIds::All,
                (Some(ReadableIds::Only(indices)), Some(index)) => indices.push(index),
                _ => {}
            }
        }
    }
    for user in readable.values_mut() {
        if let ReadableIds::Only(indices) = user {
            indices.sort_unstable();
            indices.dedup();
            indices.shrink_to_fit();
        }
    }
    let models = Arc::new(ListingModels { ids, readable });
    if read_version == version && models.readable.len() <= MAX_CACHED_LISTING_USERS {
        *kept() = Some((read_version, Arc::clone(&models)));
    }
    Ok(models)
}

/// `<column> IN ($…)` filters on `usernames` for the two halves of a UNION ALL,
/// numbered one after the other; none past [`MAX_LISTED_USERS`] (then everyone is
/// read, and the rows filtered in Rust).
fn username_filters(usernames: &[String], columns: [&str; 2]) -> [String; 2] {
    if usernames.len() > MAX_LISTED_USERS {
        return [String::new(), String::new()];
    }
    let n = usernames.len();
    [format!(" {} IN ({})", columns[0], placeholders(1, n)), format!(" {} IN ({})", columns[1], placeholders(n + 1, n))]
}

/// Binds `usernames` for both halves of [`username_filters`] when they filter.
fn bind_usernames_twice<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    usernames: &'q [String],
    filtered: bool,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    if filtered {
        for username in usernames.iter().chain(usernames) {
            query = query.bind(username);
        }
    }
    query
}

/// Users' groups kept across requests while the database's access version holds
/// (see the `access_version` migration): a request then reads one row, its user's,
/// instead of all its groups' permissions. Bounded in users, evicting the least used
/// (S3-FIFO), so that more active users than it holds cost some misses, not all.
/// Groups are kept once, shared by their members: 20,000 users in 16 groups each
/// would otherwise hold 320,000 copies of a few thousand groups.
pub struct GroupsCache {
    users: quick_cache::sync::Cache<String, VersionedGroups>,
    groups: quick_cache::sync::Cache<String, (i64, Arc<GroupRow>)>,
}

/// A user's groups as read at an access version.
type VersionedGroups = (i64, UserGroups);

/// A user's groups, sorted by name. Each group is shared: the groups cache gives users
/// of one group the same row (most users share most of their groups).
pub type UserGroups = Arc<Vec<Arc<GroupRow>>>;

impl GroupsCache {
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        GroupsCache { users: quick_cache::sync::Cache::new(capacity), groups: quick_cache::sync::Cache::new(capacity) }
    }

    fn get(&self, username: &str) -> Option<VersionedGroups> {
        self.users.get(username)
    }

    fn put(&self, username: &str, version: i64, groups: UserGroups) {
        self.users.insert(username.to_owned(), (version, groups));
    }

    /// The group as read at `version`: the row already kept for it at that version, if
    /// it is the same, else this one (then kept).
    fn shared(&self, version: i64, group: GroupRow) -> Arc<GroupRow> {
        if let Some((kept_version, kept)) = self.groups.get(group.name.as_str())
            && kept_version == version
            && *kept == group
        {
            return kept;
        }
        let group = Arc::new(group);
        self.groups.insert(group.name.clone(), (version, Arc::clone(&group)));
        group
    }
}

/// One user's [`UserWithGroups`] for authenticating a request, in one statement: its row with
/// the current access version, and its groups' rows only when `cache` does not hold
/// them at that version.
pub async fn find_with_groups_cached(
    conn: &mut AnyConnection,
    username: &str,
    cache: &GroupsCache,
) -> AppResult<Option<UserWithGroups>> {
    let cached = cache.get(username);
    let rows = query(
        "SELECT u.username, u.email, u.full_name, u.role, u.disabled, u.token_version, v.version, \
         NULL AS group_name, NULL AS resource_type, NULL AS resource_id, NULL AS method \
         FROM users u CROSS JOIN access_version v WHERE u.username = $1 \
         UNION ALL \
         SELECT ug.username, NULL, NULL, NULL, NULL, NULL, NULL, ug.group_name, p.resource_type, p.resource_id, p.method \
         FROM user_groups ug LEFT JOIN group_permissions p ON p.group_name = ug.group_name \
         WHERE ug.username = $2 AND (SELECT version FROM access_version WHERE id = 1) <> $3",
    )
    .bind(username)
    .bind(username)
    .bind(cached.as_ref().map_or(-1, |(version, _)| *version))
    .fetch_all(conn)
    .await?;
    let Some(user) = rows.iter().find(|row| row.try_get::<Option<String>, _>("group_name").ok().flatten().is_none())
    else {
        return Ok(None);
    };
    let version: i64 = user.try_get("version")?;
    let groups = match cached {
        Some((cached_version, groups)) if cached_version == version => groups,
        _ => {
            let mut by_name: BTreeMap<String, Vec<Permission>> = BTreeMap::new();
            for row in &rows {
                if let Some(group) = row.try_get::<Option<String>, _>("group_name")? {
                    by_name.entry(group).or_default().extend(joined_permission(row)?);
                }
            }
            let groups: UserGroups = Arc::new(
                by_name
                    .into_iter()
                    .map(|(name, permissions)| cache.shared(version, group_row(name, permissions)))
                    .collect(),
            );
            cache.put(username, version, Arc::clone(&groups));
            groups
        }
    };
    user_with_groups_row(user, username.to_owned(), groups).map(Some)
}

/// One user's [`UserWithGroups`].
pub async fn find_with_groups(conn: &mut AnyConnection, username: &str) -> AppResult<Option<UserWithGroups>> {
    Ok(with_groups_listed(conn, &[username.to_owned()]).await?.remove(username))
}

/// The [`UserWithGroups`] of each of `usernames` that exists, in one statement.
pub async fn with_groups(
    conn: &mut AnyConnection,
    backend: Backend,
    usernames: &[String],
) -> AppResult<HashMap<String, UserWithGroups>> {
    if usernames.len() > MAX_LISTED_USERS {
        return with_groups_of_everyone(conn, backend, usernames).await;
    }
    with_groups_listed(conn, usernames).await
}

/// [`with_groups`] for a listing of every user, in one statement of one row (see
/// [`Backend::json_rows`]): every user's columns, every user's group names joined
/// into one text, and every group's permissions. Each group is built once and
/// shared by its members. Read as one row per user's group permission (the statement
/// of [`with_groups_listed`]), 100,000 users in 16 groups each are 1.6 million rows.
async fn with_groups_of_everyone(
    conn: &mut AnyConnection,
    backend: Backend,
    usernames: &[String],
) -> AppResult<HashMap<String, UserWithGroups>> {
    let users = backend.json_rows("u.username, u.email, u.full_name, u.role, u.disabled, u.token_version");
    let memberships = backend.json_rows("m.username, m.group_names");
    let group_names = backend.joined_text("ug.group_name");
    let permissions = backend.json_rows("g.name, p.resource_type, p.resource_id, p.method");
    let sql = format!(
        "SELECT (SELECT {users} FROM users u) AS users, \
         (SELECT {memberships} FROM (SELECT ug.username AS username, {group_names} AS group_names \
         FROM user_groups ug GROUP BY ug.username) m) AS memberships, \
         (SELECT {permissions} FROM groups g LEFT JOIN group_permissions p ON p.group_name = g.name) AS permissions"
    );
    let row = query(sqlx::AssertSqlSafe(sql)).fetch_one(conn).await?;
    let column = |name: &str| -> AppResult<String> { Ok(row.try_get::<String, _>(name)?) };

    type PermissionColumns = (String, Option<String>, Option<String>, Option<String>);
    let permissions: Vec<PermissionColumns> =
        serde_json::from_str(&column("permissions")?).map_err(AppError::internal)?;
    let mut by_group: HashMap<String, Vec<Permission>> = HashMap::new();
    for (group, resource_type, resource_id, method) in permissions {
        let permissions = by_group.entry(group).or_default();
        if let (Some(resource_type), Some(method)) = (resource_type, method) {
            permissions.push(parse_permission(&resource_type, resource_id, &method)?);
        }
    }
    let groups: HashMap<String, Arc<GroupRow>> = by_group
        .into_iter()
        .map(|(name, permissions)| (name.clone(), Arc::new(group_row(name, permissions))))
        .collect();

    type UserColumns = (String, Option<String>, Option<String>, String, i64, String);
    let users: Vec<UserColumns> = serde_json::from_str(&column("users")?).map_err(AppError::internal)?;
    let wanted: HashSet<&str> = usernames.iter().map(String::as_str).collect();
    let mut found: HashMap<String, UserWithGroups> = HashMap::with_capacity(usernames.len());
    for (username, email, full_name, role, disabled, token_version) in users {
        if !wanted.contains(username.as_str()) {
            continue;
        }
        let role = stored_role(&role)?;
        let user = UserWithGroups {
            username: username.clone(),
            email,
            full_name,
            role,
            disabled: disabled != 0,
            token_version,
            groups: Arc::default(),
        };
        found.insert(username, user);
    }
    let memberships: Vec<(String, String)> =
        serde_json::from_str(&column("memberships")?).map_err(AppError::internal)?;
    for (username, names) in memberships {
        let Some(user) = found.get_mut(&username) else { continue };
        let mut user_groups: Vec<Arc<GroupRow>> = names
            .split(JOINED_TEXT_SEPARATOR)
            .map(|name| {
                groups.get(name).cloned().ok_or_else(|| AppError::internal(anyhow::anyhow!("no group {name:?}")))
            })
            .collect::<AppResult<_>>()?;
        user_groups.sort_by(|a, b| a.name.cmp(&b.name));
        user.groups = Arc::new(user_groups);
    }
    Ok(found)
}

/// [`with_groups`] for at most [`MAX_LISTED_USERS`] users, named in the statement.
async fn with_groups_listed(
    conn: &mut AnyConnection,
    usernames: &[String],
) -> AppResult<HashMap<String, UserWithGroups>> {
    if usernames.is_empty() {
        return Ok(HashMap::new());
    }
    // One row per user (its own columns) and one per group permission (the group's
    // columns), rather than the user's columns repeated on every permission's row.
    let [user_filter, group_filter] = username_filters(usernames, ["WHERE u.username", "WHERE ug.username"]);
    let sql = format!(
        "SELECT u.username, u.email, u.full_name, u.role, u.disabled, u.token_version, \
         NULL AS group_name, NULL AS resource_type, NULL AS resource_id, NULL AS method \
         FROM users u{user_filter} \
         UNION ALL \
         SELECT ug.username, NULL, NULL, NULL, NULL, NULL, ug.group_name, p.resource_type, p.resource_id, p.method \
         FROM user_groups ug LEFT JOIN group_permissions p ON p.group_name = ug.group_name{group_filter}"
    );
    let query = bind_usernames_twice(query(sqlx::AssertSqlSafe(sql)), usernames, !user_filter.is_empty());
    let rows = query.fetch_all(conn).await?;
    let wanted: HashSet<&str> = usernames.iter().map(String::as_str).collect();
    let mut found: HashMap<String, UserWithGroups> = HashMap::new();
    let mut groups: HashMap<String, BTreeMap<String, Vec<Permission>>> = HashMap::new();
    for row in &rows {
        let username: String = row.try_get("username")?;
        if !wanted.contains(username.as_str()) {
            continue;
        }
        match row.try_get::<Option<String>, _>("group_name")? {
            Some(group) => {
                groups.entry(username).or_default().entry(group).or_default().extend(joined_permission(row)?)
            }
            None => {
                found.insert(username.clone(), user_with_groups_row(row, username, Arc::default())?);
            }
        }
    }
    for (username, user) in &mut found {
        user.groups = group_rows(groups.remove(username).unwrap_or_default());
    }
    Ok(found)
}

/// An [`UserWithGroups`] from a user's own row (its columns as `access` and
/// `find_with_groups_cached` select them) and its groups.
fn user_with_groups_row(row: &AnyRow, username: String, groups: UserGroups) -> AppResult<UserWithGroups> {
    Ok(UserWithGroups {
        username,
        email: row.try_get("email")?,
        full_name: row.try_get("full_name")?,
        role: role_column(row)?,
        disabled: disabled_column(row)?,
        token_version: row.try_get("token_version")?,
        groups,
    })
}

/// Groups with their permissions, by name, as the sorted list an [`UserWithGroups`] holds.
fn group_rows(by_name: BTreeMap<String, Vec<Permission>>) -> UserGroups {
    Arc::new(by_name.into_iter().map(|(name, permissions)| Arc::new(group_row(name, permissions))).collect())
}

/// What `searchUsers` asks for (RULES §10): every filter given must hold.
#[derive(Debug, Clone, Default)]
pub struct UserSearch {
    /// A substring of username, email or full name; ASCII letters compare
    /// case-insensitively, every other character exactly.
    pub text: Option<String>,
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    /// Only members of this group.
    pub group: Option<String>,
    /// Only usernames after this one (by bytes): the page after a cursor.
    pub after: Option<String>,
}

/// The users `search` matches, by username's bytes, at most `limit`, and when
/// `with_total` how many match in all (`after` aside), in one statement: one snapshot.
pub async fn search(
    conn: &mut AnyConnection,
    backend: Backend,
    search: &UserSearch,
    limit: i64,
    with_total: bool,
) -> AppResult<(Vec<UserRow>, Option<i64>)> {
    // Bytes, whatever the database's collation (RULES §7).
    let bytes = match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " COLLATE \"C\"",
    };
    let mut binds: Vec<String> = Vec::new();
    let mut conditions = Vec::new();
    let mut bind = |value: String| {
        binds.push(value);
        format!("${}", binds.len())
    };
    if let Some(text) = &search.text {
        // ASCII letters only are folded: SQLite's lower() folds ASCII alone, and on
        // PostgreSQL translate() stands in for a lower() that would fold é too.
        let fold = |column: &str| match backend {
            Backend::Sqlite => format!("lower({column})"),
            Backend::Postgres => {
                format!("translate({column}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')")
            }
        };
        let needle = bind(text.to_ascii_lowercase());
        let found = |column: &str| match backend {
            Backend::Sqlite => format!("instr({}, {needle}) > 0", fold(&format!("COALESCE({column}, '')"))),
            Backend::Postgres => format!("strpos({}, {needle}) > 0", fold(&format!("COALESCE({column}, '')"))),
        };
        conditions.push(format!("({} OR {} OR {})", found("username"), found("email"), found("full_name")));
        // A trigram index finds the candidates first (see the user_search migrations);
        // trigrams need three characters.
        if text.chars().count() >= 3 {
            conditions.push(match backend {
                Backend::Sqlite => {
                    let phrase = bind(format!("\"{}\"", text.replace('"', "\"\"")));
                    format!(
                        "username IN (SELECT s.username FROM user_search_ids s WHERE s.id IN \
                         (SELECT rowid FROM user_search WHERE user_search MATCH {phrase}))"
                    )
                }
                Backend::Postgres => {
                    let escaped: String = text
                        .to_ascii_lowercase()
                        .chars()
                        .flat_map(|c| if matches!(c, '\\' | '%' | '_') { vec!['\\', c] } else { vec![c] })
                        .collect();
                    let pattern = bind(format!("%{escaped}%"));
                    format!(
                        "translate(username || chr(31) || COALESCE(email, '') || chr(31) || COALESCE(full_name, ''), \
                         'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') LIKE {pattern}"
                    )
                }
            });
        }
    }
    if let Some(role) = search.role {
        conditions.push(format!("role = {}", bind(role.as_str().to_owned())));
    }
    if let Some(disabled) = search.disabled {
        conditions.push(format!("disabled = {}", if disabled { 1 } else { 0 }));
    }
    if let Some(group) = &search.group {
        let group = bind(group.clone());
        conditions.push(format!("username IN (SELECT username FROM user_groups WHERE group_name = {group})"));
    }
    let matching = if conditions.is_empty() { String::new() } else { format!(" WHERE {}", conditions.join(" AND ")) };
    let after = search.after.as_ref().map(|after| format!("username{bytes} > {}", bind(after.clone())));
    let limit_param = format!("${}", binds.len() + 1);
    let page = match (backend, &search.text) {
        // PostgreSQL would rather walk the username index and test every row, hoping to
        // fill the page early: rare matches make that a scan of everyone. The matches
        // come first from the trigram index, then get sorted.
        (Backend::Postgres, Some(_)) => {
            let after = after.map(|after| format!(" WHERE {after}")).unwrap_or_default();
            format!(
                "WITH found AS MATERIALIZED (SELECT {COLUMNS} FROM users{matching}) \
                 SELECT {COLUMNS} FROM found{after} ORDER BY username{bytes} LIMIT {limit_param}"
            )
        }
        _ => {
            let page_conditions: Vec<&String> = conditions.iter().chain(&after).collect();
            let page_where = match page_conditions.is_empty() {
                true => String::new(),
                false => {
                    format!(" WHERE {}", page_conditions.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(" AND "))
                }
            };
            format!("SELECT {COLUMNS} FROM users{page_where} ORDER BY username{bytes} LIMIT {limit_param}")
        }
    };
    let sql = super::with_total(page, &format!("users{matching}"), &format!("m.username{bytes}"), with_total);
    let mut query = query(sqlx::AssertSqlSafe(sql));
    for value in &binds {
        query = query.bind(value);
    }
    let rows = query.bind(limit).fetch_all(conn).await?;
    let (rows, total) = super::page_rows(&rows, "username", with_total)?;
    Ok((rows.into_iter().map(UserRow::from_row).collect::<Result<_, _>>()?, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(name: &str) -> UserGroups {
        Arc::new(vec![Arc::new(GroupRow { name: format!("read-user-{name}"), permissions: Vec::new() })])
    }

    #[test]
    fn members_of_a_group_share_its_row_while_the_access_version_holds() {
        let cache = GroupsCache::new(100);
        let row = |method| GroupRow {
            name: "readers".to_owned(),
            permissions: vec![Permission { resource_type: ResourceType::Model, resource_id: None, method }],
        };
        let first = cache.shared(1, row(Method::Get));
        let second = cache.shared(1, row(Method::Get));
        assert!(Arc::ptr_eq(&first, &second), "one row for both members");
        let next_version = cache.shared(2, row(Method::Get));
        assert!(!Arc::ptr_eq(&first, &next_version), "a new version reads its own");
        let changed = cache.shared(2, row(Method::Any));
        assert_eq!(changed.permissions[0].method, Method::Any, "never another group's permissions");
    }

    #[test]
    fn the_groups_cache_keeps_a_rotation_that_fits_and_part_of_one_that_does_not() {
        let cache = GroupsCache::new(1000);
        let names: Vec<String> = (0..800).map(|i| format!("user{i}")).collect();
        for _ in 0..3 {
            for name in &names {
                if cache.get(name).is_none() {
                    cache.put(name, 7, groups(name));
                }
            }
        }
        let kept = names.iter().filter(|name| cache.get(name).is_some_and(|(version, _)| version == 7)).count();
        assert_eq!(kept, 800, "a rotation within the capacity stays whole");
        assert_eq!(cache.get("user5").unwrap().1[0].name, "read-user-user5", "each user keeps its own groups");

        // 3,000 more users: it forgets some, never all at once (a clear-all map would
        // hold only those since its last clearing).
        for i in 0..3000 {
            let name = format!("other{i}");
            cache.put(&name, 7, groups(&name));
        }
        let recent = (2500..3000).filter(|i| cache.get(format!("other{i}").as_str()).is_some()).count();
        let total = names.iter().filter(|name| cache.get(name).is_some()).count()
            + (0..3000).filter(|i| cache.get(format!("other{i}").as_str()).is_some()).count();
        assert!(recent > 0, "the most recent entries are kept");
        assert!(total <= 1100, "the capacity bounds it: {total} entries");
    }
}

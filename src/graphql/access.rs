//! `Model.access`, the access review (RULES §10): a page of the users who may GET,
//! PUT or DELETE a model, with those methods and the groups that grant them. Pages
//! are batched across models like the permission check they turn around: however
//! many models and users, a request costs a fixed number of statements.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::{ComplexObject, Context, SelectionField, SimpleObject, Value};

use super::guards::caller;
use super::pages::{self, PageInfo};
use super::types::Model;
use crate::auth::policy;
use crate::domain::{Method, Permission, ResourceType, Role};
use crate::error::{AppError, AppResult};
use crate::store::Db;
use crate::store::access::{self, Reach};

/// The field's name in cursors; `access` has no filters.
const FIELD: &str = "Model.access";

/// One user's rights on one model.
#[derive(SimpleObject, Clone)]
pub struct ModelAccess {
    pub username: String,
    pub role: Role,
    /// Among GET, PUT, DELETE, in that order.
    pub methods: Vec<Method>,
    /// The groups that grant them, sorted by name; empty for an ADMIN.
    pub groups: Vec<String>,
}

#[derive(SimpleObject)]
pub struct ModelAccessEdge {
    pub cursor: String,
    pub node: ModelAccess,
}

#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ModelAccessConnection {
    pub edges: Vec<ModelAccessEdge>,
    pub page_info: PageInfo,
    /// Every user who reaches the model, not just this page.
    pub total_count: i64,
}

#[ComplexObject]
impl ModelAccessConnection {
    async fn nodes(&self) -> Vec<&ModelAccess> {
        self.edges.iter().map(|edge| &edge.node).collect()
    }
}

#[ComplexObject]
impl Model {
    /// Who may GET, PUT or DELETE this model (RULES 10). Needs MODEL id PUT and USER
    /// null GET; null otherwise.
    #[graphql(complexity = "super::pages::weight(&first) * child_complexity")]
    async fn access(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: Option<i32>,
        after: Option<String>,
    ) -> AppResult<Option<ModelAccessConnection>> {
        let caller = caller(ctx).await?;
        if !may_review(caller, &self.id) {
            return Err(AppError::forbidden("access needs MODEL id PUT and USER null GET"));
        }
        let key = AccessKey::new(self.id.clone(), first, after, with_total(&ctx.field()))?;
        let page = super::data::<super::loaders::Loaders>(ctx)?.access(key).await?;
        Ok(Some(page.connection()))
    }
}

/// Whether `caller` may review who reaches `model`.
fn may_review(caller: &crate::auth::Caller, model: &str) -> bool {
    caller.may(&Permission::new(ResourceType::Model, Some(model), Method::Put))
        && caller.may(&Permission::new(ResourceType::User, None, Method::Get))
}

/// Whether an `access` field selects `totalCount` (it costs a count only then).
fn with_total(field: &SelectionField<'_>) -> bool {
    field.selection_set().any(|f| f.name() == "totalCount")
}

/// The `access` pages that the `models` listing at `ctx` asks for, of those of
/// `models` that the caller may review: loaded in one batch before the models
/// resolve, so that any number of models costs the statements of one.
pub async fn access_pages_of(ctx: &Context<'_>, models: &[String]) -> AppResult<Vec<AccessKey>> {
    let caller = caller(ctx).await?;
    let mut keys = Vec::new();
    for field in ctx.look_ahead().field("access").selection_fields() {
        let arguments = field.arguments().map_err(|e| AppError::bad_input(e.message))?;
        let argument = |name: &str| arguments.iter().find(|(n, _)| n.as_str() == name).map(|(_, v)| v);
        let first = match argument("first") {
            Some(Value::Number(n)) => Some(n.as_i64().and_then(|n| i32::try_from(n).ok()).unwrap_or(i32::MAX)),
            _ => None,
        };
        let after = match argument("after") {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        for model in models.iter().filter(|model| may_review(caller, model)) {
            // A bad argument is the field's own error, when it resolves.
            if let Ok(key) = AccessKey::new(model.clone(), first, after.clone(), with_total(&field)) {
                keys.push(key);
            }
        }
    }
    Ok(keys)
}

/// A page of `Model.access` asked for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccessKey {
    model: String,
    /// The username the page starts after.
    after: Option<String>,
    size: usize,
    with_total: bool,
}

impl AccessKey {
    fn new(model: String, first: Option<i32>, after: Option<String>, with_total: bool) -> AppResult<Self> {
        let size = pages::size(first)?;
        let after = after.map(|cursor| pages::position(&cursor, FIELD, "")).transpose()?;
        Ok(AccessKey { model, after, size, with_total })
    }
}

/// A page of the users who reach a model.
pub struct AccessPage {
    entries: Vec<ModelAccess>,
    has_next_page: bool,
    total: i64,
}

impl AccessPage {
    fn connection(&self) -> ModelAccessConnection {
        let edges: Vec<ModelAccessEdge> = self
            .entries
            .iter()
            .map(|entry| ModelAccessEdge { cursor: pages::cursor(FIELD, "", &entry.username), node: entry.clone() })
            .collect();
        let page_info =
            PageInfo::forward(edges.first().map(|e| &e.cursor), edges.last().map(|e| &e.cursor), self.has_next_page);
        ModelAccessConnection { edges, page_info, total_count: self.total }
    }

    /// The page `key` asks for, from what `reach` read.
    fn of(reach: &Reach, key: &AccessKey) -> Self {
        let after = key.after.as_deref().unwrap_or("");
        let every_model = reach.every_model.get(&key.after).map(Vec::as_slice).unwrap_or_default();
        let own = reach.by_model.get(&(key.after.clone(), key.model.clone())).map(Vec::as_slice).unwrap_or_default();
        // Both lists hold the first users after the position, as many as the page and
        // one more: the page is among their first.
        let candidates: BTreeSet<&str> =
            every_model.iter().chain(own).map(String::as_str).filter(|u| *u > after).collect();
        let mut entries = Vec::new();
        for username in candidates.into_iter().take(key.size + 1) {
            let Some(grantee) = reach.grantees.get(username) else { continue };
            let permissions: Vec<(&str, Permission)> = grantee
                .grants
                .iter()
                .map(|g| (g.group.as_str(), Permission::new(ResourceType::Model, g.model.as_deref(), g.method)))
                .collect();
            let (methods, groups) =
                policy::model_access(grantee.role, permissions.iter().map(|(g, p)| (*g, p)), &key.model);
            if methods.is_empty() {
                continue;
            }
            let groups = groups.into_iter().map(str::to_owned).collect();
            entries.push(ModelAccess { username: username.to_owned(), role: grantee.role, methods, groups });
        }
        let has_next_page = entries.len() > key.size;
        entries.truncate(key.size);
        // Those who reach every model, and those only the model's own grants name.
        let only_own = reach.only_own_totals.get(&key.model).copied().unwrap_or(0);
        let total = reach.every_model_total.unwrap_or(0) + only_own;
        AccessPage { entries, has_next_page, total }
    }
}

/// [`AccessPage`]s by [`AccessKey`], for one request.
pub struct AccessByModel(pub Db);

impl Loader<AccessKey> for AccessByModel {
    type Value = Arc<AccessPage>;
    type Error = AppError;

    async fn load(&self, keys: &[AccessKey]) -> Result<HashMap<AccessKey, Arc<AccessPage>>, AppError> {
        let models: Vec<String> = keys.iter().map(|k| k.model.clone()).collect::<BTreeSet<_>>().into_iter().collect();
        // One read per position: the page's size and one more, to know if more follow.
        let mut positions: HashMap<Option<String>, i64> = HashMap::new();
        for key in keys {
            let limit = positions.entry(key.after.clone()).or_default();
            *limit = (*limit).max(i64::try_from(key.size + 1).unwrap_or(i64::MAX));
        }
        let positions: Vec<(Option<String>, i64)> = positions.into_iter().collect();
        let with_total = keys.iter().any(|k| k.with_total);
        let reach = access::reach(&mut *self.0.conn().await?, self.0.backend, &models, &positions, with_total).await?;
        Ok(keys.iter().map(|key| (key.clone(), Arc::new(AccessPage::of(&reach, key)))).collect())
    }
}

//! The GraphQL object and input types of the contract.

use std::sync::Arc;

use async_graphql::{Context, InputObject, MaybeUndefined, Object, SimpleObject};

use super::answer::Listing;
use crate::auth::IssuedToken;
use crate::domain::{Method, Permission, ResourceType, Role};
use crate::error::{AppError, AppResult};
use crate::graphql::loaders::Loaders;
use crate::graphql::pages::PageInfo;
use crate::store::groups::GroupRow;
use crate::store::users::{ListedUser, UserGroups, UserRow, UserSearch, UserWithGroups};

/// A user as clients see it: never its hash or token version.
pub struct User {
    username: String,
    email: Option<String>,
    full_name: Option<String>,
    disabled: bool,
    role: Role,
    /// Set when the groups were read with the user (or before it was deleted).
    groups: Option<UserGroups>,
}

impl User {
    pub fn with_groups(row: UserRow, groups: Vec<GroupRow>) -> Self {
        User { groups: Some(Arc::new(groups.into_iter().map(Arc::new).collect())), ..User::from(row) }
    }
}

impl From<&UserWithGroups> for User {
    /// With the groups it was read with.
    fn from(user: &UserWithGroups) -> Self {
        User {
            username: user.username.clone(),
            email: user.email.clone(),
            full_name: user.full_name.clone(),
            disabled: user.disabled,
            role: user.role,
            groups: Some(user.groups.clone()),
        }
    }
}

impl From<ListedUser> for User {
    fn from(user: ListedUser) -> Self {
        User {
            username: user.username,
            email: user.email,
            full_name: user.full_name,
            disabled: user.disabled,
            role: user.role,
            groups: None,
        }
    }
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        let role = row.role;
        User {
            username: row.username,
            email: row.email,
            full_name: row.full_name,
            disabled: row.disabled,
            role,
            groups: None,
        }
    }
}

#[Object]
impl User {
    async fn username(&self) -> &str {
        &self.username
    }

    async fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }

    async fn full_name(&self) -> Option<&str> {
        self.full_name.as_deref()
    }

    async fn disabled(&self) -> bool {
        self.disabled
    }

    async fn role(&self) -> Role {
        self.role
    }

    /// Sorted by name.
    #[graphql(complexity = "super::LIST_WEIGHT * child_complexity")]
    async fn groups(&self, ctx: &Context<'_>) -> AppResult<Listing<Group>> {
        let groups = match &self.groups {
            Some(groups) => groups.clone(),
            None => loaders(ctx)?.user(&self.username).await?.map(|a| a.groups.clone()).unwrap_or_default(),
        };
        Ok(Listing(groups.iter().map(|group| Group::from(group.as_ref())).collect()))
    }

    /// The models this user may read (GET on MODEL), sorted by id.
    #[graphql(complexity = "super::LIST_WEIGHT * child_complexity")]
    async fn models(&self, ctx: &Context<'_>) -> AppResult<Listing<Model>> {
        let ids = loaders(ctx)?.readable_models(&self.username).await?;
        Ok(Listing(ids.into_iter().map(|id| Model { id }).collect()))
    }
}

fn loaders<'a>(ctx: &Context<'a>) -> AppResult<&'a Loaders> {
    super::data::<Loaders>(ctx)
}

#[derive(SimpleObject)]
pub struct UserEdge {
    pub cursor: String,
    pub node: User,
}

#[derive(SimpleObject)]
#[graphql(complex)]
pub struct UserConnection {
    pub edges: Vec<UserEdge>,
    pub page_info: PageInfo,
    /// Every match, not just this page.
    pub total_count: i64,
}

impl UserConnection {
    pub fn new(edges: Vec<UserEdge>, has_next_page: bool, total_count: i64) -> Self {
        let page_info =
            PageInfo::forward(edges.first().map(|e| &e.cursor), edges.last().map(|e| &e.cursor), has_next_page);
        UserConnection { edges, page_info, total_count }
    }
}

#[async_graphql::ComplexObject]
impl UserConnection {
    async fn nodes(&self) -> Vec<&User> {
        self.edges.iter().map(|edge| &edge.node).collect()
    }
}

#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Group {
    pub name: String,
    #[graphql(complexity = "super::LIST_WEIGHT * child_complexity")]
    pub permissions: Vec<Permission>,
}

#[async_graphql::ComplexObject]
impl Group {
    /// Members sorted by username (RULES 10). Needs GROUP name GET and USER null GET; null otherwise.
    #[graphql(complexity = "super::pages::weight(&first) * child_complexity")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: Option<i32>,
        after: Option<String>,
    ) -> AppResult<Option<UserConnection>> {
        let caller = super::guards::caller(ctx).await?;
        let may = caller.may(&Permission::new(ResourceType::Group, Some(&self.name), Method::Get))
            && caller.may(&Permission::new(ResourceType::User, None, Method::Get));
        if !may {
            return Err(AppError::forbidden("members need GROUP name GET and USER null GET"));
        }
        // The parent is not part of a cursor: one cursor pages every group's members.
        let search = UserSearch { group: Some(self.name.clone()), ..UserSearch::default() };
        super::users::user_page(ctx, "Group.members", "", search, first, after).await.map(Some)
    }
}

impl From<GroupRow> for Group {
    fn from(row: GroupRow) -> Self {
        Group { name: row.name, permissions: row.permissions }
    }
}

impl From<&GroupRow> for Group {
    fn from(row: &GroupRow) -> Self {
        Group { name: row.name.clone(), permissions: row.permissions.clone() }
    }
}

/// `access` is in [`super::access`].
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Model {
    pub id: String,
}

#[derive(SimpleObject)]
pub struct Token {
    pub access_token: String,
    /// Always "bearer".
    pub token_type: &'static str,
    /// Lifetime of the token in seconds.
    pub expires_in: i32,
}

impl From<IssuedToken> for Token {
    fn from(token: IssuedToken) -> Self {
        Token {
            access_token: token.access_token,
            token_type: "bearer",
            expires_in: i32::try_from(token.expires_in).unwrap_or(i32::MAX),
        }
    }
}

// No Debug derive: it holds a password.
#[derive(InputObject)]
pub struct CreateUserInput {
    pub username: String,
    pub password: String,
    pub email: Option<String>,
    pub full_name: Option<String>,
    #[graphql(default_with = "Some(false)")]
    pub disabled: Option<bool>,
    #[graphql(default_with = "Some(Role::Regular)")]
    pub role: Option<Role>,
    /// Names of existing groups to add on top of the default ones.
    #[graphql(default_with = "Some(Vec::new())")]
    pub groups: Option<Vec<String>>,
}

/// Omitted fields stay as they are; an explicit null clears email or fullName.
#[derive(InputObject)]
pub struct EditUserInput {
    /// The user to edit; "me" means the caller.
    pub username: String,
    pub password: Option<String>,
    /// Required when a non-admin changes its own password.
    pub current_password: Option<String>,
    pub email: MaybeUndefined<String>,
    pub full_name: MaybeUndefined<String>,
    pub disabled: Option<bool>,
    pub role: Option<Role>,
    /// Replaces the user's group list.
    pub groups: Option<Vec<String>>,
}

#[derive(InputObject)]
pub struct PermissionInput {
    pub resource_type: ResourceType,
    pub resource_id: Option<String>,
    #[graphql(default_with = "Method::Any")]
    pub method: Method,
}

impl From<PermissionInput> for Permission {
    fn from(input: PermissionInput) -> Self {
        Permission { resource_type: input.resource_type, resource_id: input.resource_id, method: input.method }
    }
}

#[derive(InputObject)]
pub struct GroupInput {
    pub name: String,
    pub permissions: Vec<PermissionInput>,
}

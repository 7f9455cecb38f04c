//! Documents that list every user with plain fields (`users { username models { id } }`,
//! the README's `users { … groups { name permissions { … } } models { id } }`),
//! answered without the executor (issue 17). Through async-graphql each user, group
//! and model of the answer is a future per field and a `Value` tree of hash maps, ~30×
//! the JSON it becomes; here the rows read are written straight to JSON.
//!
//! A plan is made once a document has passed the full validation through the executor,
//! and only for the shape whose answer cannot differ: one query operation without
//! variables, directives or fragments whose only selection is `users`, selecting (with
//! aliases or not, each response key once) only the fields below. The reads are those
//! the resolvers make (the same statements), and a request the plan cannot answer
//! with success (no caller, a caller without USER null GET, an answer over
//! `--max-response-bytes`, a failing read) goes to the executor, which answers it
//! with its error.

use std::borrow::Cow;
use std::sync::Arc;

use async_graphql::Name;
use async_graphql::parser::types::{ExecutableDocument, Field, Selection};
use serde::Serialize;

use super::operation;
use crate::auth::policy;
use crate::domain::{Permission, ResourceType};
use crate::error::AppResult;
use crate::state::AppState;
use crate::store::groups::GroupRow;
use crate::store::models;
use crate::store::users::{self as user_rows, ListedUser};

/// A response key as written before its value: `"name":`.
type Key = Box<[u8]>;

#[derive(Debug)]
enum UserField {
    Typename(Key),
    Username(Key),
    Email(Key),
    FullName(Key),
    Disabled(Key),
    Role(Key),
    Groups(Key, Vec<GroupField>),
    Models(Key, Vec<ModelField>),
}

#[derive(Debug)]
enum GroupField {
    Typename(Key),
    Name(Key),
    Permissions(Key, Vec<PermissionField>),
}

#[derive(Debug)]
enum PermissionField {
    Typename(Key),
    ResourceType(Key),
    ResourceId(Key),
    Method(Key),
}

#[derive(Debug)]
enum ModelField {
    Typename(Key),
    Id(Key),
}

/// The plan of a document listing every user with plain fields.
#[derive(Debug)]
pub struct UsersListing {
    operation: Option<Name>,
    /// `"users":`, or its alias.
    key: Key,
    fields: Vec<UserField>,
    groups: bool,
    models: bool,
}

impl UsersListing {
    /// The plan of `document`, which passed GraphQL's validation, if it has the shape.
    pub fn of(document: &ExecutableDocument) -> Option<Self> {
        let (operation, definition) = operation::only_query(document)?;
        let items = &definition.selection_set.node.items;
        if !definition.variable_definitions.is_empty() || items.len() != 1 {
            return None;
        }
        let users = plain_field(&items[0].node).filter(|field| field.name.node == "users")?;
        let fields = selected_fields(users, |name, key, field| {
            Some(match name {
                "__typename" => UserField::Typename(key),
                "username" => UserField::Username(key),
                "email" => UserField::Email(key),
                "fullName" => UserField::FullName(key),
                "disabled" => UserField::Disabled(key),
                "role" => UserField::Role(key),
                "groups" => UserField::Groups(key, group_fields(field)?),
                "models" => UserField::Models(key, model_fields(field)?),
                _ => return None,
            })
        })?;
        let groups = fields.iter().any(|f| matches!(f, UserField::Groups(..)));
        let models = fields.iter().any(|f| matches!(f, UserField::Models(..)));
        Some(UsersListing { operation, key: key_of(users, &mut Vec::new())?, fields, groups, models })
    }

    /// The operation's name, if it has one.
    pub fn operation(&self) -> Option<&str> {
        self.operation.as_ref().map(Name::as_str)
    }

    /// Whether this plan answers a request naming `operation_name`.
    pub fn answers(&self, operation_name: Option<&str>) -> bool {
        operation::names(operation_name, self.operation.as_ref())
    }

    /// The whole answer, read with the statements the resolvers make; `None` past
    /// `max_bytes`.
    pub async fn answer(&self, state: &AppState, max_bytes: usize) -> AppResult<Option<Vec<u8>>> {
        let db = &state.db;
        let mut conn = db.conn().await?;
        let (rows, version) = user_rows::list_at_version(&mut conn, db.backend).await?;
        let mut with_groups = if self.groups {
            let usernames: Vec<String> = rows.iter().map(|row| row.username.clone()).collect();
            user_rows::with_groups(&mut conn, db.backend, &usernames).await?
        } else {
            Default::default()
        };
        // Models without groups: which ones each user reads, kept across listings while
        // the access version holds. With groups, from the groups read.
        let listing_models = if self.models && !self.groups {
            Some(user_rows::listing_models(&mut conn, db.backend, version, &state.listing_models).await?)
        } else {
            None
        };
        let all_ids =
            if self.models && self.groups { models::list_ids(&mut conn, db.backend).await? } else { Vec::new() };
        drop(conn);

        let mut out = Vec::with_capacity(64 + rows.len() * 64);
        out.extend_from_slice(b"{\"data\":{");
        out.extend_from_slice(&self.key);
        out.push(b'[');
        for (n, row) in rows.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            let user = with_groups.remove(&row.username);
            let groups: &[Arc<GroupRow>] = user.as_ref().map_or(&[], |user| user.groups.as_slice());
            let readable = || -> Vec<Cow<'_, str>> {
                match (&user, &listing_models) {
                    (Some(user), _) => {
                        let permissions = user.groups.iter().flat_map(|group| &group.permissions);
                        let ids = policy::readable(user.role, permissions, ResourceType::Model).among(&all_ids);
                        ids.into_iter().map(Cow::Owned).collect()
                    }
                    (None, Some(models)) => models.of(&row.username).map(Cow::Borrowed).collect(),
                    (None, None) => Vec::new(),
                }
            };
            self.write_user(&mut out, row, groups, readable);
            if out.len() > max_bytes {
                return Ok(None);
            }
        }
        out.extend_from_slice(b"]}}");
        Ok((out.len() <= max_bytes).then_some(out))
    }

    fn write_user<'a>(
        &self,
        out: &mut Vec<u8>,
        row: &ListedUser,
        groups: &[Arc<GroupRow>],
        readable: impl FnOnce() -> Vec<Cow<'a, str>>,
    ) {
        let mut readable = Some(readable);
        out.push(b'{');
        for (i, field) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match field {
                UserField::Typename(key) => write(out, key, "User"),
                UserField::Username(key) => write(out, key, &row.username),
                UserField::Email(key) => write(out, key, &row.email),
                UserField::FullName(key) => write(out, key, &row.full_name),
                UserField::Disabled(key) => write(out, key, &row.disabled),
                UserField::Role(key) => write(out, key, row.role.as_str()),
                UserField::Groups(key, fields) => {
                    out.extend_from_slice(key);
                    write_list(out, groups, |out, group| write_group(out, fields, group));
                }
                UserField::Models(key, fields) => {
                    let ids = readable.take().map(|readable| readable()).unwrap_or_default();
                    out.extend_from_slice(key);
                    write_list(out, &ids, |out, id| write_model(out, fields, id));
                }
            }
        }
        out.push(b'}');
    }
}

fn write_group(out: &mut Vec<u8>, fields: &[GroupField], group: &GroupRow) {
    out.push(b'{');
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match field {
            GroupField::Typename(key) => write(out, key, "Group"),
            GroupField::Name(key) => write(out, key, &group.name),
            GroupField::Permissions(key, fields) => {
                out.extend_from_slice(key);
                write_list(out, &group.permissions, |out, permission| write_permission(out, fields, permission));
            }
        }
    }
    out.push(b'}');
}

fn write_permission(out: &mut Vec<u8>, fields: &[PermissionField], permission: &Permission) {
    out.push(b'{');
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match field {
            PermissionField::Typename(key) => write(out, key, "Permission"),
            PermissionField::ResourceType(key) => write(out, key, permission.resource_type.as_str()),
            PermissionField::ResourceId(key) => write(out, key, &permission.resource_id),
            PermissionField::Method(key) => write(out, key, permission.method.as_str()),
        }
    }
    out.push(b'}');
}

fn write_model(out: &mut Vec<u8>, fields: &[ModelField], id: &str) {
    out.push(b'{');
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match field {
            ModelField::Typename(key) => write(out, key, "Model"),
            ModelField::Id(key) => write(out, key, id),
        }
    }
    out.push(b'}');
}

fn write_list<T>(out: &mut Vec<u8>, items: &[T], mut write_item: impl FnMut(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_item(out, item);
    }
    out.push(b']');
}

/// `key` then `value` as JSON, escaped as the executor's serializer (serde_json)
/// escapes it; enums are given by their GraphQL names.
fn write(out: &mut Vec<u8>, key: &[u8], value: &(impl Serialize + ?Sized)) {
    out.extend_from_slice(key);
    // Writing to a Vec fails only for a value that cannot be JSON: none here.
    let _ = serde_json::to_writer(&mut *out, value);
}

/// A field without arguments or directives, if `selection` is one.
fn plain_field(selection: &Selection) -> Option<&Field> {
    let Selection::Field(field) = selection else { return None };
    let field = &field.node;
    (field.arguments.is_empty() && field.directives.is_empty()).then_some(field)
}

/// The field's response key as written before its value, if no earlier field of its
/// selection set has it (merged fields are left to the executor).
fn key_of(field: &Field, seen: &mut Vec<Name>) -> Option<Key> {
    let name = field.alias.as_ref().map_or(&field.name.node, |alias| &alias.node);
    if seen.contains(name) {
        return None;
    }
    seen.push(name.clone());
    let mut key = serde_json::to_vec(name.as_str()).ok()?;
    key.push(b':');
    Some(key.into_boxed_slice())
}

/// The fields of `field`'s selection set, each given by `kind` from its name, response
/// key and itself; None if one is not plain, repeats a response key or has no kind.
fn selected_fields<T>(field: &Field, kind: impl Fn(&str, Key, &Field) -> Option<T>) -> Option<Vec<T>> {
    let mut keys = Vec::new();
    let mut fields = Vec::new();
    for item in &field.selection_set.node.items {
        let field = plain_field(&item.node)?;
        let key = key_of(field, &mut keys)?;
        fields.push(kind(field.name.node.as_str(), key, field)?);
    }
    Some(fields)
}

fn group_fields(field: &Field) -> Option<Vec<GroupField>> {
    selected_fields(field, |name, key, field| {
        Some(match name {
            "__typename" => GroupField::Typename(key),
            "name" => GroupField::Name(key),
            "permissions" => GroupField::Permissions(key, permission_fields(field)?),
            _ => return None,
        })
    })
}

fn permission_fields(field: &Field) -> Option<Vec<PermissionField>> {
    selected_fields(field, |name, key, _| {
        Some(match name {
            "__typename" => PermissionField::Typename(key),
            "resourceType" => PermissionField::ResourceType(key),
            "resourceId" => PermissionField::ResourceId(key),
            "method" => PermissionField::Method(key),
            _ => return None,
        })
    })
}

fn model_fields(field: &Field) -> Option<Vec<ModelField>> {
    selected_fields(field, |name, key, _| {
        Some(match name {
            "__typename" => ModelField::Typename(key),
            "id" => ModelField::Id(key),
            _ => return None,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(text: &str) -> Option<UsersListing> {
        UsersListing::of(&async_graphql::parser::parse_query(text).expect("parses"))
    }

    #[test]
    fn plain_listings_have_a_plan() {
        for text in [
            "{ users { username models { id } } }",
            "query L { all: users { __typename u: username email fullName disabled role } }",
            "{ users { username groups { name permissions { resourceType resourceId method } } models { id } } }",
        ] {
            assert!(plan(text).is_some(), "{text}");
        }
        let plan = plan("{ users { groups { name } } }").unwrap();
        assert!(plan.groups && !plan.models);
    }

    #[test]
    fn anything_else_is_left_to_the_executor() {
        for text in [
            "{ users { username } me { username } }",
            "{ users { username @include(if: true) } }",
            "{ users @skip(if: false) { username } }",
            "{ users { username username } }",
            "{ users { a: username a: email } }",
            "{ users { ...F } } fragment F on User { username }",
            "{ users { ... on User { username } } }",
            "query($x: Boolean) { users { username } }",
            "{ users { groups { members { totalCount } } } }",
            "{ users { models { id access { totalCount } } } }",
            "mutation { users { username } }",
            "query A { users { username } } query B { users { username } }",
        ] {
            assert!(plan(text).is_none(), "{text}");
        }
    }
}

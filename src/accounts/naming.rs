//! The groups MLTE derives from resources, and their names (RULES §4). Pure
//! functions, unit-tested below; [`super::groups`] writes them.

use crate::domain::{Method, Permission, ResourceType};

/// The groups without id that a new REGULAR user joins.
pub const REGULAR_USER_DEFAULT_GROUPS: [&str; 4] =
    ["create-model", "read-custom_list", "create-custom_list", "edit-custom_list"];

/// `read` or `edit`: the two groups MLTE derives for one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnedGroupKind {
    Read,
    Edit,
}

/// A group that belongs to one resource, with the name MLTE gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedGroup {
    pub name: String,
    pub permissions: Vec<Permission>,
}

/// `read-<resource>-<id>` with GET, or `edit-<resource>-<id>` with PUT, DELETE and
/// POST on that id. A `-` in the id is written `___`, so two ids can share a name
/// (`a-b` and `a___b`): the store gives the later one a distinct name, and the
/// permissions always name the exact id, never the spelled one.
pub fn owned_group(kind: OwnedGroupKind, resource_type: ResourceType, id: &str) -> OwnedGroup {
    let (prefix, methods): (&str, &[Method]) = match kind {
        OwnedGroupKind::Read => ("read", &[Method::Get]),
        OwnedGroupKind::Edit => ("edit", &[Method::Put, Method::Delete, Method::Post]),
    };
    OwnedGroup {
        name: format!("{prefix}-{}-{}", resource_segment(resource_type), id.replace('-', "___")),
        permissions: methods.iter().map(|&m| Permission::new(resource_type, Some(id), m)).collect(),
    }
}

/// The resource as spelled in group names: `model`, `user`, `custom_list`, …
pub fn resource_segment(resource_type: ResourceType) -> &'static str {
    match resource_type {
        ResourceType::Model => "model",
        ResourceType::User => "user",
        ResourceType::Group => "group",
        ResourceType::Catalog => "catalog",
        ResourceType::CustomList => "custom_list",
    }
}

/// The name to use when `base` is taken by another resource's group: `~` appears in no
/// valid id or group name, so the result can never collide with a later one.
pub fn disambiguated_name(base: &str, attempt: u32) -> String {
    format!("{base}~{attempt}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::policy::grants;
    use Method::*;
    use ResourceType::*;

    fn p(t: ResourceType, id: Option<&str>, m: Method) -> Permission {
        Permission::new(t, id, m)
    }

    #[test]
    fn owned_groups_spell_dashes_as_triple_underscores() {
        let read = owned_group(OwnedGroupKind::Read, Model, "my-model");
        assert_eq!(read.name, "read-model-my___model");
        assert_eq!(read.permissions, vec![p(Model, Some("my-model"), Get)]);
        let edit = owned_group(OwnedGroupKind::Edit, User, "jo@x.org");
        assert_eq!(edit.name, "edit-user-jo@x.org");
        assert_eq!(
            edit.permissions,
            vec![p(User, Some("jo@x.org"), Put), p(User, Some("jo@x.org"), Delete), p(User, Some("jo@x.org"), Post)]
        );
        assert_eq!(owned_group(OwnedGroupKind::Read, CustomList, "l").name, "read-custom_list-l");
    }

    #[test]
    fn colliding_ids_keep_their_own_permissions() {
        let dashed = owned_group(OwnedGroupKind::Read, User, "a-b");
        let underscored = owned_group(OwnedGroupKind::Read, User, "a___b");
        assert_eq!(dashed.name, underscored.name);
        assert_ne!(dashed.permissions, underscored.permissions);
        let other = disambiguated_name(&underscored.name, 2);
        assert_eq!(other, "read-user-a___b~2");
        for granted in &underscored.permissions {
            assert!(!grants(granted, &p(User, Some("a-b"), Get)));
        }
    }
}

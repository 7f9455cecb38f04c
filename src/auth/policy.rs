//! The permission check (MLTE's `grants_access`) and the groups MLTE derives
//! from resources (RULES §3, §4). Pure functions: no I/O, unit-tested below.

use std::collections::BTreeSet;

use crate::domain::{Method, Permission, ResourceType, Role};

/// Whether one granted permission covers a request: same resource type; methods
/// equal or either is ANY; and the grant is for every resource (null) or for
/// exactly the requested one. A listing (null requested id) needs a null grant.
pub fn grants(granted: &Permission, requested: &Permission) -> bool {
    let methods_match =
        granted.method == requested.method || granted.method == Method::Any || requested.method == Method::Any;
    let ids_match = match (&granted.resource_id, &requested.resource_id) {
        (None, _) => true,
        (Some(granted), Some(requested)) => granted == requested,
        (Some(_), None) => false,
    };
    granted.resource_type == requested.resource_type && methods_match && ids_match
}

/// An ADMIN passes every check; anyone else needs one permission that grants it.
pub fn is_allowed(role: Role, permissions: &[Permission], requested: &Permission) -> bool {
    role == Role::Admin || permissions.iter().any(|granted| grants(granted, requested))
}

/// What one may read of a resource type: every resource, or these ids (sorted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readable<'a> {
    All,
    Only(BTreeSet<&'a str>),
}

/// What `is_allowed` lets this role and these permissions read (GET) of a resource
/// type, in one pass over the permissions, instead of the check per id.
pub fn readable<'a>(
    role: Role,
    permissions: impl IntoIterator<Item = &'a Permission>,
    resource_type: ResourceType,
) -> Readable<'a> {
    if role == Role::Admin {
        return Readable::All;
    }
    let mut ids = BTreeSet::new();
    for p in permissions {
        if p.resource_type == resource_type && matches!(p.method, Method::Get | Method::Any) {
            match &p.resource_id {
                None => return Readable::All,
                Some(id) => {
                    ids.insert(id.as_str());
                }
            }
        }
    }
    Readable::Only(ids)
}

impl Readable<'_> {
    /// The readable ones among `all_ids`, which must be sorted; in that order.
    pub fn among(&self, all_ids: &[String]) -> Vec<String> {
        match self {
            Readable::All => all_ids.to_vec(),
            Readable::Only(ids) => ids
                .iter()
                .filter(|id| all_ids.binary_search_by(|existing| existing.as_str().cmp(id)).is_ok())
                .map(|id| (*id).to_owned())
                .collect(),
        }
    }
}

/// Only an ADMIN may create or change `role`, `groups` and `disabled`, and only an
/// ADMIN may edit or delete an ADMIN.
pub fn may_manage_privileges(caller_role: Role) -> bool {
    caller_role == Role::Admin
}

/// The groups without id that a new REGULAR user joins.
pub const REGULAR_USER_DEFAULT_GROUPS: [&str; 4] =
    ["create-model", "read-custom_list", "create-custom_list", "edit-custom_list"];

/// `read` or `edit`: the two groups MLTE derives for one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupAccess {
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
pub fn owned_group(access: GroupAccess, resource_type: ResourceType, id: &str) -> OwnedGroup {
    let (prefix, methods): (&str, &[Method]) = match access {
        GroupAccess::Read => ("read", &[Method::Get]),
        GroupAccess::Edit => ("edit", &[Method::Put, Method::Delete, Method::Post]),
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
    use Method::*;
    use ResourceType::*;

    fn p(t: ResourceType, id: Option<&str>, m: Method) -> Permission {
        Permission::new(t, id, m)
    }

    #[test]
    fn grant_truth_table() {
        // (granted, requested, expected)
        let cases = [
            (p(User, None, Get), p(User, Some("a"), Get), true),
            (p(User, None, Get), p(User, None, Get), true),
            (p(User, Some("a"), Get), p(User, Some("a"), Get), true),
            (p(User, Some("a"), Get), p(User, Some("b"), Get), false),
            (p(User, Some("a"), Get), p(User, None, Get), false),
            (p(User, None, Get), p(User, Some("a"), Put), false),
            (p(User, None, Any), p(User, Some("a"), Delete), true),
            (p(User, Some("a"), Put), p(User, Some("a"), Any), true),
            (p(Model, None, Any), p(User, Some("a"), Get), false),
            (p(Group, None, Post), p(Group, Some("g"), Post), true),
            (p(Group, Some("g"), Any), p(Group, None, Get), false),
            (p(CustomList, None, Delete), p(Catalog, None, Delete), false),
        ];
        for (granted, requested, expected) in cases {
            assert_eq!(grants(&granted, &requested), expected, "{granted:?} vs {requested:?}");
        }
    }

    #[test]
    fn admins_pass_everything_regular_users_need_a_grant() {
        let request = p(User, None, Get);
        assert!(is_allowed(Role::Admin, &[], &request));
        assert!(!is_allowed(Role::Regular, &[], &request));
        assert!(!is_allowed(Role::Regular, &[p(User, Some("x"), Get)], &request));
        assert!(is_allowed(Role::Regular, &[p(Model, None, Get), p(User, None, Any)], &request));
        assert!(may_manage_privileges(Role::Admin));
        assert!(!may_manage_privileges(Role::Regular));
    }

    #[test]
    fn readable_agrees_with_the_check_per_id() {
        let ids: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        let candidates = [
            p(Model, None, Get),
            p(Model, None, Any),
            p(Model, None, Put),
            p(Model, Some("a"), Get),
            p(Model, Some("b"), Any),
            p(Model, Some("c"), Delete),
            p(Model, Some("z"), Get),
            p(User, None, Get),
        ];
        // Every subset of the candidates, for both roles.
        for mask in 0..(1u32 << candidates.len()) {
            let permissions: Vec<_> =
                candidates.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, p)| p.clone()).collect();
            for role in [Role::Admin, Role::Regular] {
                let expected: Vec<String> =
                    ids.iter().filter(|id| is_allowed(role, &permissions, &p(Model, Some(id), Get))).cloned().collect();
                assert_eq!(readable(role, &permissions, Model).among(&ids), expected, "{role:?} {permissions:?}");
            }
        }
    }

    #[test]
    fn owned_groups_spell_dashes_as_triple_underscores() {
        let read = owned_group(GroupAccess::Read, Model, "my-model");
        assert_eq!(read.name, "read-model-my___model");
        assert_eq!(read.permissions, vec![p(Model, Some("my-model"), Get)]);
        let edit = owned_group(GroupAccess::Edit, User, "jo@x.org");
        assert_eq!(edit.name, "edit-user-jo@x.org");
        assert_eq!(
            edit.permissions,
            vec![p(User, Some("jo@x.org"), Put), p(User, Some("jo@x.org"), Delete), p(User, Some("jo@x.org"), Post)]
        );
        assert_eq!(owned_group(GroupAccess::Read, CustomList, "l").name, "read-custom_list-l");
    }

    #[test]
    fn colliding_ids_keep_their_own_permissions() {
        let dashed = owned_group(GroupAccess::Read, User, "a-b");
        let underscored = owned_group(GroupAccess::Read, User, "a___b");
        assert_eq!(dashed.name, underscored.name);
        assert_ne!(dashed.permissions, underscored.permissions);
        let other = disambiguated_name(&underscored.name, 2);
        assert_eq!(other, "read-user-a___b~2");
        for granted in &underscored.permissions {
            assert!(!grants(granted, &p(User, Some("a-b"), Get)));
        }
    }
}

//! The permission check (MLTE's `grants_access`, RULES §3). Pure functions: no I/O,
//! unit-tested below.

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

/// What one user may do to model `model` (RULES §10, the access review): the methods
/// among GET, PUT and DELETE that the §3 check passes, in that order, and the groups
/// whose permissions (given as `(group, permission)`) pass one of them, sorted; an
/// ADMIN passes all three by its role, through no group.
pub fn model_access<'a>(
    role: Role,
    permissions: impl IntoIterator<Item = (&'a str, &'a Permission)> + Clone,
    model: &str,
) -> (Vec<Method>, Vec<&'a str>) {
    const REVIEWED: [Method; 3] = [Method::Get, Method::Put, Method::Delete];
    if role == Role::Admin {
        return (REVIEWED.to_vec(), Vec::new());
    }
    let asked = |method| Permission::new(ResourceType::Model, Some(model), method);
    let methods = REVIEWED
        .into_iter()
        .filter(|&method| permissions.clone().into_iter().any(|(_, granted)| grants(granted, &asked(method))))
        .collect();
    let mut groups: Vec<&str> = permissions
        .into_iter()
        .filter(|(_, granted)| REVIEWED.iter().any(|&method| grants(granted, &asked(method))))
        .map(|(group, _)| group)
        .collect();
    groups.sort_unstable();
    groups.dedup();
    (methods, groups)
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
    fn model_access_lists_the_methods_in_order_and_the_groups_that_give_them() {
        let read_all = p(Model, None, Get);
        let edit_m = p(Model, Some("m"), Put);
        let any_m = p(Model, Some("m"), Any);
        let post_all = p(Model, None, Post);
        let other = p(Model, Some("x"), Delete);
        let user = p(User, None, Any);
        let held = [("z-read", &read_all), ("edit-m", &edit_m), ("create", &post_all), ("x", &other), ("u", &user)];
        let (methods, groups) = model_access(Role::Regular, held, "m");
        assert_eq!(methods, vec![Get, Put]);
        assert_eq!(groups, vec!["edit-m", "z-read"], "POST, other models and other types give nothing");
        let (methods, groups) = model_access(Role::Regular, [("all", &any_m), ("all", &any_m)], "m");
        assert_eq!((methods, groups), (vec![Get, Put, Delete], vec!["all"]));
        assert_eq!(model_access(Role::Regular, [("x", &other)], "m"), (vec![], vec![]));
        assert_eq!(model_access(Role::Admin, held, "m"), (vec![Get, Put, Delete], vec![]), "an ADMIN's role, no group");
    }
}

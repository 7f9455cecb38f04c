//! The vocabulary shared by every layer: roles, permissions, and input validation.

pub mod rfc3339;
pub mod validate;

use async_graphql::{Enum, SimpleObject};

/// This machine's clock in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Access level. ADMIN may do everything; REGULAR is governed by group permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Enum)]
pub enum Role {
    Admin,
    Regular,
}

/// Kinds of resource a permission can guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Enum)]
pub enum ResourceType {
    Model,
    User,
    Group,
    Catalog,
    CustomList,
}

/// Action a permission allows. ANY matches every action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Enum)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
    Any,
}

/// One thing a group allows: a method on one resource, or on all of a type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, SimpleObject)]
pub struct Permission {
    pub resource_type: ResourceType,
    /// null means every resource of this type.
    pub resource_id: Option<String>,
    pub method: Method,
}

impl Permission {
    pub fn new(resource_type: ResourceType, resource_id: Option<&str>, method: Method) -> Self {
        Permission { resource_type, resource_id: resource_id.map(str::to_owned), method }
    }
}

/// How the enums are spelled in the database: as in the GraphQL schema.
macro_rules! db_names {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $name),+ }
            }

            pub fn parse(name: &str) -> Option<Self> {
                match name { $($name => Some($ty::$variant),)+ _ => None }
            }
        }

        /// Ordered by name, as the client sees them (RULES §7).
        impl Ord for $ty {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                self.as_str().cmp(other.as_str())
            }
        }

        impl PartialOrd for $ty {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }
    };
}

db_names!(Role { Admin => "ADMIN", Regular => "REGULAR" });
db_names!(ResourceType {
    Model => "MODEL",
    User => "USER",
    Group => "GROUP",
    Catalog => "CATALOG",
    CustomList => "CUSTOM_LIST",
});
db_names!(Method { Get => "GET", Post => "POST", Put => "PUT", Delete => "DELETE", Any => "ANY" });

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_round_trip() {
        for t in [
            ResourceType::Model,
            ResourceType::User,
            ResourceType::Group,
            ResourceType::Catalog,
            ResourceType::CustomList,
        ] {
            assert_eq!(ResourceType::parse(t.as_str()), Some(t));
        }
        for m in [Method::Get, Method::Post, Method::Put, Method::Delete, Method::Any] {
            assert_eq!(Method::parse(m.as_str()), Some(m));
        }
        assert_eq!(Role::parse("ADMIN"), Some(Role::Admin));
        assert_eq!(Role::parse("admin"), None);
    }

    #[test]
    fn permissions_sort_by_type_name_then_id_then_method_name() {
        let mut permissions = [
            Permission::new(ResourceType::User, Some("a"), Method::Get),
            Permission::new(ResourceType::User, None, Method::Put),
            Permission::new(ResourceType::Catalog, Some("z"), Method::Any),
            Permission::new(ResourceType::User, Some("a"), Method::Delete),
        ];
        permissions.sort();
        let order: Vec<_> = permissions
            .iter()
            .map(|p| (p.resource_type.as_str(), p.resource_id.as_deref(), p.method.as_str()))
            .collect();
        assert_eq!(
            order,
            [
                ("CATALOG", Some("z"), "ANY"),
                ("USER", None, "PUT"),
                ("USER", Some("a"), "DELETE"),
                ("USER", Some("a"), "GET")
            ]
        );
    }
}

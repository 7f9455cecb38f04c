//! GraphQL's null propagation ("Handling Field Errors"), which async-graphql 7 does
//! not do: it leaves a failed field out of its parent object (its issues #1272 and
//! #1532; PR #1820 is still open), and answers `data: null` when every root field
//! failed. Here a failed field becomes null when its type is nullable; otherwise its
//! parent does, and so on up to `data`. Paths hold response keys (aliases), so each
//! key is found in the operation's selections, through fragments, to learn its
//! field and that field's type. Runs only for responses with errors at a path.

use std::collections::HashMap;
use std::sync::LazyLock;

use async_graphql::parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, FragmentDefinition, OperationDefinition, OperationType,
    Selection, SelectionSet, Type, TypeKind, TypeSystemDefinition,
};
use async_graphql::{Name, PathSegment, Positioned, Value};

/// Each object type's fields with their types, read once from our own SDL.
type FieldTypes = HashMap<String, HashMap<String, Type>>;

static FIELD_TYPES: LazyLock<FieldTypes> = LazyLock::new(|| field_types(&crate::schema_sdl()));

fn field_types(sdl: &str) -> FieldTypes {
    let document = async_graphql::parser::parse_schema(sdl).expect("our own SDL parses");
    let mut types = HashMap::new();
    for definition in document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else { continue };
        let TypeKind::Object(object) = &ty.node.kind else { continue };
        let fields = object.fields.iter().map(|f| (f.node.name.node.to_string(), f.node.ty.node.clone())).collect();
        types.insert(ty.node.name.node.to_string(), fields);
    }
    types
}

/// Nulls what the errors of `response` make null. `document` and `operation_name`
/// are the request's.
pub fn propagate(response: &mut async_graphql::Response, document: &ExecutableDocument, operation_name: Option<&str>) {
    let operation = match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => operation,
        (DocumentOperations::Multiple(operations), Some(name)) => match operations.get(name) {
            Some(operation) => operation,
            None => return,
        },
        (DocumentOperations::Multiple(operations), None) => match operations.values().next() {
            Some(operation) if operations.len() == 1 => operation,
            _ => return,
        },
    };
    if operation.node.ty == OperationType::Subscription {
        return;
    }
    let paths: Vec<Vec<PathSegment>> =
        response.errors.iter().map(|e| e.path.clone()).filter(|p| !p.is_empty()).collect();
    if paths.is_empty() {
        return;
    }
    if response.data == Value::Null {
        response.data = Value::Object(Default::default());
    }
    for path in paths {
        match nullable_prefix(&operation.node, &document.fragments, &path) {
            Some(prefix) => set_null(&mut response.data, &path[..prefix]),
            None => {
                response.data = Value::Null;
                return;
            }
        }
    }
}

/// The length of the longest prefix of `path` (in an answer to `operation`) whose
/// last element is nullable: what an error at `path` makes null. `None`: `data`.
pub fn nullable_prefix(operation: &OperationDefinition, fragments: &Fragments, path: &[PathSegment]) -> Option<usize> {
    let root = match operation.ty {
        OperationType::Query => "Query",
        OperationType::Mutation => "Mutation",
        OperationType::Subscription => return None,
    };
    Query { types: &FIELD_TYPES, fragments }.nullable_prefix(root, &operation.selection_set.node, path)
}

type Fragments = HashMap<Name, Positioned<FragmentDefinition>>;

struct Query<'a> {
    types: &'a FieldTypes,
    fragments: &'a Fragments,
}

impl Query<'_> {
    /// The length of the longest prefix of `path` whose last element is nullable:
    /// what becomes null. `None`: nothing up to the root is, so `data` is null. A key
    /// that cannot be followed (an introspection field) makes that element null.
    fn nullable_prefix(&self, root: &str, selection: &SelectionSet, path: &[PathSegment]) -> Option<usize> {
        // The type of each element of the path, from the root down.
        let mut element_types: Vec<Option<Type>> = Vec::with_capacity(path.len());
        let mut parent = root.to_owned();
        let mut sets = vec![selection];
        let mut current: Option<Type> = None;
        for segment in path {
            let ty = match segment {
                PathSegment::Field(key) => {
                    let (name, next_sets) = self.field_by_key(&sets, key);
                    sets = next_sets;
                    name.and_then(|name| self.types.get(&parent)?.get(name.as_str()).cloned())
                }
                PathSegment::Index(_) => match current.as_ref().map(|t| &t.base) {
                    Some(BaseType::List(item)) => Some((**item).clone()),
                    _ => None,
                },
            };
            if let Some(BaseType::Named(name)) = ty.as_ref().map(innermost) {
                parent = name.to_string();
            }
            current = ty.clone();
            element_types.push(ty);
        }
        (0..path.len()).rev().find(|&i| element_types[i].as_ref().is_none_or(|t| t.nullable)).map(|i| i + 1)
    }

    /// The field answered under `key` in `sets` (through fragments), and the
    /// selection sets of every field answered under it.
    fn field_by_key<'s>(&'s self, sets: &[&'s SelectionSet], key: &str) -> (Option<Name>, Vec<&'s SelectionSet>) {
        let mut name = None;
        let mut below = Vec::new();
        for set in sets {
            self.collect(set, key, &mut name, &mut below, 0);
        }
        (name, below)
    }

    fn collect<'s>(
        &'s self,
        set: &'s SelectionSet,
        key: &str,
        name: &mut Option<Name>,
        below: &mut Vec<&'s SelectionSet>,
        depth: usize,
    ) {
        // Fragments cannot nest without end in a valid document; this bounds an invalid one.
        if depth > 64 {
            return;
        }
        for item in &set.items {
            match &item.node {
                Selection::Field(field) if field.node.response_key().node == key => {
                    name.get_or_insert_with(|| field.node.name.node.clone());
                    below.push(&field.node.selection_set.node);
                }
                Selection::Field(_) => {}
                Selection::InlineFragment(fragment) => {
                    self.collect(&fragment.node.selection_set.node, key, name, below, depth + 1)
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = self.fragments.get(&spread.node.fragment_name.node) {
                        self.collect(&fragment.node.selection_set.node, key, name, below, depth + 1);
                    }
                }
            }
        }
    }
}

fn innermost(ty: &Type) -> &BaseType {
    match &ty.base {
        BaseType::List(item) => innermost(item),
        named => named,
    }
}

/// Sets the element at `path` to null, where its parent still stands.
pub fn set_null(data: &mut Value, path: &[PathSegment]) {
    let Some((last, parents)) = path.split_last() else { return };
    let Some(parent) = descend(data, parents) else { return };
    match (parent, last) {
        (Value::Object(map), PathSegment::Field(key)) => {
            map.insert(Name::new(key), Value::Null);
        }
        (Value::List(items), PathSegment::Index(i)) => {
            if let Some(item) = items.get_mut(*i) {
                *item = Value::Null;
            }
        }
        _ => {}
    }
}

fn descend<'a>(node: &'a mut Value, path: &[PathSegment]) -> Option<&'a mut Value> {
    let Some((first, rest)) = path.split_first() else { return Some(node) };
    let child = match (node, first) {
        (Value::Object(map), PathSegment::Field(name)) => map.get_mut(name.as_str())?,
        (Value::List(items), PathSegment::Index(i)) => items.get_mut(*i)?,
        _ => return None,
    };
    descend(child, rest)
}

#[cfg(test)]
mod tests {
    use async_graphql::{Response, ServerError, value};

    use super::*;

    /// The response async-graphql gives (failed fields left out), with errors at `paths`,
    /// after propagation.
    fn propagated(query: &str, data: Value, paths: &[&[PathSegment]]) -> Value {
        let document = async_graphql::parser::parse_query(query).unwrap();
        let mut response = Response::new(data);
        for path in paths {
            let mut error = ServerError::new("failed", None);
            error.path = path.to_vec();
            response.errors.push(error);
        }
        propagate(&mut response, &document, None);
        response.data
    }

    fn key(name: &str) -> PathSegment {
        PathSegment::Field(name.to_owned())
    }

    #[test]
    fn an_aliased_nullable_root_field_becomes_null_and_the_rest_stands() {
        let data = value!({ "a": { "username": "admin" } });
        let out = propagated("{ a: me { username } b: user(username: \"x\") { username } }", data, &[&[key("b")]]);
        assert_eq!(out, value!({ "a": { "username": "admin" }, "b": null }));
    }

    #[test]
    fn a_failed_non_null_root_field_nulls_data_whatever_its_alias() {
        let data = value!({ "b": null });
        let out = propagated("{ a: me { username } b: user(username: \"x\") { username } }", data, &[&[key("a")]]);
        assert_eq!(out, Value::Null);
    }

    #[test]
    fn a_field_of_a_fragment_is_found_by_its_key() {
        let query = "query { ...F me { username } } fragment F on Query { x: user(username: \"x\") { username } }";
        let out = propagated(query, value!({ "me": { "username": "admin" } }), &[&[key("x")]]);
        assert_eq!(out, value!({ "me": { "username": "admin" }, "x": null }));
    }

    #[test]
    fn a_nested_non_null_failure_nulls_its_nearest_nullable_ancestor() {
        // User.groups is non-null: its failure nulls `user`, which is nullable.
        let query = "{ me { username } u: user(username: \"x\") { username groups { name } } }";
        let data = value!({ "me": { "username": "admin" }, "u": { "username": "x" } });
        let out = propagated(query, data, &[&[key("u"), key("groups")]]);
        assert_eq!(out, value!({ "me": { "username": "admin" }, "u": null }));
    }

    #[test]
    fn a_failed_list_item_of_a_non_null_list_nulls_the_nearest_nullable_ancestor() {
        // users: [User!]!, so an item's failure reaches the root: data is null.
        let data = value!({ "users": [{ "username": "a" }, { "username": "b" }] });
        let out = propagated("{ users { username } }", data, &[&[key("users"), PathSegment::Index(1)]]);
        assert_eq!(out, Value::Null);
        // Under a nullable field it stops there.
        let query = "{ u: user(username: \"x\") { groups { name } } }";
        let data = value!({ "u": { "groups": [{ "name": "g" }, {}] } });
        let out = propagated(query, data, &[&[key("u"), key("groups"), PathSegment::Index(1), key("name")]]);
        assert_eq!(out, value!({ "u": null }));
    }
}

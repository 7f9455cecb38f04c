//! Checks of the operation a request runs, with its variables, before it runs:
//! variables that cannot be coerced to their types make a request error (RULES §1;
//! async-graphql reports them later, as field errors, with `data`), and the listing
//! of every user may be selected once (RULES §11), counted after `@skip` and
//! `@include` and through fragments, one per response key.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use async_graphql::parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection, SelectionSet,
    Type, TypeKind, TypeSystemDefinition, VariableDefinition,
};
use async_graphql::{Name, Value, Variables};

/// The operation a request runs: the one named, or the document's only one.
pub fn selected<'a>(document: &'a ExecutableDocument, name: Option<&str>) -> Option<&'a OperationDefinition> {
    match (&document.operations, name) {
        (DocumentOperations::Single(operation), _) => Some(&operation.node),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name).map(|op| &op.node),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next().map(|op| &op.node)
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// A document's one query operation, with its name if it has one: what the plans
/// (`allowed_only`, `users_listing`) answer. None for fragments, several operations,
/// another operation type, or directives on the operation.
pub fn only_query(document: &ExecutableDocument) -> Option<(Option<Name>, &OperationDefinition)> {
    if !document.fragments.is_empty() {
        return None;
    }
    let (name, operation) = match &document.operations {
        DocumentOperations::Single(operation) => (None, &operation.node),
        DocumentOperations::Multiple(operations) if operations.len() == 1 => {
            let (name, operation) = operations.iter().next()?;
            (Some(name.clone()), &operation.node)
        }
        DocumentOperations::Multiple(_) => return None,
    };
    (operation.ty == OperationType::Query && operation.directives.is_empty()).then_some((name, operation))
}

/// Whether a request asking for `asked` runs the operation named `name` (a document's
/// only one): no name asked, or the same one.
pub fn names(asked: Option<&str>, name: Option<&Name>) -> bool {
    match (asked, name) {
        (None, _) => true,
        (Some(asked), Some(name)) => asked == name.as_str(),
        (Some(_), None) => false,
    }
}

/// The input types of our schema, read once from its SDL.
struct InputTypes {
    /// Each input object's fields: type and whether it has a default.
    objects: HashMap<String, Vec<(String, Type, bool)>>,
    enums: HashMap<String, HashSet<String>>,
}

static INPUT_TYPES: LazyLock<InputTypes> = LazyLock::new(|| {
    let document = async_graphql::parser::parse_schema(crate::schema_sdl()).expect("our own SDL parses");
    let mut types = InputTypes { objects: HashMap::new(), enums: HashMap::new() };
    for definition in document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else { continue };
        let name = ty.node.name.node.to_string();
        match &ty.node.kind {
            TypeKind::InputObject(input) => {
                let fields = input
                    .fields
                    .iter()
                    .map(|f| (f.node.name.node.to_string(), f.node.ty.node.clone(), f.node.default_value.is_some()));
                types.objects.insert(name, fields.collect());
            }
            TypeKind::Enum(enumeration) => {
                let values = enumeration.values.iter().map(|v| v.node.value.node.to_string());
                types.enums.insert(name, values.collect());
            }
            _ => {}
        }
    }
    types
});

/// Whether every variable of `operation` can be coerced to its type, from the value
/// given or its default; the first that cannot, said as a message.
pub fn check_variables(operation: &OperationDefinition, variables: &Variables) -> Result<(), String> {
    operation.variable_definitions.iter().try_for_each(|definition| check_variable(&definition.node, variables))
}

/// Whether the variable `definition` declares can be coerced to its type.
pub fn check_variable(definition: &VariableDefinition, variables: &Variables) -> Result<(), String> {
    let name = &definition.name.node;
    let value = variables.get(name).or(definition.default_value.as_ref().map(|d| &d.node));
    coerce(&INPUT_TYPES, &definition.var_type.node, value).map_err(|problem| format!("variable ${name}: {problem}"))
}

fn coerce(types: &InputTypes, ty: &Type, value: Option<&Value>) -> Result<(), String> {
    let value = match value {
        None | Some(Value::Null) if ty.nullable => return Ok(()),
        None => return Err(format!("a value of type {ty} is required")),
        Some(Value::Null) => return Err(format!("null is not a {ty}")),
        Some(value) => value,
    };
    match &ty.base {
        BaseType::List(item) => match value {
            Value::List(items) => items.iter().try_for_each(|v| coerce(types, item, Some(v))),
            // A single value stands for a list of one.
            single => coerce(types, item, Some(single)),
        },
        BaseType::Named(name) => coerce_named(types, name, value),
    }
}

fn coerce_named(types: &InputTypes, name: &Name, value: &Value) -> Result<(), String> {
    let ok = match (name.as_str(), value) {
        ("String", Value::String(_)) | ("Boolean", Value::Boolean(_)) => true,
        ("ID", Value::String(_)) => true,
        ("ID" | "Int", Value::Number(n)) => n.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
        ("Float", Value::Number(_)) => true,
        (name, Value::String(_) | Value::Enum(_)) if types.enums.contains_key(name) => {
            let text = match value {
                Value::Enum(e) => e.as_str(),
                Value::String(text) => text.as_str(),
                _ => "",
            };
            return if types.enums[name].contains(text) {
                Ok(())
            } else {
                Err(format!("{text:?} is not a value of {name}"))
            };
        }
        (name, Value::Object(fields)) if types.objects.contains_key(name) => {
            let declared = &types.objects[name];
            if let Some(unknown) = fields.keys().find(|key| !declared.iter().any(|(field, _, _)| field == key.as_str()))
            {
                return Err(format!("{name} has no field {unknown}"));
            }
            for (field, ty, has_default) in declared {
                let given = fields.get(field.as_str());
                if given.is_none() && *has_default {
                    continue;
                }
                coerce(types, ty, given).map_err(|problem| format!("{name}.{field}: {problem}"))?;
            }
            return Ok(());
        }
        _ => false,
    };
    if ok { Ok(()) } else { Err(format!("{value} is not a {name}")) }
}

/// How many times `operation` selects `field` at its root once `@skip` and
/// `@include` are applied: one per response key (fields answered under one key
/// merge into one).
pub fn root_selections(
    document: &ExecutableDocument,
    operation: &OperationDefinition,
    variables: &Variables,
    field: &str,
) -> usize {
    let mut keys = HashSet::new();
    collect_keys(document, &operation.selection_set.node, operation, variables, field, &mut keys, 0);
    keys.len()
}

fn collect_keys(
    document: &ExecutableDocument,
    set: &SelectionSet,
    operation: &OperationDefinition,
    variables: &Variables,
    field: &str,
    keys: &mut HashSet<Name>,
    depth: usize,
) {
    if depth > 64 {
        return;
    }
    for item in &set.items {
        let (directives, below) = match &item.node {
            Selection::Field(f) => {
                if f.node.name.node == field && included(&f.node.directives, operation, variables) {
                    keys.insert(f.node.response_key().node.clone());
                }
                continue;
            }
            Selection::InlineFragment(fragment) => (&fragment.node.directives, Some(&fragment.node.selection_set.node)),
            Selection::FragmentSpread(spread) => (
                &spread.node.directives,
                document.fragments.get(&spread.node.fragment_name.node).map(|f| &f.node.selection_set.node),
            ),
        };
        if let Some(below) = below.filter(|_| included(directives, operation, variables)) {
            collect_keys(document, below, operation, variables, field, keys, depth + 1);
        }
    }
}

/// Whether `@skip` / `@include` let a selection through.
fn included(
    directives: &[async_graphql::Positioned<async_graphql::parser::types::Directive>],
    operation: &OperationDefinition,
    variables: &Variables,
) -> bool {
    directives.iter().all(|directive| {
        let directive = &directive.node;
        let condition = directive.get_argument("if").map(|value| {
            let value = value.node.clone().into_const_with(|name| {
                let default = operation
                    .variable_definitions
                    .iter()
                    .find(|v| v.node.name.node == name)
                    .and_then(|v| v.node.default_value.as_ref().map(|d| d.node.clone()));
                Ok::<_, std::convert::Infallible>(variables.get(&name).cloned().or(default).unwrap_or(Value::Null))
            });
            matches!(value, Ok(Value::Boolean(true)))
        });
        match (directive.name.node.as_str(), condition) {
            ("skip", Some(skip)) => !skip,
            ("include", Some(include)) => include,
            _ => true,
        }
    })
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    fn variables(json: serde_json::Value) -> Variables {
        Variables::from_json(json)
    }

    fn check(query: &str, vars: serde_json::Value) -> Result<(), String> {
        let document = parse_query(query).unwrap();
        check_variables(selected(&document, None).unwrap(), &variables(vars))
    }

    #[test]
    fn variables_are_coerced_to_their_types() {
        let q = "query($u: String!) { user(username: $u) { username } }";
        assert!(check(q, serde_json::json!({ "u": "a" })).is_ok());
        assert!(check(q, serde_json::json!({})).is_err(), "missing");
        assert!(check(q, serde_json::json!({ "u": null })).is_err(), "null for non-null");
        assert!(check(q, serde_json::json!({ "u": 3 })).is_err(), "wrong type");
        assert!(check("query($u: String = \"d\") { user(username: $u) { username } }", serde_json::json!({})).is_ok());
        let input = "mutation($i: CreateUserInput!) { createUser(input: $i) { username } }";
        assert!(check(input, serde_json::json!({ "i": { "username": "a", "password": "p" } })).is_ok());
        assert!(check(input, serde_json::json!({ "i": { "username": "a" } })).is_err(), "required field");
        assert!(check(input, serde_json::json!({ "i": { "username": "a", "password": "p", "x": 1 } })).is_err());
        assert!(
            check(input, serde_json::json!({ "i": { "username": "a", "password": "p", "role": "ROOT" } })).is_err()
        );
        assert!(
            check(input, serde_json::json!({ "i": { "username": "a", "password": "p", "role": "ADMIN" } })).is_ok()
        );
        // A single value stands for a list of one.
        assert!(check(input, serde_json::json!({ "i": { "username": "a", "password": "p", "groups": "g" } })).is_ok());
        assert!(check(input, serde_json::json!({ "i": { "username": "a", "password": "p", "groups": [1] } })).is_err());
    }

    #[test]
    fn the_listing_of_every_user_is_counted_by_response_key_after_skip_and_include() {
        let count = |query: &str, vars: serde_json::Value| {
            let document = parse_query(query).unwrap();
            root_selections(&document, selected(&document, None).unwrap(), &variables(vars), "users")
        };
        assert_eq!(count("{ users { username } users { role } }", serde_json::json!({})), 1);
        assert_eq!(count("{ a: users { username } b: users { username } }", serde_json::json!({})), 2);
        let fragments = "query { users { username } ...F } fragment F on Query { other: users { role } }";
        assert_eq!(count(fragments, serde_json::json!({})), 2);
        let skipped = "query($s: Boolean!) { a: users { username } b: users @skip(if: $s) { username } }";
        assert_eq!(count(skipped, serde_json::json!({ "s": true })), 1);
        assert_eq!(count(skipped, serde_json::json!({ "s": false })), 2);
        let inline = "query($i: Boolean = false) { a: users { username } ... @include(if: $i) { b: users { role } } }";
        assert_eq!(count(inline, serde_json::json!({})), 1);
        assert_eq!(count(inline, serde_json::json!({ "i": true })), 2);
    }
}

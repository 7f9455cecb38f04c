//! Documents that ask only `allowed` (RULES §10), answered without the executor.
//! Frontends send one on every screen to decide which buttons to show, and through
//! async-graphql its checks are copied four times per request (the cached document,
//! the argument, its constant form, the parsed input) and visited by the validation:
//! several times what answering costs, which is the caller's check against each.
//!
//! A plan is made once a document has passed the full validation through the
//! executor, and only for the shape whose answer cannot differ: one query operation
//! whose only selection is `allowed(checks: …)`, without alias or directive, the
//! checks written in the document or given as the operation's only variable. A
//! request the plan cannot answer with success (no valid caller, a variable that is
//! missing or does not coerce, too many checks) goes through the executor, which
//! answers it with its error.

use std::borrow::Cow;

use async_graphql::parser::types::{ExecutableDocument, Selection, VariableDefinition};
use async_graphql::{InputType, Name, Value, Variables};
use async_graphql_value::Value as Written;

use super::operation;
use crate::domain::Permission;
use crate::graphql::types::PermissionInput;

/// How a document that asks only `allowed` gives its checks.
#[derive(Debug)]
pub enum AllowedOnly {
    /// Written in the document: coerced once, when the plan is made.
    Written { operation: Option<Name>, checks: Vec<Permission> },
    /// The operation's only variable.
    Variable { operation: Option<Name>, variable: VariableDefinition },
}

/// The most checks one `allowed` answers.
pub const MAX_CHECKS: usize = 100;

impl AllowedOnly {
    /// The plan of `document`, which passed GraphQL's validation, if it has the shape.
    pub fn of(document: &ExecutableDocument) -> Option<Self> {
        let (operation, definition) = operation::only_query(document)?;
        let items = &definition.selection_set.node.items;
        if items.len() != 1 {
            return None;
        }
        let Selection::Field(field) = &items[0].node else { return None };
        let field = &field.node;
        let plain = field.alias.is_none() && field.directives.is_empty() && field.selection_set.node.items.is_empty();
        if field.name.node != "allowed" || !plain || field.arguments.len() != 1 || field.arguments[0].0.node != "checks"
        {
            return None;
        }
        let variables = &definition.variable_definitions;
        match &field.arguments[0].1.node {
            Written::Variable(variable) => {
                let only = variables.len() == 1
                    && variables[0].node.name.node == *variable
                    && variables[0].node.default_value.is_none();
                only.then(|| AllowedOnly::Variable { operation, variable: variables[0].node.clone() })
            }
            written if variables.is_empty() => {
                let written = written.clone().into_const()?;
                let checks = coerce(written)?;
                Some(AllowedOnly::Written { operation, checks })
            }
            _ => None,
        }
    }

    /// The operation's name, if it has one.
    pub fn operation(&self) -> Option<&str> {
        match self {
            AllowedOnly::Written { operation, .. } | AllowedOnly::Variable { operation, .. } => {
                operation.as_ref().map(Name::as_str)
            }
        }
    }

    /// The checks a request asks, if this plan answers it: its operation name is the
    /// plan's (or none), and its variable coerces.
    pub fn checks(&self, operation_name: Option<&str>, variables: &Variables) -> Option<Cow<'_, [Permission]>> {
        let (AllowedOnly::Written { operation, .. } | AllowedOnly::Variable { operation, .. }) = self;
        if !operation::names(operation_name, operation.as_ref()) {
            return None;
        }
        match self {
            AllowedOnly::Written { checks, .. } => Some(Cow::Borrowed(checks.as_slice())),
            AllowedOnly::Variable { variable, .. } => {
                // Checked as the executor's way checks it (RULES §1), which refuses more
                // than async-graphql's coercion does (an unknown field).
                operation::check_variable(variable, variables).ok()?;
                Some(Cow::Owned(coerce(variables.get(&variable.name.node)?.clone())?))
            }
        }
    }
}

/// `value` as `[PermissionInput!]!`, coerced as async-graphql coerces it (a single
/// object is a list of one), if it coerces and holds at most [`MAX_CHECKS`].
fn coerce(value: Value) -> Option<Vec<Permission>> {
    if value == Value::Null {
        return None;
    }
    let checks = <Vec<PermissionInput> as InputType>::parse(Some(value)).ok()?;
    (checks.len() <= MAX_CHECKS).then(|| checks.into_iter().map(Permission::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Method, ResourceType};

    fn plan(text: &str) -> Option<AllowedOnly> {
        AllowedOnly::of(&async_graphql::parser::parse_query(text).expect("parses"))
    }

    #[test]
    fn written_checks_are_coerced_once_with_their_defaults() {
        let plan = plan(r#"{ allowed(checks: [{resourceType: MODEL, resourceId: "m"}, {resourceType: USER}]) }"#);
        let expected = vec![
            Permission::new(ResourceType::Model, Some("m"), Method::Any),
            Permission::new(ResourceType::User, None, Method::Any),
        ];
        match plan {
            Some(AllowedOnly::Written { operation: None, checks }) => assert_eq!(checks, expected),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn only_the_plain_shape_has_a_plan() {
        for text in [
            r#"{ a: allowed(checks: []) }"#,
            r#"{ allowed(checks: []) @include(if: true) }"#,
            r#"{ allowed(checks: []) me { username } }"#,
            r#"{ allowed(checks: []) __typename }"#,
            r#"query Q @deprecated { allowed(checks: []) }"#,
            r#"{ ...F } fragment F on Query { allowed(checks: []) }"#,
            r#"query A { allowed(checks: []) } query B { allowed(checks: []) }"#,
            r#"query($c: [PermissionInput!]! = []) { allowed(checks: $c) }"#,
            r#"query($c: [PermissionInput!]!, $d: Int) { allowed(checks: $c) }"#,
            r#"{ allowed(checks: [{resourceType: MODEL, method: NOPE}]) }"#,
        ] {
            assert!(plan(text).is_none(), "{text}");
        }
        let too_many = format!("{{ allowed(checks: [{}]) }}", vec!["{resourceType: MODEL}"; MAX_CHECKS + 1].join(","));
        assert!(plan(&too_many).is_none());
    }

    #[test]
    fn a_variable_is_coerced_per_request_and_a_wrong_one_is_left_to_the_executor() {
        let plan = plan("query Buttons($c: [PermissionInput!]!) { allowed(checks: $c) }").expect("a plan");
        let variables = |json: serde_json::Value| Variables::from_json(json);
        let one = serde_json::json!({"c": {"resourceType": "GROUP", "method": "GET"}});
        let checks = plan.checks(None, &variables(one.clone())).expect("a single object is a list of one");
        assert_eq!(checks.as_ref(), [Permission::new(ResourceType::Group, None, Method::Get)]);
        assert!(plan.checks(Some("Buttons"), &variables(one.clone())).is_some());
        assert!(plan.checks(Some("Other"), &variables(one)).is_none());
        for wrong in [
            serde_json::json!({}),
            serde_json::json!({"c": null}),
            serde_json::json!({"c": [{"resourceType": "NOPE"}]}),
            serde_json::json!({"c": [{"resourceType": "MODEL", "extra": 1}]}),
        ] {
            assert!(plan.checks(None, &variables(wrong.clone())).is_none(), "{wrong}");
        }
    }
}

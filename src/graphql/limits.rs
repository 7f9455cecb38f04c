//! Checks on a request before anything runs: caps on aliases and root fields, at
//! most one `login` per document, and no control character in any string input
//! (RULES §5), whether written inline, sent as a variable or given as a variable's
//! default value. A refused request
//! executes nothing. (A check before execution rather than a schema extension: an
//! extension would put every field of every response through its hooks.)

use std::collections::HashSet;
use std::sync::Arc;

use async_graphql::parser::types::{ExecutableDocument, Field, OperationType, Selection, SelectionSet};
use async_graphql::{Name, Request, ServerError, ServerResult, Value};

use super::allowed_only::AllowedOnly;
use super::operation;
use super::users_listing::UsersListing;
use crate::error::AppError;

/// The caps; each has a flag.
#[derive(Debug, Clone, Copy)]
pub struct DocumentLimits {
    /// Aliased fields in one document: aliases are how one request asks many times.
    pub max_aliases: usize,
    /// Root fields of one operation, fragments included.
    pub max_root_fields: usize,
}

impl DocumentLimits {
    /// Checks the request; its document only when `parsed` has not seen it pass
    /// before (then remembers it). A document that does not parse passes here: the
    /// execution reports it. Says whether the document also passed GraphQL's
    /// validation before ([`ParsedDocuments::mark_validated`]), or, with `plans`, gives
    /// the plan of a validated document that has one (then the request holds no
    /// parsed document).
    pub fn check(&self, request: &mut Request, parsed: &ParsedDocuments, plans: bool) -> ServerResult<Checked> {
        if request.variables.iter().any(|(_, value)| has_control_char(value)) {
            return Err(refuse("variables must not contain control characters"));
        }
        let validated = match parsed.prepare(request, plans) {
            Some(Prepared::Plan(plan)) => return Ok(Checked::Plan(plan)),
            Some(Prepared::Document { validated }) => validated,
            None => {
                match request.parsed_query() {
                    Ok(document) => self.check_document(document)?,
                    Err(_) => return Ok(Checked::Run { validated: false }),
                }
                parsed.remember(request);
                false
            }
        };
        // What depends on the variables: checked on every request.
        let Request { variables, operation_name, .. } = &*request;
        let (variables, name) = (variables.clone(), operation_name.clone());
        let run = Checked::Run { validated };
        let Ok(document) = request.parsed_query() else { return Ok(run) };
        let Some(operation) = operation::selected(document, name.as_deref()) else { return Ok(run) };
        operation::check_variables(operation, &variables).map_err(refuse)?;
        if operation::root_selections(document, operation, &variables, "users") > 1 {
            return Err(refuse("an operation may list every user (users) at most once"));
        }
        Ok(run)
    }

    fn check_document(&self, document: &ExecutableDocument) -> ServerResult<()> {
        let fragment_sets = document.fragments.values().map(|f| &f.node.selection_set.node);
        let all_sets: Vec<&SelectionSet> =
            document.operations.iter().map(|(_, op)| &op.node.selection_set.node).chain(fragment_sets).collect();
        let mut aliases = 0;
        for set in &all_sets {
            let mut control_chars = false;
            walk_fields(set, &mut |field| {
                aliases += usize::from(field.alias.is_some());
                control_chars |= field.arguments.iter().any(|(_, value)| {
                    // Variables are checked on their own; here they stand for nothing.
                    let inline = value.node.clone().into_const_with(|_| Ok::<_, std::convert::Infallible>(Value::Null));
                    inline.is_ok_and(|inline| has_control_char(&inline))
                });
            });
            if control_chars {
                return Err(refuse("arguments must not contain control characters"));
            }
        }
        if aliases > self.max_aliases {
            return Err(refuse(format!("at most {} aliases per document", self.max_aliases)));
        }
        for (_, operation) in document.operations.iter() {
            let defaults = operation.node.variable_definitions.iter().filter_map(|v| v.node.default_value.as_ref());
            if defaults.into_iter().any(|default| has_control_char(&default.node)) {
                return Err(refuse("variable default values must not contain control characters"));
            }
            let mut root_fields = Vec::new();
            root_fields_of(document, &operation.node.selection_set.node, &mut HashSet::new(), &mut root_fields);
            if root_fields.len() > self.max_root_fields {
                return Err(refuse(format!("at most {} root fields per operation", self.max_root_fields)));
            }
            let logins = root_fields.iter().filter(|name| name.as_str() == "login").count();
            if operation.node.ty == OperationType::Mutation && logins > 1 {
                return Err(refuse("at most one login per document"));
            }
        }
        Ok(())
    }
}

/// Documents already parsed and checked, by their text: clients send the same few
/// queries over and over, and parsing is a good part of what a small query costs.
/// Bounded in entries (evicting the least used, S3-FIFO, which a stream of one-off
/// documents does not flush) and in the size of the texts kept.
pub struct ParsedDocuments(quick_cache::sync::Cache<String, Arc<ParsedDocument>>);

/// A document that passed the checks, and whether it also passed GraphQL's validation.
struct ParsedDocument {
    document: ExecutableDocument,
    validated: bool,
    /// Once validated, if it has the shape of one.
    plan: Option<Plan>,
}

/// How a validated document of a known shape is answered without the executor.
#[derive(Clone)]
pub enum Plan {
    /// It asks only `allowed`.
    AllowedOnly(Arc<AllowedOnly>),
    /// It lists every user with plain fields.
    UsersListing(Arc<UsersListing>),
}

impl Plan {
    fn of(document: &ExecutableDocument) -> Option<Plan> {
        if let Some(plan) = AllowedOnly::of(document) {
            return Some(Plan::AllowedOnly(Arc::new(plan)));
        }
        UsersListing::of(document).map(|plan| Plan::UsersListing(Arc::new(plan)))
    }
}

/// What the checks found a request to be.
pub enum Checked {
    /// For the executor; its document passed GraphQL's validation before, or not.
    Run { validated: bool },
    /// A validated document with a plan.
    Plan(Plan),
}

enum Prepared {
    Document { validated: bool },
    Plan(Plan),
}

impl ParsedDocuments {
    const MAX_TEXT_BYTES: usize = 8 * 1024;

    pub fn new(capacity: usize) -> Self {
        ParsedDocuments(quick_cache::sync::Cache::new(capacity.max(1)))
    }

    /// Gives the request its parsed document if its text was seen and passed the
    /// checks before; then says whether it passed GraphQL's validation too. With
    /// `plans`, a document's plan instead, if it has one.
    fn prepare(&self, request: &mut Request, plans: bool) -> Option<Prepared> {
        let entry = self.0.get(request.query.as_str())?;
        if plans && let Some(plan) = &entry.plan {
            return Some(Prepared::Plan(plan.clone()));
        }
        request.set_parsed_query(entry.document.clone());
        Some(Prepared::Document { validated: entry.validated })
    }

    /// Keeps the request's parsed document, which passed the checks.
    fn remember(&self, request: &mut Request) {
        if request.query.len() > Self::MAX_TEXT_BYTES {
            return;
        }
        if let Ok(document) = request.parsed_query() {
            let entry = ParsedDocument { document: document.clone(), validated: false, plan: None };
            self.0.insert(request.query.clone(), Arc::new(entry));
        }
    }

    /// Notes that the document `text` passed GraphQL's validation. Its rules look at
    /// the document alone (variables are coerced when it runs), so it need not pass
    /// them again. Its plan is made then.
    pub fn mark_validated(&self, text: &str) {
        if let Some(entry) = self.0.get(text).filter(|entry| !entry.validated) {
            let validated =
                ParsedDocument { document: entry.document.clone(), validated: true, plan: Plan::of(&entry.document) };
            self.0.insert(text.to_owned(), Arc::new(validated));
        }
    }
}

/// Every field written in `set` and below it, fragments' own sets excepted.
fn walk_fields(set: &SelectionSet, visit: &mut impl FnMut(&Field)) {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => {
                visit(&field.node);
                walk_fields(&field.node.selection_set.node, visit);
            }
            Selection::InlineFragment(fragment) => walk_fields(&fragment.node.selection_set.node, visit),
            Selection::FragmentSpread(_) => {}
        }
    }
}

/// The names of the root fields `set` selects, through fragments, each fragment once.
fn root_fields_of(document: &ExecutableDocument, set: &SelectionSet, seen: &mut HashSet<Name>, out: &mut Vec<Name>) {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => out.push(field.node.name.node.clone()),
            Selection::InlineFragment(fragment) => {
                root_fields_of(document, &fragment.node.selection_set.node, seen, out)
            }
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                if seen.insert(name.clone())
                    && let Some(fragment) = document.fragments.get(name)
                {
                    root_fields_of(document, &fragment.node.selection_set.node, seen, out);
                }
            }
        }
    }
}

fn has_control_char(value: &Value) -> bool {
    match value {
        Value::String(s) => s.chars().any(char::is_control),
        Value::List(items) => items.iter().any(has_control_char),
        Value::Object(map) => map.values().any(has_control_char),
        _ => false,
    }
}

/// A BAD_USER_INPUT error for the whole request.
fn refuse(message: impl Into<String>) -> ServerError {
    let error = AppError::bad_input(message);
    let mut server_error = ServerError::new(error.to_string(), None);
    server_error.source = Some(Arc::new(error));
    server_error
}

//! Answers at the size of their JSON (RULES §11). async-graphql builds an answer as a
//! tree of `Value`s, ~30× the bytes it serializes to (a one-field object is a hash
//! map), and resolves a list by polling a future per item at once. A [`Listing`]
//! instead resolves its items a chunk at a time and writes each chunk to JSON as soon
//! as it is resolved: the tree holds a placeholder, and [`AnswerParts::render`] puts
//! the bytes in its place. The bytes written count against `--max-response-bytes`, so
//! an answer past it stops being built (RESPONSE_TOO_LARGE) one chunk past the bound.

use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::Field;
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::resolve_list;
use async_graphql::{ContextSelectionSet, OutputType, PathSegment, Positioned, ServerError, ServerResult, Value};

use super::nulls;
use crate::error::AppError;

/// Items resolved at once: enough for the loaders to batch them, few enough that
/// their futures and values stay small.
const CHUNK: usize = 256;

/// A list field's value, resolved by chunks (see the module). Inside another list it
/// is resolved like a `Vec`: its bytes are part of the outer list's chunk.
pub struct Listing<T>(pub Vec<T>);

impl<T> From<Vec<T>> for Listing<T> {
    fn from(items: Vec<T>) -> Self {
        Listing(items)
    }
}

impl<T: OutputType> OutputType for Listing<T> {
    fn type_name() -> Cow<'static, str> {
        Vec::<T>::type_name()
    }

    fn qualified_type_name() -> String {
        Vec::<T>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        Vec::<T>::create_type_info(registry)
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> ServerResult<Value> {
        let parts = match ctx.data_opt::<Arc<AnswerParts>>() {
            Some(parts) if !inside_list(ctx) => parts,
            _ => return resolve_list(ctx, field, &self.0, Some(self.0.len())).await,
        };
        // The path an error at this list carries: its items' errors extend it.
        let path = ctx.set_error_path(ServerError::new("", None)).path;
        let mut written: Vec<Vec<u8>> = Vec::with_capacity(self.0.len().div_ceil(CHUNK) + 1);
        for (n, chunk) in self.0.chunks(CHUNK).enumerate() {
            let start = n * CHUNK;
            let futures = chunk.iter().enumerate().map(|(i, item)| {
                let ctx = ctx.clone();
                async move {
                    let ctx_item = ctx.with_index(start + i);
                    item.resolve(&ctx_item, field).await.map_err(|e| ctx_item.set_error_path(e))
                }
            });
            let mut values = futures_util::future::try_join_all(futures).await?;
            if !nulls_within(ctx, &path, start, &mut values) {
                // The null reaches this list or above it: null propagation, once the
                // answer is complete, nulls what holds it.
                return Ok(Value::Null);
            }
            let mut bytes = Vec::with_capacity(values.len() * 64);
            bytes.push(if n == 0 { b'[' } else { b',' });
            for (i, value) in values.iter().enumerate() {
                if i > 0 {
                    bytes.push(b',');
                }
                serde_json::to_writer(&mut bytes, value).map_err(|e| ServerError::new(e.to_string(), None))?;
            }
            drop(values);
            parts.count(bytes.len()).map_err(|e| too_large(ctx, field, e))?;
            written.push(bytes);
        }
        written.push(if self.0.is_empty() { b"[]".to_vec() } else { b"]".to_vec() });
        parts.count(written.last().map_or(0, Vec::len)).map_err(|e| too_large(ctx, field, e))?;
        Ok(parts.placeholder(written))
    }
}

fn too_large(ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>, error: AppError) -> ServerError {
    ctx.set_error_path(async_graphql::Error::from(error).into_server_error(field.pos))
}

/// Whether this list is an item (or within an item) of another list.
fn inside_list(ctx: &ContextSelectionSet<'_>) -> bool {
    let mut node = ctx.path_node.as_ref();
    while let Some(current) = node {
        if matches!(current.segment, async_graphql::QueryPathSegment::Index(_)) {
            return true;
        }
        node = current.parent;
    }
    false
}

/// Applies null propagation to a chunk of resolved items (from index `start` of the
/// list at `path`) for the errors raised within them, before they are written out.
/// False when an error's null reaches the list itself or above it.
fn nulls_within(ctx: &ContextSelectionSet<'_>, path: &[PathSegment], start: usize, values: &mut [Value]) -> bool {
    let errors = ctx.query_env.errors.lock().unwrap_or_else(|p| p.into_inner());
    for error in errors.iter() {
        let Some(rest) = error.path.strip_prefix(path) else { continue };
        let Some((PathSegment::Index(index), _)) = rest.split_first() else { continue };
        let Some(item) = index.checked_sub(start).and_then(|i| values.get_mut(i)) else { continue };
        match nulls::nullable_prefix(&ctx.query_env.operation.node, &ctx.query_env.fragments, &error.path) {
            Some(prefix) if prefix > path.len() => {
                let below_item = &error.path[path.len() + 1..prefix];
                match below_item {
                    [] => *item = Value::Null,
                    _ => nulls::set_null(item, below_item),
                }
            }
            _ => return false,
        }
    }
    true
}

/// The written lists of one request's answer and the bytes they hold.
pub struct AnswerParts {
    /// Marks this request's placeholders: a NUL (no stored text holds one, RULES §5)
    /// and a random tag, so that no input can forge one.
    tag: String,
    lists: Mutex<Vec<Vec<Vec<u8>>>>,
    bytes: AtomicUsize,
    max_bytes: usize,
}

impl AnswerParts {
    pub fn new(max_bytes: usize) -> Self {
        AnswerParts {
            tag: format!("\u{0}answer-{:016x}-", rand::random::<u64>()),
            lists: Mutex::new(Vec::new()),
            bytes: AtomicUsize::new(0),
            max_bytes,
        }
    }

    /// Counts `bytes` more of the answer; past the bound, RESPONSE_TOO_LARGE.
    fn count(&self, bytes: usize) -> Result<(), AppError> {
        let total = self.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if total > self.max_bytes {
            return Err(AppError::ResponseTooLarge { max_bytes: self.max_bytes });
        }
        Ok(())
    }

    /// Keeps a written list; the value stands for it in the tree.
    fn placeholder(&self, written: Vec<Vec<u8>>) -> Value {
        let mut lists = self.lists.lock().unwrap_or_else(|p| p.into_inner());
        lists.push(written);
        Value::String(format!("{}{}", self.tag, lists.len() - 1))
    }

    /// Bytes of the written lists so far.
    pub fn written_bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }

    /// The response as JSON with its written lists in place, or RESPONSE_TOO_LARGE.
    pub fn render(&self, response: &async_graphql::Response) -> Result<Vec<u8>, AppError> {
        let too_large = || AppError::ResponseTooLarge { max_bytes: self.max_bytes };
        let outline = serde_json::to_vec(response).map_err(AppError::internal)?;
        let mut lists = std::mem::take(&mut *self.lists.lock().unwrap_or_else(|p| p.into_inner()));
        if lists.is_empty() {
            return if outline.len() > self.max_bytes { Err(too_large()) } else { Ok(outline) };
        }
        // How the placeholders read in JSON: "\u0000answer-…-N".
        let marker = format!("\"{}", serde_json::to_string(&self.tag).map_err(AppError::internal)?.trim_matches('"'));
        let mut pieces = Vec::new();
        let mut rest = outline.as_slice();
        let mut total = 0;
        while let Some(at) = find(rest, marker.as_bytes()) {
            let after = &rest[at + marker.len()..];
            let digits = after.iter().take_while(|b| b.is_ascii_digit()).count();
            let index: usize =
                std::str::from_utf8(&after[..digits]).ok().and_then(|d| d.parse().ok()).unwrap_or(usize::MAX);
            let Some(list) = lists.get_mut(index).map(std::mem::take) else { break };
            pieces.push(Piece::Outline(&rest[..at]));
            total += at + list.iter().map(Vec::len).sum::<usize>();
            pieces.push(Piece::List(list));
            // Past the digits and the closing quote.
            rest = &after[(digits + 1).min(after.len())..];
        }
        total += rest.len();
        if total > self.max_bytes {
            return Err(too_large());
        }
        let mut body = Vec::with_capacity(total);
        for piece in pieces {
            match piece {
                Piece::Outline(bytes) => body.extend_from_slice(bytes),
                // Each chunk is freed once copied.
                Piece::List(chunks) => chunks.into_iter().for_each(|chunk| body.extend_from_slice(&chunk)),
            }
        }
        body.extend_from_slice(rest);
        Ok(body)
    }
}

enum Piece<'a> {
    Outline(&'a [u8]),
    List(Vec<Vec<u8>>),
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use async_graphql::{Name, Response, value};

    use super::*;

    #[test]
    fn written_lists_take_the_place_of_their_placeholders() {
        let parts = AnswerParts::new(1 << 20);
        let a = parts.placeholder(vec![b"[1,".to_vec(), b"2]".to_vec()]);
        let b = parts.placeholder(vec![b"[]".to_vec()]);
        let mut map = async_graphql::indexmap::IndexMap::new();
        map.insert(Name::new("a"), a);
        map.insert(Name::new("b"), value!({ "c": b, "d": "\u{0}x" }));
        let body = parts.render(&Response::new(Value::Object(map))).unwrap();
        assert_eq!(String::from_utf8(body).unwrap(), r#"{"data":{"a":[1,2],"b":{"c":[],"d":"\u0000x"}}}"#);
    }

    #[test]
    fn a_placeholder_nulled_away_leaves_nothing_behind() {
        let parts = AnswerParts::new(1 << 20);
        let _ = parts.placeholder(vec![b"[1]".to_vec()]);
        let body = parts.render(&Response::new(value!({ "a": null }))).unwrap();
        assert_eq!(body, br#"{"data":{"a":null}}"#);
    }

    #[test]
    fn an_answer_past_the_bound_is_refused() {
        let parts = AnswerParts::new(10);
        assert!(parts.count(8).is_ok());
        assert!(matches!(parts.count(3), Err(AppError::ResponseTooLarge { max_bytes: 10 })));
        let small = AnswerParts::new(10);
        let list = small.placeholder(vec![b"[1,2,3,4]".to_vec()]);
        assert!(small.render(&Response::new(value!({ "a": list }))).is_err());
    }
}

//! Automatic persisted queries (Apollo's protocol, RULES §1). A request may carry
//! `extensions.persistedQuery {version: 1, sha256Hash}`: with the query, the hash is
//! checked and the query kept; without it, the kept query stands in. The query is
//! resolved before anything else, so a stored query passes every check the same
//! query sent in full would, on every use. The store is per process and bounded in
//! bytes; past the bound it forgets the least recently used.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

/// Queries longer than this run but are not kept.
pub const MAX_KEPT_QUERY_BYTES: usize = 8 * 1024;

/// Why a request's query could not be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A hash the store does not hold, and no query: the client resends it in full.
    NotFound,
    /// Not a valid request (BAD_USER_INPUT): the reason.
    Invalid(&'static str),
}

/// The kept queries of this process.
pub struct PersistedQueries {
    max_bytes: usize,
    kept: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    /// By hash: the query and when it was last used.
    queries: HashMap<String, (String, u64)>,
    bytes: usize,
    clock: u64,
}

impl PersistedQueries {
    pub fn new(max_bytes: usize) -> Self {
        PersistedQueries { max_bytes, kept: Mutex::default() }
    }

    /// The query a request runs: its own, checked against `extensions.persistedQuery`
    /// when that is given (and then kept), or the one kept under its hash.
    pub fn resolve(
        &self,
        query: Option<String>,
        extensions: Option<&serde_json::Map<String, serde_json::Value>>,
    ) -> Result<String, Refusal> {
        let query = query.filter(|q| !q.is_empty());
        let Some(persisted) = extensions.and_then(|e| e.get("persistedQuery")) else {
            return query.ok_or(Refusal::Invalid("the request has no query"));
        };
        let (Some(1), Some(hash)) =
            (persisted.get("version").and_then(|v| v.as_i64()), persisted.get("sha256Hash").and_then(|h| h.as_str()))
        else {
            return Err(Refusal::Invalid("persistedQuery needs version 1 and a sha256Hash"));
        };
        let hash = hash.to_ascii_lowercase();
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.clock += 1;
        let now = kept.clock;
        match query {
            Some(query) => {
                if sha256_hex(&query) != hash {
                    return Err(Refusal::Invalid("the query does not match its sha256Hash"));
                }
                if query.len() <= MAX_KEPT_QUERY_BYTES && query.len() <= self.max_bytes {
                    kept.keep(hash, query.clone(), now, self.max_bytes);
                }
                Ok(query)
            }
            None => match kept.queries.get_mut(&hash) {
                Some((query, used)) => {
                    *used = now;
                    Ok(query.clone())
                }
                None => Err(Refusal::NotFound),
            },
        }
    }
}

impl Kept {
    fn keep(&mut self, hash: String, query: String, now: u64, max_bytes: usize) {
        if let Some((_, used)) = self.queries.get_mut(&hash) {
            *used = now;
            return;
        }
        let size = hash.len() + query.len();
        while self.bytes + size > max_bytes {
            // The least recently used goes first.
            let Some(oldest) = self.queries.iter().min_by_key(|(_, (_, used))| *used).map(|(h, _)| h.clone()) else {
                break;
            };
            if let Some((gone, _)) = self.queries.remove(&oldest) {
                self.bytes -= oldest.len() + gone.len();
            }
        }
        self.bytes += size;
        self.queries.insert(hash, (query, now));
    }
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn extensions(hash: &str) -> serde_json::Map<String, serde_json::Value> {
        json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } }).as_object().unwrap().clone()
    }

    #[test]
    fn a_query_is_kept_under_its_hash_and_stands_in_for_it() {
        let store = PersistedQueries::new(1024);
        let query = "{ me { username } }".to_owned();
        let hash = sha256_hex(&query);
        assert_eq!(store.resolve(None, Some(&extensions(&hash))), Err(Refusal::NotFound));
        assert_eq!(store.resolve(Some(query.clone()), Some(&extensions(&hash))), Ok(query.clone()));
        assert_eq!(store.resolve(None, Some(&extensions(&hash))), Ok(query));
    }

    #[test]
    fn a_wrong_hash_or_version_is_refused_and_keeps_nothing() {
        let store = PersistedQueries::new(1024);
        let wrong = sha256_hex("something else");
        assert!(matches!(
            store.resolve(Some("{ me { username } }".into()), Some(&extensions(&wrong))),
            Err(Refusal::Invalid(_))
        ));
        assert_eq!(store.resolve(None, Some(&extensions(&wrong))), Err(Refusal::NotFound));
        let v2 = json!({ "persistedQuery": { "version": 2, "sha256Hash": wrong } }).as_object().unwrap().clone();
        assert!(matches!(store.resolve(None, Some(&v2)), Err(Refusal::Invalid(_))));
    }

    #[test]
    fn past_its_bound_the_store_forgets_the_least_recently_used() {
        let queries: Vec<String> = (0..3).map(|i| format!("{{ q{i}: me {{ username }} }}")).collect();
        let hashes: Vec<String> = queries.iter().map(|q| sha256_hex(q)).collect();
        // Room for two.
        let store = PersistedQueries::new(2 * (64 + queries[0].len()));
        store.resolve(Some(queries[0].clone()), Some(&extensions(&hashes[0]))).unwrap();
        store.resolve(Some(queries[1].clone()), Some(&extensions(&hashes[1]))).unwrap();
        store.resolve(None, Some(&extensions(&hashes[0]))).unwrap(); // q0 used again
        store.resolve(Some(queries[2].clone()), Some(&extensions(&hashes[2]))).unwrap();
        assert!(store.resolve(None, Some(&extensions(&hashes[0]))).is_ok());
        assert_eq!(store.resolve(None, Some(&extensions(&hashes[1]))), Err(Refusal::NotFound));
        assert!(store.resolve(None, Some(&extensions(&hashes[2]))).is_ok());
    }

    #[test]
    fn a_long_query_runs_but_is_not_kept() {
        let store = PersistedQueries::new(1 << 20);
        let query = format!("{{ me {{ username }} }} #{}", "x".repeat(MAX_KEPT_QUERY_BYTES));
        let hash = sha256_hex(&query);
        assert_eq!(store.resolve(Some(query.clone()), Some(&extensions(&hash))), Ok(query));
        assert_eq!(store.resolve(None, Some(&extensions(&hash))), Err(Refusal::NotFound));
    }
}

//! The process-wide memory budget of heavy requests (RULES §11): requests that list
//! every user wait for their turn rather than all build their answers at once.
//!
//! A heavy request reserves what it is expected to hold while it runs: for a document
//! seen before, [`MEMORY_PER_ANSWER_BYTE`] times the answer it last gave; for a new
//! one, the whole budget, so that it runs alone once. A reservation larger than the
//! budget is cut to it: an answer may be larger than the budget, and then it runs alone.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use tokio::sync::{Semaphore, SemaphorePermit};

/// Bytes resident per byte of answer while a listing of every user runs: the rows read,
/// the loaders' data, the values of the chunk being written, the written JSON and the
/// body being sent. Measured by `bench/run.sh --memory`: about 12 for a 2,000-user
/// full listing (~60 MB resident for a 4.8 MB answer), about 8 at 100,000 users.
const MEMORY_PER_ANSWER_BYTE: u64 = 12;

/// Documents whose last answer size is remembered; past it one is forgotten.
const REMEMBERED_DOCUMENTS: usize = 1024;

/// The budget, counted in KiB.
pub struct MemoryBudget {
    kib: Semaphore,
    capacity_kib: u32,
    /// The expected reservation of each document seen, by [`document_key`].
    expected_kib: Mutex<HashMap<u64, u32>>,
}

impl MemoryBudget {
    pub fn new(capacity_bytes: usize) -> Self {
        let capacity_kib =
            u32::try_from(capacity_bytes / 1024).unwrap_or(u32::MAX).clamp(1, Semaphore::MAX_PERMITS as u32);
        MemoryBudget {
            kib: Semaphore::new(capacity_kib as usize),
            capacity_kib,
            expected_kib: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until the request `key` stands for fits in the budget, and holds its part
    /// until the reservation is dropped.
    pub async fn reserve(&self, key: u64) -> Reservation<'_> {
        let expected = self.expected().get(&key).copied().unwrap_or(self.capacity_kib);
        let kib = expected.clamp(1, self.capacity_kib);
        // The semaphore is never closed: acquiring cannot fail.
        let permit = self.kib.acquire_many(kib).await.ok();
        Reservation { _permit: permit, key, budget: self }
    }

    fn expected(&self) -> std::sync::MutexGuard<'_, HashMap<u64, u32>> {
        self.expected_kib.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// KiB free in the budget now.
    #[cfg(test)]
    fn available_kib(&self) -> usize {
        self.kib.available_permits()
    }
}

/// A heavy request's part of the budget.
pub struct Reservation<'a> {
    _permit: Option<SemaphorePermit<'a>>,
    key: u64,
    budget: &'a MemoryBudget,
}

impl Reservation<'_> {
    /// Remembers the size of this request's answer: what the next run of the same
    /// document reserves.
    pub fn learn(&self, answer_bytes: usize) {
        let kib = (answer_bytes as u64).saturating_mul(MEMORY_PER_ANSWER_BYTE) / 1024;
        let kib = u32::try_from(kib).unwrap_or(u32::MAX).max(1);
        let mut expected = self.budget.expected();
        if expected.len() >= REMEMBERED_DOCUMENTS && !expected.contains_key(&self.key) {
            // Any one: a forgotten document only runs alone once more.
            if let Some(old) = expected.keys().next().copied() {
                expected.remove(&old);
            }
        }
        expected.insert(self.key, kib);
    }
}

impl Drop for Reservation<'_> {
    /// Dropped after the answer is freed (or when the request is cancelled): the
    /// megabytes it freed go back to the system rather than stay in the allocator's
    /// arenas as resident memory.
    fn drop(&mut self) {
        crate::memory::release_free_heap();
    }
}

/// What identifies a request's document for its expected size: its text, operation
/// and variables (which `@include` and `@skip` may read).
pub fn document_key(query: &str, operation_name: Option<&str>, variables: &async_graphql::Variables) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    query.hash(&mut hasher);
    operation_name.hash(&mut hasher);
    variables.to_string().hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_new_document_runs_alone_and_a_known_one_reserves_what_it_took() {
        let budget = MemoryBudget::new(120 * 1024 * 1024);
        let first = budget.reserve(1).await;
        assert_eq!(budget.available_kib(), 0, "unknown: the whole budget");
        first.learn(1024 * 1024);
        drop(first);
        let a = budget.reserve(1).await;
        let b = budget.reserve(1).await;
        assert_eq!(budget.available_kib(), 120 * 1024 - 2 * 12 * 1024, "12 MiB each");
        drop((a, b));
        assert_eq!(budget.available_kib(), 120 * 1024);
    }

    #[tokio::test]
    async fn past_the_budget_a_request_waits_for_its_turn() {
        let budget = std::sync::Arc::new(MemoryBudget::new(30 * 1024 * 1024));
        budget.reserve(7).await.learn(1024 * 1024);
        let held = budget.reserve(7).await;
        let second = budget.reserve(7).await;
        // 24 of 30 MiB taken: a third waits until one is dropped.
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(50), budget.reserve(7)).await;
        assert!(waiting.is_err(), "the third had to wait");
        drop(held);
        let third = tokio::time::timeout(std::time::Duration::from_secs(5), budget.reserve(7)).await;
        assert!(third.is_ok(), "and got its turn once one ended");
        drop(second);
    }

    #[test]
    fn an_answer_larger_than_the_budget_reserves_all_of_it() {
        let budget = MemoryBudget::new(1024 * 1024);
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            budget.reserve(3).await.learn(64 * 1024 * 1024);
            let huge = budget.reserve(3).await;
            assert_eq!(budget.available_kib(), 0);
            drop(huge);
        });
    }
}

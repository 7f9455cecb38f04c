//! Argon2id password hashing (RULES §6), always on a blocking thread.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

use prometheus::IntCounter;
use tokio::sync::Semaphore;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::config::Secret;
use crate::error::{AppError, AppResult};

/// OWASP's parameters for Argon2id: 19 MiB, 2 passes, 1 lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A hash of a password nobody has, checked when the user does not exist so that an
/// unknown name costs the same time as a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash_now("no user has this password").expect("hashable"));

fn hash_now(password: &str) -> anyhow::Result<String> {
    Ok(hasher().hash_password(password.as_bytes()).map_err(anyhow::Error::msg)?.to_string())
}

fn verify_now(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| hasher().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Runs Argon2 on blocking threads, a bounded number at a time: each call holds
/// ~19 MiB and a core for tens of milliseconds, so a burst of logins must queue
/// rather than exhaust memory or starve other requests. Past `max_waiting` queued
/// calls, RATE_LIMITED.
#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    max_waiting: usize,
    /// Counts every computation when set (the server's metrics).
    computations: Option<IntCounter>,
}

impl Hasher {
    /// `concurrency` computations at once (`None`: one per core).
    pub fn new(concurrency: Option<usize>, max_waiting: usize) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Hasher {
            permits: Arc::new(Semaphore::new(concurrency.unwrap_or(cores).max(1))),
            waiting: Arc::new(AtomicUsize::new(0)),
            max_waiting,
            computations: None,
        }
    }

    /// Adds one to `counter` for every computation.
    pub fn counting(self, counter: IntCounter) -> Self {
        Hasher { computations: Some(counter), ..self }
    }

    /// The Argon2id PHC string for a new password.
    pub async fn hash(&self, password: Secret) -> AppResult<String> {
        self.run(move || hash_now(password.expose())).await?.map_err(AppError::internal)
    }

    /// Whether `password` matches `phc`; with no stored hash, does the same work and says no.
    pub async fn verify(&self, password: Secret, phc: Option<String>) -> AppResult<bool> {
        self.run(move || match phc {
            Some(phc) => verify_now(password.expose(), &phc),
            None => {
                verify_now(password.expose(), &DUMMY_HASH);
                false
            }
        })
        .await
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
        let queued = Queued::join(&self.waiting, self.max_waiting)?;
        let permit = self.permits.clone().acquire_owned().await.map_err(AppError::internal)?;
        drop(queued);
        let done = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await?;
        if let Some(counter) = &self.computations {
            counter.inc();
        }
        Ok(done)
    }
}

/// A place in the Argon2 queue, given up when dropped (also when the request is cancelled).
struct Queued<'a>(&'a AtomicUsize);

impl<'a> Queued<'a> {
    fn join(waiting: &'a AtomicUsize, max_waiting: usize) -> AppResult<Self> {
        if waiting.fetch_add(1, Ordering::SeqCst) >= max_waiting {
            waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(AppError::RateLimited { retry_after_secs: 1 });
        }
        Ok(Queued(waiting))
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Computes the dummy hash ahead of the first login, so that the first unknown-user
/// login is not slower than the others.
pub async fn warm_up() -> AppResult<()> {
    tokio::task::spawn_blocking(|| LazyLock::force(&DUMMY_HASH).len()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher() -> Hasher {
        Hasher::new(None, 10)
    }

    #[tokio::test]
    async fn hashes_are_argon2id_phc_strings_that_verify() {
        let phc = hasher().hash(Secret::new("correct horse")).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(hasher().verify(Secret::new("correct horse"), Some(phc.clone())).await.unwrap());
        assert!(!hasher().verify(Secret::new("correct horsE"), Some(phc)).await.unwrap());
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        assert!(!hasher().verify(Secret::new("no user has this password"), None).await.unwrap());
    }

    #[tokio::test]
    async fn a_corrupt_hash_never_verifies() {
        assert!(!hasher().verify(Secret::new("anything"), Some("not a phc".into())).await.unwrap());
    }

    #[tokio::test]
    async fn calls_past_the_queue_bound_are_rate_limited_and_cancelled_ones_leave_it() {
        let hasher = Hasher::new(Some(1), 2);
        let held = hasher.permits.clone().acquire_owned().await.unwrap();
        let first = tokio::spawn({
            let hasher = hasher.clone();
            async move { hasher.verify(Secret::new("a"), None).await }
        });
        let second = tokio::spawn({
            let hasher = hasher.clone();
            async move { hasher.verify(Secret::new("b"), None).await }
        });
        while hasher.waiting.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        let third = hasher.verify(Secret::new("c"), None).await;
        assert!(matches!(third, Err(AppError::RateLimited { .. })));
        second.abort();
        let _ = second.await;
        assert_eq!(hasher.waiting.load(Ordering::SeqCst), 1, "the cancelled call left the queue");
        drop(held);
        assert!(!first.await.unwrap().unwrap());
        assert_eq!(hasher.waiting.load(Ordering::SeqCst), 0);
    }
}

//! Login throttling (RULES §6). An attempt is counted before its password is
//! checked: [`PasswordChecks::check`] reserves a place for it in a short transaction
//! (refused while the username is locked or the address over its limit; waiting
//! while the checks under way fill what the limit leaves), checks the password, and
//! settles in another short transaction (a success starts the count again, a
//! failure counts and may lock). The three run in a task of their own, so that a
//! cancelled request still settles what it counted. Processes sharing the database
//! share the counts; within one process, waiting attempts of one username queue so
//! that one at a time asks the database.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::password::Hasher;
use crate::config::{Config, Secret};
use crate::domain::ResourceType;
use crate::domain::validate;
use crate::error::{AppError, AppResult};
use crate::store::audit::NewEvent;
use crate::store::login_failures::{self, UserFailures};
use crate::store::users::{self, UserRow};
use crate::store::{Db, WriteTx, write_tx};

/// The limits on failed logins; every field but the waits has a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// Consecutive failures for one username before it is locked.
    pub user_max_failures: u32,
    /// The first lock; each further failure doubles it.
    pub user_first_lock: Duration,
    /// The longest lock.
    pub user_max_lock: Duration,
    /// How long after its last failure a username's count is forgotten.
    pub user_window: Duration,
    /// Failures from one address within `address_window` after which it is refused.
    pub address_max_failures: u32,
    pub address_window: Duration,
    /// How long an attempt waits for the checks under way before it gives up
    /// (RATE_LIMITED): well within the request time limit.
    pub max_wait: Duration,
    /// How long a check counts as under way at most: past it, its process is
    /// presumed dead and the check no longer counts.
    pub lease: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            user_max_failures: 5,
            user_first_lock: Duration::from_secs(1),
            user_max_lock: Duration::from_secs(15 * 60),
            user_window: Duration::from_secs(3600),
            address_max_failures: 100,
            address_window: Duration::from_secs(10 * 60),
            max_wait: Duration::from_secs(10),
            lease: Duration::from_secs(120),
        }
    }
}

impl LoginLimits {
    /// The limits the flags set.
    pub fn from_config(config: &Config) -> Self {
        let request_timeout = Duration::from_secs(config.request_timeout_secs);
        LoginLimits {
            user_max_failures: config.login_max_failures,
            user_first_lock: Duration::from_secs(config.login_first_lock_secs),
            user_max_lock: Duration::from_secs(config.login_max_lock_secs),
            user_window: Duration::from_secs(config.login_user_window_secs),
            address_max_failures: config.login_address_max_failures,
            address_window: Duration::from_secs(config.login_address_window_secs),
            max_wait: (request_timeout / 3).min(Duration::from_secs(10)),
            lease: (request_timeout * 4).max(Duration::from_secs(120)),
        }
    }

    /// How long a username is locked after its `consecutive`-th failure in a row:
    /// nothing before the limit, then the first lock, doubling up to the longest.
    pub fn user_lock_after(&self, consecutive: u32) -> Duration {
        if consecutive < self.user_max_failures {
            return Duration::ZERO;
        }
        let doublings = (consecutive - self.user_max_failures).min(31);
        self.user_first_lock.saturating_mul(1 << doublings).min(self.user_max_lock)
    }

    /// Whether a check of a username with `failures` on record and `under_way` checks
    /// may start at `now`: at most `user_max_failures` checks under way or failed
    /// since the last success, and once at or past it (its lock over) one at a time.
    pub fn admit_user(&self, failures: Option<UserFailures>, under_way: i64, now: i64) -> Admission {
        let failures = failures.unwrap_or_default();
        if failures.locked_until > now {
            return Admission::Refused { until: failures.locked_until };
        }
        let forgotten = failures.last_failure_at <= now - millis(self.user_window);
        let consecutive = if forgotten { 0 } else { i64::from(failures.consecutive) };
        let max = i64::from(self.user_max_failures);
        if consecutive + under_way < max || (consecutive >= max && under_way == 0) {
            Admission::Go
        } else {
            Admission::Wait
        }
    }

    /// Whether a check from an address with `failures` in its window (the oldest at
    /// `oldest`) and `under_way` checks may start at `now`.
    pub fn admit_address(&self, failures: i64, oldest: Option<i64>, under_way: i64, now: i64) -> Admission {
        let max = i64::from(self.address_max_failures);
        if failures >= max {
            Admission::Refused { until: oldest.unwrap_or(now) + millis(self.address_window) }
        } else if failures + under_way < max {
            Admission::Go
        } else {
            Admission::Wait
        }
    }
}

/// What the throttle says to an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Check the password now.
    Go,
    /// Wait for a check under way to settle.
    Wait,
    /// RATE_LIMITED until then (Unix ms).
    Refused { until: i64 },
}

/// Whole seconds to wait until `until_ms`, at least 1 while it is in the future.
pub fn retry_after_secs(now_ms: i64, until_ms: i64) -> u64 {
    let remaining = until_ms.saturating_sub(now_ms).max(0) as u64;
    remaining.div_ceil(1000).max(1)
}

/// Password checks as throttled login attempts: `login`, `/api/token` and
/// `currentPassword` all check passwords here.
#[derive(Clone)]
pub struct PasswordChecks {
    db: Db,
    hasher: Hasher,
    limits: LoginLimits,
    /// Woken whenever a check of this process settles.
    settled: Arc<Notify>,
    /// Per username, the waiting attempts of this process, in turn.
    queues: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

/// Where a password check comes from: the client's address (for the per-address
/// limit) and the request's id (for the audit log's `loginLocked` event).
#[derive(Debug, Clone, Copy)]
pub struct PasswordAttempt<'a> {
    pub address: Option<IpAddr>,
    pub request_id: &'a str,
}

/// The outcome of a password check, as the throttle counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Success,
    Failure,
    /// The check could not be made (the Argon2 queue was full, the database failed):
    /// it counts neither way.
    NoCheck,
}

impl PasswordChecks {
    pub fn new(db: Db, hasher: Hasher, limits: LoginLimits) -> Self {
        PasswordChecks { db, hasher, limits, settled: Arc::default(), queues: Arc::default() }
    }

    pub fn hasher(&self) -> &Hasher {
        &self.hasher
    }

    /// Checks `password` as one login attempt of `username` from `address` (RULES
    /// §6), and returns the user when the password is its own. An unknown user and a
    /// wrong password cost the same work and count alike.
    pub async fn check(
        &self,
        username: &str,
        password: Secret,
        attempt: PasswordAttempt<'_>,
    ) -> AppResult<Option<UserRow>> {
        let this = self.clone();
        let subjects = Subjects::new(username, attempt.address.map(|a| a.to_string()).as_deref(), attempt.request_id);
        tokio::spawn(async move { this.attempt(&subjects, password).await }).await?
    }

    async fn attempt(&self, subjects: &Subjects, password: Secret) -> AppResult<Option<UserRow>> {
        let id = super::token::new_version();
        self.reserve(&id, subjects).await?;
        let checked = if password.expose().len() > validate::PASSWORD_MAX_BYTES {
            // No stored password can be this long: a failure without any Argon2 work.
            Ok(None)
        } else {
            self.verify(&subjects.username, password).await
        };
        let outcome = match &checked {
            Ok(Some(_)) => Outcome::Success,
            Ok(None) => Outcome::Failure,
            Err(_) => Outcome::NoCheck,
        };
        let settled = write_tx!(&self.db, |tx| self.settle(&mut tx, &id, subjects, outcome));
        self.settled.notify_waiters();
        settled?;
        checked
    }

    async fn verify(&self, username: &str, password: Secret) -> AppResult<Option<UserRow>> {
        let user = users::find(&mut *self.db.conn().await?, username).await?;
        let matches = self.hasher.verify(password, user.as_ref().map(|u| u.password_hash.clone())).await?;
        Ok(user.filter(|_| matches))
    }

    /// Counts the attempt as a check under way, once the limits let it; RATE_LIMITED
    /// when they refuse it, or when it has waited too long.
    async fn reserve(&self, id: &str, subjects: &Subjects) -> AppResult<()> {
        let queue = self.queue(&subjects.user);
        let turn = queue.lock().await;
        let deadline = Instant::now() + self.limits.max_wait;
        let mut pause = Duration::from_millis(5);
        let admitted = loop {
            let settled = self.settled.notified();
            match write_tx!(&self.db, |tx| self.try_reserve(&mut tx, id, subjects)) {
                Ok(Admission::Go) => break Ok(()),
                Ok(Admission::Refused { until }) => {
                    break Err(AppError::RateLimited { retry_after_secs: retry_after_secs(now_ms(), until) });
                }
                Ok(Admission::Wait) if Instant::now() + pause < deadline => {}
                Ok(Admission::Wait) => break Err(AppError::RateLimited { retry_after_secs: 1 }),
                Err(error) => break Err(error),
            }
            // A check of this process settling wakes it at once; one of another
            // process, at the next poll.
            tokio::select! {
                () = settled => {}
                () = tokio::time::sleep(pause) => {}
            }
            pause = (pause * 2).min(Duration::from_millis(250));
        };
        drop(turn);
        self.forget_queue(&subjects.user, queue);
        admitted
    }

    async fn try_reserve(&self, tx: &mut WriteTx, id: &str, subjects: &Subjects) -> AppResult<Admission> {
        login_failures::lock_subjects(tx, &subjects.all()).await?;
        let now = now_ms();
        let failures = login_failures::user_failures(tx, &subjects.username).await?;
        let under_way = login_failures::checks_under_way(tx, &subjects.user, now).await?;
        let admission = self.limits.admit_user(failures, under_way, now);
        if admission != Admission::Go {
            return Ok(admission);
        }
        if let Some((address, subject)) = &subjects.address {
            let since = now - millis(self.limits.address_window);
            let (failures, oldest) = login_failures::address_failures_since(tx, address, since).await?;
            let under_way = login_failures::checks_under_way(tx, subject, now).await?;
            let admission = self.limits.admit_address(failures, oldest, under_way, now);
            if admission != Admission::Go {
                return Ok(admission);
            }
        }
        login_failures::add_check(tx, id, &subjects.all(), now + millis(self.limits.lease)).await?;
        Ok(Admission::Go)
    }

    async fn settle(&self, tx: &mut WriteTx, id: &str, subjects: &Subjects, outcome: Outcome) -> AppResult<()> {
        login_failures::lock_subjects(tx, &subjects.all()).await?;
        login_failures::remove_check(tx, id).await?;
        let now = now_ms();
        match outcome {
            Outcome::Success => login_failures::clear_user(tx, &subjects.username).await?,
            Outcome::NoCheck => {}
            Outcome::Failure => {
                let forget_before = now - millis(self.limits.user_window);
                let consecutive = login_failures::add_user_failure(tx, &subjects.username, now, forget_before).await?;
                let lock = self.limits.user_lock_after(consecutive);
                if !lock.is_zero() {
                    login_failures::lock_user(tx, &subjects.username, now + millis(lock)).await?;
                    // A lock starts: an existing user's lockout goes to the audit log.
                    if users::find(tx, &subjects.username).await?.is_some() {
                        let event = NewEvent {
                            actor: None,
                            action: "loginLocked",
                            target_type: ResourceType::User,
                            target_id: &subjects.username,
                            fields: Vec::new(),
                            request_id: Some(&subjects.request_id),
                        };
                        tx.record(&event);
                    }
                }
                let address_since = now - millis(self.limits.address_window);
                if let Some((address, _)) = &subjects.address {
                    login_failures::add_address_failure(tx, address, now, address_since).await?;
                }
                login_failures::sweep(tx, now, forget_before, address_since).await?;
            }
        }
        Ok(())
    }

    fn queue(&self, subject: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        queues.entry(subject.to_owned()).or_default().clone()
    }

    /// Drops the username's queue once nobody else holds it.
    fn forget_queue(&self, subject: &str, queue: Arc<tokio::sync::Mutex<()>>) {
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        // The map's reference and ours: nobody else waits.
        if Arc::strong_count(&queue) == 2 {
            queues.remove(subject);
        }
    }
}

/// What one attempt counts against: its username, and its client address if known;
/// and the request it came with.
struct Subjects {
    username: String,
    user: String,
    address: Option<(String, String)>,
    request_id: String,
}

impl Subjects {
    fn new(username: &str, address: Option<&str>, request_id: &str) -> Self {
        Subjects {
            username: username.to_owned(),
            user: format!("user:{username}"),
            address: address.map(|a| (a.to_owned(), format!("address:{a}"))),
            request_id: request_id.to_owned(),
        }
    }

    /// In the one order every transaction of the throttle locks them.
    fn all(&self) -> Vec<&str> {
        let mut all = vec![self.user.as_str()];
        all.extend(self.address.as_ref().map(|(_, subject)| subject.as_str()));
        all
    }
}

pub(super) fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

use crate::domain::now_ms;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_start_at_the_fifth_failure_and_double_up_to_fifteen_minutes() {
        let limits = LoginLimits::default();
        let secs = |n| limits.user_lock_after(n).as_secs();
        assert_eq!((secs(1), secs(4)), (0, 0));
        assert_eq!((secs(5), secs(6), secs(7), secs(10)), (1, 2, 4, 32));
        assert_eq!(secs(14), 512);
        assert_eq!(secs(15), 900);
        assert_eq!(secs(1000), 900);
    }

    #[test]
    fn the_flags_default_to_the_contract() {
        assert_eq!(LoginLimits::from_config(&Config::for_database("sqlite://x.db")), LoginLimits::default());
    }

    #[test]
    fn the_first_lock_is_a_flag_and_still_doubles_up_to_the_longest() {
        let config = Config { login_first_lock_secs: 600, ..Config::for_database("sqlite://x.db") };
        let limits = LoginLimits::from_config(&config);
        assert_eq!(limits.user_lock_after(4), Duration::ZERO);
        assert_eq!(limits.user_lock_after(5), Duration::from_secs(600));
        assert_eq!(limits.user_lock_after(6), Duration::from_secs(900), "capped by --login-max-lock-secs");
    }

    fn failures(consecutive: u32, locked_until: i64, last_failure_at: i64) -> Option<UserFailures> {
        Some(UserFailures { consecutive, locked_until, last_failure_at })
    }

    #[test]
    fn at_most_five_checks_are_under_way_or_failed_and_past_the_limit_one_at_a_time() {
        let limits = LoginLimits::default();
        let now = 10_000_000;
        assert_eq!(limits.admit_user(None, 4, now), Admission::Go);
        assert_eq!(limits.admit_user(None, 5, now), Admission::Wait);
        assert_eq!(limits.admit_user(failures(3, 0, now - 1), 1, now), Admission::Go);
        assert_eq!(limits.admit_user(failures(3, 0, now - 1), 2, now), Admission::Wait);
        // Locked: refused until the lock ends, whatever is under way.
        assert_eq!(limits.admit_user(failures(5, now + 1000, now), 0, now), Admission::Refused { until: now + 1000 });
        // The lock over: one check at a time.
        assert_eq!(limits.admit_user(failures(5, now - 1, now - 1000), 0, now), Admission::Go);
        assert_eq!(limits.admit_user(failures(5, now - 1, now - 1000), 1, now), Admission::Wait);
        // Forgotten a window after the last failure.
        let long_ago = now - 3_600_000;
        assert_eq!(limits.admit_user(failures(4, 0, long_ago), 4, now), Admission::Go);
    }

    #[test]
    fn an_address_is_refused_at_its_limit_and_waits_when_checks_fill_it() {
        let limits = LoginLimits::default();
        let now = 10_000_000;
        assert_eq!(limits.admit_address(99, Some(now - 5), 0, now), Admission::Go);
        assert_eq!(limits.admit_address(99, Some(now - 5), 1, now), Admission::Wait);
        assert_eq!(limits.admit_address(100, Some(now - 5), 0, now), Admission::Refused { until: now - 5 + 600_000 });
    }

    #[test]
    fn retry_after_rounds_up_and_is_never_zero() {
        assert_eq!(retry_after_secs(1_000, 2_000), 1);
        assert_eq!(retry_after_secs(1_000, 2_001), 2);
        assert_eq!(retry_after_secs(1_000, 1_001), 1);
        assert_eq!(retry_after_secs(5_000, 1_000), 1);
    }
}

//! Login throttling (RULES §6): the limits, and the pure arithmetic of the lockout.

use std::time::Duration;

use crate::config::Config;

/// The limits on failed logins; every field has a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// Consecutive failures for one username before it is locked.
    pub user_max_failures: u32,
    /// The first lock; each further failure doubles it.
    pub user_first_lock: Duration,
    /// The longest lock.
    pub user_max_lock: Duration,
    /// Failures from one address within `address_window` beyond which it is refused.
    pub address_max_failures: u32,
    pub address_window: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            user_max_failures: 5,
            user_first_lock: Duration::from_secs(1),
            user_max_lock: Duration::from_secs(15 * 60),
            address_max_failures: 100,
            address_window: Duration::from_secs(10 * 60),
        }
    }
}

impl LoginLimits {
    /// The limits the flags set.
    pub fn from_config(config: &Config) -> Self {
        LoginLimits {
            user_max_failures: config.login_max_failures,
            user_max_lock: Duration::from_secs(config.login_max_lock_secs),
            address_max_failures: config.login_address_max_failures,
            address_window: Duration::from_secs(config.login_address_window_secs),
            ..LoginLimits::default()
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
}

/// Whole seconds to wait until `until_ms`, at least 1 while it is in the future.
pub fn retry_after_secs(now_ms: i64, until_ms: i64) -> u64 {
    let remaining = until_ms.saturating_sub(now_ms).max(0) as u64;
    remaining.div_ceil(1000).max(1)
}

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
    fn retry_after_rounds_up_and_is_never_zero() {
        assert_eq!(retry_after_secs(1_000, 2_000), 1);
        assert_eq!(retry_after_secs(1_000, 2_001), 2);
        assert_eq!(retry_after_secs(1_000, 1_001), 1);
        assert_eq!(retry_after_secs(5_000, 1_000), 1);
    }
}

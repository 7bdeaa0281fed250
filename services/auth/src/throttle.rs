//! Login throttling: a sliding window of recent failures per account (the email as typed,
//! whether or not it exists) and per client address, in memory.
//!
//! Checked *before* the password is hashed, so a throttled attempt costs nothing. In memory and
//! per process: with several auth replicas, each keeps its own window (an attacker gets at most
//! `replicas ×` the attempts); the gateway's own rate limits are the outer layer.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::ThrottleSettings;

/// Above this many tracked keys, expired entries are swept on the next write.
const SWEEP_ABOVE: usize = 10_000;

/// What a failure counts against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ThrottleKey {
    Account(String),
    Address(IpAddr),
}

#[derive(Debug)]
pub struct Throttle {
    window: Duration,
    max_per_account: usize,
    max_per_address: usize,
    failures: Mutex<HashMap<ThrottleKey, VecDeque<Instant>>>,
}

impl Throttle {
    pub fn new(settings: &ThrottleSettings) -> Self {
        Self {
            window: Duration::from_secs(settings.window_seconds),
            max_per_account: settings.max_failures_per_account as usize,
            max_per_address: settings.max_failures_per_address as usize,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn limit(&self, key: &ThrottleKey) -> usize {
        match key {
            ThrottleKey::Account(_) => self.max_per_account,
            ThrottleKey::Address(_) => self.max_per_address,
        }
    }

    /// `Err(wait)` when any of `keys` has used up its failures within the window: `wait` is
    /// how long until the oldest of them leaves the window.
    pub fn check(&self, keys: &[ThrottleKey], now: Instant) -> Result<(), Duration> {
        let Ok(mut failures) = self.failures.lock() else {
            return Ok(());
        };
        let mut wait = None::<Duration>;
        for key in keys {
            if let Some(times) = failures.get_mut(key) {
                self.expire(times, now);
                if times.len() >= self.limit(key)
                    && let Some(oldest) = times.front()
                {
                    let until = (*oldest + self.window).saturating_duration_since(now);
                    wait = Some(wait.map_or(until, |w| w.max(until)));
                }
            }
        }
        wait.map_or(Ok(()), Err)
    }

    /// Counts one failed attempt against each of `keys`.
    pub fn record_failure(&self, keys: &[ThrottleKey], now: Instant) {
        let Ok(mut failures) = self.failures.lock() else {
            return;
        };
        if failures.len() > SWEEP_ABOVE {
            let window = self.window;
            failures.retain(|_, times| {
                times.retain(|t| now.saturating_duration_since(*t) < window);
                !times.is_empty()
            });
        }
        for key in keys {
            let times = failures.entry(key.clone()).or_default();
            self.expire(times, now);
            times.push_back(now);
            // Never more than the limit is needed to decide.
            while times.len() > self.limit(key) {
                times.pop_front();
            }
        }
    }

    /// Forgets the failures of `key` (after a successful login for that account).
    pub fn clear(&self, key: &ThrottleKey) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(key);
        }
    }

    fn expire(&self, times: &mut VecDeque<Instant>, now: Instant) {
        while times
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= self.window)
        {
            times.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> Throttle {
        Throttle::new(&ThrottleSettings {
            window_seconds: 60,
            max_failures_per_account: 3,
            max_failures_per_address: 5,
        })
    }

    fn account() -> ThrottleKey {
        ThrottleKey::Account("ana@example.com".into())
    }

    #[test]
    fn an_account_is_refused_after_its_failures_until_the_oldest_leaves_the_window() {
        let t = throttle();
        let start = Instant::now();
        for i in 0..3 {
            assert!(t.check(&[account()], start).is_ok());
            t.record_failure(&[account()], start + Duration::from_secs(i * 10));
        }
        let now = start + Duration::from_secs(25);
        assert_eq!(t.check(&[account()], now), Err(Duration::from_secs(35)));
        assert!(
            t.check(&[account()], start + Duration::from_secs(60))
                .is_ok()
        );
    }

    #[test]
    fn an_address_is_throttled_across_accounts() {
        let t = throttle();
        let now = Instant::now();
        let address = ThrottleKey::Address("203.0.113.9".parse().unwrap());
        for i in 0..5 {
            let keys = [
                ThrottleKey::Account(format!("u{i}@example.com")),
                address.clone(),
            ];
            assert!(t.check(&keys, now).is_ok());
            t.record_failure(&keys, now);
        }
        let fresh = [ThrottleKey::Account("new@example.com".into()), address];
        assert!(t.check(&fresh, now).is_err());
    }

    #[test]
    fn a_success_clears_the_account_window() {
        let t = throttle();
        let now = Instant::now();
        for _ in 0..3 {
            t.record_failure(&[account()], now);
        }
        t.clear(&account());
        assert!(t.check(&[account()], now).is_ok());
    }
}

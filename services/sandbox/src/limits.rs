//! Meta's two send limits (reference §3), as pure state machines over an explicit clock so that
//! tests can drive them exactly.
//!
//! - [`Throughput`]: messages per second per phone number, a token bucket holding one second's
//!   worth (so a number at 80 mps may send 80 at once, then 80 per second). Above it: 130429.
//! - [`PairRate`]: one message per interval (6 s) to the same recipient; a burst of up to `burst`
//!   messages (45) within `burst_window` (6 s) is allowed but *borrows* quota: afterwards the
//!   recipient cannot be messaged again until the burst has been paid back at one per interval
//!   (20 messages ≈ 2 minutes). Above it: 131056.

use std::time::{Duration, Instant};

/// A token bucket of `rate` tokens per second holding at most `rate` tokens.
#[derive(Debug, Clone)]
pub struct Throughput {
    rate: f64,
    tokens: f64,
    last: Instant,
}

impl Throughput {
    /// A full bucket.
    pub fn new(messages_per_second: u32, now: Instant) -> Self {
        let rate = f64::from(messages_per_second.max(1));
        Self {
            rate,
            tokens: rate,
            last: now,
        }
    }

    /// Takes one token if there is one. On refusal, returns how long until one is available.
    pub fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.rate);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / self.rate))
        }
    }
}

/// The pair rate state of one (phone number, recipient).
#[derive(Debug, Clone)]
pub struct PairRate {
    /// When the recipient's quota is paid back (the theoretical arrival time of the next message).
    paid_until: Instant,
    burst_started: Instant,
    burst_count: u32,
}

/// The pair-rate rule.
#[derive(Debug, Clone, Copy)]
pub struct PairRule {
    pub interval: Duration,
    pub burst: u32,
    pub burst_window: Duration,
}

impl PairRate {
    /// A recipient nobody has messaged yet.
    pub fn new(now: Instant) -> Self {
        Self {
            paid_until: now,
            burst_started: now,
            burst_count: 0,
        }
    }

    /// Counts one message if the rule allows it; otherwise returns how long until it would.
    pub fn try_send(&mut self, rule: PairRule, now: Instant) -> Result<(), Duration> {
        if now >= self.paid_until {
            // Quota fully paid back: a new burst may start.
            self.burst_started = now;
            self.burst_count = 1;
            self.paid_until = now + rule.interval;
            return Ok(());
        }
        let in_burst = now < self.burst_started + rule.burst_window;
        if in_burst && self.burst_count < rule.burst {
            self.burst_count += 1;
            self.paid_until += rule.interval;
            return Ok(());
        }
        Err(self.paid_until - now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn a_full_bucket_allows_one_seconds_worth_then_refills_at_the_rate() {
        let t0 = Instant::now();
        let mut bucket = Throughput::new(80, t0);
        for _ in 0..80 {
            assert!(bucket.try_take(t0).is_ok());
        }
        let wait = bucket.try_take(t0).unwrap_err();
        assert!(wait <= Duration::from_millis(13), "{wait:?}");
        // 100 ms later, 8 more tokens.
        let later = t0 + Duration::from_millis(100);
        for _ in 0..8 {
            assert!(bucket.try_take(later).is_ok());
        }
        assert!(bucket.try_take(later).is_err());
        // Never more than one second's worth, however long it rested.
        let rested = t0 + 60 * SECOND;
        let taken = (0..200).filter(|_| bucket.try_take(rested).is_ok()).count();
        assert_eq!(taken, 80);
    }

    fn meta_rule() -> PairRule {
        PairRule {
            interval: 6 * SECOND,
            burst: 45,
            burst_window: 6 * SECOND,
        }
    }

    #[test]
    fn one_message_per_six_seconds_passes_forever() {
        let t0 = Instant::now();
        let mut pair = PairRate::new(t0);
        for i in 0..100 {
            assert!(
                pair.try_send(meta_rule(), t0 + i * 6 * SECOND).is_ok(),
                "{i}"
            );
        }
    }

    #[test]
    fn a_burst_of_45_within_six_seconds_passes_and_the_46th_is_refused() {
        let t0 = Instant::now();
        let mut pair = PairRate::new(t0);
        for i in 0..45 {
            let at = t0 + Duration::from_millis(i * 100);
            assert!(pair.try_send(meta_rule(), at).is_ok(), "{i}");
        }
        assert!(pair.try_send(meta_rule(), t0 + 5 * SECOND).is_err());
    }

    #[test]
    fn a_burst_borrows_quota_that_must_be_paid_back() {
        let t0 = Instant::now();
        let mut pair = PairRate::new(t0);
        for _ in 0..20 {
            assert!(pair.try_send(meta_rule(), t0).is_ok());
        }
        // The burst window closed; 20 messages take 2 minutes to pay back.
        let wait = pair.try_send(meta_rule(), t0 + 10 * SECOND).unwrap_err();
        assert_eq!(wait, 110 * SECOND);
        assert!(pair.try_send(meta_rule(), t0 + 119 * SECOND).is_err());
        assert!(pair.try_send(meta_rule(), t0 + 120 * SECOND).is_ok());
    }

    #[test]
    fn a_second_message_right_after_a_paid_back_one_is_part_of_a_new_burst() {
        let t0 = Instant::now();
        let mut pair = PairRate::new(t0);
        let rule = PairRule {
            burst: 1,
            ..meta_rule()
        };
        assert!(pair.try_send(rule, t0).is_ok());
        assert!(pair.try_send(rule, t0 + SECOND).is_err());
        assert!(pair.try_send(rule, t0 + 6 * SECOND).is_ok());
    }
}

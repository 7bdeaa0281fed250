//! What a service declares: its work queues and how often a message may be delivered before it
//! is dead-lettered. Both adapters derive the rest (dead-letter and delay queues) from this.

use crate::error::{Error, Result};

/// Deliveries a message gets by default before it goes to the dead-letter queue.
pub const DEFAULT_MAX_DELIVERIES: u32 = 5;

/// A work queue: competing consumers, at-least-once delivery, its own dead-letter queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueSpec {
    name: String,
    max_deliveries: u32,
}

impl QueueSpec {
    /// A queue named `name` (lower-case letters, digits, `-`, `_` and `.`), with
    /// [`DEFAULT_MAX_DELIVERIES`].
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            max_deliveries: DEFAULT_MAX_DELIVERIES,
        }
    }

    /// How many times a message may be delivered (the first time included) before it is
    /// moved to the dead-letter queue instead of being redelivered. At least 1.
    #[must_use]
    pub fn max_deliveries(mut self, max_deliveries: u32) -> Self {
        self.max_deliveries = max_deliveries;
        self
    }

    /// The logical name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The delivery limit.
    pub fn delivery_limit(&self) -> u32 {
        self.max_deliveries
    }

    pub(crate) fn validate(&self) -> Result<()> {
        validate_name(&self.name)?;
        if self.max_deliveries == 0 {
            return Err(Error::InvalidTopology(format!(
                "queue `{}`: max_deliveries must be at least 1",
                self.name
            )));
        }
        Ok(())
    }
}

/// Rejects names that would collide with the derived queues or confuse the broker.
pub(crate) fn validate_name(name: &str) -> Result<()> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c);
    if name.is_empty() || name.len() > 200 || !name.chars().all(allowed) {
        return Err(Error::InvalidTopology(format!(
            "`{name}`: names are 1 to 200 characters of a-z, 0-9, `-`, `_` and `.`"
        )));
    }
    if name.ends_with(DEAD_LETTER_SUFFIX) || name.contains(DELAY_INFIX) {
        return Err(Error::InvalidTopology(format!(
            "`{name}`: `{DEAD_LETTER_SUFFIX}` and `{DELAY_INFIX}` are reserved for derived queues"
        )));
    }
    Ok(())
}

/// Suffix of a work queue's dead-letter queue.
pub(crate) const DEAD_LETTER_SUFFIX: &str = ".dlq";
/// Marks a delay queue: `{queue}.delay.{millis}ms`.
pub(crate) const DELAY_INFIX: &str = ".delay.";

/// The dead-letter queue of `queue`.
pub fn dead_letter_queue(queue: &str) -> String {
    format!("{queue}{DEAD_LETTER_SUFFIX}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_reserved_for_derived_queues_are_refused() {
        assert!(QueueSpec::new("send-jobs").validate().is_ok());
        assert!(QueueSpec::new("send-jobs.dlq").validate().is_err());
        assert!(QueueSpec::new("send-jobs.delay.5").validate().is_err());
        assert!(QueueSpec::new("Send Jobs").validate().is_err());
        assert!(QueueSpec::new("").validate().is_err());
        assert!(QueueSpec::new("a").max_deliveries(0).validate().is_err());
    }
}

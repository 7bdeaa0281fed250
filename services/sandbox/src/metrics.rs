//! The sandbox's own Prometheus series, registered into whichever registry serves `/metrics`.

use prometheus::{IntCounter, IntCounterVec, Opts, Registry};

/// Sends answered and webhooks posted.
#[derive(Clone)]
pub struct SandboxMetrics {
    /// `result` = `accepted` or the Graph error code.
    pub sends: IntCounterVec,
    /// `result` = `delivered`, `retrying`, `gave_up`.
    pub webhook_posts: IntCounterVec,
    pub statuses_scheduled: IntCounter,
}

impl SandboxMetrics {
    pub fn new() -> prometheus::Result<Self> {
        Ok(Self {
            sends: IntCounterVec::new(
                Opts::new("sandbox_sends_total", "Sends answered by the sandbox"),
                &["result"],
            )?,
            webhook_posts: IntCounterVec::new(
                Opts::new("sandbox_webhook_posts_total", "Webhook POST attempts"),
                &["result"],
            )?,
            statuses_scheduled: IntCounter::new(
                "sandbox_statuses_scheduled_total",
                "Status notifications scheduled",
            )?,
        })
    }

    pub fn register(&self, registry: &Registry) -> prometheus::Result<()> {
        registry.register(Box::new(self.sends.clone()))?;
        registry.register(Box::new(self.webhook_posts.clone()))?;
        registry.register(Box::new(self.statuses_scheduled.clone()))?;
        Ok(())
    }
}

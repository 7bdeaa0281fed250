//! Webhooks: what the sandbox posts ([`payloads`]), the outbox of pending deliveries
//! ([`outbox`]), and the dispatcher that posts them, signed, to the callback URL.
//!
//! The dispatcher exposes one step, [`Dispatcher::try_execute_task`], which composes due statuses
//! and makes one POST attempt; [`Dispatcher::run`] only adds `concurrency` loops around it that
//! wait for work, and stops when the shutdown token is cancelled.

pub mod outbox;
pub mod payloads;

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::state::SandboxState;
use outbox::{Finished, Take, attempt};

/// The header Meta signs webhooks with.
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DispatchOutcome {
    /// The callback answered 200.
    Delivered { delivery_id: u64 },
    /// It did not; the delivery is retried after `after`.
    Retrying { delivery_id: u64, after: Duration },
    /// It did not and no retry remains; the delivery is reported as given up.
    GaveUp { delivery_id: u64 },
    /// Nothing was due; something will be at `next_due`.
    Idle { next_due: Option<Instant> },
}

/// Posts the outbox's deliveries.
#[derive(Clone)]
pub struct Dispatcher {
    state: SandboxState,
}

impl Dispatcher {
    pub fn new(state: SandboxState) -> Self {
        Self { state }
    }

    /// Composes due statuses, then makes one POST attempt of the earliest due delivery.
    pub async fn try_execute_task(&self) -> DispatchOutcome {
        let outbox = &self.state.inner.outbox;
        let job = match outbox.take(Instant::now()) {
            Take::Job(job) => job,
            Take::Idle(next_due) => return DispatchOutcome::Idle { next_due },
        };
        // More may be due: let another worker take it while this one posts.
        if outbox.has_due(Instant::now()) {
            self.state.wake();
        }
        let (delivered, record) = match self.state.callback_url() {
            None => (false, attempt(None, "no_callback")),
            Some(url) => {
                let response = self
                    .state
                    .inner
                    .http
                    .post(url)
                    .header("content-type", "application/json")
                    .header(SIGNATURE_HEADER, &job.signature)
                    .body(job.body.clone())
                    .send()
                    .await;
                match response {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        // Drain the body so the connection goes back to the pool.
                        let _ = response.bytes().await;
                        let outcome = if status == 200 { "ok" } else { "http_status" };
                        (status == 200, attempt(Some(status), outcome))
                    }
                    Err(error) => {
                        let outcome = if error.is_timeout() {
                            "timeout"
                        } else if error.is_connect() {
                            "connect"
                        } else {
                            "error"
                        };
                        (false, attempt(None, outcome))
                    }
                }
            }
        };
        let metrics = &self.state.inner.metrics.webhook_posts;
        match outbox.finish(job.id, record, delivered) {
            Finished::Delivered | Finished::Unknown => {
                metrics.with_label_values(&["delivered"]).inc();
                DispatchOutcome::Delivered {
                    delivery_id: job.id,
                }
            }
            Finished::Retrying(after) => {
                metrics.with_label_values(&["retrying"]).inc();
                tracing::debug!(
                    delivery_id = job.id,
                    ?after,
                    "webhook not accepted; will retry"
                );
                self.state.wake();
                DispatchOutcome::Retrying {
                    delivery_id: job.id,
                    after,
                }
            }
            Finished::GaveUp => {
                metrics.with_label_values(&["gave_up"]).inc();
                tracing::warn!(
                    delivery_id = job.id,
                    "webhook given up after its last retry"
                );
                DispatchOutcome::GaveUp {
                    delivery_id: job.id,
                }
            }
        }
    }

    /// Runs `concurrency` delivery loops until `shutdown` is cancelled.
    pub async fn run(self, shutdown: CancellationToken) {
        let concurrency = self.state.config().webhooks.concurrency.max(1);
        let loops = (0..concurrency).map(|_| {
            let dispatcher = self.clone();
            let shutdown = shutdown.clone();
            tokio::spawn(async move { dispatcher.run_one(shutdown).await })
        });
        let handles: Vec<_> = loops.collect();
        for handle in handles {
            let _ = handle.await;
        }
        self.state.inner.background.cancel();
        let stats = self.state.inner.outbox.stats();
        if stats.pending_deliveries + stats.pending_statuses > 0 {
            tracing::info!(
                pending_deliveries = stats.pending_deliveries,
                pending_statuses = stats.pending_statuses,
                "webhook workers stopped with deliveries pending"
            );
        }
    }

    async fn run_one(&self, shutdown: CancellationToken) {
        loop {
            if shutdown.is_cancelled() {
                return;
            }
            let outcome = tokio::select! {
                () = shutdown.cancelled() => return,
                outcome = self.try_execute_task() => outcome,
            };
            if let DispatchOutcome::Idle { next_due } = outcome {
                let until = next_due
                    .map(tokio::time::Instant::from_std)
                    .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = self.state.inner.wake.notified() => {}
                    () = tokio::time::sleep_until(until) => {}
                }
            }
        }
    }
}

//! The webhook outbox: statuses waiting for their moment, composed into signed bodies (batched
//! per phone number when configured), and deliveries waiting for their next attempt.
//!
//! A delivery leaves the outbox only when the callback answered 200 or its retries are used up;
//! both are recorded (with every attempt) for the admin API. Nothing is dropped silently.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix_web::web::Bytes;
use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use serde::Serialize;
use serde_json::Value;

use super::payloads::{Route, StatusEvent, statuses_body};
use crate::config::RetryConfig;

/// Unix seconds now.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn unix_now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// How the outbox batches and retries.
#[derive(Debug, Clone)]
pub struct OutboxSettings {
    pub batch_max: usize,
    pub linger: Duration,
    pub retry: RetryConfig,
    pub keep_finished: usize,
    pub app_secret: String,
}

/// Where a delivery is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its first attempt or for a retry.
    Pending,
    /// A POST is under way.
    InFlight,
    /// The callback answered 200.
    Delivered,
    /// Every retry failed; reported, not silently dropped.
    GaveUp,
}

/// One POST of a delivery.
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    /// Unix milliseconds when the attempt ended.
    pub at_ms: u128,
    /// The HTTP status the callback answered, if it answered.
    pub status: Option<u16>,
    /// `ok`, `http_status`, `timeout`, `connect`, `no_callback`, `error`.
    pub outcome: String,
}

/// A delivery as the admin API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryView {
    pub id: u64,
    /// `messages`, `message_template_status_update`, `user_preferences`.
    pub field: String,
    /// `wamid:status` for statuses, the inbound wamid, or the template.
    pub items: Vec<String>,
    pub state: DeliveryState,
    pub attempts: Vec<Attempt>,
    /// The exact body posted (parsed back for reading).
    pub body: Value,
    /// The `X-Hub-Signature-256` header sent with it.
    pub signature: String,
}

struct Delivery {
    view: DeliveryView,
    bytes: Bytes,
    backoff: ExponentialBackoff,
}

struct PendingStatus {
    event: StatusEvent,
    /// Already waited `linger` for its batch to fill: compose it at the next look.
    lingered: bool,
}

/// Counters over the outbox's whole life.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OutboxStats {
    pub statuses_scheduled: u64,
    pub statuses_posted: u64,
    pub deliveries_created: u64,
    pub delivered: u64,
    pub gave_up: u64,
    pub attempts: u64,
    pub failed_attempts: u64,
    pub pending_statuses: usize,
    pub pending_deliveries: usize,
}

/// A delivery handed out for one attempt.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: u64,
    pub body: Bytes,
    pub signature: String,
}

/// What the outbox has for a worker.
#[derive(Debug)]
pub enum Take {
    Job(Job),
    /// Nothing due; the earliest moment something will be.
    Idle(Option<Instant>),
}

/// Statuses of one phone number, with their outbox keys.
type Group = (Route, Vec<((Instant, u64), PendingStatus)>);

#[derive(Default)]
struct Inner {
    next_id: u64,
    pending: BTreeMap<(Instant, u64), PendingStatus>,
    ready: BTreeMap<(Instant, u64), ()>,
    deliveries: HashMap<u64, Delivery>,
    finished: VecDeque<DeliveryView>,
    stats: OutboxStats,
}

/// The outbox. All methods are short critical sections; no I/O happens under its lock.
pub struct Outbox {
    inner: Mutex<Inner>,
    settings: OutboxSettings,
}

impl Outbox {
    pub fn new(settings: OutboxSettings) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            settings,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic under this lock leaves the maps consistent (each step is one insert or remove),
        // so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn backoff(&self) -> ExponentialBackoff {
        let retry = &self.settings.retry;
        ExponentialBuilder::new()
            .with_min_delay(Duration::from_millis(retry.min_delay_ms))
            .with_max_delay(Duration::from_millis(retry.max_delay_ms))
            .with_factor(retry.factor)
            .with_max_times(retry.max_retries)
            .with_total_delay(Some(Duration::from_secs(retry.horizon_hours * 3600)))
            .build()
    }

    /// Schedules statuses, each at its moment.
    pub fn schedule_statuses(&self, statuses: Vec<(Instant, StatusEvent)>) {
        let mut inner = self.lock();
        for (due, event) in statuses {
            inner.next_id += 1;
            let key = (due, inner.next_id);
            inner.stats.statuses_scheduled += 1;
            inner.pending.insert(
                key,
                PendingStatus {
                    event,
                    lingered: false,
                },
            );
        }
    }

    /// Adds a ready-made body, due now.
    pub fn push_body(&self, field: &str, body: &Value, items: Vec<String>) -> u64 {
        let mut inner = self.lock();
        self.create_delivery(&mut inner, field, body, items, Instant::now())
    }

    fn create_delivery(
        &self,
        inner: &mut Inner,
        field: &str,
        body: &Value,
        items: Vec<String>,
        due: Instant,
    ) -> u64 {
        let bytes = Bytes::from(serde_json::to_vec(body).unwrap_or_default());
        let signature =
            herald_platform::secrets::sign_sha256(self.settings.app_secret.as_bytes(), &bytes);
        inner.next_id += 1;
        let id = inner.next_id;
        inner.deliveries.insert(
            id,
            Delivery {
                view: DeliveryView {
                    id,
                    field: field.to_owned(),
                    items,
                    state: DeliveryState::Pending,
                    attempts: Vec::new(),
                    body: body.clone(),
                    signature,
                },
                bytes,
                backoff: self.backoff(),
            },
        );
        inner.ready.insert((due, id), ());
        inner.stats.deliveries_created += 1;
        id
    }

    /// Composes due statuses into deliveries, then hands out the earliest due delivery.
    pub fn take(&self, now: Instant) -> Take {
        let mut inner = self.lock();
        self.compose(&mut inner, now);
        let first = inner.ready.keys().next().copied();
        match first {
            Some((due, id)) if due <= now => {
                inner.ready.remove(&(due, id));
                match inner.deliveries.get_mut(&id) {
                    Some(delivery) => {
                        delivery.view.state = DeliveryState::InFlight;
                        Take::Job(Job {
                            id,
                            body: delivery.bytes.clone(),
                            signature: delivery.view.signature.clone(),
                        })
                    }
                    None => Take::Idle(Some(now)),
                }
            }
            _ => Take::Idle(next_wakeup(&inner)),
        }
    }

    /// Whether something is due now (another worker may be woken for it).
    pub fn has_due(&self, now: Instant) -> bool {
        let inner = self.lock();
        inner
            .ready
            .keys()
            .next()
            .is_some_and(|(due, _)| *due <= now)
            || inner
                .pending
                .keys()
                .next()
                .is_some_and(|(due, _)| *due <= now)
    }

    fn compose(&self, inner: &mut Inner, now: Instant) {
        let due: Vec<(Instant, u64)> = inner
            .pending
            .range(..=(now, u64::MAX))
            .map(|(key, _)| *key)
            .collect();
        if due.is_empty() {
            return;
        }
        // Group by phone number, keeping the order in which statuses fell due.
        let mut groups: Vec<Group> = Vec::new();
        for key in due {
            let Some(status) = inner.pending.remove(&key) else {
                continue;
            };
            match groups
                .iter_mut()
                .find(|(route, _)| *route == status.event.route)
            {
                Some((_, items)) => items.push((key, status)),
                None => groups.push((status.event.route.clone(), vec![(key, status)])),
            }
        }
        let batch_max = self.settings.batch_max.max(1);
        let linger = self.settings.linger;
        let timestamp = unix_now();
        for (route, items) in groups {
            let mut items = items.into_iter().peekable();
            while items.peek().is_some() {
                let chunk: Vec<_> = items.by_ref().take(batch_max).collect();
                let ready = chunk.len() == batch_max
                    || linger.is_zero()
                    || chunk.iter().any(|(_, status)| status.lingered);
                if ready {
                    let labels = chunk
                        .iter()
                        .map(|(_, s)| format!("{}:{}", s.event.wamid, s.event.kind.as_str()))
                        .collect();
                    let statuses = chunk
                        .iter()
                        .map(|(_, s)| s.event.to_json(timestamp))
                        .collect::<Vec<_>>();
                    inner.stats.statuses_posted += statuses.len() as u64;
                    let body = statuses_body(&route, statuses);
                    self.create_delivery(inner, "messages", &body, labels, now);
                } else {
                    for ((_, seq), mut status) in chunk {
                        status.lingered = true;
                        inner.pending.insert((now + linger, seq), status);
                    }
                }
            }
        }
    }

    /// Records the attempt of a job. `Ok` when the callback answered 200; otherwise the delivery
    /// is rescheduled after the next backoff step (returned) or given up (`None`).
    pub fn finish(&self, id: u64, attempt: Attempt, delivered: bool) -> Finished {
        let mut inner = self.lock();
        inner.stats.attempts += 1;
        let Some(mut delivery) = inner.deliveries.remove(&id) else {
            return Finished::Unknown;
        };
        delivery.view.attempts.push(attempt);
        if delivered {
            delivery.view.state = DeliveryState::Delivered;
            inner.stats.delivered += 1;
            self.keep(&mut inner, delivery.view);
            return Finished::Delivered;
        }
        inner.stats.failed_attempts += 1;
        match delivery.backoff.next() {
            Some(wait) => {
                delivery.view.state = DeliveryState::Pending;
                inner.ready.insert((Instant::now() + wait, id), ());
                inner.deliveries.insert(id, delivery);
                Finished::Retrying(wait)
            }
            None => {
                delivery.view.state = DeliveryState::GaveUp;
                inner.stats.gave_up += 1;
                self.keep(&mut inner, delivery.view);
                Finished::GaveUp
            }
        }
    }

    fn keep(&self, inner: &mut Inner, view: DeliveryView) {
        inner.finished.push_back(view);
        while inner.finished.len() > self.settings.keep_finished {
            inner.finished.pop_front();
        }
    }

    /// Deliveries still in the outbox and the finished ones kept, oldest first.
    pub fn deliveries(&self) -> Vec<DeliveryView> {
        let inner = self.lock();
        let mut all: Vec<DeliveryView> = inner
            .finished
            .iter()
            .cloned()
            .chain(inner.deliveries.values().map(|d| d.view.clone()))
            .collect();
        all.sort_by_key(|d| d.id);
        all
    }

    pub fn stats(&self) -> OutboxStats {
        let inner = self.lock();
        OutboxStats {
            pending_statuses: inner.pending.len(),
            pending_deliveries: inner.deliveries.len(),
            ..inner.stats.clone()
        }
    }

    /// Forgets everything (admin reset).
    pub fn clear(&self) {
        *self.lock() = Inner::default();
    }
}

fn next_wakeup(inner: &Inner) -> Option<Instant> {
    let ready = inner.ready.keys().next().map(|(due, _)| *due);
    let pending = inner.pending.keys().next().map(|(due, _)| *due);
    match (ready, pending) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// What became of an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    Delivered,
    Retrying(Duration),
    GaveUp,
    Unknown,
}

/// An attempt record for now.
pub fn attempt(status: Option<u16>, outcome: &str) -> Attempt {
    Attempt {
        at_ms: unix_now_ms(),
        status,
        outcome: outcome.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhooks::payloads::StatusKind;

    fn settings(batch_max: usize, linger_ms: u64, max_retries: usize) -> OutboxSettings {
        OutboxSettings {
            batch_max,
            linger: Duration::from_millis(linger_ms),
            retry: RetryConfig {
                min_delay_ms: 10,
                max_delay_ms: 100,
                factor: 2.0,
                max_retries,
                horizon_hours: 1,
            },
            keep_finished: 100,
            app_secret: "s".into(),
        }
    }

    fn status(wamid: &str, kind: StatusKind) -> StatusEvent {
        StatusEvent {
            route: Route {
                waba_id: "1".into(),
                phone_number_id: "2".into(),
                display_phone_number: "3".into(),
            },
            wamid: wamid.into(),
            kind,
            recipient_id: "49".into(),
            biz_opaque_callback_data: None,
            pricing: None,
            conversation_id: None,
            conversation_expires: None,
        }
    }

    fn job(take: Take) -> Job {
        match take {
            Take::Job(job) => job,
            Take::Idle(at) => panic!("expected a job, idle until {at:?}"),
        }
    }

    #[test]
    fn statuses_due_together_are_batched_up_to_the_maximum() {
        let outbox = Outbox::new(settings(2, 0, 3));
        let now = Instant::now();
        outbox.schedule_statuses(vec![
            (now, status("a", StatusKind::Sent)),
            (now, status("a", StatusKind::Delivered)),
            (now, status("a", StatusKind::Read)),
        ]);
        let first = job(outbox.take(now));
        let body: Value = serde_json::from_slice(&first.body).unwrap();
        let statuses = &body["entry"][0]["changes"][0]["value"]["statuses"];
        assert_eq!(statuses.as_array().unwrap().len(), 2);
        assert_eq!(statuses[0]["status"], "sent");
        let second = job(outbox.take(now));
        assert_ne!(first.id, second.id);
        assert!(matches!(outbox.take(now), Take::Idle(None)));
        assert_eq!(
            herald_platform::secrets::verify_sha256(b"s", &first.body, Some(&first.signature)),
            Ok(())
        );
    }

    #[test]
    fn a_batch_that_is_not_full_waits_for_the_linger_time() {
        let outbox = Outbox::new(settings(5, 50, 3));
        let now = Instant::now();
        outbox.schedule_statuses(vec![(now, status("a", StatusKind::Sent))]);
        let Take::Idle(Some(wake)) = outbox.take(now) else {
            panic!("expected to linger")
        };
        assert_eq!(wake, now + Duration::from_millis(50));
        job(outbox.take(wake));
    }

    #[test]
    fn failed_attempts_are_retried_with_backoff_then_given_up_and_kept() {
        let outbox = Outbox::new(settings(1, 0, 2));
        let id = outbox.push_body("messages", &serde_json::json!({}), vec![]);
        for expected in [Duration::from_millis(10), Duration::from_millis(20)] {
            let job = job(outbox.take(Instant::now() + Duration::from_secs(1)));
            assert_eq!(job.id, id);
            let Finished::Retrying(wait) =
                outbox.finish(id, attempt(Some(500), "http_status"), false)
            else {
                panic!("expected a retry")
            };
            // backon computes in f32: allow for rounding.
            assert!(
                wait.abs_diff(expected) < Duration::from_millis(1),
                "{wait:?}"
            );
        }
        job(outbox.take(Instant::now() + Duration::from_secs(1)));
        assert_eq!(
            outbox.finish(id, attempt(Some(500), "http_status"), false),
            Finished::GaveUp
        );
        let views = outbox.deliveries();
        assert_eq!(views[0].state, DeliveryState::GaveUp);
        assert_eq!(views[0].attempts.len(), 3);
        assert_eq!(outbox.stats().gave_up, 1);
    }
}

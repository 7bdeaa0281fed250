//! The in-process adapter: the bus's semantics without a broker, for `herald serve` on one
//! machine and for fast tests.
//!
//! It behaves like the RabbitMQ adapter where a service could tell the difference: delivery is
//! at-least-once; every delivery is leased to a consumer until it is settled; a delivery that is
//! dropped, nacked, or held by a consumer that goes away returns to its queue, and once it has
//! been delivered `max_deliveries` times it goes to the dead-letter queue instead; settling a
//! delivery whose consumer is gone fails like acking on a dead channel; delays are timers;
//! control events are a tokio broadcast channel. Nothing survives the process, which is the
//! point of the other adapter.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, broadcast};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::message::{Delivery, Message, Outcome, Settle};
use crate::topology::{QueueSpec, dead_letter_queue};

/// How many control events a slow subscriber may fall behind before it is told it lagged.
const CONTROL_CAPACITY: usize = 1024;

/// The in-process bus. Cheap to clone; clones share the same queues.
#[derive(Clone)]
pub struct MemoryBus {
    inner: Arc<Inner>,
}

struct Inner {
    queues: Mutex<HashMap<String, Arc<Queue>>>,
    control: broadcast::Sender<Message>,
    shutdown: CancellationToken,
}

impl fmt::Debug for MemoryBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryBus").finish_non_exhaustive()
    }
}

impl Default for MemoryBus {
    fn default() -> Self {
        Self::new()
    }
}

/// Poisoning only means another thread panicked mid-update of a queue of plain values; the
/// queue is still structurally sound, so carry on rather than take the whole bus down.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl MemoryBus {
    /// An empty bus.
    pub fn new() -> Self {
        let (control, _) = broadcast::channel(CONTROL_CAPACITY);
        Self {
            inner: Arc::new(Inner {
                queues: Mutex::new(HashMap::new()),
                control,
                shutdown: CancellationToken::new(),
            }),
        }
    }

    pub(crate) fn declare_queue(&self, spec: &QueueSpec) -> Result<()> {
        spec.validate()?;
        let mut queues = lock(&self.inner.queues);
        if let Some(existing) = queues.get(spec.name()) {
            // RabbitMQ refuses to redeclare a queue with other arguments; so do we.
            if existing.max_deliveries != spec.delivery_limit() {
                return Err(Error::InvalidTopology(format!(
                    "queue `{}` already declared with max_deliveries {}",
                    spec.name(),
                    existing.max_deliveries
                )));
            }
            return Ok(());
        }
        let dlq_name = dead_letter_queue(spec.name());
        let dead_letter = Arc::new(Queue::new(dlq_name.clone(), u32::MAX, None));
        let queue = Arc::new(Queue::new(
            spec.name().to_owned(),
            spec.delivery_limit(),
            Some(dead_letter.clone()),
        ));
        queues.insert(dlq_name, dead_letter);
        queues.insert(spec.name().to_owned(), queue);
        Ok(())
    }

    fn queue(&self, name: &str) -> Option<Arc<Queue>> {
        lock(&self.inner.queues).get(name).cloned()
    }

    pub(crate) fn publish(&self, queue: &str, message: Message) -> Result<()> {
        let target = self.queue(queue).ok_or_else(|| Error::Unroutable {
            id: message.id(),
            queue: queue.to_owned(),
        })?;
        target.push(Entry::new(message));
        Ok(())
    }

    pub(crate) fn publish_delayed(
        &self,
        queue: &str,
        message: Message,
        delay: Duration,
    ) -> Result<()> {
        let target = self.queue(queue).ok_or_else(|| Error::Unroutable {
            id: message.id(),
            queue: queue.to_owned(),
        })?;
        let shutdown = self.inner.shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = shutdown.cancelled() => {}
                () = tokio::time::sleep(delay) => target.push(Entry::new(message)),
            }
        });
        Ok(())
    }

    pub(crate) fn consume(&self, queue: &str, prefetch: u16) -> Result<MemoryConsumer> {
        let queue = self
            .queue(queue)
            .ok_or_else(|| Error::UnknownQueue(queue.to_owned()))?;
        Ok(MemoryConsumer {
            channel: Arc::new(ConsumerChannel {
                queue,
                permits: Arc::new(Semaphore::new(usize::from(prefetch.max(1)))),
                inflight: Mutex::new(Inflight {
                    next_tag: 0,
                    entries: HashMap::new(),
                }),
            }),
            shutdown: self.inner.shutdown.clone(),
        })
    }

    pub(crate) fn broadcast(&self, message: Message) {
        // An error only means nobody is subscribed, which is not a failure for a broadcast.
        let _ = self.inner.control.send(message);
    }

    pub(crate) fn subscribe(&self) -> MemorySubscription {
        MemorySubscription {
            receiver: self.inner.control.subscribe(),
            shutdown: self.inner.shutdown.clone(),
        }
    }

    pub(crate) fn close(&self) {
        self.inner.shutdown.cancel();
    }

    pub(crate) fn delete_topology(&self) {
        lock(&self.inner.queues).clear();
    }
}

/// A message waiting in a queue, with how many times it was handed out so far.
#[derive(Debug)]
struct Entry {
    message: Message,
    deliveries: u32,
}

impl Entry {
    fn new(message: Message) -> Self {
        Self {
            message,
            deliveries: 0,
        }
    }
}

struct Queue {
    name: String,
    max_deliveries: u32,
    ready: Mutex<VecDeque<Entry>>,
    /// Woken on every push; waiters register before looking at `ready`, so none is missed.
    pushed: Notify,
    dead_letter: Option<Arc<Queue>>,
}

impl Queue {
    fn new(name: String, max_deliveries: u32, dead_letter: Option<Arc<Queue>>) -> Self {
        Self {
            name,
            max_deliveries,
            ready: Mutex::new(VecDeque::new()),
            pushed: Notify::new(),
            dead_letter,
        }
    }

    fn push(&self, entry: Entry) {
        lock(&self.ready).push_back(entry);
        self.pushed.notify_waiters();
    }

    fn pop(&self) -> Option<Entry> {
        lock(&self.ready).pop_front()
    }

    /// Returns a delivery that was not acked: back in line, or to the dead-letter queue once
    /// it has used up its deliveries (RabbitMQ's `x-delivery-limit`).
    fn give_back(&self, entry: Entry) {
        if entry.deliveries >= self.max_deliveries {
            tracing::warn!(
                queue = %self.name,
                message_id = %entry.message.id(),
                deliveries = entry.deliveries,
                "delivery limit reached, dead-lettering"
            );
            self.dead_letter(entry);
        } else {
            self.push(entry);
        }
    }

    fn dead_letter(&self, entry: Entry) {
        match &self.dead_letter {
            Some(dead_letter) => dead_letter.push(Entry::new(entry.message)),
            // A dead-letter queue has none of its own: rejecting from it discards, as on RabbitMQ.
            None => tracing::warn!(
                queue = %self.name,
                message_id = %entry.message.id(),
                "message rejected from a dead-letter queue, discarded"
            ),
        }
    }
}

/// The in-process equivalent of a consumer's channel: it owns the deliveries it handed out
/// until they are settled, and gives them all back when it goes away.
struct ConsumerChannel {
    queue: Arc<Queue>,
    permits: Arc<Semaphore>,
    inflight: Mutex<Inflight>,
}

struct Inflight {
    next_tag: u64,
    entries: HashMap<u64, Entry>,
}

pub(crate) struct MemoryConsumer {
    channel: Arc<ConsumerChannel>,
    shutdown: CancellationToken,
}

impl MemoryConsumer {
    /// The next delivery; `None` once the bus is closed. Cancel-safe.
    pub(crate) async fn next(&mut self) -> Option<Delivery> {
        let channel = &self.channel;
        // Prefetch: at most `prefetch` deliveries unsettled at once, as with `basic.qos`.
        let permit = tokio::select! {
            biased;
            () = self.shutdown.cancelled() => return None,
            permit = channel.permits.clone().acquire_owned() => permit.ok()?,
        };
        loop {
            let pushed = channel.queue.pushed.notified();
            tokio::pin!(pushed);
            pushed.as_mut().enable();
            if let Some(mut entry) = channel.queue.pop() {
                entry.deliveries += 1;
                let message = entry.message.clone();
                let count = entry.deliveries;
                let tag = {
                    let mut inflight = lock(&channel.inflight);
                    inflight.next_tag += 1;
                    let tag = inflight.next_tag;
                    inflight.entries.insert(tag, entry);
                    tag
                };
                let lease = Lease {
                    channel: channel.clone(),
                    tag,
                    _permit: permit,
                };
                return Some(Delivery::new(message, count, Settle::Memory(lease)));
            }
            tokio::select! {
                biased;
                () = self.shutdown.cancelled() => return None,
                () = pushed => {}
            }
        }
    }
}

impl Drop for MemoryConsumer {
    /// Like a closed AMQP channel: everything still leased goes back to the queue, and the
    /// leases stop working.
    fn drop(&mut self) {
        let entries: Vec<Entry> = lock(&self.channel.inflight)
            .entries
            .drain()
            .map(|(_, entry)| entry)
            .collect();
        for entry in entries {
            self.channel.queue.give_back(entry);
        }
    }
}

/// A delivery's claim on its message while it is unsettled.
pub(crate) struct Lease {
    channel: Arc<ConsumerChannel>,
    tag: u64,
    _permit: OwnedSemaphorePermit,
}

impl fmt::Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lease")
            .field("queue", &self.channel.queue.name)
            .field("tag", &self.tag)
            .finish()
    }
}

impl Lease {
    pub(crate) fn settle(self, outcome: Outcome) -> Result<()> {
        let entry = lock(&self.channel.inflight)
            .entries
            .remove(&self.tag)
            .ok_or(Error::DeliveryChannelClosed)?;
        match outcome {
            Outcome::Ack => {}
            Outcome::Requeue => self.channel.queue.give_back(entry),
            Outcome::DeadLetter => self.channel.queue.dead_letter(entry),
        }
        Ok(())
    }
}

pub(crate) struct MemorySubscription {
    receiver: broadcast::Receiver<Message>,
    shutdown: CancellationToken,
}

impl MemorySubscription {
    pub(crate) async fn recv(&mut self) -> Result<Message> {
        tokio::select! {
            biased;
            () = self.shutdown.cancelled() => Err(Error::Closed),
            received = self.receiver.recv() => match received {
                Ok(message) => Ok(message),
                Err(broadcast::error::RecvError::Lagged(_)) => Err(Error::Lagged),
                Err(broadcast::error::RecvError::Closed) => Err(Error::Closed),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;
    use serde::{Deserialize, Serialize};

    use super::*;
    use crate::message::Event;

    #[derive(Debug, Serialize, Deserialize)]
    struct Ping(u32);

    impl Event for Ping {
        const KIND: &'static str = "ping";
        const VERSION: u16 = 1;
    }

    fn bus_with_queue() -> MemoryBus {
        let bus = MemoryBus::new();
        bus.declare_queue(&QueueSpec::new("jobs")).unwrap();
        bus
    }

    fn publish(bus: &MemoryBus, n: u32) {
        bus.publish("jobs", Message::encode(&Ping(n)).unwrap())
            .unwrap();
    }

    #[tokio::test]
    async fn prefetch_bounds_the_unsettled_deliveries() {
        let bus = bus_with_queue();
        for n in 0..3 {
            publish(&bus, n);
        }
        let mut consumer = bus.consume("jobs", 2).unwrap();
        let first = consumer.next().await.unwrap();
        let _second = consumer.next().await.unwrap();
        // A third message is ready, but the window is full.
        assert!(consumer.next().now_or_never().is_none());
        first.ack().await.unwrap();
        assert!(consumer.next().now_or_never().flatten().is_some());
    }

    #[tokio::test]
    async fn closing_the_bus_ends_its_consumers_and_subscriptions() {
        let bus = bus_with_queue();
        let mut consumer = bus.consume("jobs", 1).unwrap();
        let mut subscription = bus.subscribe();
        bus.close();
        assert!(consumer.next().await.is_none());
        assert!(matches!(subscription.recv().await, Err(Error::Closed)));
    }

    #[tokio::test]
    async fn a_slow_subscriber_is_told_it_lagged() {
        let bus = MemoryBus::new();
        let mut subscription = bus.subscribe();
        for n in 0..=u32::try_from(CONTROL_CAPACITY).unwrap() {
            bus.broadcast(Message::encode(&Ping(n)).unwrap());
        }
        assert!(matches!(subscription.recv().await, Err(Error::Lagged)));
        // And carries on with what is still buffered.
        assert!(subscription.recv().await.is_ok());
    }

    #[test]
    fn redeclaring_with_another_delivery_limit_is_refused() {
        let bus = bus_with_queue();
        let changed = QueueSpec::new("jobs").max_deliveries(9);
        assert!(matches!(
            bus.declare_queue(&changed),
            Err(Error::InvalidTopology(_))
        ));
    }
}

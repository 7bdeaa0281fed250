//! Herald's message bus: the only way services talk to each other (ARCHITECTURE §3, §6).
//!
//! [`Bus`] is the port. It has two adapters with the same semantics, chosen at start-up:
//! [`Bus::amqp`] (RabbitMQ through lapin, for the distributed deployment) and [`Bus::memory`]
//! (in-process, for `herald serve` and tests). Services hold a `Bus` and never learn which
//! one runs.
//!
//! What a service can rely on, on both adapters:
//! - **Work queues** ([`Bus::declare_queue`], [`Bus::publish`], [`Bus::consume`]): at-least-once,
//!   no ordering promise. `publish` returns only once the broker has the message (publisher
//!   confirm); a queue nobody declared is an error, not a silent drop.
//! - **Explicit settlement**: every [`Delivery`] is acked, nacked with requeue, or rejected to
//!   the dead-letter queue by the service; one dropped unsettled is requeued. A message
//!   delivered [`QueueSpec::max_deliveries`] times goes to the queue's dead-letter queue
//!   ([`Bus::consume_dead_letters`]) instead of looping.
//! - **Delays** ([`Bus::publish_delayed`]) for retries: the message reaches the queue no earlier
//!   than its delay.
//! - **Control events** ([`Bus::broadcast`], [`Bus::subscribe`]): every subscriber, on every
//!   replica, receives each event published after it subscribed.
//! - **Recovery**: the amqp adapter reconnects by itself; a [`Consumer`] keeps yielding after
//!   the broker comes back, and settling a delivery from a dead connection is an error
//!   ([`Error::DeliveryChannelClosed`]) because the broker will redeliver it.
//! - **Tracing**: publishing records the current W3C trace context in the message;
//!   [`Delivery::parent_context`] gives it back to the consumer.

mod amqp;
mod error;
mod memory;
mod message;
mod topology;

use std::marker::PhantomData;
use std::time::Duration;

pub use crate::amqp::{AmqpBus, AmqpConfig};
pub use crate::error::{Error, Result};
pub use crate::memory::MemoryBus;
pub use crate::message::{Delivery, Event, Message};
pub use crate::topology::{DEFAULT_MAX_DELIVERIES, QueueSpec, dead_letter_queue};

/// The message bus. Cheap to clone; clones share connections and queues.
#[derive(Clone, Debug)]
pub enum Bus {
    /// RabbitMQ.
    Amqp(AmqpBus),
    /// In-process.
    Memory(MemoryBus),
}

impl Bus {
    /// Connects to RabbitMQ and declares the namespace's exchanges.
    pub async fn amqp(config: AmqpConfig) -> Result<Self> {
        Ok(Bus::Amqp(AmqpBus::connect(config).await?))
    }

    /// A fresh in-process bus.
    pub fn memory() -> Self {
        Bus::Memory(MemoryBus::new())
    }

    /// Declares a work queue and its dead-letter queue. Idempotent: call it at start-up from
    /// every service that publishes to or consumes the queue. Redeclaring with another delivery
    /// limit is an error.
    pub async fn declare_queue(&self, spec: &QueueSpec) -> Result<()> {
        match self {
            Bus::Amqp(bus) => bus.declare_queue(spec).await,
            Bus::Memory(bus) => bus.declare_queue(spec),
        }
    }

    /// Publishes `event` to `queue`; see [`Bus::publish_message`]. Returns the message id.
    pub async fn publish<E: Event>(&self, queue: &str, event: &E) -> Result<uuid::Uuid> {
        let message = Message::encode(event)?;
        let id = message.id();
        self.publish_message(queue, message).await?;
        Ok(id)
    }

    /// Publishes to a work queue and returns once the broker confirmed it has the message.
    ///
    /// Fails with [`Error::Unroutable`] if the queue is not declared and [`Error::Nacked`] if
    /// the broker refused it. While the broker is unreachable it retries (with backoff) for
    /// [`AmqpConfig::retry_for`]; a retry after a lost confirm may deliver the message twice.
    pub async fn publish_message(&self, queue: &str, mut message: Message) -> Result<()> {
        message.inject_current_context();
        match self {
            Bus::Amqp(bus) => bus.publish(queue, &message).await,
            Bus::Memory(bus) => bus.publish(queue, message),
        }
    }

    /// Publishes `event` to `queue` so that it becomes deliverable after `delay`, not before.
    ///
    /// Meant for retries with backoff. On RabbitMQ each distinct delay (in milliseconds) gets
    /// its own durable delay queue, so use a handful of fixed delays, not random ones.
    pub async fn publish_delayed<E: Event>(
        &self,
        queue: &str,
        event: &E,
        delay: Duration,
    ) -> Result<uuid::Uuid> {
        let mut message = Message::encode(event)?;
        message.inject_current_context();
        let id = message.id();
        match self {
            Bus::Amqp(bus) => bus.publish_delayed(queue, &message, delay).await?,
            Bus::Memory(bus) => bus.publish_delayed(queue, message, delay)?,
        }
        Ok(id)
    }

    /// Consumes a declared queue. At most `prefetch` deliveries are unsettled at once.
    pub async fn consume(&self, queue: &str, prefetch: u16) -> Result<Consumer> {
        let inner = match self {
            Bus::Amqp(bus) => ConsumerInner::Amqp(bus.consume(queue, prefetch).await?),
            Bus::Memory(bus) => ConsumerInner::Memory(bus.consume(queue, prefetch)?),
        };
        Ok(Consumer { inner })
    }

    /// Consumes the dead-letter queue of `queue` (for inspection, replay or tests).
    pub async fn consume_dead_letters(&self, queue: &str, prefetch: u16) -> Result<Consumer> {
        self.consume(&dead_letter_queue(queue), prefetch).await
    }

    /// Sends a control event to every current subscriber of its kind, on every replica.
    /// Waits for the broker's confirm; having no subscriber is not an error.
    pub async fn broadcast<E: Event>(&self, event: &E) -> Result<uuid::Uuid> {
        let mut message = Message::encode(event)?;
        message.inject_current_context();
        let id = message.id();
        match self {
            Bus::Amqp(bus) => bus.broadcast(&message).await?,
            Bus::Memory(bus) => bus.broadcast(message),
        }
        Ok(id)
    }

    /// Subscribes this process to control events of type `E`. Receives every event
    /// broadcast after this returns.
    pub async fn subscribe<E: Event>(&self) -> Result<Subscription<E>> {
        let inner = match self {
            Bus::Amqp(bus) => SubscriptionInner::Amqp(bus.subscribe(E::KIND).await?),
            Bus::Memory(bus) => SubscriptionInner::Memory(bus.subscribe()),
        };
        Ok(Subscription {
            inner,
            _event: PhantomData,
        })
    }

    /// Stops the bus: consumers return `None`, subscriptions [`Error::Closed`], pending delays
    /// of the memory bus are dropped, and the broker connection is closed (unsettled
    /// deliveries return to their queues).
    pub async fn close(&self) {
        match self {
            Bus::Amqp(bus) => bus.close().await,
            Bus::Memory(bus) => bus.close(),
        }
    }

    /// Deletes every queue this handle declared (work, dead-letter and delay queues) and, on
    /// RabbitMQ, the namespace's exchanges. For tests and admin tooling: it discards messages.
    pub async fn delete_topology(&self) -> Result<()> {
        match self {
            Bus::Amqp(bus) => bus.delete_topology().await,
            Bus::Memory(bus) => {
                bus.delete_topology();
                Ok(())
            }
        }
    }
}

/// A stream of deliveries from one queue. Dropping it returns its unsettled deliveries to the
/// queue (and makes settling them fail), as closing an AMQP channel does.
pub struct Consumer {
    inner: ConsumerInner,
}

enum ConsumerInner {
    Amqp(amqp::AmqpConsumer),
    Memory(memory::MemoryConsumer),
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer").finish_non_exhaustive()
    }
}

impl Consumer {
    /// The next delivery; waits while the queue is empty or the prefetch window is full, and
    /// (amqp) while the broker is away. `None` once the bus is closed. Cancel-safe, so it can
    /// sit in a `tokio::select!` with a shutdown signal.
    pub async fn next(&mut self) -> Option<Delivery> {
        match &mut self.inner {
            ConsumerInner::Amqp(consumer) => consumer.next().await,
            ConsumerInner::Memory(consumer) => consumer.next().await,
        }
    }
}

/// Control events of one kind, as they are broadcast.
pub struct Subscription<E> {
    inner: SubscriptionInner,
    _event: PhantomData<fn() -> E>,
}

enum SubscriptionInner {
    Amqp(amqp::AmqpSubscription),
    Memory(memory::MemorySubscription),
}

impl<E> std::fmt::Debug for Subscription<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription").finish_non_exhaustive()
    }
}

impl<E: Event> Subscription<E> {
    /// The next event.
    ///
    /// [`Error::Lagged`] means events may have been missed (a slow subscriber, or a reconnect):
    /// re-read the state from the store and keep calling. A decode error concerns one event
    /// only. [`Error::Closed`] is final.
    pub async fn recv(&mut self) -> Result<E> {
        loop {
            let message = match &mut self.inner {
                SubscriptionInner::Amqp(subscription) => subscription.recv().await?,
                SubscriptionInner::Memory(subscription) => subscription.recv().await?,
            };
            // The in-process channel carries every kind; the broker routes by kind already.
            if message.kind() == E::KIND {
                return message.decode();
            }
        }
    }
}

//! The RabbitMQ adapter (lapin).
//!
//! Topology, all under one namespace `ns` (default `herald`) and declared in code, idempotently:
//!
//! | what | name | kind |
//! |---|---|---|
//! | work exchange | `{ns}.work` | durable direct; each work queue bound by its logical name |
//! | dead-letter exchange | `{ns}.dead-letter` | durable direct |
//! | control exchange | `{ns}.control` | durable topic; routing key = event kind |
//! | work queue | `{ns}.{queue}` | quorum; `x-delivery-limit`, dead-letters to `{ns}.dead-letter` |
//! | dead-letter queue | `{ns}.{queue}.dlq` | quorum, bound to `{ns}.dead-letter` |
//! | delay queue | `{ns}.{queue}.delay.{ms}ms` | classic durable, `x-message-ttl`, dead-letters into `{ns}.work` |
//! | control subscriber | server-named | exclusive, auto-delete, one per subscriber |
//!
//! Rules (Vector's sink and source are the model): every publishing channel is in confirm
//! mode and every publish awaits its confirm; a nack or a returned (mandatory, unroutable)
//! message is an error; consumers use `basic.qos` and ack only when the service says so; dead
//! channels and connections are replaced, not patched (see `connector.rs`).
//!
//! Delivery limits: quorum queues count failed deliveries in `x-delivery-count` and dead-letter
//! a message once that count exceeds `x-delivery-limit`. We set the limit to
//! `max_deliveries - 1`, so a message is delivered at most `max_deliveries` times. Dead
//! lettering uses the `at-least-once` strategy, so a poison message is not lost on its way to
//! the dead-letter queue.

mod codec;
mod connector;

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicPublishOptions, BasicQosOptions,
    BasicRejectOptions, ConfirmSelectOptions, ExchangeDeclareOptions, ExchangeDeleteOptions,
    QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, ExchangeKind};
use tokio_util::sync::CancellationToken;

use self::connector::{Connector, Patience};
use crate::error::{Error, Result};
use crate::message::{Delivery, Message, Outcome};
use crate::topology::{DEAD_LETTER_SUFFIX, DELAY_INFIX, QueueSpec};

/// How to reach RabbitMQ and how patient to be with it.
#[derive(Clone, Debug)]
pub struct AmqpConfig {
    /// `amqp://user:password@host:5672/vhost` (vhost `/` is `%2f`). Append `?heartbeat=10`
    /// to notice a silently dead broker sooner than the server's default.
    pub uri: String,
    /// Prefix of every exchange and queue this bus declares.
    pub namespace: String,
    /// Shown in the RabbitMQ management UI and `rabbitmqctl list_connections`.
    pub connection_name: String,
    /// How long start-up, declarations and publishes keep retrying while the broker is
    /// unreachable before they return the error. Consumers retry for as long as it takes.
    pub retry_for: Duration,
    /// First wait between retries.
    pub min_backoff: Duration,
    /// Longest wait between retries.
    pub max_backoff: Duration,
}

impl AmqpConfig {
    /// Defaults for `uri`: namespace `herald`, retry for 30 s, back off from 100 ms to 5 s.
    pub fn new(uri: impl Into<String>) -> Self {
        Self {
            uri: uri.into(),
            namespace: "herald".to_owned(),
            connection_name: "herald".to_owned(),
            retry_for: Duration::from_secs(30),
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
        }
    }

    /// Replaces the namespace.
    #[must_use]
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// Replaces the connection name.
    #[must_use]
    pub fn connection_name(mut self, name: impl Into<String>) -> Self {
        self.connection_name = name.into();
        self
    }

    /// Replaces how long operations retry while the broker is away.
    #[must_use]
    pub fn retry_for(mut self, retry_for: Duration) -> Self {
        self.retry_for = retry_for;
        self
    }
}

/// Broker-side names derived from the namespace.
#[derive(Clone, Debug)]
struct Names {
    ns: String,
}

impl Names {
    fn work_exchange(&self) -> String {
        format!("{}.work", self.ns)
    }
    fn dead_letter_exchange(&self) -> String {
        format!("{}.dead-letter", self.ns)
    }
    fn control_exchange(&self) -> String {
        format!("{}.control", self.ns)
    }
    /// A queue's broker name; the dead-letter queue of `q` is the logical `q.dlq`.
    fn queue(&self, logical: &str) -> String {
        format!("{}.{logical}", self.ns)
    }
    fn delay_queue(&self, logical: &str, millis: u64) -> String {
        format!("{}.{logical}{DELAY_INFIX}{millis}ms", self.ns)
    }
}

/// The RabbitMQ bus. Cheap to clone; clones share one connection.
#[derive(Clone)]
pub struct AmqpBus {
    shared: Arc<Shared>,
}

struct Shared {
    names: Names,
    connector: Connector,
    /// The confirm-mode channel all publishes share (lapin pipelines them); replaced when it
    /// dies.
    publisher: tokio::sync::Mutex<Option<Channel>>,
    /// Broker names of what this handle declared or checked: delay queues are declared on
    /// first use, and `delete_topology` needs the list.
    declared: Mutex<Declared>,
}

#[derive(Default)]
struct Declared {
    queues: BTreeSet<String>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A set of names stays valid whatever panicked while it was held.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl fmt::Debug for AmqpBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmqpBus")
            .field("namespace", &self.shared.names.ns)
            .finish_non_exhaustive()
    }
}

fn table(entries: &[(&str, AMQPValue)]) -> FieldTable {
    let mut table = FieldTable::default();
    for (key, value) in entries {
        table.insert((*key).into(), value.clone());
    }
    table
}

fn text(value: &str) -> AMQPValue {
    AMQPValue::LongString(value.into())
}

const DURABLE_QUEUE: QueueDeclareOptions = QueueDeclareOptions {
    passive: false,
    durable: true,
    exclusive: false,
    auto_delete: false,
    nowait: false,
};

impl AmqpBus {
    /// Connects (retrying for `retry_for`) and declares the namespace's exchanges.
    #[tracing::instrument(name = "bus.connect", skip_all, fields(namespace = %config.namespace))]
    pub async fn connect(config: AmqpConfig) -> Result<Self> {
        crate::topology::validate_name(&config.namespace)?;
        let shared = Arc::new(Shared {
            names: Names {
                ns: config.namespace.clone(),
            },
            connector: Connector::new(&config, CancellationToken::new()),
            publisher: tokio::sync::Mutex::new(None),
            declared: Mutex::new(Declared::default()),
        });
        let bus = Self { shared };
        bus.declare_exchanges().await?;
        Ok(bus)
    }

    async fn declare_exchanges(&self) -> Result<()> {
        let names = &self.shared.names;
        let exchanges = [
            (names.work_exchange(), ExchangeKind::Direct),
            (names.dead_letter_exchange(), ExchangeKind::Direct),
            (names.control_exchange(), ExchangeKind::Topic),
        ];
        self.with_channel("declare exchanges", |channel| {
            let exchanges = exchanges.clone();
            async move {
                for (name, kind) in exchanges {
                    channel
                        .exchange_declare(
                            name.into(),
                            kind,
                            ExchangeDeclareOptions {
                                durable: true,
                                ..ExchangeDeclareOptions::default()
                            },
                            FieldTable::default(),
                        )
                        .await
                        .map_err(Error::broker("declare an exchange"))?;
                }
                Ok(())
            }
        })
        .await
    }

    /// Runs `operation` on a fresh short-lived channel, retrying transient failures. Topology
    /// operations get their own channel because a refused declaration closes the channel it
    /// was made on.
    async fn with_channel<T, F, Fut>(&self, action: &'static str, operation: F) -> Result<T>
    where
        F: Fn(Channel) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let connector = &self.shared.connector;
        connector
            .retry(Patience::Bounded, action, || async {
                let channel = connector
                    .connection()
                    .await?
                    .create_channel()
                    .await
                    .map_err(Error::broker("open a channel"))?;
                let result = operation(channel.clone()).await;
                if channel.status().connected() {
                    let _ = channel.close(200, "done".into()).await;
                }
                result
            })
            .await
    }

    #[tracing::instrument(name = "bus.declare_queue", skip_all, fields(queue = %spec.name()))]
    pub(crate) async fn declare_queue(&self, spec: &QueueSpec) -> Result<()> {
        spec.validate()?;
        let names = &self.shared.names;
        let queue = names.queue(spec.name());
        let dead_letter = names.queue(&format!("{}{DEAD_LETTER_SUFFIX}", spec.name()));
        let delivery_limit = i64::from(spec.delivery_limit()) - 1;
        self.with_channel("declare a queue", |channel| {
            let (queue, dead_letter) = (queue.clone(), dead_letter.clone());
            async move {
                let quorum = table(&[("x-queue-type", text("quorum"))]);
                channel
                    .queue_declare(dead_letter.as_str().into(), DURABLE_QUEUE, quorum)
                    .await
                    .map_err(Error::broker("declare a dead-letter queue"))?;
                channel
                    .queue_bind(
                        dead_letter.as_str().into(),
                        names.dead_letter_exchange().into(),
                        spec.name().into(),
                        QueueBindOptions::default(),
                        FieldTable::default(),
                    )
                    .await
                    .map_err(Error::broker("bind a dead-letter queue"))?;
                let arguments = table(&[
                    ("x-queue-type", text("quorum")),
                    ("x-delivery-limit", AMQPValue::LongLongInt(delivery_limit)),
                    (
                        "x-dead-letter-exchange",
                        text(&names.dead_letter_exchange()),
                    ),
                    ("x-dead-letter-routing-key", text(spec.name())),
                    // Keep a poison message until the dead-letter queue confirmed it; needs
                    // reject-publish overflow.
                    ("x-dead-letter-strategy", text("at-least-once")),
                    ("x-overflow", text("reject-publish")),
                ]);
                channel
                    .queue_declare(queue.as_str().into(), DURABLE_QUEUE, arguments)
                    .await
                    .map_err(Error::broker("declare a work queue"))?;
                channel
                    .queue_bind(
                        queue.as_str().into(),
                        names.work_exchange().into(),
                        spec.name().into(),
                        QueueBindOptions::default(),
                        FieldTable::default(),
                    )
                    .await
                    .map_err(Error::broker("bind a work queue"))?;
                Ok(())
            }
        })
        .await
        .map_err(|error| match error {
            // PRECONDITION_FAILED: the queue exists with other arguments.
            Error::Broker { source, .. } if source.is_amqp_soft_error() => {
                Error::InvalidTopology(format!("queue `{}`: {source}", spec.name()))
            }
            other => other,
        })?;
        let mut declared = lock(&self.shared.declared);
        declared.queues.insert(queue);
        declared.queues.insert(dead_letter);
        Ok(())
    }

    /// The shared confirm-mode publishing channel, reopened if it died.
    async fn publisher(&self) -> Result<Channel> {
        let mut slot = self.shared.publisher.lock().await;
        if let Some(channel) = slot.as_ref().filter(|c| c.status().connected()) {
            return Ok(channel.clone());
        }
        let channel = self
            .shared
            .connector
            .connection()
            .await?
            .create_channel()
            .await
            .map_err(Error::broker("open a publishing channel"))?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(Error::broker("enable publisher confirms"))?;
        *slot = Some(channel.clone());
        Ok(channel)
    }

    /// Publishes and waits for the broker's confirm, retrying on a fresh channel if the
    /// connection dies on the way (the message may then arrive twice: at-least-once).
    async fn publish_confirmed(
        &self,
        exchange: &str,
        routing_key: &str,
        mandatory: bool,
        logical_queue: &str,
        message: &Message,
    ) -> Result<()> {
        let properties = codec::properties(message);
        self.shared
            .connector
            .retry(Patience::Bounded, "publish", || async {
                let confirm = self
                    .publisher()
                    .await?
                    .basic_publish(
                        exchange.into(),
                        routing_key.into(),
                        BasicPublishOptions {
                            mandatory,
                            ..BasicPublishOptions::default()
                        },
                        message.payload(),
                        properties.clone(),
                    )
                    .await
                    .map_err(Error::broker("publish"))?
                    .await
                    .map_err(Error::broker("await the publisher confirm"))?;
                if confirm.is_nack() {
                    return Err(Error::Nacked { id: message.id() });
                }
                if confirm.take_message().is_some() {
                    return Err(Error::Unroutable {
                        id: message.id(),
                        queue: logical_queue.to_owned(),
                    });
                }
                Ok(())
            })
            .await
    }

    #[tracing::instrument(name = "bus.publish", skip_all, fields(queue = %queue, message_id = %message.id(), kind = message.kind()))]
    pub(crate) async fn publish(&self, queue: &str, message: &Message) -> Result<()> {
        let exchange = self.shared.names.work_exchange();
        self.publish_confirmed(&exchange, queue, true, queue, message)
            .await
    }

    #[tracing::instrument(name = "bus.publish_delayed", skip_all, fields(queue = %queue, message_id = %message.id(), ?delay))]
    pub(crate) async fn publish_delayed(
        &self,
        queue: &str,
        message: &Message,
        delay: Duration,
    ) -> Result<()> {
        // Rounded up so that the message never arrives before its delay.
        let millis = u64::try_from(delay.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX);
        if millis == 0 {
            return self.publish(queue, message).await;
        }
        let delay_queue = self.ensure_delay_queue(queue, millis).await?;
        let published = self
            .publish_confirmed("", &delay_queue, true, queue, message)
            .await;
        if matches!(published, Err(Error::Unroutable { .. })) {
            // Someone deleted it; declare it again next time.
            lock(&self.shared.declared).queues.remove(&delay_queue);
        }
        published
    }

    /// Declares `{queue}.delay.{millis}ms` on first use. One queue per distinct delay keeps
    /// every message in a queue with the same TTL, so the head always expires first (TTL is
    /// only enforced at the head of a queue).
    async fn ensure_delay_queue(&self, queue: &str, millis: u64) -> Result<String> {
        let names = &self.shared.names;
        let delay_queue = names.delay_queue(queue, millis);
        if lock(&self.shared.declared).queues.contains(&delay_queue) {
            return Ok(delay_queue);
        }
        let work_queue = names.queue(queue);
        let found = self
            .with_channel("declare a delay queue", |channel| {
                let (work_queue, delay_queue) = (work_queue.clone(), delay_queue.clone());
                async move {
                    // An expired message routed to a queue that does not exist would vanish,
                    // so insist that the target exists.
                    let passive = QueueDeclareOptions {
                        passive: true,
                        ..QueueDeclareOptions::default()
                    };
                    if let Err(error) = channel
                        .queue_declare(work_queue.as_str().into(), passive, FieldTable::default())
                        .await
                    {
                        return if error.is_amqp_soft_error() {
                            Ok(false)
                        } else {
                            Err(Error::broker("check the work queue")(error))
                        };
                    }
                    let arguments = table(&[
                        ("x-queue-type", text("classic")),
                        (
                            "x-message-ttl",
                            AMQPValue::LongLongInt(i64::try_from(millis).unwrap_or(i64::MAX)),
                        ),
                        ("x-dead-letter-exchange", text(&names.work_exchange())),
                        ("x-dead-letter-routing-key", text(queue)),
                    ]);
                    channel
                        .queue_declare(delay_queue.as_str().into(), DURABLE_QUEUE, arguments)
                        .await
                        .map_err(Error::broker("declare a delay queue"))?;
                    Ok(true)
                }
            })
            .await?;
        if !found {
            return Err(Error::UnknownQueue(queue.to_owned()));
        }
        lock(&self.shared.declared)
            .queues
            .insert(delay_queue.clone());
        Ok(delay_queue)
    }

    #[tracing::instrument(name = "bus.broadcast", skip_all, fields(message_id = %message.id(), kind = message.kind()))]
    pub(crate) async fn broadcast(&self, message: &Message) -> Result<()> {
        let exchange = self.shared.names.control_exchange();
        // Not mandatory: no subscriber at the moment is not an error for a broadcast.
        self.publish_confirmed(&exchange, message.kind(), false, message.kind(), message)
            .await
    }

    #[tracing::instrument(name = "bus.consume", skip_all, fields(queue = %queue))]
    pub(crate) async fn consume(&self, queue: &str, prefetch: u16) -> Result<AmqpConsumer> {
        let mut consumer = AmqpConsumer {
            bus: self.clone(),
            queue: self.shared.names.queue(queue),
            prefetch: prefetch.max(1),
            stream: None,
        };
        // The first attempt is made now, so that a missing queue is reported to the caller
        // instead of being retried in the background forever.
        let stream = self
            .shared
            .connector
            .retry(Patience::Bounded, "start consuming", || consumer.open())
            .await
            .map_err(|error| match error {
                Error::Broker { source, .. } if source.is_amqp_soft_error() => {
                    Error::UnknownQueue(queue.to_owned())
                }
                other => other,
            })?;
        consumer.stream = Some(stream);
        Ok(consumer)
    }

    pub(crate) async fn subscribe(&self, kind: &'static str) -> Result<AmqpSubscription> {
        let mut subscription = AmqpSubscription {
            bus: self.clone(),
            kind,
            stream: None,
        };
        let stream = self
            .shared
            .connector
            .retry(Patience::Bounded, "subscribe to control events", || {
                subscription.open()
            })
            .await?;
        subscription.stream = Some(stream);
        Ok(subscription)
    }

    pub(crate) async fn close(&self) {
        self.shared.connector.shutdown().cancel();
        self.shared.connector.close().await;
    }

    /// Deletes every queue this handle declared and the namespace's exchanges.
    pub(crate) async fn delete_topology(&self) -> Result<()> {
        let queues: Vec<String> = std::mem::take(&mut lock(&self.shared.declared).queues)
            .into_iter()
            .collect();
        let names = &self.shared.names;
        let exchanges = [
            names.work_exchange(),
            names.dead_letter_exchange(),
            names.control_exchange(),
        ];
        self.with_channel("delete topology", |channel| {
            let queues = queues.clone();
            let exchanges = exchanges.clone();
            async move {
                for queue in queues {
                    channel
                        .queue_delete(queue.into(), QueueDeleteOptions::default())
                        .await
                        .map_err(Error::broker("delete a queue"))?;
                }
                for exchange in exchanges {
                    channel
                        .exchange_delete(exchange.into(), ExchangeDeleteOptions::default())
                        .await
                        .map_err(Error::broker("delete an exchange"))?;
                }
                Ok(())
            }
        })
        .await
    }
}

/// A consumer that outlives its channel: when the channel or connection dies it opens new
/// ones (backing off, for as long as it takes) and carries on. Deliveries from the dead
/// channel fail to settle; the broker redelivers them.
pub(crate) struct AmqpConsumer {
    bus: AmqpBus,
    queue: String,
    prefetch: u16,
    stream: Option<lapin::Consumer>,
}

impl AmqpConsumer {
    async fn open(&self) -> Result<lapin::Consumer> {
        let channel = self
            .bus
            .shared
            .connector
            .connection()
            .await?
            .create_channel()
            .await
            .map_err(Error::broker("open a consumer channel"))?;
        channel
            .basic_qos(self.prefetch, BasicQosOptions::default())
            .await
            .map_err(Error::broker("set the prefetch"))?;
        // The lapin consumer keeps the channel open for as long as it lives.
        channel
            .basic_consume(
                self.queue.as_str().into(),
                "".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(Error::broker("start consuming"))
    }

    pub(crate) async fn next(&mut self) -> Option<Delivery> {
        let shutdown = self.bus.shared.connector.shutdown().clone();
        loop {
            let stream = match self.stream.as_mut() {
                Some(stream) => stream,
                None => {
                    let stream = self
                        .bus
                        .shared
                        .connector
                        .retry(Patience::Forever, "resume consuming", || self.open())
                        .await
                        .ok()?;
                    tracing::info!(queue = %self.queue, "consuming again after recovery");
                    self.stream.insert(stream)
                }
            };
            let item = tokio::select! {
                biased;
                () = shutdown.cancelled() => return None,
                item = stream.next() => item,
            };
            match item {
                // Prefetched before its channel died: it cannot be acked, and the broker has
                // already requeued it, so handing it out would only waste the handler's work.
                Some(Ok(delivery)) if !delivery.acker.usable() => {}
                Some(Ok(delivery)) => return Some(codec::delivery(delivery)),
                Some(Err(error)) => {
                    tracing::warn!(queue = %self.queue, %error, "consumer channel failed, recovering");
                    self.stream = None;
                }
                None => {
                    tracing::warn!(queue = %self.queue, "consumer cancelled by the broker, recovering");
                    self.stream = None;
                }
            }
        }
    }
}

/// A control-event subscription: its own exclusive queue, bound to the control exchange by
/// event kind, re-created after a reconnect.
pub(crate) struct AmqpSubscription {
    bus: AmqpBus,
    kind: &'static str,
    stream: Option<lapin::Consumer>,
}

impl AmqpSubscription {
    async fn open(&self) -> Result<lapin::Consumer> {
        let channel = self
            .bus
            .shared
            .connector
            .connection()
            .await?
            .create_channel()
            .await
            .map_err(Error::broker("open a subscriber channel"))?;
        let queue = channel
            .queue_declare(
                "".into(),
                QueueDeclareOptions {
                    exclusive: true,
                    auto_delete: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(Error::broker("declare a subscriber queue"))?;
        channel
            .queue_bind(
                queue.name().clone(),
                self.bus.shared.names.control_exchange().into(),
                self.kind.into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(Error::broker("bind a subscriber queue"))?;
        // Control events are advisory (services re-read state from the store), so they are
        // auto-acked: a subscriber never holds one back from the others.
        channel
            .basic_consume(
                queue.name().clone(),
                "".into(),
                BasicConsumeOptions {
                    no_ack: true,
                    exclusive: true,
                    ..BasicConsumeOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(Error::broker("subscribe"))
    }

    pub(crate) async fn recv(&mut self) -> Result<Message> {
        let shutdown = self.bus.shared.connector.shutdown().clone();
        loop {
            let Some(stream) = self.stream.as_mut() else {
                let stream = self
                    .bus
                    .shared
                    .connector
                    .retry(Patience::Forever, "resubscribe", || self.open())
                    .await?;
                self.stream = Some(stream);
                // Whatever was broadcast while we were away was not queued for us.
                return Err(Error::Lagged);
            };
            let item = tokio::select! {
                biased;
                () = shutdown.cancelled() => return Err(Error::Closed),
                item = stream.next() => item,
            };
            match item {
                Some(Ok(delivery)) => return Ok(codec::message(&delivery)),
                Some(Err(error)) => {
                    tracing::warn!(kind = self.kind, %error, "control subscription failed, recovering");
                    self.stream = None;
                }
                None => self.stream = None,
            }
        }
    }
}

/// Sends the ack, nack or reject. `Ok(false)` from lapin means the channel is gone and nothing
/// was sent; an error means it died while sending. Either way the broker will redeliver, and
/// the caller must know its settlement did not happen.
pub(crate) async fn settle(acker: &lapin::Acker, outcome: Outcome) -> Result<()> {
    let sent = match outcome {
        Outcome::Ack => acker.ack(BasicAckOptions::default()).await,
        Outcome::Requeue => {
            acker
                .nack(BasicNackOptions {
                    multiple: false,
                    requeue: true,
                })
                .await
        }
        Outcome::DeadLetter => acker.reject(BasicRejectOptions { requeue: false }).await,
    };
    match sent {
        Ok(true) => Ok(()),
        Ok(false) => Err(Error::DeliveryChannelClosed),
        Err(error) => {
            tracing::warn!(%error, ?outcome, "settling a delivery failed with its channel");
            Err(Error::DeliveryChannelClosed)
        }
    }
}

/// A delivery dropped unsettled goes back to the queue now rather than when its channel
/// eventually closes, so that a cancelled handler does not hold a message hostage.
pub(crate) fn requeue_on_drop(acker: lapin::Acker, message_id: uuid::Uuid) {
    if !acker.usable() {
        return;
    }
    // Without a runtime (process shutting down) the channel's close requeues it instead.
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move {
            if let Err(error) = settle(&acker, Outcome::Requeue).await {
                tracing::debug!(%message_id, %error, "requeue of a dropped delivery not sent");
            }
        });
    }
}

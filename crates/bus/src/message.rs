//! What travels on the bus: the [`Event`] contract event types implement, the [`Message`]
//! envelope (id, kind, version, JSON body, W3C trace context) and the [`Delivery`] a consumer
//! receives and must settle exactly once.

use std::collections::HashMap;
use std::sync::Arc;

use opentelemetry::Context;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use uuid::Uuid;

use crate::error::{Error, Result};

/// An event that can travel on the bus: the event types and this contract live in
/// `crates/domain`; the bus only needs their `KIND` and `VERSION`.
pub use herald_domain::Event;

/// One message: a JSON-encoded event plus what travels beside it.
///
/// On RabbitMQ the body is the JSON, and id, kind and version are the `message_id` and `type`
/// properties and the `x-herald-version` header; the trace context is in the `traceparent` and
/// `tracestate` headers.
#[derive(Clone, Debug)]
pub struct Message {
    id: Uuid,
    kind: String,
    version: u16,
    payload: Arc<[u8]>,
    trace: HashMap<String, String>,
}

impl Message {
    /// Serialises `event` into a message with a fresh random id.
    pub fn encode<E: Event>(event: &E) -> Result<Self> {
        let payload = serde_json::to_vec(event).map_err(|source| Error::Encode {
            kind: E::KIND,
            source,
        })?;
        Ok(Self {
            id: Uuid::new_v4(),
            kind: E::KIND.to_owned(),
            version: E::VERSION,
            payload: payload.into(),
            trace: HashMap::new(),
        })
    }

    /// Replaces the random id, e.g. with a domain id so that logs line up.
    #[must_use]
    pub fn with_id(mut self, id: Uuid) -> Self {
        self.id = id;
        self
    }

    pub(crate) fn from_parts(
        id: Uuid,
        kind: String,
        version: u16,
        payload: Arc<[u8]>,
        trace: HashMap<String, String>,
    ) -> Self {
        Self {
            id,
            kind,
            version,
            payload,
            trace,
        }
    }

    /// The message id (unique per publish unless set with [`Message::with_id`]).
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// The event kind ([`Event::KIND`] of the type that was encoded).
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The schema version the message was written with.
    pub fn version(&self) -> u16 {
        self.version
    }

    /// The raw JSON body.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// Decodes the body as `E`.
    ///
    /// Fails if the message carries another kind, a newer version than `E::VERSION`, or JSON
    /// that does not fit `E`; such a message will not get better by redelivery, so a consumer
    /// normally rejects it to the dead-letter queue.
    pub fn decode<E: Event>(&self) -> Result<E> {
        if self.kind != E::KIND {
            return Err(Error::KindMismatch {
                id: self.id,
                expected: E::KIND,
                actual: self.kind.clone(),
            });
        }
        if self.version > E::VERSION {
            return Err(Error::UnsupportedVersion {
                id: self.id,
                kind: E::KIND,
                actual: self.version,
                supported: E::VERSION,
            });
        }
        serde_json::from_slice(&self.payload).map_err(|source| Error::Decode {
            id: self.id,
            kind: E::KIND,
            source,
        })
    }

    /// The publisher's trace context, to make the consumer's span its child:
    /// `span.set_parent(message.parent_context())` (tracing-opentelemetry).
    pub fn parent_context(&self) -> Context {
        TraceContextPropagator::new().extract(&self.trace)
    }

    /// The raw propagation headers (`traceparent`, `tracestate`).
    pub(crate) fn trace_headers(&self) -> &HashMap<String, String> {
        &self.trace
    }

    /// Records the caller's current trace context unless the message already carries one.
    ///
    /// The tracing span's OpenTelemetry context is preferred (that is where
    /// tracing-opentelemetry keeps it); the plain OpenTelemetry current context is the fallback
    /// for code that attaches contexts directly.
    pub(crate) fn inject_current_context(&mut self) {
        if !self.trace.is_empty() {
            return;
        }
        let from_span = tracing::Span::current().context();
        let cx = if from_span.span().span_context().is_valid() {
            from_span
        } else {
            Context::current()
        };
        if cx.span().span_context().is_valid() {
            TraceContextPropagator::new().inject_context(&cx, &mut self.trace);
        }
    }
}

/// A message handed to a consumer. Settle it exactly once: [`Delivery::ack`] after its effect
/// is durable, [`Delivery::nack_requeue`] to let it be tried again, or
/// [`Delivery::reject_to_dead_letter`] when it can never succeed.
///
/// Dropping a delivery without settling it requeues it (like `nack_requeue`), so a panicking or
/// cancelled handler never loses a message. Each return to the queue counts towards the
/// queue's delivery limit; past it the message goes to the dead-letter queue.
#[derive(Debug)]
pub struct Delivery {
    message: Message,
    delivery_count: u32,
    settle: Option<Settle>,
}

/// How a delivery is settled, per adapter.
#[derive(Debug)]
pub(crate) enum Settle {
    Amqp(lapin::Acker),
    Memory(crate::memory::Lease),
}

/// What to do with a delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Ack,
    Requeue,
    DeadLetter,
}

impl Delivery {
    pub(crate) fn new(message: Message, delivery_count: u32, settle: Settle) -> Self {
        Self {
            message,
            delivery_count,
            settle: Some(settle),
        }
    }

    /// The message.
    pub fn message(&self) -> &Message {
        &self.message
    }

    /// The message id.
    pub fn id(&self) -> Uuid {
        self.message.id
    }

    /// Decodes the body; see [`Message::decode`].
    pub fn decode<E: Event>(&self) -> Result<E> {
        self.message.decode()
    }

    /// The publisher's trace context; see [`Message::parent_context`].
    pub fn parent_context(&self) -> Context {
        self.message.parent_context()
    }

    /// How many times this message has been delivered, this delivery included (1 the first
    /// time). Redeliveries come from nacks, drops and consumers whose connection died.
    pub fn delivery_count(&self) -> u32 {
        self.delivery_count
    }

    /// Confirms the message was handled; the broker forgets it.
    ///
    /// Fails with [`Error::DeliveryChannelClosed`] if the channel it came through died in the
    /// meantime: the broker has already put the message back for redelivery.
    pub async fn ack(mut self) -> Result<()> {
        self.settle(Outcome::Ack).await
    }

    /// Puts the message back to be delivered again (counts towards the delivery limit).
    pub async fn nack_requeue(mut self) -> Result<()> {
        self.settle(Outcome::Requeue).await
    }

    /// Sends the message to its queue's dead-letter queue, for a person to look at.
    pub async fn reject_to_dead_letter(mut self) -> Result<()> {
        self.settle(Outcome::DeadLetter).await
    }

    async fn settle(&mut self, outcome: Outcome) -> Result<()> {
        match self.settle.take() {
            Some(Settle::Amqp(acker)) => crate::amqp::settle(&acker, outcome).await,
            Some(Settle::Memory(lease)) => lease.settle(outcome),
            // Settling consumes the delivery, so this is only reachable from `Drop`.
            None => Ok(()),
        }
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        match self.settle.take() {
            Some(Settle::Amqp(acker)) => crate::amqp::requeue_on_drop(acker, self.message.id),
            Some(Settle::Memory(lease)) => {
                // Already-closed consumers requeued it themselves; nothing to report here.
                let _ = lease.settle(Outcome::Requeue);
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct SendJobV2 {
        message_id: String,
        #[serde(default)]
        priority: u8,
    }

    impl Event for SendJobV2 {
        const KIND: &'static str = "send_job";
        const VERSION: u16 = 2;
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct SendJobV1 {
        message_id: String,
    }

    impl Event for SendJobV1 {
        const KIND: &'static str = "send_job";
        const VERSION: u16 = 1;
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Other {}

    impl Event for Other {
        const KIND: &'static str = "other";
        const VERSION: u16 = 1;
    }

    #[test]
    fn an_older_version_decodes_into_a_newer_type() {
        let old = Message::encode(&SendJobV1 {
            message_id: "m1".into(),
        })
        .unwrap();
        assert_eq!(old.version(), 1);
        assert_eq!(
            old.decode::<SendJobV2>().unwrap(),
            SendJobV2 {
                message_id: "m1".into(),
                priority: 0
            }
        );
    }

    #[test]
    fn a_newer_version_or_another_kind_is_refused() {
        let new = Message::encode(&SendJobV2 {
            message_id: "m1".into(),
            priority: 1,
        })
        .unwrap();
        assert!(matches!(
            new.decode::<SendJobV1>(),
            Err(Error::UnsupportedVersion {
                actual: 2,
                supported: 1,
                ..
            })
        ));
        assert!(matches!(
            new.decode::<Other>(),
            Err(Error::KindMismatch { .. })
        ));
    }

    #[test]
    fn without_a_current_trace_nothing_is_injected() {
        let mut message = Message::encode(&Other {}).unwrap();
        message.inject_current_context();
        assert!(message.trace_headers().is_empty());
        assert!(!message.parent_context().span().span_context().is_valid());
    }
}

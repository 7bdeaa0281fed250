//! How a [`Message`] maps onto AMQP: JSON body, `message_id`, `type`, persistent delivery mode,
//! and headers for the schema version and the W3C trace context.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use lapin::BasicProperties;
use lapin::types::{AMQPValue, FieldTable};
use uuid::Uuid;

use crate::message::{Delivery, Message, Settle};

/// Header carrying [`crate::Event::VERSION`].
pub(crate) const VERSION_HEADER: &str = "x-herald-version";
/// Set by quorum queues on redelivery: how many earlier deliveries were not acked.
const DELIVERY_COUNT_HEADER: &str = "x-delivery-count";
/// The W3C trace-context headers the propagator writes.
const TRACE_HEADERS: [&str; 2] = ["traceparent", "tracestate"];
/// Delivery mode 2: the broker writes the message to disk (with quorum queues it always does).
const PERSISTENT: u8 = 2;

pub(crate) fn properties(message: &Message) -> BasicProperties {
    let mut headers = FieldTable::default();
    headers.insert(
        VERSION_HEADER.into(),
        AMQPValue::LongInt(i32::from(message.version())),
    );
    for (key, value) in message.trace_headers() {
        headers.insert(
            key.as_str().into(),
            AMQPValue::LongString(value.as_str().into()),
        );
    }
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    BasicProperties::default()
        .with_message_id(message.id().to_string().into())
        .with_type(message.kind().into())
        .with_content_type("application/json".into())
        .with_delivery_mode(PERSISTENT)
        .with_timestamp(timestamp)
        .with_headers(headers)
}

/// Reads a message back. Never fails: a malformed message still becomes a delivery, so that
/// the consumer can reject it to the dead-letter queue instead of it blocking the queue.
pub(crate) fn message(delivery: &lapin::message::Delivery) -> Message {
    let properties = &delivery.properties;
    let id = properties
        .message_id()
        .as_ref()
        .and_then(|id| Uuid::parse_str(id.as_str()).ok())
        .unwrap_or_else(|| {
            tracing::warn!("message without a valid message_id; using the nil id");
            Uuid::nil()
        });
    let kind = properties
        .kind()
        .as_ref()
        .map(|kind| kind.as_str().to_owned())
        .unwrap_or_default();
    let headers = properties.headers().as_ref();
    let header = |name: &str| headers.and_then(|table| table.inner().get(name));
    let version = header(VERSION_HEADER)
        .and_then(integer)
        .and_then(|version| u16::try_from(version).ok())
        .unwrap_or(0);
    let trace: HashMap<String, String> = TRACE_HEADERS
        .iter()
        .filter_map(|name| Some(((*name).to_owned(), string(header(name)?)?)))
        .collect();
    Message::from_parts(id, kind, version, delivery.data.clone().into(), trace)
}

pub(crate) fn delivery(delivery: lapin::message::Delivery) -> Delivery {
    let message = message(&delivery);
    let earlier = delivery
        .properties
        .headers()
        .as_ref()
        .and_then(|table| table.inner().get(DELIVERY_COUNT_HEADER))
        .and_then(integer)
        .and_then(|count| u32::try_from(count).ok())
        .unwrap_or(0);
    Delivery::new(
        message,
        earlier.saturating_add(1),
        Settle::Amqp(delivery.acker),
    )
}

fn integer(value: &AMQPValue) -> Option<i64> {
    match value {
        AMQPValue::ShortShortInt(v) => Some(i64::from(*v)),
        AMQPValue::ShortShortUInt(v) => Some(i64::from(*v)),
        AMQPValue::ShortInt(v) => Some(i64::from(*v)),
        AMQPValue::ShortUInt(v) => Some(i64::from(*v)),
        AMQPValue::LongInt(v) => Some(i64::from(*v)),
        AMQPValue::LongUInt(v) => Some(i64::from(*v)),
        AMQPValue::LongLongInt(v) => Some(*v),
        _ => None,
    }
}

fn string(value: &AMQPValue) -> Option<String> {
    match value {
        AMQPValue::LongString(v) => Some(String::from_utf8_lossy(v.as_bytes()).into_owned()),
        AMQPValue::ShortString(v) => Some(v.as_str().to_owned()),
        _ => None,
    }
}

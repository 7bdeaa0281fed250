//! The bus's one error type: what a caller can act on (unroutable, nacked, a delivery whose
//! channel is gone, a payload that does not decode) kept apart from broker failures.

use uuid::Uuid;

/// Everything a bus operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The broker could not be reached or failed an operation, and retrying within the
    /// configured patience did not help.
    #[error("message broker failure while trying to {action}")]
    Broker {
        /// What the bus was doing, for the log.
        action: &'static str,
        /// The client library's error.
        #[source]
        source: lapin::Error,
    },
    /// The broker answered a publish with a nack: it did not take responsibility for it.
    #[error("the broker refused message {id} (publisher nack)")]
    Nacked {
        /// The message id.
        id: Uuid,
    },
    /// Nothing was bound to take the message: the queue was never declared (or was deleted).
    #[error("message {id} could not be routed to queue `{queue}`: is the queue declared?")]
    Unroutable {
        /// The message id.
        id: Uuid,
        /// The logical queue name the caller asked for.
        queue: String,
    },
    /// The queue was never declared on this bus.
    #[error("queue `{0}` is not declared")]
    UnknownQueue(String),
    /// A queue name or setting the bus cannot use.
    #[error("invalid bus topology: {0}")]
    InvalidTopology(String),
    /// The channel (or in-process consumer) the delivery came through is gone, so the ack,
    /// nack or reject did not happen. The broker redelivers the message to another consumer;
    /// the caller must not assume its settlement took effect.
    #[error("the delivery's channel is closed: the message will be redelivered")]
    DeliveryChannelClosed,
    /// The event could not be serialised to JSON.
    #[error("could not encode a `{kind}` event")]
    Encode {
        /// The event kind.
        kind: &'static str,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
    /// The message body is not a valid event of the requested type.
    #[error("could not decode message {id} as a `{kind}` event")]
    Decode {
        /// The message id.
        id: Uuid,
        /// The event kind that was expected.
        kind: &'static str,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
    /// The message carries another kind of event than the one asked for.
    #[error("message {id} is a `{actual}` event, not a `{expected}`")]
    KindMismatch {
        /// The message id.
        id: Uuid,
        /// The kind the caller asked for.
        expected: &'static str,
        /// The kind on the message.
        actual: String,
    },
    /// The message was written by a newer version of the event than this code knows.
    #[error("message {id} is version {actual} of `{kind}`, newer than the supported {supported}")]
    UnsupportedVersion {
        /// The message id.
        id: Uuid,
        /// The event kind.
        kind: &'static str,
        /// The version on the message.
        actual: u16,
        /// The highest version this code reads.
        supported: u16,
    },
    /// Control events may have been missed (the subscriber lagged behind, or its connection
    /// was re-established). The subscription goes on; re-read the current state from the store.
    #[error("control events may have been missed")]
    Lagged,
    /// The bus was closed.
    #[error("the bus is closed")]
    Closed,
}

impl Error {
    pub(crate) fn broker(action: &'static str) -> impl FnOnce(lapin::Error) -> Self {
        move |source| Error::Broker { action, source }
    }

    /// Whether retrying on a fresh connection or channel may succeed: an I/O failure or a
    /// connection-level close (broker restart, `close_all_connections`), as opposed to a
    /// channel-level refusal (unknown exchange, precondition failed) that would fail again.
    pub(crate) fn is_transient(&self) -> bool {
        match self {
            Error::Broker { source, .. } => {
                !source.is_amqp_soft_error() && source.can_be_recovered()
            }
            _ => false,
        }
    }
}

/// The bus's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

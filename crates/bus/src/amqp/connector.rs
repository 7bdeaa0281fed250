//! The one connection an [`super::AmqpBus`] shares between its channels, and the retry policy
//! every broker operation goes through.
//!
//! lapin can replay topology on its own (`enable_auto_recover`), but that hides which
//! deliveries died with the old channel. Here a dead connection is simply replaced: the next
//! operation that needs one opens a fresh connection (under a lock, so concurrent callers share
//! it), channels are opened anew on it, and deliveries from the dead channel fail to settle
//! while the broker redelivers them. Backoff timing comes from `backon`.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use lapin::{Connection, ConnectionProperties};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};

/// How hard an operation tries before giving up.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Patience {
    /// A caller is waiting (start-up, publish, declare): retry transient failures for the
    /// configured time, then report.
    Bounded,
    /// A consumer recovering in the background: retry every failure until the bus closes, so
    /// that it resumes whenever the broker is back.
    Forever,
}

pub(crate) struct Connector {
    uri: String,
    connection_name: String,
    retry_for: Duration,
    min_backoff: Duration,
    max_backoff: Duration,
    current: tokio::sync::Mutex<Option<Arc<Connection>>>,
    shutdown: CancellationToken,
}

impl Connector {
    pub(crate) fn new(config: &super::AmqpConfig, shutdown: CancellationToken) -> Self {
        Self {
            uri: config.uri.clone(),
            connection_name: config.connection_name.clone(),
            retry_for: config.retry_for,
            min_backoff: config.min_backoff,
            max_backoff: config.max_backoff,
            current: tokio::sync::Mutex::new(None),
            shutdown,
        }
    }

    pub(crate) fn shutdown(&self) -> &CancellationToken {
        &self.shutdown
    }

    /// The live connection, or a new one if the last one died. One attempt; callers retry
    /// through [`Connector::retry`].
    pub(crate) async fn connection(&self) -> Result<Arc<Connection>> {
        let mut current = self.current.lock().await;
        if let Some(connection) = current.as_ref() {
            if connection.status().connected() {
                return Ok(connection.clone());
            }
            tracing::warn!("connection to the broker lost, reconnecting");
        }
        *current = None;
        let properties = ConnectionProperties::default()
            .with_connection_name(self.connection_name.clone().into());
        let connection = Arc::new(
            Connection::connect(&self.uri, properties)
                .await
                .map_err(Error::broker("connect to the broker"))?,
        );
        tracing::info!(name = %self.connection_name, "connected to the broker");
        *current = Some(connection.clone());
        Ok(connection)
    }

    /// Runs `operation` until it succeeds, backing off exponentially (with jitter) between
    /// attempts, within `patience`. Returns [`Error::Closed`] as soon as the bus closes.
    pub(crate) async fn retry<T, F, Fut>(
        &self,
        patience: Patience,
        action: &'static str,
        operation: F,
    ) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.min_backoff)
            .with_max_delay(self.max_backoff)
            .with_jitter()
            .without_max_times();
        let (backoff, bounded) = match patience {
            Patience::Bounded => (backoff.with_total_delay(Some(self.retry_for)), true),
            Patience::Forever => (backoff, false),
        };
        let attempts = operation
            .retry(backoff)
            .when(|error: &Error| !bounded || error.is_transient())
            .notify(|error, wait| {
                tracing::warn!(error = %error, source = ?std::error::Error::source(error), ?wait, action, "broker operation failed, retrying");
            });
        tokio::select! {
            biased;
            () = self.shutdown.cancelled() => Err(Error::Closed),
            result = attempts => result,
        }
    }

    /// Closes the connection politely; deliveries still unacked go back to their queues.
    pub(crate) async fn close(&self) {
        let connection = self.current.lock().await.take();
        if let Some(connection) = connection.filter(|c| c.status().connected()) {
            let _ = connection.close(200, "bus closed".into()).await;
        }
    }
}

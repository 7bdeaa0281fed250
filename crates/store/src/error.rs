//! `StoreError`: what a repository call can fail with, in terms a service can act on.
//!
//! Services map `Conflict` to 409, `NotFound` to 404, `StaleWrite` and `Transition` to 409,
//! `Invalid` to 400 and `Unavailable` to 503/500. A driver error never escapes as such: unique
//! violations become `Conflict`, everything unexpected becomes `Unavailable` with its context.

use herald_domain::TransitionError;

/// Why a repository call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique key is taken: `what` names it for people ("a user with email ana@example.com").
    #[error("{what} already exists")]
    Conflict { what: String },
    /// The record to change does not exist.
    #[error("{what} was not found")]
    NotFound { what: String },
    /// The record changed since the caller read it; read it again and redo the change.
    #[error("{what} was changed by someone else; read it again")]
    StaleWrite { what: String },
    /// The campaign state machine refuses the action in the campaign's current status.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The request cannot be served as asked (a malformed cursor, an oversized audience).
    #[error("{0}")]
    Invalid(String),
    /// The database could not be reached or answered unexpectedly. Retrying later may help.
    #[error("storage failed: {0:#}")]
    Unavailable(anyhow::Error),
}

impl StoreError {
    pub(crate) fn conflict(what: impl Into<String>) -> Self {
        StoreError::Conflict { what: what.into() }
    }

    pub(crate) fn not_found(what: impl Into<String>) -> Self {
        StoreError::NotFound { what: what.into() }
    }

    pub(crate) fn stale(what: impl Into<String>) -> Self {
        StoreError::StaleWrite { what: what.into() }
    }

    /// A stored value that no longer parses into its domain type: data corruption or a write
    /// that bypassed the store. Reported as unavailable so the caller answers 5xx, with context.
    pub(crate) fn corrupt(what: impl std::fmt::Display) -> Self {
        StoreError::Unavailable(anyhow::anyhow!("stored data is unreadable: {what}"))
    }
}

/// The result of a repository call.
pub type StoreResult<T> = Result<T, StoreError>;

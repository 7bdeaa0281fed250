//! The repository ports: one trait per aggregate, in domain words and domain types.
//!
//! Each trait hides documents and SQL. Both adapters implement every trait, and the conformance
//! suite (`tests/conformance`) holds them to the same behaviour. Conventions for all of them:
//!
//! - `get`/`find_*` return `Ok(None)` for a missing record; a change to a missing record is
//!   [`StoreError::NotFound`](crate::StoreError::NotFound).
//! - A taken unique key is [`StoreError::Conflict`](crate::StoreError::Conflict), never a driver
//!   error.
//! - Timestamps are stored to the millisecond; what a `get` returns is truncated accordingly.
//! - Lists are cursor-paginated in id order ([`crate::page`]).

mod campaigns;
mod contacts;
mod messages;
mod refresh_tokens;
mod replies;
mod settings;
mod templates;
mod users;

pub use campaigns::{CampaignFilter, CampaignStore, DueRun, MAX_EXPLICIT_CONTACTS};
pub use contacts::{AudienceQuery, ContactFilter, ContactStore, UpsertSummary};
pub use messages::{
    ErrorCount, MergeSummary, MessageFilter, MessageScope, MessageStore, SendOutcome, StaleClaim,
    StatusCounts, StatusReport,
};
pub use refresh_tokens::{RefreshToken, RefreshTokenStore};
pub use replies::{ReplyFilter, ReplyStore};
pub use settings::SettingsStore;
pub use templates::{TemplateFilter, TemplateStore};
pub use users::UserStore;

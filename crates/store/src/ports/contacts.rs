//! `ContactStore`: the people Herald can message (collection `contacts`), their opt-out state,
//! and the audience walk that feeds a run.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_domain::{Contact, ContactId, OptOut, PhoneNumber, WhatsAppMatchKey};

use crate::error::StoreResult;
use crate::page::{Page, PageRequest};

/// What to list or count; every field narrows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactFilter {
    /// Carries this tag.
    pub tag: Option<String>,
    /// Belongs to this group.
    pub group: Option<String>,
    /// `Some(true)`: only opted-out contacts; `Some(false)`: only reachable ones.
    pub opted_out: Option<bool>,
    /// Case-insensitive substring of the name or the phone (E.164 digits).
    pub search: Option<String>,
}

/// How [`ContactStore::upsert_many`] went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertSummary {
    pub created: u64,
    /// Contacts that existed (by phone) and were overwritten, changed or not.
    pub updated: u64,
}

/// One step of an audience walk: reachable contacts with an id greater than `after` that are in
/// `ids` or carry one of `tags` or `groups`, in id order, at most `limit` of them.
///
/// Built by [`crate::AudiencePages`], which bounds `ids` to the candidates of one page; adapters
/// only run it.
#[derive(Debug, Clone, Copy)]
pub struct AudienceQuery<'a> {
    /// Sorted explicit ids, at most `limit` of them.
    pub ids: &'a [ContactId],
    pub tags: &'a [String],
    pub groups: &'a [String],
    pub after: Option<ContactId>,
    pub limit: usize,
}

/// Contacts. The E.164 phone is unique; [`WhatsAppMatchKey`] finds a contact from a webhook's
/// `wa_id` whatever legacy form Meta used.
#[async_trait]
pub trait ContactStore: Send + Sync {
    /// `Conflict` when the phone is taken.
    async fn create(&self, contact: &Contact) -> StoreResult<()>;

    /// Creates or overwrites contacts by phone in one call (an import). An existing contact keeps
    /// its id, `created_at` and, unless the incoming one carries an opt-out, its opt-out: an
    /// import never makes an opted-out contact reachable again. Within `contacts` the last entry
    /// for a phone wins.
    async fn upsert_many(&self, contacts: &[Contact]) -> StoreResult<UpsertSummary>;

    async fn get(&self, id: ContactId) -> StoreResult<Option<Contact>>;

    async fn find_by_phone(&self, phone: &PhoneNumber) -> StoreResult<Option<Contact>>;

    /// The contact an inbound message or status came from.
    async fn find_by_match_key(&self, key: &WhatsAppMatchKey) -> StoreResult<Option<Contact>>;

    /// Replaces everything but `id` and `created_at`. `NotFound`, or `Conflict` on the phone.
    async fn update(&self, contact: &Contact) -> StoreResult<()>;

    /// `NotFound` when absent.
    async fn delete(&self, id: ContactId) -> StoreResult<()>;

    async fn list(&self, filter: &ContactFilter, page: &PageRequest) -> StoreResult<Page<Contact>>;

    async fn count(&self, filter: &ContactFilter) -> StoreResult<u64>;

    /// Opts out the contact(s) with this key (STOP, Meta's stop-marketing, an operator). An
    /// existing opt-out is kept as it was (its first time and reason). Returns whether a contact
    /// with the key exists.
    async fn set_opt_out(&self, key: &WhatsAppMatchKey, opt_out: &OptOut) -> StoreResult<bool>;

    /// Makes the contact reachable again. Returns whether a contact with the key exists.
    async fn clear_opt_out(&self, key: &WhatsAppMatchKey, now: DateTime<Utc>) -> StoreResult<bool>;

    /// One page of an audience walk; see [`AudienceQuery`]. Use [`crate::AudiencePages`] (or
    /// [`crate::Store::stream_audience`]) rather than calling this directly.
    async fn audience_page(&self, query: AudienceQuery<'_>) -> StoreResult<Vec<Contact>>;
}

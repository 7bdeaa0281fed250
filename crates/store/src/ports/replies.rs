//! `ReplyStore`: inbound WhatsApp messages (collection `replies`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_domain::{CampaignId, ContactId, Reply, ReplyId};

use crate::error::StoreResult;
use crate::page::{Page, PageRequest};

/// What to list; every field narrows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplyFilter {
    pub campaign_id: Option<CampaignId>,
    pub contact_id: Option<ContactId>,
    /// Received at or after.
    pub since: Option<DateTime<Utc>>,
}

/// Replies. The inbound wamid (`Reply::message_id`) is unique: Meta retries webhooks for days.
#[async_trait]
pub trait ReplyStore: Send + Sync {
    /// Stores the reply unless one with the same inbound wamid exists. `true` when stored, so a
    /// duplicate webhook stores nothing and triggers nothing twice.
    async fn insert_if_absent(&self, reply: &Reply) -> StoreResult<bool>;

    async fn get(&self, id: ReplyId) -> StoreResult<Option<Reply>>;

    async fn list(&self, filter: &ReplyFilter, page: &PageRequest) -> StoreResult<Page<Reply>>;
}

//! `MessageStore`: outbound messages (collection `messages`), the source of truth for sending
//! (ARCHITECTURE §3, §7).
//!
//! The life of a message through this port: [`MessageStore::create_for_run`] (queued) →
//! [`MessageStore::claim_for_sending`] (sending, one worker) → [`MessageStore::record_outcome`]
//! (sent with its wamid, failed, back to queued for a retry, or left in sending with an unknown
//! outcome) → [`MessageStore::merge_statuses`] (delivered, read… from webhooks, in any order).
//!
//! Status changes follow [`herald_domain::DeliveryState::merge`], the one precedence rule; the
//! only backward move is a retry releasing its own claim.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_domain::{
    CampaignId, ContactId, Message, MessageError, MessageId, MessageStatus, RunId, StatusEvent,
    StatusUpdate, Wamid,
};

use crate::error::StoreResult;
use crate::page::{Page, PageRequest};

/// Which messages a count is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageScope {
    /// Every run of a campaign.
    Campaign(CampaignId),
    /// One run.
    Run(RunId),
}

/// What to list; every field narrows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageFilter {
    pub campaign_id: Option<CampaignId>,
    pub run_id: Option<RunId>,
    pub contact_id: Option<ContactId>,
    pub status: Option<MessageStatus>,
    /// Only failures with this Meta error code.
    pub error_code: Option<i64>,
}

/// What a worker learned from its Graph call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Meta accepted the message and returned its wamid: merged as `sent` at `at`.
    Accepted { wamid: Wamid, at: DateTime<Utc> },
    /// Meta refused it, or Herald gave up on it (opted out, campaign halted): merged as `failed`.
    Failed {
        error: MessageError,
        at: DateTime<Utc>,
    },
    /// Nothing was sent, or Meta asked to come back later (throughput, 5xx before acceptance):
    /// the claim is released, `sending → queued`, to be claimed again. Only while still
    /// `sending`: a webhook that already moved the message on wins.
    Retry,
    /// The call may have reached Meta but its answer was lost (a timeout after sending). The
    /// message stays `sending` with the reason kept, so it is **not** sent again; a status webhook
    /// (matched through `biz_opaque_callback_data`) resolves it, or the recovery scan reports it
    /// ([`MessageStore::find_stale_claims`]). ARCHITECTURE §7.
    Unknown { reason: String },
}

/// One status report to merge: a webhook status or the sender's own record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReport {
    /// Meta's id of the message.
    pub wamid: Wamid,
    /// Herald's id echoed in `biz_opaque_callback_data`, when present. It is tried first, and
    /// the wamid is recorded on the message when it was not yet: a status can arrive before the
    /// sender recorded the send, or after a crash that lost it.
    pub message_id: Option<MessageId>,
    pub update: StatusUpdate,
}

impl From<&StatusEvent> for StatusReport {
    fn from(event: &StatusEvent) -> Self {
        Self {
            wamid: event.wamid.clone(),
            message_id: event.message_id,
            update: event.to_update(),
        }
    }
}

/// How [`MessageStore::merge_statuses`] went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeSummary {
    /// Reports that changed their message.
    pub changed: u64,
    /// Reports whose message already reflected them (duplicates, late lower statuses).
    pub unchanged: u64,
    /// Indexes (into the input) of reports that matched no message. The caller decides whether
    /// to retry them later (the send may not be recorded yet) or drop them (another sender's).
    pub unmatched: Vec<usize>,
}

/// A message claimed longer ago than the lease and still without an outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleClaim {
    pub message: Message,
    /// The worker's reason when it recorded [`SendOutcome::Unknown`]; `None` when the worker
    /// vanished without a word (a crash, which may also have been after the call).
    pub unknown_outcome: Option<String>,
}

/// Messages per status; statuses with no message are absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusCounts(pub HashMap<MessageStatus, u64>);

impl StatusCounts {
    pub fn get(&self, status: MessageStatus) -> u64 {
        self.0.get(&status).copied().unwrap_or(0)
    }

    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }
}

/// Failed messages per error code; `code: None` counts Herald's own failures (opted out,
/// stopped) and failures Meta gave no code for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ErrorCount {
    pub code: Option<i64>,
    pub count: u64,
}

/// Messages. (campaign, run, contact) is unique, and so is the wamid once set.
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Creates the messages of a run (a page of its audience at a time), skipping any whose
    /// (campaign, run, contact) exists: running it twice creates nothing new. Returns how many
    /// were created.
    async fn create_for_run(&self, messages: &[Message]) -> StoreResult<u64>;

    async fn get(&self, id: MessageId) -> StoreResult<Option<Message>>;

    async fn find_by_wamid(&self, wamid: &Wamid) -> StoreResult<Option<Message>>;

    /// Claims a queued message for sending: `queued → sending`, one more attempt, the claim
    /// stamped with `worker` and `now`. Atomic: of concurrent claimers exactly one gets
    /// `Some`; the others (and anyone finding it claimed, sent or failed) get `None` and must not
    /// send.
    async fn claim_for_sending(
        &self,
        id: MessageId,
        worker: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Message>>;

    /// Records what a worker learned from its call (see [`SendOutcome`]). Returns the message as
    /// stored afterwards. `NotFound` when absent; `Conflict` when the wamid belongs to another
    /// message.
    async fn record_outcome(
        &self,
        id: MessageId,
        outcome: &SendOutcome,
        now: DateTime<Utc>,
    ) -> StoreResult<Message>;

    /// Merges status reports into their messages by the domain's precedence rule, in bulk.
    /// Monotonic and idempotent: any order and any repetition of the same reports, from any
    /// number of concurrent callers, leaves the same state.
    async fn merge_statuses(&self, reports: &[StatusReport]) -> StoreResult<MergeSummary>;

    /// Messages still `sending` that were claimed before `claimed_before`, oldest claim first.
    async fn find_stale_claims(
        &self,
        claimed_before: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<StaleClaim>>;

    /// Fails every still-queued message of a campaign (or of one run) with `error`: what a stop
    /// does to what has not been sent. Returns how many.
    async fn cancel_queued(
        &self,
        scope: MessageScope,
        error: &MessageError,
        now: DateTime<Utc>,
    ) -> StoreResult<u64>;

    async fn count_by_status(&self, scope: MessageScope) -> StoreResult<StatusCounts>;

    /// Failed messages per error code, most frequent first.
    async fn count_by_error_code(&self, scope: MessageScope) -> StoreResult<Vec<ErrorCount>>;

    async fn list(&self, filter: &MessageFilter, page: &PageRequest) -> StoreResult<Page<Message>>;
}

//! `CampaignStore`: campaigns (collection `campaigns`), their status machine applied
//! atomically, and their runs (collection `runs`).

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use herald_domain::{Campaign, CampaignAction, CampaignId, CampaignStatus, Run, RunId, RunStatus};

use crate::error::StoreResult;
use crate::page::{Page, PageRequest};

/// The most explicit contact ids a campaign keeps in its own record.
///
/// ARCHITECTURE §4: a list of a million ids does not fit in one 16 MB MongoDB document. Herald's
/// answer is the domain's: explicit lists are for hand-picked audiences, large audiences select
/// by tag or group (an import tags its contacts). 100,000 ids are about 2 MB of BSON, well inside
/// the limit, and the audience walk never sends more than one page of them to the database.
pub const MAX_EXPLICIT_CONTACTS: usize = 100_000;

/// What to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CampaignFilter {
    pub status: Option<CampaignStatus>,
}

/// A run claimed by [`CampaignStore::claim_due_runs`], with the campaign as it is after the
/// claim.
#[derive(Debug, Clone, PartialEq)]
pub struct DueRun {
    pub campaign: Campaign,
    /// `Running`: start it now. `Skipped`: it was due longer ago than the expiry; report it.
    pub run: Run,
}

/// Campaigns and runs.
///
/// Every write is conditional on the record not having changed since it was read (its
/// `updated_at`, which the store keeps strictly increasing): of two concurrent writers, one
/// loses instead of silently overwriting the other.
#[async_trait]
pub trait CampaignStore: Send + Sync {
    /// `Invalid` when the explicit audience exceeds [`MAX_EXPLICIT_CONTACTS`].
    async fn create(&self, campaign: &Campaign) -> StoreResult<()>;

    async fn get(&self, id: CampaignId) -> StoreResult<Option<Campaign>>;

    async fn list(
        &self,
        filter: &CampaignFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Campaign>>;

    /// Saves an edited campaign: name, description, template, settings, audience, parameters,
    /// schedule and `next_run_at`; never the status (see [`Self::change_status`]).
    ///
    /// `campaign.updated_at` must be the value that was read: when the stored one differs,
    /// someone else wrote in between and this is `StaleWrite`. Returns the saved campaign with
    /// its new `updated_at` (`now`, or just after the previous one).
    async fn update(&self, campaign: &Campaign, now: DateTime<Utc>) -> StoreResult<Campaign>;

    /// `NotFound` when absent.
    async fn delete(&self, id: CampaignId) -> StoreResult<()>;

    /// Applies `action` through the domain's [`herald_domain::transition`] against the stored
    /// status, atomically: a concurrent change makes the store read again and re-decide, so a
    /// writer holding a stale status loses (`Transition` when the action is refused in the
    /// status it finds). `Schedule` also sets `next_run_at` to the schedule's first run after
    /// `now`. Returns the campaign after the change.
    async fn change_status(
        &self,
        id: CampaignId,
        action: &CampaignAction,
        now: DateTime<Utc>,
    ) -> StoreResult<Campaign>;

    /// Claims up to `limit` runs that are due: scheduled campaigns whose `next_run_at` is at or
    /// before `now`. Each claim records the run under its unique key (campaign, occurrence) and
    /// moves the campaign on conditionally, so when several schedulers race exactly one gets each
    /// run. A run due longer ago than `expiry` is recorded as `Skipped` and the campaign stays
    /// scheduled; otherwise the run is `Running` and the campaign is started. Either way a
    /// recurring campaign's `next_run_at` moves to its next occurrence after `now`, and a one-off
    /// campaign's to `None`.
    async fn claim_due_runs(
        &self,
        now: DateTime<Utc>,
        expiry: TimeDelta,
        limit: usize,
    ) -> StoreResult<Vec<DueRun>>;

    async fn get_run(&self, id: RunId) -> StoreResult<Option<Run>>;

    /// A campaign's runs, in id order.
    async fn list_runs(
        &self,
        campaign_id: CampaignId,
        page: &PageRequest,
    ) -> StoreResult<Page<Run>>;

    /// Ends a running run (`Completed` or `Stopped`). Ending an ended run changes nothing.
    /// `NotFound` when absent.
    async fn finish_run(
        &self,
        id: RunId,
        status: RunStatus,
        now: DateTime<Utc>,
    ) -> StoreResult<Run>;
}

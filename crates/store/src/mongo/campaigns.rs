//! `CampaignStore` on MongoDB: every write is conditional on the `updatedAt` that was read.

use async_trait::async_trait;
use bson::doc;
use chrono::{DateTime, TimeDelta, Utc};
use herald_domain::{Campaign, CampaignAction, CampaignId, Run, RunId, RunStatus};
use mongodb::Collection;
use mongodb::options::ReturnDocument;

use super::docs::{CampaignDoc, RunDoc, set_fields};
use super::{MongoStore, bdt, conflict_or, find_all, is_duplicate_key, page};
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use crate::ports::{CampaignFilter, CampaignStore, DueRun};
use crate::rules::{
    CAS_ATTEMPTS, apply_action, check_audience, claimed_campaign, due_run, millis, next_version,
};

impl MongoStore {
    fn campaigns_docs(&self) -> Collection<CampaignDoc> {
        self.collection("campaigns")
    }

    fn runs_docs(&self) -> Collection<RunDoc> {
        self.collection("runs")
    }

    async fn load(&self, id: CampaignId) -> StoreResult<Campaign> {
        let found = self
            .campaigns_docs()
            .find_one(doc! { "_id": id.object_id() })
            .await?;
        found
            .map(Campaign::try_from)
            .transpose()?
            .ok_or_else(|| StoreError::not_found(format!("campaign {id}")))
    }

    /// Replaces the campaign if it still has the `updatedAt` it had when read. `false` when
    /// someone else wrote in between.
    async fn write_if_unchanged(
        &self,
        read: &Campaign,
        after: &Campaign,
        extra: bson::Document,
    ) -> StoreResult<bool> {
        let fields = set_fields(
            &CampaignDoc::from(after),
            &["_id", "createdBy", "createdAt"],
        )?;
        let mut filter = doc! {
            "_id": read.id.object_id(),
            "updatedAt": bdt(millis(read.updated_at)),
        };
        filter.extend(extra);
        let result = self
            .campaigns_docs()
            .update_one(filter, doc! { "$set": fields })
            .await?;
        Ok(result.matched_count == 1)
    }

    /// The run recorded under (campaign, occurrence): `run` if none was, else the existing one.
    async fn insert_run_if_absent(&self, run: &Run) -> StoreResult<Run> {
        let doc = RunDoc::from(run);
        let key = doc! { "campaignId": doc.campaign_id, "scheduledFor": doc.scheduled_for };
        let on_insert = set_fields(&doc, &["campaignId", "scheduledFor"])?;
        for attempt in 0..2 {
            let result = self
                .runs_docs()
                .find_one_and_update(key.clone(), doc! { "$setOnInsert": on_insert.clone() })
                .upsert(true)
                .return_document(ReturnDocument::After)
                .await;
            match result {
                Ok(Some(stored)) => return Ok(stored.into()),
                Ok(None) => break,
                // Two schedulers inserted at once: the loser reads the winner's run.
                Err(e) if attempt == 0 && is_duplicate_key(&e) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::not_found(format!(
            "run of campaign {}",
            run.campaign_id
        )))
    }
}

#[async_trait]
impl CampaignStore for MongoStore {
    async fn create(&self, campaign: &Campaign) -> StoreResult<()> {
        check_audience(campaign)?;
        self.campaigns_docs()
            .insert_one(CampaignDoc::from(campaign))
            .await
            .map_err(|e| conflict_or(e, || format!("campaign {}", campaign.id)))?;
        Ok(())
    }

    async fn get(&self, id: CampaignId) -> StoreResult<Option<Campaign>> {
        let found = self
            .campaigns_docs()
            .find_one(doc! { "_id": id.object_id() })
            .await?;
        found.map(Campaign::try_from).transpose()
    }

    async fn list(
        &self,
        filter: &CampaignFilter,
        request: &PageRequest,
    ) -> StoreResult<Page<Campaign>> {
        let mut query = doc! {};
        if let Some(status) = filter.status {
            query.insert("status", status.as_str());
        }
        page(
            &self.campaigns_docs(),
            query,
            request,
            Campaign::try_from,
            |c| c.id.object_id(),
        )
        .await
    }

    async fn update(&self, campaign: &Campaign, now: DateTime<Utc>) -> StoreResult<Campaign> {
        check_audience(campaign)?;
        let stored = self.load(campaign.id).await?;
        if stored.updated_at != millis(campaign.updated_at) {
            return Err(StoreError::stale(format!("campaign {}", campaign.id)));
        }
        let saved = Campaign {
            status: stored.status,
            pause_reason: stored.pause_reason.clone(),
            created_by: stored.created_by,
            created_at: stored.created_at,
            updated_at: next_version(stored.updated_at, now),
            ..campaign.clone()
        };
        if !self.write_if_unchanged(&stored, &saved, doc! {}).await? {
            return Err(StoreError::stale(format!("campaign {}", campaign.id)));
        }
        self.load(campaign.id).await
    }

    async fn delete(&self, id: CampaignId) -> StoreResult<()> {
        let result = self
            .campaigns_docs()
            .delete_one(doc! { "_id": id.object_id() })
            .await?;
        if result.deleted_count == 0 {
            return Err(StoreError::not_found(format!("campaign {id}")));
        }
        Ok(())
    }

    async fn change_status(
        &self,
        id: CampaignId,
        action: &CampaignAction,
        now: DateTime<Utc>,
    ) -> StoreResult<Campaign> {
        for _ in 0..CAS_ATTEMPTS {
            let stored = self.load(id).await?;
            let after = apply_action(&stored, action, now)?;
            if self.write_if_unchanged(&stored, &after, doc! {}).await? {
                return Ok(after);
            }
            // Someone else changed it: decide again on what they wrote.
        }
        Err(StoreError::stale(format!("campaign {id}")))
    }

    async fn claim_due_runs(
        &self,
        now: DateTime<Utc>,
        expiry: TimeDelta,
        limit: usize,
    ) -> StoreResult<Vec<DueRun>> {
        let due = find_all(
            &self.campaigns_docs(),
            doc! { "status": "scheduled", "nextRunAt": { "$lte": bdt(now) } },
            doc! { "nextRunAt": 1, "_id": 1 },
            Some(limit),
            Campaign::try_from,
        )
        .await?;
        let mut claimed = Vec::new();
        for campaign in due {
            let Some(run) = due_run(&campaign, now, expiry) else {
                continue;
            };
            // The unique run key first: if this scheduler dies after it, the next claim finds
            // the run and finishes the job. Then the conditional claim: one scheduler wins.
            let run = self.insert_run_if_absent(&run).await?;
            let Some(after) = claimed_campaign(&campaign, &run, now) else {
                continue;
            };
            let condition = doc! {
                "status": "scheduled",
                "nextRunAt": bdt(run.scheduled_for),
            };
            if self
                .write_if_unchanged(&campaign, &after, condition)
                .await?
            {
                claimed.push(DueRun {
                    campaign: after,
                    run,
                });
            }
        }
        Ok(claimed)
    }

    async fn get_run(&self, id: RunId) -> StoreResult<Option<Run>> {
        let found = self
            .runs_docs()
            .find_one(doc! { "_id": id.object_id() })
            .await?;
        Ok(found.map(Run::from))
    }

    async fn list_runs(
        &self,
        campaign_id: CampaignId,
        request: &PageRequest,
    ) -> StoreResult<Page<Run>> {
        page(
            &self.runs_docs(),
            doc! { "campaignId": campaign_id.object_id() },
            request,
            |d| Ok(Run::from(d)),
            |r| r.id.object_id(),
        )
        .await
    }

    async fn finish_run(
        &self,
        id: RunId,
        status: RunStatus,
        now: DateTime<Utc>,
    ) -> StoreResult<Run> {
        self.runs_docs()
            .update_one(
                doc! { "_id": id.object_id(), "status": "running" },
                doc! { "$set": {
                    "status": bson::to_bson(&status)?,
                    "finishedAt": bdt(millis(now)),
                } },
            )
            .await?;
        self.get_run(id)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("run {id}")))
    }
}

//! `CampaignStore` on SQLite. Read-decide-write sequences run in `BEGIN IMMEDIATE`
//! transactions: the write lock is taken before the read, so the decision is made on the state
//! that is overwritten.

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use deadpool_sqlite::rusqlite::{Connection, Row, TransactionBehavior, params};
use herald_domain::{Campaign, CampaignAction, CampaignId, Run, RunId, RunStatus};

use super::SqliteStore;
use super::codec::{
    Filter, conflict_or, enum_from_text, enum_text, from_json, ms, opt_ms, opt_time, parse,
    query_all, query_opt, text, time, to_json,
};
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use crate::ports::{CampaignFilter, CampaignStore, DueRun};
use crate::rules::{apply_action, check_audience, claimed_campaign, due_run, millis, next_version};

const SELECT: &str = "SELECT id, name, description, status, template_id, settings_id, audience, \
     parameters, schedule, next_run_at, pause_reason, created_by, created_at, updated_at \
     FROM campaigns";

const SELECT_RUN: &str =
    "SELECT id, campaign_id, scheduled_for, started_at, finished_at, status FROM runs";

fn read(row: &Row<'_>) -> StoreResult<Campaign> {
    let pause_reason: Option<String> = row.get("pause_reason")?;
    Ok(Campaign {
        id: parse(&row.get::<_, String>("id")?)?,
        name: row.get("name")?,
        description: row.get("description")?,
        status: enum_from_text(row.get("status")?)?,
        template_id: parse(&row.get::<_, String>("template_id")?)?,
        settings_id: parse(&row.get::<_, String>("settings_id")?)?,
        audience: from_json(&row.get::<_, String>("audience")?)?,
        parameters: from_json(&row.get::<_, String>("parameters")?)?,
        schedule: from_json(&row.get::<_, String>("schedule")?)?,
        next_run_at: opt_time(row.get("next_run_at")?)?,
        pause_reason: pause_reason.as_deref().map(from_json).transpose()?,
        created_by: parse(&row.get::<_, String>("created_by")?)?,
        created_at: time(row.get("created_at")?)?,
        updated_at: time(row.get("updated_at")?)?,
    })
}

fn read_run(row: &Row<'_>) -> StoreResult<Run> {
    Ok(Run {
        id: parse(&row.get::<_, String>("id")?)?,
        campaign_id: parse(&row.get::<_, String>("campaign_id")?)?,
        scheduled_for: time(row.get("scheduled_for")?)?,
        started_at: opt_time(row.get("started_at")?)?,
        finished_at: opt_time(row.get("finished_at")?)?,
        status: enum_from_text(row.get("status")?)?,
    })
}

fn get(c: &Connection, id: CampaignId) -> StoreResult<Option<Campaign>> {
    query_opt(
        c,
        &format!("{SELECT} WHERE id = ?"),
        &[text(id.to_hex())],
        read,
    )
}

/// Writes every field of `campaign`.
fn write(c: &Connection, campaign: &Campaign) -> StoreResult<()> {
    c.execute(
        "UPDATE campaigns SET name = ?2, description = ?3, status = ?4, template_id = ?5, \
         settings_id = ?6, audience = ?7, parameters = ?8, schedule = ?9, next_run_at = ?10, \
         pause_reason = ?11, updated_at = ?12 WHERE id = ?1",
        params![
            campaign.id.to_hex(),
            campaign.name,
            campaign.description,
            enum_text(&campaign.status)?,
            campaign.template_id.to_hex(),
            campaign.settings_id.to_hex(),
            to_json(&campaign.audience)?,
            to_json(&campaign.parameters)?,
            to_json(&campaign.schedule)?,
            opt_ms(campaign.next_run_at),
            campaign.pause_reason.as_ref().map(to_json).transpose()?,
            ms(campaign.updated_at),
        ],
    )?;
    Ok(())
}

fn insert_run_if_absent(c: &Connection, run: &Run) -> StoreResult<Run> {
    c.execute(
        "INSERT INTO runs (id, campaign_id, scheduled_for, started_at, finished_at, status) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (campaign_id, scheduled_for) DO NOTHING",
        params![
            run.id.to_hex(),
            run.campaign_id.to_hex(),
            ms(run.scheduled_for),
            opt_ms(run.started_at),
            opt_ms(run.finished_at),
            enum_text(&run.status)?,
        ],
    )?;
    query_opt(
        c,
        &format!("{SELECT_RUN} WHERE campaign_id = ? AND scheduled_for = ?"),
        &[text(run.campaign_id.to_hex()), ms(run.scheduled_for).into()],
        read_run,
    )?
    .ok_or_else(|| StoreError::not_found(format!("run of campaign {}", run.campaign_id)))
}

#[async_trait]
impl CampaignStore for SqliteStore {
    async fn create(&self, campaign: &Campaign) -> StoreResult<()> {
        check_audience(campaign)?;
        let campaign = campaign.clone();
        self.call(move |c| {
            c.execute(
                "INSERT INTO campaigns (id, name, description, status, template_id, settings_id, \
                 audience, parameters, schedule, next_run_at, pause_reason, created_by, \
                 created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                params![
                    campaign.id.to_hex(),
                    campaign.name,
                    campaign.description,
                    enum_text(&campaign.status)?,
                    campaign.template_id.to_hex(),
                    campaign.settings_id.to_hex(),
                    to_json(&campaign.audience)?,
                    to_json(&campaign.parameters)?,
                    to_json(&campaign.schedule)?,
                    opt_ms(campaign.next_run_at),
                    campaign.pause_reason.as_ref().map(to_json).transpose()?,
                    campaign.created_by.to_hex(),
                    ms(campaign.created_at),
                    ms(campaign.updated_at),
                ],
            )
            .map_err(|e| conflict_or(e, || format!("campaign {}", campaign.id)))?;
            Ok(())
        })
        .await
    }

    async fn get(&self, id: CampaignId) -> StoreResult<Option<Campaign>> {
        self.call(move |c| get(c, id)).await
    }

    async fn list(
        &self,
        filter: &CampaignFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Campaign>> {
        let mut f = Filter::default();
        if let Some(status) = filter.status {
            f.and("status = ?", [text(status.as_str())]);
        }
        let page = page.clone();
        self.call(move |c| f.page(c, SELECT, &page, read, |x: &Campaign| x.id.object_id()))
            .await
    }

    async fn update(&self, campaign: &Campaign, now: DateTime<Utc>) -> StoreResult<Campaign> {
        check_audience(campaign)?;
        let edited = campaign.clone();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let stored = get(&tx, edited.id)?
                .ok_or_else(|| StoreError::not_found(format!("campaign {}", edited.id)))?;
            if stored.updated_at != millis(edited.updated_at) {
                return Err(StoreError::stale(format!("campaign {}", edited.id)));
            }
            let saved = Campaign {
                status: stored.status,
                pause_reason: stored.pause_reason.clone(),
                created_by: stored.created_by,
                created_at: stored.created_at,
                updated_at: next_version(stored.updated_at, now),
                ..edited
            };
            write(&tx, &saved)?;
            let saved = get(&tx, saved.id)?
                .ok_or_else(|| StoreError::not_found(format!("campaign {}", saved.id)))?;
            tx.commit()?;
            Ok(saved)
        })
        .await
    }

    async fn delete(&self, id: CampaignId) -> StoreResult<()> {
        self.call(move |c| {
            if c.execute("DELETE FROM campaigns WHERE id = ?1", [id.to_hex()])? == 0 {
                return Err(StoreError::not_found(format!("campaign {id}")));
            }
            Ok(())
        })
        .await
    }

    async fn change_status(
        &self,
        id: CampaignId,
        action: &CampaignAction,
        now: DateTime<Utc>,
    ) -> StoreResult<Campaign> {
        let action = action.clone();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let stored =
                get(&tx, id)?.ok_or_else(|| StoreError::not_found(format!("campaign {id}")))?;
            let after = apply_action(&stored, &action, now)?;
            write(&tx, &after)?;
            tx.commit()?;
            Ok(after)
        })
        .await
    }

    async fn claim_due_runs(
        &self,
        now: DateTime<Utc>,
        expiry: TimeDelta,
        limit: usize,
    ) -> StoreResult<Vec<DueRun>> {
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let due = query_all(
                &tx,
                &format!(
                    "{SELECT} WHERE status = 'scheduled' AND next_run_at <= ? \
                     ORDER BY next_run_at, id LIMIT ?"
                ),
                &[ms(now).into(), (limit as i64).into()],
                read,
            )?;
            let mut claimed = Vec::with_capacity(due.len());
            for campaign in due {
                let Some(run) = due_run(&campaign, now, expiry) else {
                    continue;
                };
                let run = insert_run_if_absent(&tx, &run)?;
                let Some(after) = claimed_campaign(&campaign, &run, now) else {
                    continue;
                };
                write(&tx, &after)?;
                claimed.push(DueRun {
                    campaign: after,
                    run,
                });
            }
            tx.commit()?;
            Ok(claimed)
        })
        .await
    }

    async fn get_run(&self, id: RunId) -> StoreResult<Option<Run>> {
        self.call(move |c| {
            query_opt(
                c,
                &format!("{SELECT_RUN} WHERE id = ?"),
                &[text(id.to_hex())],
                read_run,
            )
        })
        .await
    }

    async fn list_runs(
        &self,
        campaign_id: CampaignId,
        page: &PageRequest,
    ) -> StoreResult<Page<Run>> {
        let mut f = Filter::default();
        f.and("campaign_id = ?", [text(campaign_id.to_hex())]);
        let page = page.clone();
        self.call(move |c| f.page(c, SELECT_RUN, &page, read_run, |r: &Run| r.id.object_id()))
            .await
    }

    async fn finish_run(
        &self,
        id: RunId,
        status: RunStatus,
        now: DateTime<Utc>,
    ) -> StoreResult<Run> {
        let now = ms(millis(now));
        self.call(move |c| {
            c.execute(
                "UPDATE runs SET status = ?2, finished_at = ?3 WHERE id = ?1 AND status = 'running'",
                params![id.to_hex(), enum_text(&status)?, now],
            )?;
            query_opt(
                c,
                &format!("{SELECT_RUN} WHERE id = ?"),
                &[text(id.to_hex())],
                read_run,
            )?
            .ok_or_else(|| StoreError::not_found(format!("run {id}")))
        })
        .await
    }
}

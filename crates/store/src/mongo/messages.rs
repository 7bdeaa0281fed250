//! `MessageStore` on MongoDB.
//!
//! The claim is one `findOneAndUpdate` conditional on `status: "queued"`. Outcomes and status
//! merges are read-merge-write loops: the merge is the domain's [`DeliveryState::merge`], and
//! the write is conditional on the version `v` that was read, so a concurrent writer makes the
//! loser read again and merge onto the newer state. Merges are monotonic, so retrying converges.

use std::collections::HashMap;

use async_trait::async_trait;
use bson::oid::ObjectId;
use bson::{Bson, Document, doc};
use chrono::{DateTime, Utc};
use futures_util::{StreamExt, TryStreamExt};
use herald_domain::{DeliveryState, Message, MessageError, MessageId, MessageStatus, Wamid};
use mongodb::Collection;
use mongodb::options::ReturnDocument;

use super::docs::MessageDoc;
use super::{MongoStore, bdt, duplicates_of, find_all, is_duplicate_key, page};
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use crate::ports::{
    ErrorCount, MergeSummary, MessageFilter, MessageScope, MessageStore, SendOutcome, StaleClaim,
    StatusCounts, StatusReport,
};
use crate::rules::{CAS_ATTEMPTS, apply_outcome, millis};

/// How many messages' merges run at once.
const CONCURRENT_MERGES: usize = 32;

impl MongoStore {
    fn messages_docs(&self) -> Collection<MessageDoc> {
        self.collection("messages")
    }

    async fn message_doc(&self, id: ObjectId) -> StoreResult<Option<MessageDoc>> {
        Ok(self.messages_docs().find_one(doc! { "_id": id }).await?)
    }

    /// Writes the delivery, claim and unknown-outcome fields of `after` (and `wamid` when the
    /// message has none) if the document is still at version `read.v`. `Ok(false)` when it
    /// moved on.
    async fn write_if_version(
        &self,
        read: &MessageDoc,
        after: &Message,
        unknown_outcome: Option<&str>,
        wamid: Option<&Wamid>,
    ) -> mongodb::error::Result<bool> {
        let d = &after.delivery;
        let mut set = doc! {
            "status": d.status.as_str(),
            "statusRank": i32::from(d.status.rank()),
            "sentAt": d.sent_at.map(bdt),
            "deliveredAt": d.delivered_at.map(bdt),
            "readAt": d.read_at.map(bdt),
            "failedAt": d.failed_at.map(bdt),
            "error": error_bson(d.error.as_ref()),
            "claimedAt": after.claimed_at.map(bdt),
            "claimedBy": after.claimed_by.clone(),
            "unknownOutcome": unknown_outcome,
        };
        if let (None, Some(w)) = (&read.wamid, wamid) {
            set.insert("wamid", w.as_str());
        }
        let result = self
            .messages_docs()
            .update_one(
                doc! { "_id": read.id, "v": read.v },
                doc! { "$set": set, "$inc": { "v": 1 } },
            )
            .await?;
        Ok(result.matched_count == 1)
    }

    /// Applies one message's reports, in order, until its compare-and-set succeeds. Returns
    /// (changed, unchanged) report counts.
    async fn merge_into(
        &self,
        mut read: MessageDoc,
        reports: Vec<&StatusReport>,
    ) -> StoreResult<(u64, u64)> {
        for _ in 0..CAS_ATTEMPTS {
            let before = read.message()?;
            let mut state: DeliveryState = before.delivery.clone();
            // A webhook matched through Herald's id teaches the wamid the send never recorded;
            // the first report does, so it counts as a change as on SQLite.
            let wamid = reports
                .first()
                .map(|r| &r.wamid)
                .filter(|_| read.wamid.is_none());
            let mut changed = 0;
            for (index, report) in reports.iter().enumerate() {
                let next = state.merge(&report.update);
                if next != state || (index == 0 && wamid.is_some()) {
                    changed += 1;
                }
                state = next;
            }
            if changed == 0 {
                return Ok((0, reports.len() as u64));
            }
            let unknown = read
                .unknown_outcome
                .clone()
                .filter(|_| !state.status.has_send_outcome());
            let after = Message {
                delivery: state,
                ..before
            };
            let written = match self
                .write_if_version(&read, &after, unknown.as_deref(), wamid)
                .await
            {
                Ok(written) => written,
                // The wamid is recorded on another message: merge without it.
                Err(e) if is_duplicate_key(&e) => {
                    self.write_if_version(&read, &after, unknown.as_deref(), None)
                        .await?
                }
                Err(e) => return Err(e.into()),
            };
            if written {
                return Ok((changed, reports.len() as u64 - changed));
            }
            read = self
                .message_doc(read.id)
                .await?
                .ok_or_else(|| StoreError::not_found(format!("message {}", read.id)))?;
        }
        Err(StoreError::stale(format!("message {}", read.id)))
    }
}

fn error_bson(error: Option<&MessageError>) -> Bson {
    error
        .and_then(|e| bson::to_bson(e).ok())
        .unwrap_or(Bson::Null)
}

/// A filter on `wamid` that the partial unique index `messages_wamid` (`$type: "string"`) can
/// serve: the planner uses a partial index only when the query implies its filter expression, and
/// it does not infer `$type` from an equality or an `$in`, so the predicate is spelled out (it
/// changes no result: a wamid is always a string). Without it every lookup scans the collection.
fn wamid_filter(condition: Bson) -> Document {
    let mut on_wamid = match condition {
        Bson::Document(operators) => operators,
        value => doc! { "$eq": value },
    };
    on_wamid.insert("$type", "string");
    doc! { "wamid": on_wamid }
}

fn scope_filter(scope: MessageScope) -> Document {
    match scope {
        MessageScope::Campaign(id) => doc! { "campaignId": id.object_id() },
        MessageScope::Run(id) => doc! { "runId": id.object_id() },
    }
}

fn count_of(d: &Document) -> u64 {
    match d.get("n") {
        Some(Bson::Int32(n)) => u64::try_from(*n).unwrap_or(0),
        Some(Bson::Int64(n)) => u64::try_from(*n).unwrap_or(0),
        _ => 0,
    }
}

#[async_trait]
impl MessageStore for MongoStore {
    async fn create_for_run(&self, messages: &[Message]) -> StoreResult<u64> {
        if messages.is_empty() {
            return Ok(0);
        }
        let docs: Vec<MessageDoc> = messages
            .iter()
            .map(|m| MessageDoc::new(m, None, 0))
            .collect();
        // Unordered: every document is tried; the ones that exist fail with a duplicate key on
        // (campaign, run, contact) or on _id, and only those failures are forgiven.
        let result = self
            .messages_docs()
            .insert_many(&docs)
            .ordered(false)
            .await
            .map(|_| ());
        Ok(docs.len() as u64 - duplicates_of(result)?)
    }

    async fn get(&self, id: MessageId) -> StoreResult<Option<Message>> {
        self.message_doc(id.object_id())
            .await?
            .map(|d| d.message())
            .transpose()
    }

    async fn find_by_wamid(&self, wamid: &Wamid) -> StoreResult<Option<Message>> {
        let found = self
            .messages_docs()
            .find_one(wamid_filter(Bson::String(wamid.as_str().to_owned())))
            .await?;
        found.map(|d| d.message()).transpose()
    }

    async fn claim_for_sending(
        &self,
        id: MessageId,
        worker: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Message>> {
        let claimed = self
            .messages_docs()
            .find_one_and_update(
                doc! { "_id": id.object_id(), "status": "queued" },
                doc! {
                    "$set": {
                        "status": "sending",
                        "statusRank": i32::from(MessageStatus::Sending.rank()),
                        "claimedAt": bdt(millis(now)),
                        "claimedBy": worker,
                        "unknownOutcome": Bson::Null,
                    },
                    "$inc": { "attempts": 1, "v": 1 },
                },
            )
            .return_document(ReturnDocument::After)
            .await?;
        claimed.map(|d| d.message()).transpose()
    }

    async fn record_outcome(
        &self,
        id: MessageId,
        outcome: &SendOutcome,
        _now: DateTime<Utc>,
    ) -> StoreResult<Message> {
        for _ in 0..CAS_ATTEMPTS {
            let read = self
                .message_doc(id.object_id())
                .await?
                .ok_or_else(|| StoreError::not_found(format!("message {id}")))?;
            let (after, unknown, wamid) =
                apply_outcome(read.message()?, read.unknown_outcome.clone(), outcome);
            let written = self
                .write_if_version(&read, &after, unknown.as_deref(), wamid.as_ref())
                .await
                .map_err(|e| {
                    if is_duplicate_key(&e) {
                        StoreError::conflict(format!(
                            "a message with wamid {}",
                            wamid.as_ref().map_or("?", Wamid::as_str)
                        ))
                    } else {
                        e.into()
                    }
                })?;
            if written {
                return self
                    .get(id)
                    .await?
                    .ok_or_else(|| StoreError::not_found(format!("message {id}")));
            }
        }
        Err(StoreError::stale(format!("message {id}")))
    }

    async fn merge_statuses(&self, reports: &[StatusReport]) -> StoreResult<MergeSummary> {
        let reports: Vec<StatusReport> = reports
            .iter()
            .cloned()
            .map(|mut r| {
                r.update.timestamp = millis(r.update.timestamp);
                r
            })
            .collect();
        // One read for the whole batch: every message named by id or by wamid.
        let ids: Vec<ObjectId> = reports
            .iter()
            .filter_map(|r| r.message_id.map(|id| id.object_id()))
            .collect();
        let wamids: Vec<&str> = reports.iter().map(|r| r.wamid.as_str()).collect();
        let found = find_all(
            &self.messages_docs(),
            doc! { "$or": [ { "_id": { "$in": ids } }, wamid_filter(doc! { "$in": wamids }.into()) ] },
            doc! { "_id": 1 },
            None,
            Ok,
        )
        .await?;
        let by_wamid: HashMap<String, ObjectId> = found
            .iter()
            .filter_map(|d| d.wamid.clone().map(|w| (w, d.id)))
            .collect();
        let mut docs: HashMap<ObjectId, MessageDoc> =
            found.into_iter().map(|d| (d.id, d)).collect();

        let mut summary = MergeSummary::default();
        let mut groups: HashMap<ObjectId, Vec<&StatusReport>> = HashMap::new();
        for (index, report) in reports.iter().enumerate() {
            let target = report
                .message_id
                .map(|id| id.object_id())
                .filter(|id| docs.contains_key(id))
                .or_else(|| by_wamid.get(report.wamid.as_str()).copied());
            match target {
                Some(id) => groups.entry(id).or_default().push(report),
                None => summary.unmatched.push(index),
            }
        }
        let work: Vec<_> = groups
            .into_iter()
            .filter_map(|(id, reports)| docs.remove(&id).map(|doc| (doc, reports)))
            .collect();
        // Collected first so that no closure over borrowed reports lives across the awaits.
        let merges: Vec<_> = work
            .into_iter()
            .map(|(doc, reports)| self.merge_into(doc, reports))
            .collect();
        let results: Vec<(u64, u64)> = futures_util::stream::iter(merges)
            .buffer_unordered(CONCURRENT_MERGES)
            .try_collect()
            .await?;
        for (changed, unchanged) in results {
            summary.changed += changed;
            summary.unchanged += unchanged;
        }
        Ok(summary)
    }

    async fn find_stale_claims(
        &self,
        claimed_before: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<StaleClaim>> {
        find_all(
            &self.messages_docs(),
            doc! { "status": "sending", "claimedAt": { "$lt": bdt(claimed_before) } },
            doc! { "claimedAt": 1, "_id": 1 },
            Some(limit),
            |d| {
                Ok(StaleClaim {
                    message: d.message()?,
                    unknown_outcome: d.unknown_outcome,
                })
            },
        )
        .await
    }

    async fn cancel_queued(
        &self,
        scope: MessageScope,
        error: &MessageError,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut filter = scope_filter(scope);
        filter.insert("status", "queued");
        let result = self
            .messages_docs()
            .update_many(
                filter,
                doc! {
                    "$set": {
                        "status": "failed",
                        "statusRank": i32::from(MessageStatus::Failed.rank()),
                        "failedAt": bdt(millis(now)),
                        "error": error_bson(Some(error)),
                    },
                    "$inc": { "v": 1 },
                },
            )
            .await?;
        Ok(result.modified_count)
    }

    async fn count_by_status(&self, scope: MessageScope) -> StoreResult<StatusCounts> {
        let rows: Vec<Document> = self
            .messages_docs()
            .aggregate(vec![
                doc! { "$match": scope_filter(scope) },
                doc! { "$group": { "_id": "$status", "n": { "$sum": 1 } } },
            ])
            .await?
            .try_collect()
            .await?;
        let mut counts = StatusCounts::default();
        for row in rows {
            let status: MessageStatus =
                bson::from_bson(row.get("_id").cloned().unwrap_or(Bson::Null))
                    .map_err(StoreError::corrupt)?;
            counts.0.insert(status, count_of(&row));
        }
        Ok(counts)
    }

    async fn count_by_error_code(&self, scope: MessageScope) -> StoreResult<Vec<ErrorCount>> {
        let mut filter = scope_filter(scope);
        filter.insert("status", "failed");
        let rows: Vec<Document> = self
            .messages_docs()
            .aggregate(vec![
                doc! { "$match": filter },
                doc! { "$group": { "_id": { "$ifNull": ["$error.code", null] }, "n": { "$sum": 1 } } },
                doc! { "$sort": { "n": -1, "_id": 1 } },
            ])
            .await?
            .try_collect()
            .await?;
        Ok(rows
            .iter()
            .map(|row| ErrorCount {
                code: match row.get("_id") {
                    Some(Bson::Int64(c)) => Some(*c),
                    Some(Bson::Int32(c)) => Some(i64::from(*c)),
                    _ => None,
                },
                count: count_of(row),
            })
            .collect())
    }

    async fn list(
        &self,
        filter: &MessageFilter,
        request: &PageRequest,
    ) -> StoreResult<Page<Message>> {
        let mut query = doc! {};
        if let Some(id) = filter.campaign_id {
            query.insert("campaignId", id.object_id());
        }
        if let Some(id) = filter.run_id {
            query.insert("runId", id.object_id());
        }
        if let Some(id) = filter.contact_id {
            query.insert("contactId", id.object_id());
        }
        if let Some(status) = filter.status {
            query.insert("status", status.as_str());
        }
        if let Some(code) = filter.error_code {
            query.insert("error.code", code);
        }
        page(
            &self.messages_docs(),
            query,
            request,
            |d| d.message(),
            |m| m.id.object_id(),
        )
        .await
    }
}

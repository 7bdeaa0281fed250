//! `MessageStore` on SQLite.
//!
//! The claim is one conditional `UPDATE … WHERE status = 'queued' RETURNING`, so exactly one
//! claimer gets the row. Status merges and outcomes read, merge with the domain rule and write
//! inside one `BEGIN IMMEDIATE` transaction per call, which holds the write lock across the
//! read: merges from several processes serialize, and each sees the previous one's result.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_sqlite::rusqlite::types::Value;
use deadpool_sqlite::rusqlite::{Connection, Row, TransactionBehavior, params, params_from_iter};
use herald_domain::{DeliveryState, Message, MessageError, MessageId, MessageStatus, Wamid};

use super::SqliteStore;
use super::codec::{
    Filter, enum_from_text, is_unique_violation, ms, opt_ms, opt_parse, opt_time, parse, query_all,
    query_opt, text, time,
};
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use crate::ports::{
    ErrorCount, MergeSummary, MessageFilter, MessageScope, MessageStore, SendOutcome, StaleClaim,
    StatusCounts, StatusReport,
};
use crate::rules::{apply_outcome, millis};

const COLUMNS: &str = "id, campaign_id, run_id, contact_id, template_id, status, sent_at, \
     delivered_at, read_at, failed_at, error_code, error_title, error_detail, wamid, attempts, \
     claimed_at, claimed_by, unknown_outcome, created_at";

fn select() -> String {
    format!("SELECT {COLUMNS} FROM messages")
}

/// A message and the unknown-outcome reason kept beside it.
fn read_full(row: &Row<'_>) -> StoreResult<(Message, Option<String>)> {
    let title: Option<String> = row.get("error_title")?;
    let error = match title {
        Some(title) => Some(MessageError {
            code: row.get("error_code")?,
            title,
            detail: row.get("error_detail")?,
        }),
        None => None,
    };
    let message = Message {
        id: parse(&row.get::<_, String>("id")?)?,
        campaign_id: parse(&row.get::<_, String>("campaign_id")?)?,
        run_id: parse(&row.get::<_, String>("run_id")?)?,
        contact_id: parse(&row.get::<_, String>("contact_id")?)?,
        template_id: parse(&row.get::<_, String>("template_id")?)?,
        delivery: DeliveryState {
            status: enum_from_text(row.get("status")?)?,
            sent_at: opt_time(row.get("sent_at")?)?,
            delivered_at: opt_time(row.get("delivered_at")?)?,
            read_at: opt_time(row.get("read_at")?)?,
            failed_at: opt_time(row.get("failed_at")?)?,
            error,
        },
        wamid: opt_parse::<Wamid>(row.get("wamid")?)?,
        attempts: row.get("attempts")?,
        claimed_at: opt_time(row.get("claimed_at")?)?,
        claimed_by: row.get("claimed_by")?,
        created_at: time(row.get("created_at")?)?,
    };
    Ok((message, row.get("unknown_outcome")?))
}

fn read(row: &Row<'_>) -> StoreResult<Message> {
    read_full(row).map(|(m, _)| m)
}

fn get_full(c: &Connection, id: MessageId) -> StoreResult<Option<(Message, Option<String>)>> {
    query_opt(
        c,
        &format!("{} WHERE id = ?", select()),
        &[text(id.to_hex())],
        read_full,
    )
}

fn find_id_by_wamid(c: &Connection, wamid: &Wamid) -> StoreResult<Option<MessageId>> {
    query_opt(
        c,
        "SELECT id FROM messages WHERE wamid = ?",
        &[text(wamid.as_str())],
        |row| parse(&row.get::<_, String>(0)?),
    )
}

/// Writes the delivery fields, the claim fields, the unknown-outcome reason and (when the
/// message has none) the wamid.
fn write(
    c: &Connection,
    m: &Message,
    unknown_outcome: Option<&str>,
    wamid: Option<&Wamid>,
) -> Result<(), deadpool_sqlite::rusqlite::Error> {
    let d = &m.delivery;
    let error = d.error.as_ref();
    c.prepare_cached(
        "UPDATE messages SET status = ?2, status_rank = ?3, sent_at = ?4, delivered_at = ?5, \
         read_at = ?6, failed_at = ?7, error_code = ?8, error_title = ?9, error_detail = ?10, \
         claimed_at = ?11, claimed_by = ?12, unknown_outcome = ?13, \
         wamid = COALESCE(wamid, ?14) WHERE id = ?1",
    )?
    .execute(params![
        m.id.to_hex(),
        d.status.as_str(),
        d.status.rank(),
        opt_ms(d.sent_at),
        opt_ms(d.delivered_at),
        opt_ms(d.read_at),
        opt_ms(d.failed_at),
        error.and_then(|e| e.code),
        error.map(|e| e.title.as_str()),
        error.and_then(|e| e.detail.as_deref()),
        opt_ms(m.claimed_at),
        m.claimed_by,
        unknown_outcome,
        wamid.map(Wamid::as_str),
    ])?;
    Ok(())
}

fn scope_filter(scope: MessageScope) -> Filter {
    let mut f = Filter::default();
    match scope {
        MessageScope::Campaign(id) => f.and("campaign_id = ?", [text(id.to_hex())]),
        MessageScope::Run(id) => f.and("run_id = ?", [text(id.to_hex())]),
    }
    f
}

/// Applies one report inside the caller's transaction. `None` when no message matches.
fn merge_one(c: &Connection, report: &StatusReport) -> StoreResult<Option<bool>> {
    let mut found = match report.message_id {
        Some(id) => get_full(c, id)?,
        None => None,
    };
    if found.is_none() {
        found = match find_id_by_wamid(c, &report.wamid)? {
            Some(id) => get_full(c, id)?,
            None => None,
        };
    }
    let Some((mut message, unknown)) = found else {
        return Ok(None);
    };
    let merged = message.delivery.merge(&report.update);
    let learns_wamid = message.wamid.is_none();
    if merged == message.delivery && !learns_wamid {
        return Ok(Some(false));
    }
    let unknown = unknown.filter(|_| !merged.status.has_send_outcome());
    message.delivery = merged;
    match write(c, &message, unknown.as_deref(), Some(&report.wamid)) {
        Ok(()) => {}
        // The wamid is recorded on another message (a foreign callback id): merge the status
        // anyway, leave the wamid where it is.
        Err(e) if is_unique_violation(&e) => write(c, &message, unknown.as_deref(), None)?,
        Err(e) => return Err(e.into()),
    }
    Ok(Some(true))
}

#[async_trait]
impl MessageStore for SqliteStore {
    async fn create_for_run(&self, messages: &[Message]) -> StoreResult<u64> {
        let messages = messages.to_vec();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut created = 0u64;
            {
                // `DO NOTHING` without a target covers both unique keys: the (campaign, run,
                // contact) key of a second run of the same page, and the id of a retried call.
                let mut stmt = tx.prepare_cached(
                    "INSERT INTO messages (id, campaign_id, run_id, contact_id, template_id, \
                     status, status_rank, attempts, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, 'queued', 0, 0, ?6) ON CONFLICT DO NOTHING",
                )?;
                for m in &messages {
                    created += stmt.execute(params![
                        m.id.to_hex(),
                        m.campaign_id.to_hex(),
                        m.run_id.to_hex(),
                        m.contact_id.to_hex(),
                        m.template_id.to_hex(),
                        ms(m.created_at),
                    ])? as u64;
                }
            }
            tx.commit()?;
            Ok(created)
        })
        .await
    }

    async fn get(&self, id: MessageId) -> StoreResult<Option<Message>> {
        self.call(move |c| Ok(get_full(c, id)?.map(|(m, _)| m)))
            .await
    }

    async fn find_by_wamid(&self, wamid: &Wamid) -> StoreResult<Option<Message>> {
        let wamid = wamid.as_str().to_owned();
        self.call(move |c| {
            query_opt(
                c,
                &format!("{} WHERE wamid = ?", select()),
                &[text(wamid)],
                read,
            )
        })
        .await
    }

    async fn claim_for_sending(
        &self,
        id: MessageId,
        worker: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Message>> {
        let worker = worker.to_owned();
        let now = ms(millis(now));
        self.call(move |c| {
            query_opt(
                c,
                &format!(
                    "UPDATE messages SET status = 'sending', status_rank = 1, \
                     attempts = attempts + 1, claimed_at = ?, claimed_by = ?, \
                     unknown_outcome = NULL WHERE id = ? AND status = 'queued' RETURNING {COLUMNS}"
                ),
                &[now.into(), text(worker), text(id.to_hex())],
                read,
            )
        })
        .await
    }

    async fn record_outcome(
        &self,
        id: MessageId,
        outcome: &SendOutcome,
        _now: DateTime<Utc>,
    ) -> StoreResult<Message> {
        let outcome = outcome.clone();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (message, unknown) =
                get_full(&tx, id)?.ok_or_else(|| StoreError::not_found(format!("message {id}")))?;
            let (message, unknown, wamid) = apply_outcome(message, unknown, &outcome);
            write(&tx, &message, unknown.as_deref(), wamid.as_ref()).map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::conflict(format!(
                        "a message with wamid {}",
                        wamid.as_ref().map_or("?", Wamid::as_str)
                    ))
                } else {
                    e.into()
                }
            })?;
            let (stored, _) =
                get_full(&tx, id)?.ok_or_else(|| StoreError::not_found(format!("message {id}")))?;
            tx.commit()?;
            Ok(stored)
        })
        .await
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
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut summary = MergeSummary::default();
            for (index, report) in reports.iter().enumerate() {
                match merge_one(&tx, report)? {
                    Some(true) => summary.changed += 1,
                    Some(false) => summary.unchanged += 1,
                    None => summary.unmatched.push(index),
                }
            }
            tx.commit()?;
            Ok(summary)
        })
        .await
    }

    async fn find_stale_claims(
        &self,
        claimed_before: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<StaleClaim>> {
        let before = ms(claimed_before);
        self.call(move |c| {
            query_all(
                c,
                &format!(
                    "{} WHERE status = 'sending' AND claimed_at < ? ORDER BY claimed_at, id LIMIT ?",
                    select()
                ),
                &[before.into(), (limit as i64).into()],
                |row| {
                    let (message, unknown_outcome) = read_full(row)?;
                    Ok(StaleClaim {
                        message,
                        unknown_outcome,
                    })
                },
            )
        })
        .await
    }

    async fn cancel_queued(
        &self,
        scope: MessageScope,
        error: &MessageError,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut f = scope_filter(scope);
        f.and("status = 'queued'", []);
        let mut params: Vec<Value> = vec![
            ms(millis(now)).into(),
            error.code.into(),
            text(error.title.clone()),
            error.detail.clone().into(),
        ];
        params.extend(f.params.iter().cloned());
        let sql = format!(
            "UPDATE messages SET status = 'failed', status_rank = {}, failed_at = ?, \
             error_code = ?, error_title = ?, error_detail = ?{}",
            MessageStatus::Failed.rank(),
            f.sql()
        );
        self.call(move |c| Ok(c.execute(&sql, params_from_iter(params.iter()))? as u64))
            .await
    }

    async fn count_by_status(&self, scope: MessageScope) -> StoreResult<StatusCounts> {
        let f = scope_filter(scope);
        self.call(move |c| {
            let rows = query_all(
                c,
                &format!(
                    "SELECT status, COUNT(*) FROM messages{} GROUP BY status",
                    f.sql()
                ),
                &f.params,
                |row| {
                    let status: MessageStatus = enum_from_text(row.get(0)?)?;
                    Ok((status, row.get::<_, i64>(1)?.unsigned_abs()))
                },
            )?;
            Ok(StatusCounts(rows.into_iter().collect()))
        })
        .await
    }

    async fn count_by_error_code(&self, scope: MessageScope) -> StoreResult<Vec<ErrorCount>> {
        let mut f = scope_filter(scope);
        f.and("status = 'failed'", []);
        self.call(move |c| {
            query_all(
                c,
                &format!(
                    "SELECT error_code, COUNT(*) AS n FROM messages{} GROUP BY error_code \
                     ORDER BY n DESC, error_code",
                    f.sql()
                ),
                &f.params,
                |row| {
                    Ok(ErrorCount {
                        code: row.get(0)?,
                        count: row.get::<_, i64>(1)?.unsigned_abs(),
                    })
                },
            )
        })
        .await
    }

    async fn list(&self, filter: &MessageFilter, page: &PageRequest) -> StoreResult<Page<Message>> {
        let mut f = Filter::default();
        if let Some(id) = filter.campaign_id {
            f.and("campaign_id = ?", [text(id.to_hex())]);
        }
        if let Some(id) = filter.run_id {
            f.and("run_id = ?", [text(id.to_hex())]);
        }
        if let Some(id) = filter.contact_id {
            f.and("contact_id = ?", [text(id.to_hex())]);
        }
        if let Some(status) = filter.status {
            f.and("status = ?", [text(status.as_str())]);
        }
        if let Some(code) = filter.error_code {
            f.and("error_code = ?", [code.into()]);
        }
        let page = page.clone();
        let select = select();
        self.call(move |c| f.page(c, &select, &page, read, |m: &Message| m.id.object_id()))
            .await
    }
}

//! `ReplyStore` on SQLite.

use async_trait::async_trait;
use deadpool_sqlite::rusqlite::{Row, params};
use herald_domain::{Reply, ReplyId};

use super::SqliteStore;
use super::codec::{
    Filter, enum_from_text, enum_text, ms, opt_parse, parse, query_opt, text, time,
};
use crate::error::StoreResult;
use crate::page::{Page, PageRequest};
use crate::ports::{ReplyFilter, ReplyStore};

const SELECT: &str = "SELECT id, contact_id, from_wa_id, phone_number_id, message_id, kind, text, \
     media_id, media_url, context_wamid, button_payload, campaign_id, received_at, created_at \
     FROM replies";

fn read(row: &Row<'_>) -> StoreResult<Reply> {
    Ok(Reply {
        id: parse(&row.get::<_, String>("id")?)?,
        contact_id: opt_parse(row.get("contact_id")?)?,
        from: parse(&row.get::<_, String>("from_wa_id")?)?,
        phone_number_id: row.get("phone_number_id")?,
        message_id: parse(&row.get::<_, String>("message_id")?)?,
        kind: enum_from_text(row.get("kind")?)?,
        text: row.get("text")?,
        media_id: row.get("media_id")?,
        media_url: row.get("media_url")?,
        context_wamid: opt_parse(row.get("context_wamid")?)?,
        button_payload: row.get("button_payload")?,
        campaign_id: opt_parse(row.get("campaign_id")?)?,
        received_at: time(row.get("received_at")?)?,
        created_at: time(row.get("created_at")?)?,
    })
}

#[async_trait]
impl ReplyStore for SqliteStore {
    async fn insert_if_absent(&self, reply: &Reply) -> StoreResult<bool> {
        let r = reply.clone();
        self.call(move |c| {
            let inserted = c.execute(
                "INSERT INTO replies (id, contact_id, from_wa_id, phone_number_id, message_id, \
                 kind, text, media_id, media_url, context_wamid, button_payload, campaign_id, \
                 received_at, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) \
                 ON CONFLICT (message_id) DO NOTHING",
                params![
                    r.id.to_hex(),
                    r.contact_id.map(|id| id.to_hex()),
                    r.from.as_str(),
                    r.phone_number_id,
                    r.message_id.as_str(),
                    enum_text(&r.kind)?,
                    r.text,
                    r.media_id,
                    r.media_url,
                    r.context_wamid.as_ref().map(|w| w.as_str()),
                    r.button_payload,
                    r.campaign_id.map(|id| id.to_hex()),
                    ms(r.received_at),
                    ms(r.created_at),
                ],
            )?;
            Ok(inserted == 1)
        })
        .await
    }

    async fn get(&self, id: ReplyId) -> StoreResult<Option<Reply>> {
        self.call(move |c| {
            query_opt(
                c,
                &format!("{SELECT} WHERE id = ?"),
                &[text(id.to_hex())],
                read,
            )
        })
        .await
    }

    async fn list(&self, filter: &ReplyFilter, page: &PageRequest) -> StoreResult<Page<Reply>> {
        let mut f = Filter::default();
        if let Some(id) = filter.campaign_id {
            f.and("campaign_id = ?", [text(id.to_hex())]);
        }
        if let Some(id) = filter.contact_id {
            f.and("contact_id = ?", [text(id.to_hex())]);
        }
        if let Some(since) = filter.since {
            f.and("received_at >= ?", [ms(since).into()]);
        }
        let page = page.clone();
        self.call(move |c| f.page(c, SELECT, &page, read, |r: &Reply| r.id.object_id()))
            .await
    }
}

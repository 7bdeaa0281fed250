//! `ReplyStore` on MongoDB.

use async_trait::async_trait;
use bson::doc;
use herald_domain::{Reply, ReplyId};
use mongodb::Collection;

use super::docs::ReplyDoc;
use super::{MongoStore, bdt, is_duplicate_key, page};
use crate::error::StoreResult;
use crate::page::{Page, PageRequest};
use crate::ports::{ReplyFilter, ReplyStore};

impl MongoStore {
    fn replies_docs(&self) -> Collection<ReplyDoc> {
        self.collection("replies")
    }
}

#[async_trait]
impl ReplyStore for MongoStore {
    async fn insert_if_absent(&self, reply: &Reply) -> StoreResult<bool> {
        match self.replies_docs().insert_one(ReplyDoc::from(reply)).await {
            Ok(_) => Ok(true),
            // The unique index on the inbound wamid turns a redelivered webhook into a no-op.
            Err(e) if is_duplicate_key(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn get(&self, id: ReplyId) -> StoreResult<Option<Reply>> {
        let found = self
            .replies_docs()
            .find_one(doc! { "_id": id.object_id() })
            .await?;
        found.map(Reply::try_from).transpose()
    }

    async fn list(&self, filter: &ReplyFilter, request: &PageRequest) -> StoreResult<Page<Reply>> {
        let mut query = doc! {};
        if let Some(id) = filter.campaign_id {
            query.insert("campaignId", id.object_id());
        }
        if let Some(id) = filter.contact_id {
            query.insert("contactId", id.object_id());
        }
        if let Some(since) = filter.since {
            query.insert("receivedAt", doc! { "$gte": bdt(since) });
        }
        page(&self.replies_docs(), query, request, Reply::try_from, |r| {
            r.id.object_id()
        })
        .await
    }
}

//! The MongoDB adapter: the production store of the distributed deployment.
//!
//! - **Typed collections** of document structs (`docs.rs`) kept apart from domain types and
//!   converted at this edge, with the seed schema's camelCase field names.
//! - **Atomicity without transactions** (they would need a replica set): a write that must be
//!   atomic is one conditional single-document update, e.g. the claim
//!   `findOneAndUpdate({_id, status: "queued"}, …)`; a read-decide-write (status merges, send
//!   outcomes, campaign transitions) is a compare-and-set on a version (`v` on messages,
//!   `updatedAt` on campaigns) retried on conflict, so the decision is always the domain's rule
//!   applied to the state it overwrites.
//! - **Volume**: unordered `insertMany` for the messages of a run and for imported contacts,
//!   batched reads and concurrent conditional writes for status merges.
//! - **Indexes** (`indexes.rs`) are created by [`MongoStore::migrate`], idempotently.

mod campaigns;
mod contacts;
mod docs;
mod indexes;
mod messages;
mod refresh_tokens;
mod replies;
mod settings;
mod templates;
mod users;

use anyhow::Context;
use bson::{Document, doc};
use futures_util::TryStreamExt;
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::{Client, Collection, Database};
use serde::de::DeserializeOwned;

use crate::config::MongoSettings;
use crate::error::{StoreError, StoreResult};
use crate::page::{Order, Page, PageRequest};

/// MongoDB's code for a duplicate key.
const DUPLICATE_KEY: i32 = 11000;

/// The MongoDB adapter; implements every repository trait. Wrap it in a [`crate::Store`].
pub struct MongoStore {
    db: Database,
}

impl MongoStore {
    /// Creates the client. MongoDB connects lazily: an unreachable server shows at the first
    /// call (see [`MongoStore::ping`]), not here.
    pub async fn connect(settings: &MongoSettings) -> StoreResult<Self> {
        let client = Client::with_uri_str(&settings.uri)
            .await
            .context("invalid MongoDB connection string")
            .map_err(StoreError::Unavailable)?;
        Ok(Self {
            db: client.database(&settings.database),
        })
    }

    /// Creates every index the queries need; existing ones are left as they are.
    pub async fn migrate(&self) -> StoreResult<()> {
        indexes::create_all(&self.db).await
    }

    pub async fn ping(&self) -> StoreResult<()> {
        self.db.run_command(doc! { "ping": 1 }).await?;
        Ok(())
    }

    /// Drops the whole database. For tests that made their own.
    pub async fn drop_database(&self) -> StoreResult<()> {
        self.db.drop().await?;
        Ok(())
    }

    fn collection<T: Send + Sync>(&self, name: &str) -> Collection<T> {
        self.db.collection(name)
    }
}

impl From<mongodb::error::Error> for StoreError {
    fn from(e: mongodb::error::Error) -> Self {
        StoreError::Unavailable(anyhow::Error::new(e).context("MongoDB"))
    }
}

impl From<bson::ser::Error> for StoreError {
    fn from(e: bson::ser::Error) -> Self {
        StoreError::Unavailable(anyhow::Error::new(e).context("encoding a MongoDB document"))
    }
}

/// A unique index refused the write (for `insertMany`: every refusal was one).
pub(crate) fn is_duplicate_key(e: &mongodb::error::Error) -> bool {
    match e.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(w)) => w.code == DUPLICATE_KEY,
        ErrorKind::Command(c) => c.code == DUPLICATE_KEY,
        ErrorKind::InsertMany(m) => {
            m.write_concern_error.is_none()
                && m.write_errors
                    .as_ref()
                    .is_some_and(|es| es.iter().all(|w| w.code == DUPLICATE_KEY))
        }
        _ => false,
    }
}

/// How many documents of an unordered `insertMany` were refused as duplicates; any other
/// failure is an error.
pub(crate) fn duplicates_of(result: mongodb::error::Result<()>) -> StoreResult<u64> {
    match result {
        Ok(()) => Ok(0),
        Err(e) if is_duplicate_key(&e) => match e.kind.as_ref() {
            ErrorKind::InsertMany(m) => Ok(m.write_errors.as_ref().map_or(0, |w| w.len() as u64)),
            _ => Ok(1),
        },
        Err(e) => Err(e.into()),
    }
}

/// Maps a duplicate key to `Conflict { what }`, anything else to `Unavailable`.
pub(crate) fn conflict_or(e: mongodb::error::Error, what: impl FnOnce() -> String) -> StoreError {
    if is_duplicate_key(&e) {
        StoreError::conflict(what())
    } else {
        e.into()
    }
}

/// Reads every document matching `filter` (at most `limit` of them), in `sort` order, converted.
pub(crate) async fn find_all<D, T>(
    coll: &Collection<D>,
    filter: Document,
    sort: Document,
    limit: Option<usize>,
    convert: impl Fn(D) -> StoreResult<T>,
) -> StoreResult<Vec<T>>
where
    D: DeserializeOwned + Send + Sync,
{
    let mut find = coll.find(filter).sort(sort);
    if let Some(limit) = limit {
        // MongoDB reads `limit: 0` as "no limit" and a negative one as "one batch, then close":
        // neither is what a caller asking for `limit` rows means (SQLite's `LIMIT` is).
        if limit == 0 {
            return Ok(Vec::new());
        }
        find = find.limit(i64::try_from(limit).unwrap_or(i64::MAX));
    }
    let docs: Vec<D> = find.await?.try_collect().await?;
    docs.into_iter().map(convert).collect()
}

/// One page of `filter` in id order, per [`PageRequest`].
pub(crate) async fn page<D, T>(
    coll: &Collection<D>,
    mut filter: Document,
    page: &PageRequest,
    convert: impl Fn(D) -> StoreResult<T>,
    id_of: impl Fn(&T) -> bson::oid::ObjectId,
) -> StoreResult<Page<T>>
where
    D: DeserializeOwned + Send + Sync,
{
    let limit = page.effective_limit();
    let (cmp, dir) = match page.order {
        Order::OldestFirst => ("$gt", 1),
        Order::NewestFirst => ("$lt", -1),
    };
    if let Some(after) = &page.after {
        filter.insert("_id", doc! { cmp: after.position() });
    }
    let rows = find_all(coll, filter, doc! { "_id": dir }, Some(limit + 1), convert).await?;
    Ok(Page::from_rows(rows, limit, id_of))
}

pub(crate) fn bdt(at: chrono::DateTime<chrono::Utc>) -> bson::DateTime {
    bson::DateTime::from_chrono(at)
}

pub(crate) fn opt_bdt(at: Option<chrono::DateTime<chrono::Utc>>) -> Option<bson::DateTime> {
    at.map(bdt)
}

/// A `$regex` matching `needle` literally.
pub(crate) fn regex_escape(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len());
    for c in needle.chars() {
        if "\\^$.|?*+()[]{}".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

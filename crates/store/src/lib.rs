//! Herald's storage: one repository trait per aggregate, a MongoDB adapter and a SQLite adapter
//! (ARCHITECTURE §4–§5).
//!
//! - [`ports`]: the traits, in domain words ([`MessageStore::claim_for_sending`],
//!   [`MessageStore::merge_statuses`], [`CampaignStore::claim_due_runs`]…) over domain types.
//! - [`Store`]: the handle services hold, bundling every repository of one adapter. Build it with
//!   [`Store::connect`] from [`StoreSettings`], then call [`Store::migrate`] (idempotent) at
//!   start-up and from `herald migrate`.
//! - [`mongo`]: the production adapter. [`sqlite`]: the embedded one, and the tests'.
//! - [`page`]: cursor pagination; [`audience`]: streaming a campaign's audience page by page.
//!
//! The conformance suite in `tests/conformance` is written once against the traits and run on
//! both adapters; it is the definition of what a caller may rely on.
//!
//! # Decisions
//!
//! - **Pagination** is keyset on the record id (ObjectIds, unique and time-ordered), with an
//!   opaque cursor (the last id, base64url). It neither skips nor repeats a record that existed
//!   when a listing started, whatever is inserted meanwhile; see [`page`].
//! - **Audience storage**: a campaign keeps its explicit contact ids in its own record, at most
//!   [`MAX_EXPLICIT_CONTACTS`] (100,000, about 2 MB of BSON); larger audiences select by tag or
//!   group, as the domain's `Audience` documents. The walk ([`AudiencePages`]) never sends more
//!   than one page of explicit ids to the database and holds one page of contacts at a time.
//! - **Status merge**: the only rule is the domain's `DeliveryState::merge`. SQLite applies it
//!   inside `BEGIN IMMEDIATE` transactions (one per batch); MongoDB reads a batch in one query
//!   and writes each message with a compare-and-set on a version field, re-merging on conflict.
//!   Both are monotonic and idempotent under any order, duplication and concurrency.
//! - **Unknown send outcome** (ARCHITECTURE §7): [`SendOutcome::Unknown`] leaves the message in
//!   `sending` with the reason kept, so it is never claimed and sent again; a status webhook
//!   matched through Herald's id resolves it, and [`MessageStore::find_stale_claims`] reports it
//!   (with the reason) to the recovery scan, which decides.
//! - **Time** is stored to the millisecond (BSON dates; integer milliseconds in SQLite).
//! - **Start-up**: services call [`Store::connect`] then [`Store::migrate`]; `herald migrate`
//!   calls the same two.

pub mod audience;
pub mod config;
pub mod error;
pub mod mongo;
pub mod page;
pub mod ports;
mod rules;
pub mod sqlite;

use std::sync::Arc;

use chrono::{DateTime, SubsecRound as _, Utc};

use herald_domain::Audience;

pub use crate::audience::{AudiencePages, MAX_AUDIENCE_PAGE};
pub use crate::config::{MongoSettings, SqliteSettings, StoreKind, StoreSettings};
pub use crate::error::{StoreError, StoreResult};
pub use crate::page::{Cursor, MAX_PAGE_SIZE, Order, Page, PageRequest};
pub use crate::ports::*;

use crate::mongo::MongoStore;
use crate::sqlite::SqliteStore;

/// The current time at the precision every adapter keeps (milliseconds). A record stamped with
/// it reads back exactly as it was written, so an API answers the same timestamps when it creates
/// a record and when it is read later.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// Every repository of one adapter. Cheap to clone; clones share connections.
#[derive(Clone)]
pub struct Store {
    users: Arc<dyn UserStore>,
    settings: Arc<dyn SettingsStore>,
    contacts: Arc<dyn ContactStore>,
    templates: Arc<dyn TemplateStore>,
    campaigns: Arc<dyn CampaignStore>,
    messages: Arc<dyn MessageStore>,
    replies: Arc<dyn ReplyStore>,
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Sqlite(Arc<SqliteStore>),
    Mongo(Arc<MongoStore>),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("kind", &self.kind()).finish()
    }
}

impl Store {
    /// Opens the configured store: the SQLite file (created when missing) or a MongoDB client.
    /// Does not migrate; call [`Store::migrate`] next.
    pub async fn connect(settings: &StoreSettings) -> StoreResult<Self> {
        match settings.kind {
            StoreKind::Sqlite => Ok(Self::from(SqliteStore::open(&settings.sqlite).await?)),
            StoreKind::Mongodb => Ok(Self::from(MongoStore::connect(&settings.mongodb).await?)),
        }
    }

    /// Brings the database to the schema this build expects: SQLite runs its pending
    /// migrations, MongoDB creates its indexes. Idempotent and safe to run from several
    /// processes at once.
    pub async fn migrate(&self) -> StoreResult<()> {
        match &self.backend {
            Backend::Sqlite(s) => s.migrate().await,
            Backend::Mongo(m) => m.migrate().await,
        }
    }

    /// Readiness: the database answers.
    pub async fn ping(&self) -> StoreResult<()> {
        match &self.backend {
            Backend::Sqlite(s) => s.ping().await,
            Backend::Mongo(m) => m.ping().await,
        }
    }

    pub fn kind(&self) -> StoreKind {
        match self.backend {
            Backend::Sqlite(_) => StoreKind::Sqlite,
            Backend::Mongo(_) => StoreKind::Mongodb,
        }
    }

    pub fn users(&self) -> &dyn UserStore {
        &*self.users
    }

    pub fn settings(&self) -> &dyn SettingsStore {
        &*self.settings
    }

    pub fn contacts(&self) -> &dyn ContactStore {
        &*self.contacts
    }

    pub fn templates(&self) -> &dyn TemplateStore {
        &*self.templates
    }

    pub fn campaigns(&self) -> &dyn CampaignStore {
        &*self.campaigns
    }

    pub fn messages(&self) -> &dyn MessageStore {
        &*self.messages
    }

    pub fn replies(&self) -> &dyn ReplyStore {
        &*self.replies
    }

    /// Walks `audience` (a campaign's) in pages of at most `page_size` reachable contacts; see
    /// [`AudiencePages`].
    pub fn stream_audience(&self, audience: &Audience, page_size: usize) -> AudiencePages {
        AudiencePages::new(self.contacts.clone(), audience, page_size)
    }
}

impl From<SqliteStore> for Store {
    fn from(store: SqliteStore) -> Self {
        let store = Arc::new(store);
        Self {
            users: store.clone(),
            settings: store.clone(),
            contacts: store.clone(),
            templates: store.clone(),
            campaigns: store.clone(),
            messages: store.clone(),
            replies: store.clone(),
            backend: Backend::Sqlite(store),
        }
    }
}

impl From<MongoStore> for Store {
    fn from(store: MongoStore) -> Self {
        let store = Arc::new(store);
        Self {
            users: store.clone(),
            settings: store.clone(),
            contacts: store.clone(),
            templates: store.clone(),
            campaigns: store.clone(),
            messages: store.clone(),
            replies: store.clone(),
            backend: Backend::Mongo(store),
        }
    }
}

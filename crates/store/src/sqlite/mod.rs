//! The SQLite adapter: the embedded store of `herald serve` and of the test suite.
//!
//! - **Never blocks the runtime**: every statement runs on a pooled connection inside
//!   `spawn_blocking` (deadpool-sqlite's `interact`).
//! - **Several processes on one file**: WAL mode (readers never wait for the writer),
//!   `busy_timeout` (a writer waits for the lock instead of failing), and writes that must be
//!   atomic either are one conditional statement (`UPDATE … WHERE status = 'queued'
//!   RETURNING …`) or run in a `BEGIN IMMEDIATE` transaction, which takes the write lock before
//!   reading so no other writer can slip in between the read and the write.
//! - **Schema**: versioned migrations in code (`schema.rs`), with the same unique keys and indexes
//!   as the MongoDB adapter. Ids are 24-hex text (their order is the ObjectId order),
//!   timestamps integer milliseconds, free-form fields JSON text. Foreign-key free, like MongoDB.

mod campaigns;
mod codec;
mod contacts;
mod messages;
mod refresh_tokens;
mod replies;
mod schema;
mod settings;
mod templates;
mod users;

use std::time::{Duration, Instant};

use anyhow::Context;
use deadpool_sqlite::rusqlite::{self, Connection};
use deadpool_sqlite::{Hook, HookError, Manager, Pool, Runtime};

use crate::config::SqliteSettings;
use crate::error::{StoreError, StoreResult};

/// The SQLite adapter; implements every repository trait. Wrap it in a [`crate::Store`].
pub struct SqliteStore {
    pool: Pool,
}

impl SqliteStore {
    /// Opens (creating when missing) the database file and its directory. Does not migrate.
    pub async fn open(settings: &SqliteSettings) -> StoreResult<Self> {
        let path = settings.path.clone();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir)
                .await
                .with_context(|| format!("cannot create the directory {}", dir.display()))
                .map_err(StoreError::Unavailable)?;
        }
        let busy_timeout = settings.busy_timeout();
        let config = deadpool_sqlite::Config::new(path.clone());
        let pool = Pool::builder(Manager::from_config(&config, Runtime::Tokio1))
            .max_size(settings.pool_size.max(1))
            .post_create(Hook::async_fn(move |conn, _| {
                Box::pin(async move {
                    conn.interact(move |c| configure(c, busy_timeout))
                        .await
                        .map_err(|e| HookError::message(e.to_string()))?
                        .map_err(HookError::Backend)
                })
            }))
            .build()
            .context("cannot build the SQLite connection pool")
            .map_err(StoreError::Unavailable)?;
        let store = Self { pool };
        // Open one connection now so that a bad path fails here, not at the first request.
        store.call(|_| Ok(())).await.map_err(|e| match e {
            StoreError::Unavailable(e) => StoreError::Unavailable(e.context(format!(
                "cannot open the SQLite database {}",
                path.display()
            ))),
            other => other,
        })?;
        Ok(store)
    }

    /// Runs the migrations this build has and the file has not.
    pub async fn migrate(&self) -> StoreResult<()> {
        self.call(schema::migrate).await
    }

    pub async fn ping(&self) -> StoreResult<()> {
        self.call(|c| {
            c.query_row("SELECT 1", [], |_| Ok(()))?;
            Ok(())
        })
        .await
    }

    /// Runs `f` on a pooled connection off the async runtime.
    pub(crate) async fn call<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let conn = self
            .pool
            .get()
            .await
            .context("no SQLite connection available")
            .map_err(StoreError::Unavailable)?;
        conn.interact(f)
            .await
            .map_err(|e| StoreError::Unavailable(anyhow::anyhow!("SQLite call failed: {e}")))?
    }
}

/// Per-connection settings. WAL and `synchronous = NORMAL` are the usual pairing: durable at
/// every checkpoint, and a crash can lose at most the last transactions, never corrupt the file.
fn configure(conn: &mut Connection, busy_timeout: Duration) -> rusqlite::Result<()> {
    conn.busy_timeout(busy_timeout)?;
    enable_wal(conn, busy_timeout)?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// Switches the file to WAL (a property of the file, kept across connections). Two processes
/// opening a new file at once can both ask; SQLite then answers `SQLITE_BUSY` at once, without
/// the busy handler, so the loser retries until the busy timeout.
fn enable_wal(conn: &Connection, busy_timeout: Duration) -> rusqlite::Result<()> {
    let deadline = Instant::now() + busy_timeout;
    loop {
        let mode: String = conn.pragma_query_value(None, "journal_mode", |row| row.get(0))?;
        if mode.eq_ignore_ascii_case("wal") {
            return Ok(());
        }
        // journal_mode answers with the mode in force, so it must be read back.
        match conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))
        {
            Ok(_) => return Ok(()),
            Err(e) if is_busy(&e) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(e),
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Unavailable(anyhow::Error::new(e).context("SQLite"))
    }
}

//! The SQLite schema as numbered migrations, applied in order and recorded in
//! `PRAGMA user_version`. A migration is never edited once released; changes are new entries.
//!
//! The unique keys and indexes mirror the MongoDB adapter's (`mongo::indexes`).

use deadpool_sqlite::rusqlite::{Connection, TransactionBehavior};

use crate::error::StoreResult;

/// Each entry moves the schema from version `index` to `index + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: the seven collections, plus runs.
    r#"
    CREATE TABLE users (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        email TEXT NOT NULL,
        password TEXT NOT NULL,
        role TEXT NOT NULL,
        disabled INTEGER NOT NULL,
        failed_logins INTEGER NOT NULL,
        last_failed_login_at INTEGER,
        locked_until INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX users_email ON users (email);

    CREATE TABLE settings (
        id TEXT PRIMARY KEY,
        phone_number_id TEXT NOT NULL,
        waba_id TEXT NOT NULL,
        access_token TEXT NOT NULL,
        label TEXT NOT NULL,
        display_number TEXT,
        messages_per_second INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX settings_phone_number_id ON settings (phone_number_id);

    CREATE TABLE contacts (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        phone TEXT NOT NULL,
        match_key TEXT NOT NULL,
        tags TEXT NOT NULL,
        groups TEXT NOT NULL,
        variables TEXT NOT NULL,
        opt_out_at INTEGER,
        opt_out_reason TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX contacts_phone ON contacts (phone);
    CREATE INDEX contacts_match_key ON contacts (match_key);

    CREATE TABLE templates (
        id TEXT PRIMARY KEY,
        template_id TEXT NOT NULL,
        name TEXT NOT NULL,
        language TEXT NOT NULL,
        category TEXT NOT NULL,
        components TEXT NOT NULL,
        status TEXT NOT NULL,
        parameter_format TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX templates_name_language ON templates (name, language);

    CREATE TABLE campaigns (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        description TEXT NOT NULL,
        status TEXT NOT NULL,
        template_id TEXT NOT NULL,
        settings_id TEXT NOT NULL,
        audience TEXT NOT NULL,
        parameters TEXT NOT NULL,
        schedule TEXT NOT NULL,
        next_run_at INTEGER,
        pause_reason TEXT,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX campaigns_due ON campaigns (status, next_run_at);

    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        campaign_id TEXT NOT NULL,
        scheduled_for INTEGER NOT NULL,
        started_at INTEGER,
        finished_at INTEGER,
        status TEXT NOT NULL
    );
    CREATE UNIQUE INDEX runs_campaign_occurrence ON runs (campaign_id, scheduled_for);

    CREATE TABLE messages (
        id TEXT PRIMARY KEY,
        campaign_id TEXT NOT NULL,
        run_id TEXT NOT NULL,
        contact_id TEXT NOT NULL,
        template_id TEXT NOT NULL,
        status TEXT NOT NULL,
        status_rank INTEGER NOT NULL,
        sent_at INTEGER,
        delivered_at INTEGER,
        read_at INTEGER,
        failed_at INTEGER,
        error_code INTEGER,
        error_title TEXT,
        error_detail TEXT,
        wamid TEXT,
        attempts INTEGER NOT NULL,
        claimed_at INTEGER,
        claimed_by TEXT,
        unknown_outcome TEXT,
        created_at INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX messages_campaign_run_contact ON messages (campaign_id, run_id, contact_id);
    CREATE UNIQUE INDEX messages_wamid ON messages (wamid) WHERE wamid IS NOT NULL;
    CREATE INDEX messages_run_status ON messages (run_id, status);
    CREATE INDEX messages_campaign_status ON messages (campaign_id, status);
    CREATE INDEX messages_claims ON messages (status, claimed_at);

    CREATE TABLE replies (
        id TEXT PRIMARY KEY,
        contact_id TEXT,
        from_wa_id TEXT NOT NULL,
        phone_number_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        text TEXT,
        media_id TEXT,
        media_url TEXT,
        context_wamid TEXT,
        button_payload TEXT,
        campaign_id TEXT,
        received_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX replies_message_id ON replies (message_id);
    CREATE INDEX replies_campaign ON replies (campaign_id, id);
    CREATE INDEX replies_contact ON replies (contact_id, id);
    "#,
    // 2: the auth service's refresh tokens (stored as hashes), by family and by user.
    r#"
    CREATE TABLE refresh_tokens (
        token_hash TEXT PRIMARY KEY,
        family_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        issued_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER,
        revoked_at INTEGER
    );
    CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
    CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
    CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);
    "#,
];

/// The schema version this build writes.
pub(crate) const VERSION: usize = MIGRATIONS.len();

/// Applies the missing migrations in one `BEGIN IMMEDIATE` transaction: a second process
/// migrating at the same time waits for the lock, then finds nothing left to do.
pub(crate) fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let current = usize::try_from(current).unwrap_or(0);
    if current > VERSION {
        return Err(crate::StoreError::Unavailable(anyhow::anyhow!(
            "the SQLite database is at schema version {current}, newer than this build's {VERSION}"
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (index + 1) as i64)?;
    }
    tx.commit()?;
    Ok(())
}

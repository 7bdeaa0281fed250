//! `RefreshTokenStore` on SQLite. The table comes from migration 2 ([`super::schema`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_sqlite::rusqlite::{Row, params};
use herald_domain::UserId;

use super::SqliteStore;
use super::codec::{conflict_or, ms, opt_ms, opt_time, parse, query_opt, text, time};
use crate::error::StoreResult;
use crate::ports::{RefreshToken, RefreshTokenStore};

const SELECT: &str = "SELECT token_hash, family_id, user_id, issued_at, expires_at, used_at, \
     revoked_at FROM refresh_tokens";

fn read(row: &Row<'_>) -> StoreResult<RefreshToken> {
    Ok(RefreshToken {
        token_hash: row.get("token_hash")?,
        family_id: row.get("family_id")?,
        user_id: parse(&row.get::<_, String>("user_id")?)?,
        issued_at: time(row.get("issued_at")?)?,
        expires_at: time(row.get("expires_at")?)?,
        used_at: opt_time(row.get("used_at")?)?,
        revoked_at: opt_time(row.get("revoked_at")?)?,
    })
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

#[async_trait]
impl RefreshTokenStore for SqliteStore {
    async fn insert(&self, token: &RefreshToken) -> StoreResult<()> {
        let t = token.clone();
        self.call(move |c| {
            c.execute(
                "INSERT INTO refresh_tokens (token_hash, family_id, user_id, issued_at, \
                 expires_at, used_at, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    t.token_hash,
                    t.family_id,
                    t.user_id.to_hex(),
                    ms(t.issued_at),
                    ms(t.expires_at),
                    opt_ms(t.used_at),
                    opt_ms(t.revoked_at),
                ],
            )
            .map_err(|e| conflict_or(e, || "a refresh token with this hash".to_owned()))?;
            Ok(())
        })
        .await
    }

    async fn find(&self, token_hash: &str) -> StoreResult<Option<RefreshToken>> {
        let hash = token_hash.to_owned();
        self.call(move |c| {
            query_opt(
                c,
                &format!("{SELECT} WHERE token_hash = ?"),
                &[text(hash)],
                read,
            )
        })
        .await
    }

    async fn consume(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let hash = token_hash.to_owned();
        self.call(move |c| {
            let changed = c.execute(
                "UPDATE refresh_tokens SET used_at = ?2 \
                 WHERE token_hash = ?1 AND used_at IS NULL AND revoked_at IS NULL",
                params![hash, ms(now)],
            )?;
            Ok(changed == 1)
        })
        .await
    }

    async fn revoke_family(&self, family_id: &str, now: DateTime<Utc>) -> StoreResult<u64> {
        let family = family_id.to_owned();
        self.call(move |c| {
            let changed = c.execute(
                "UPDATE refresh_tokens SET revoked_at = ?2 \
                 WHERE family_id = ?1 AND revoked_at IS NULL",
                params![family, ms(now)],
            )?;
            Ok(count(changed))
        })
        .await
    }

    async fn revoke_all_for_user(&self, user_id: UserId, now: DateTime<Utc>) -> StoreResult<u64> {
        self.call(move |c| {
            let changed = c.execute(
                "UPDATE refresh_tokens SET revoked_at = ?2 \
                 WHERE user_id = ?1 AND revoked_at IS NULL",
                params![user_id.to_hex(), ms(now)],
            )?;
            Ok(count(changed))
        })
        .await
    }

    async fn purge_expired(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.call(move |c| {
            let deleted = c.execute(
                "DELETE FROM refresh_tokens WHERE expires_at < ?1",
                params![ms(before)],
            )?;
            Ok(count(deleted))
        })
        .await
    }
}

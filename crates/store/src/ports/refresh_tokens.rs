//! `RefreshTokenStore`: the auth service's refresh tokens (collection `refresh_tokens`).
//!
//! Only a hash of each token is stored (the token itself is 256 random bits the client holds).
//! Tokens of one login form a *family*: each refresh uses up one token and issues the next in the
//! same family, and presenting a used-up token again revokes the whole family (it was copied).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_domain::UserId;

use crate::error::StoreResult;

/// One issued refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    /// Hex SHA-256 of the token; unique.
    pub token_hash: String,
    /// The login session this token belongs to.
    pub family_id: String,
    pub user_id: UserId,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// When it was traded for the next token of its family.
    pub used_at: Option<DateTime<Utc>>,
    /// When it (or its family, or every token of its user) was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait RefreshTokenStore: Send + Sync {
    /// Records a newly issued token. `Conflict` when the hash is taken.
    async fn insert(&self, token: &RefreshToken) -> StoreResult<()>;

    async fn find(&self, token_hash: &str) -> StoreResult<Option<RefreshToken>>;

    /// Marks the token used at `now` if it is neither used nor revoked, atomically: of several
    /// concurrent calls for one token, exactly one returns `true`.
    async fn consume(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<bool>;

    /// Revokes every not yet revoked token of the family; returns how many.
    async fn revoke_family(&self, family_id: &str, now: DateTime<Utc>) -> StoreResult<u64>;

    /// Revokes every not yet revoked token of the user (password change, disabling).
    async fn revoke_all_for_user(&self, user_id: UserId, now: DateTime<Utc>) -> StoreResult<u64>;

    /// Deletes the tokens that expired before `before`; returns how many.
    async fn purge_expired(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

impl crate::Store {
    /// The refresh tokens of the auth service.
    pub fn refresh_tokens(&self) -> &dyn RefreshTokenStore {
        match &self.backend {
            crate::Backend::Sqlite(store) => &**store,
            crate::Backend::Mongo(store) => &**store,
        }
    }
}

//! `RefreshTokenStore` on MongoDB (collection `refresh_tokens`). The token hash is the `_id`, so
//! uniqueness needs no extra index; `consume` is one conditional `updateOne`.

use async_trait::async_trait;
use bson::oid::ObjectId;
use bson::{DateTime as BsonDateTime, doc};
use chrono::{DateTime, Utc};
use herald_domain::UserId;
use mongodb::{Collection, IndexModel};
use serde::{Deserialize, Serialize};

use super::{MongoStore, bdt, conflict_or, opt_bdt};
use crate::error::StoreResult;
use crate::ports::{RefreshToken, RefreshTokenStore};

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefreshTokenDoc {
    #[serde(rename = "_id")]
    token_hash: String,
    family_id: String,
    user_id: ObjectId,
    issued_at: BsonDateTime,
    expires_at: BsonDateTime,
    used_at: Option<BsonDateTime>,
    revoked_at: Option<BsonDateTime>,
}

impl From<&RefreshToken> for RefreshTokenDoc {
    fn from(t: &RefreshToken) -> Self {
        Self {
            token_hash: t.token_hash.clone(),
            family_id: t.family_id.clone(),
            user_id: t.user_id.object_id(),
            issued_at: bdt(t.issued_at),
            expires_at: bdt(t.expires_at),
            used_at: opt_bdt(t.used_at),
            revoked_at: opt_bdt(t.revoked_at),
        }
    }
}

impl From<RefreshTokenDoc> for RefreshToken {
    fn from(d: RefreshTokenDoc) -> Self {
        Self {
            token_hash: d.token_hash,
            family_id: d.family_id,
            user_id: UserId::from(d.user_id),
            issued_at: d.issued_at.to_chrono(),
            expires_at: d.expires_at.to_chrono(),
            used_at: d.used_at.map(BsonDateTime::to_chrono),
            revoked_at: d.revoked_at.map(BsonDateTime::to_chrono),
        }
    }
}

/// The indexes of `refresh_tokens`: revoking by family and by user, purging by expiry.
pub(crate) fn indexes() -> Vec<IndexModel> {
    let index = |name: &str, keys| {
        IndexModel::builder()
            .keys(keys)
            .options(
                mongodb::options::IndexOptions::builder()
                    .name(name.to_owned())
                    .build(),
            )
            .build()
    };
    vec![
        index("refresh_tokens_family", doc! { "familyId": 1 }),
        index("refresh_tokens_user", doc! { "userId": 1 }),
        index("refresh_tokens_expires", doc! { "expiresAt": 1 }),
    ]
}

impl MongoStore {
    fn refresh_token_docs(&self) -> Collection<RefreshTokenDoc> {
        self.collection("refresh_tokens")
    }
}

#[async_trait]
impl RefreshTokenStore for MongoStore {
    async fn insert(&self, token: &RefreshToken) -> StoreResult<()> {
        self.refresh_token_docs()
            .insert_one(RefreshTokenDoc::from(token))
            .await
            .map_err(|e| conflict_or(e, || "a refresh token with this hash".to_owned()))?;
        Ok(())
    }

    async fn find(&self, token_hash: &str) -> StoreResult<Option<RefreshToken>> {
        let found = self
            .refresh_token_docs()
            .find_one(doc! { "_id": token_hash })
            .await?;
        Ok(found.map(RefreshToken::from))
    }

    async fn consume(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let result = self
            .refresh_token_docs()
            .update_one(
                doc! { "_id": token_hash, "usedAt": null, "revokedAt": null },
                doc! { "$set": { "usedAt": bdt(now) } },
            )
            .await?;
        Ok(result.modified_count == 1)
    }

    async fn revoke_family(&self, family_id: &str, now: DateTime<Utc>) -> StoreResult<u64> {
        let result = self
            .refresh_token_docs()
            .update_many(
                doc! { "familyId": family_id, "revokedAt": null },
                doc! { "$set": { "revokedAt": bdt(now) } },
            )
            .await?;
        Ok(result.modified_count)
    }

    async fn revoke_all_for_user(&self, user_id: UserId, now: DateTime<Utc>) -> StoreResult<u64> {
        let result = self
            .refresh_token_docs()
            .update_many(
                doc! { "userId": user_id.object_id(), "revokedAt": null },
                doc! { "$set": { "revokedAt": bdt(now) } },
            )
            .await?;
        Ok(result.modified_count)
    }

    async fn purge_expired(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let result = self
            .refresh_token_docs()
            .delete_many(doc! { "expiresAt": { "$lt": bdt(before) } })
            .await?;
        Ok(result.deleted_count)
    }
}

//! `UserStore` on MongoDB.

use async_trait::async_trait;
use bson::doc;
use chrono::{DateTime, Utc};
use herald_domain::{Email, User, UserId};
use mongodb::Collection;

use super::docs::{UserDoc, set_fields};
use super::{MongoStore, bdt, conflict_or, page};
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use crate::ports::UserStore;
use crate::rules::millis;

impl MongoStore {
    fn users(&self) -> Collection<UserDoc> {
        self.collection("users")
    }
}

fn email_taken(email: &Email) -> impl FnOnce() -> String {
    let email = email.clone();
    move || format!("a user with email {email}")
}

#[async_trait]
impl UserStore for MongoStore {
    async fn create(&self, user: &User) -> StoreResult<()> {
        self.users()
            .insert_one(UserDoc::from(user))
            .await
            .map_err(|e| conflict_or(e, email_taken(&user.email)))?;
        Ok(())
    }

    async fn get(&self, id: UserId) -> StoreResult<Option<User>> {
        let found = self
            .users()
            .find_one(doc! { "_id": id.object_id() })
            .await?;
        found.map(User::try_from).transpose()
    }

    async fn find_by_email(&self, email: &Email) -> StoreResult<Option<User>> {
        let found = self
            .users()
            .find_one(doc! { "email": email.as_str() })
            .await?;
        found.map(User::try_from).transpose()
    }

    async fn list(&self, request: &PageRequest) -> StoreResult<Page<User>> {
        page(&self.users(), doc! {}, request, User::try_from, |u| {
            u.id.object_id()
        })
        .await
    }

    async fn count(&self) -> StoreResult<u64> {
        Ok(self.users().count_documents(doc! {}).await?)
    }

    async fn update(&self, user: &User) -> StoreResult<()> {
        let fields = set_fields(&UserDoc::from(user), &["_id", "createdAt"])?;
        let result = self
            .users()
            .update_one(doc! { "_id": user.id.object_id() }, doc! { "$set": fields })
            .await
            .map_err(|e| conflict_or(e, email_taken(&user.email)))?;
        if result.matched_count == 0 {
            return Err(StoreError::not_found(format!("user {}", user.id)));
        }
        Ok(())
    }

    async fn disable(&self, id: UserId, now: DateTime<Utc>) -> StoreResult<()> {
        let result = self
            .users()
            .update_one(
                doc! { "_id": id.object_id() },
                doc! { "$set": { "disabled": true, "updatedAt": bdt(millis(now)) } },
            )
            .await?;
        if result.matched_count == 0 {
            return Err(StoreError::not_found(format!("user {id}")));
        }
        Ok(())
    }
}

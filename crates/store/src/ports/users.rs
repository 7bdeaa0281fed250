//! `UserStore`: the people who log in (collection `users`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_domain::{Email, User, UserId};

use crate::error::StoreResult;
use crate::page::{Page, PageRequest};

/// Users. The email is unique (stored lower-cased by [`Email`]); the password hash is stored but
/// only ever leaves through [`User::password_hash`].
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Adds a user. `Conflict` when the email is taken.
    async fn create(&self, user: &User) -> StoreResult<()>;

    async fn get(&self, id: UserId) -> StoreResult<Option<User>>;

    async fn find_by_email(&self, email: &Email) -> StoreResult<Option<User>>;

    async fn list(&self, page: &PageRequest) -> StoreResult<Page<User>>;

    /// How many users exist (zero means the first admin must be created).
    async fn count(&self) -> StoreResult<u64>;

    /// Replaces everything but `id` and `created_at` (login throttling, role, password…).
    /// `NotFound` when absent, `Conflict` when the new email is taken.
    async fn update(&self, user: &User) -> StoreResult<()>;

    /// Disables a user: they can no longer log in. Idempotent; `NotFound` when absent.
    async fn disable(&self, id: UserId, now: DateTime<Utc>) -> StoreResult<()>;
}

//! `SettingsStore`: the WhatsApp business numbers Herald sends from (collection `settings`).

use async_trait::async_trait;
use herald_domain::{SettingsId, WhatsAppSettings};

use crate::error::StoreResult;

/// WhatsApp settings, one per business phone number. The access token is stored as the
/// ciphertext it arrives as ([`herald_domain::EncryptedSecret`]); `phone_number_id` is unique.
#[async_trait]
pub trait SettingsStore: Send + Sync {
    /// `Conflict` when the phone number id is already configured.
    async fn create(&self, settings: &WhatsAppSettings) -> StoreResult<()>;

    /// The settings with their encrypted token, for a sender to decrypt.
    async fn get(&self, id: SettingsId) -> StoreResult<Option<WhatsAppSettings>>;

    /// The settings of the number a webhook is about (`metadata.phone_number_id`).
    async fn find_by_phone_number_id(
        &self,
        phone_number_id: &str,
    ) -> StoreResult<Option<WhatsAppSettings>>;

    /// Every configured number, oldest first. There are few: no pagination.
    async fn list(&self) -> StoreResult<Vec<WhatsAppSettings>>;

    /// Replaces everything but `id`, `created_by` and `created_at`. `NotFound`, `Conflict`.
    async fn update(&self, settings: &WhatsAppSettings) -> StoreResult<()>;

    /// `NotFound` when absent.
    async fn delete(&self, id: SettingsId) -> StoreResult<()>;
}

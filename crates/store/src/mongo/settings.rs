//! `SettingsStore` on MongoDB.

use async_trait::async_trait;
use bson::doc;
use herald_domain::{SettingsId, WhatsAppSettings};
use mongodb::Collection;

use super::docs::{SettingsDoc, set_fields};
use super::{MongoStore, conflict_or, find_all};
use crate::error::{StoreError, StoreResult};
use crate::ports::SettingsStore;

impl MongoStore {
    fn settings_docs(&self) -> Collection<SettingsDoc> {
        self.collection("settings")
    }
}

fn number_taken(s: &WhatsAppSettings) -> impl FnOnce() -> String {
    let number = s.phone_number_id.clone();
    move || format!("settings for phone number id {number}")
}

#[async_trait]
impl SettingsStore for MongoStore {
    async fn create(&self, settings: &WhatsAppSettings) -> StoreResult<()> {
        self.settings_docs()
            .insert_one(SettingsDoc::from(settings))
            .await
            .map_err(|e| conflict_or(e, number_taken(settings)))?;
        Ok(())
    }

    async fn get(&self, id: SettingsId) -> StoreResult<Option<WhatsAppSettings>> {
        let found = self
            .settings_docs()
            .find_one(doc! { "_id": id.object_id() })
            .await?;
        found.map(WhatsAppSettings::try_from).transpose()
    }

    async fn find_by_phone_number_id(
        &self,
        phone_number_id: &str,
    ) -> StoreResult<Option<WhatsAppSettings>> {
        let found = self
            .settings_docs()
            .find_one(doc! { "phoneNumberId": phone_number_id })
            .await?;
        found.map(WhatsAppSettings::try_from).transpose()
    }

    async fn list(&self) -> StoreResult<Vec<WhatsAppSettings>> {
        find_all(
            &self.settings_docs(),
            doc! {},
            doc! { "_id": 1 },
            None,
            WhatsAppSettings::try_from,
        )
        .await
    }

    async fn update(&self, settings: &WhatsAppSettings) -> StoreResult<()> {
        let fields = set_fields(
            &SettingsDoc::from(settings),
            &["_id", "createdBy", "createdAt"],
        )?;
        let result = self
            .settings_docs()
            .update_one(
                doc! { "_id": settings.id.object_id() },
                doc! { "$set": fields },
            )
            .await
            .map_err(|e| conflict_or(e, number_taken(settings)))?;
        if result.matched_count == 0 {
            return Err(StoreError::not_found(format!("settings {}", settings.id)));
        }
        Ok(())
    }

    async fn delete(&self, id: SettingsId) -> StoreResult<()> {
        let result = self
            .settings_docs()
            .delete_one(doc! { "_id": id.object_id() })
            .await?;
        if result.deleted_count == 0 {
            return Err(StoreError::not_found(format!("settings {id}")));
        }
        Ok(())
    }
}

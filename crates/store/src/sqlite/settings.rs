//! `SettingsStore` on SQLite.

use async_trait::async_trait;
use deadpool_sqlite::rusqlite::{Row, params};
use herald_domain::{EncryptedSecret, SettingsId, WhatsAppSettings};

use super::SqliteStore;
use super::codec::{conflict_or, ms, parse, query_all, query_opt, text, time};
use crate::error::{StoreError, StoreResult};
use crate::ports::SettingsStore;

const SELECT: &str = "SELECT id, phone_number_id, waba_id, access_token, label, display_number, \
     messages_per_second, created_by, created_at, updated_at FROM settings";

fn read(row: &Row<'_>) -> StoreResult<WhatsAppSettings> {
    let token: String = row.get("access_token")?;
    Ok(WhatsAppSettings {
        id: parse(&row.get::<_, String>("id")?)?,
        phone_number_id: row.get("phone_number_id")?,
        waba_id: row.get("waba_id")?,
        access_token: EncryptedSecret::new(token).map_err(StoreError::corrupt)?,
        label: row.get("label")?,
        display_number: row.get("display_number")?,
        messages_per_second: row.get("messages_per_second")?,
        created_by: parse(&row.get::<_, String>("created_by")?)?,
        created_at: time(row.get("created_at")?)?,
        updated_at: time(row.get("updated_at")?)?,
    })
}

fn number_taken(s: &WhatsAppSettings) -> impl FnOnce() -> String {
    let number = s.phone_number_id.clone();
    move || format!("settings for phone number id {number}")
}

#[async_trait]
impl SettingsStore for SqliteStore {
    async fn create(&self, settings: &WhatsAppSettings) -> StoreResult<()> {
        let s = settings.clone();
        self.call(move |c| {
            c.execute(
                "INSERT INTO settings (id, phone_number_id, waba_id, access_token, label, \
                 display_number, messages_per_second, created_by, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    s.id.to_hex(),
                    s.phone_number_id,
                    s.waba_id,
                    s.access_token.ciphertext(),
                    s.label,
                    s.display_number,
                    s.messages_per_second,
                    s.created_by.to_hex(),
                    ms(s.created_at),
                    ms(s.updated_at),
                ],
            )
            .map_err(|e| conflict_or(e, number_taken(&s)))?;
            Ok(())
        })
        .await
    }

    async fn get(&self, id: SettingsId) -> StoreResult<Option<WhatsAppSettings>> {
        self.call(move |c| {
            query_opt(
                c,
                &format!("{SELECT} WHERE id = ?"),
                &[text(id.to_hex())],
                read,
            )
        })
        .await
    }

    async fn find_by_phone_number_id(
        &self,
        phone_number_id: &str,
    ) -> StoreResult<Option<WhatsAppSettings>> {
        let number = phone_number_id.to_owned();
        self.call(move |c| {
            query_opt(
                c,
                &format!("{SELECT} WHERE phone_number_id = ?"),
                &[text(number)],
                read,
            )
        })
        .await
    }

    async fn list(&self) -> StoreResult<Vec<WhatsAppSettings>> {
        self.call(|c| query_all(c, &format!("{SELECT} ORDER BY id"), &[], read))
            .await
    }

    async fn update(&self, settings: &WhatsAppSettings) -> StoreResult<()> {
        let s = settings.clone();
        self.call(move |c| {
            let changed = c
                .execute(
                    "UPDATE settings SET phone_number_id = ?2, waba_id = ?3, access_token = ?4, \
                     label = ?5, display_number = ?6, messages_per_second = ?7, updated_at = ?8 \
                     WHERE id = ?1",
                    params![
                        s.id.to_hex(),
                        s.phone_number_id,
                        s.waba_id,
                        s.access_token.ciphertext(),
                        s.label,
                        s.display_number,
                        s.messages_per_second,
                        ms(s.updated_at),
                    ],
                )
                .map_err(|e| conflict_or(e, number_taken(&s)))?;
            if changed == 0 {
                return Err(StoreError::not_found(format!("settings {}", s.id)));
            }
            Ok(())
        })
        .await
    }

    async fn delete(&self, id: SettingsId) -> StoreResult<()> {
        self.call(move |c| {
            if c.execute("DELETE FROM settings WHERE id = ?1", [id.to_hex()])? == 0 {
                return Err(StoreError::not_found(format!("settings {id}")));
            }
            Ok(())
        })
        .await
    }
}

//! `WhatsAppSettings`: one WhatsApp business phone number Herald sends from (collection
//! `settings`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{SettingsId, UserId};
use crate::secret::EncryptedSecret;

/// Meta's default throughput for a business phone number (messages per second).
pub const DEFAULT_MESSAGES_PER_SECOND: u32 = 80;

fn default_messages_per_second() -> u32 {
    DEFAULT_MESSAGES_PER_SECOND
}

/// A business phone number and its credentials.
///
/// `access_token` is ciphertext and is never serialized (ARCHITECTURE §4: never returned, never
/// logged); the store writes it through [`EncryptedSecret::ciphertext`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WhatsAppSettings {
    pub id: SettingsId,
    /// Meta's id of the phone number: the `{phone-number-id}` of the send URL, and
    /// `metadata.phone_number_id` in webhooks.
    pub phone_number_id: String,
    /// The WhatsApp Business Account that owns the number and its templates.
    pub waba_id: String,
    #[serde(skip_serializing)]
    pub access_token: EncryptedSecret,
    /// A name people recognise ("Support line PK").
    #[serde(default)]
    pub label: String,
    /// The number as Meta displays it, for people; Herald never sends to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_number: Option<String>,
    /// Herald keeps the sum over all sender replicas under this (ARCHITECTURE §7).
    #[serde(default = "default_messages_per_second")]
    pub messages_per_second: u32,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored() -> serde_json::Value {
        serde_json::json!({
            "id": "65f1a2b3c4d5e6f708192a3b", "phoneNumberId": "1065403522", "wabaId": "5467539754836534",
            "accessToken": "k1:bm9uY2U:Y2lwaGVy", "createdBy": "65f1a2b3c4d5e6f708192a3c",
            "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z"
        })
    }

    #[test]
    fn the_throughput_defaults_to_meta_s_80_messages_per_second() {
        let settings: WhatsAppSettings = serde_json::from_value(stored()).unwrap();
        assert_eq!(settings.messages_per_second, 80);
        assert_eq!(settings.access_token.ciphertext(), "k1:bm9uY2U:Y2lwaGVy");
    }

    #[test]
    fn serialized_settings_never_contain_the_access_token() {
        let settings: WhatsAppSettings = serde_json::from_value(stored()).unwrap();
        let json = serde_json::to_value(&settings).unwrap();
        assert!(json.get("accessToken").is_none());
        assert!(!json.to_string().contains("Y2lwaGVy"));
        assert!(!format!("{settings:?}").contains("Y2lwaGVy"));
    }
}

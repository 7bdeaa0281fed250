//! `Message`: one template message to one contact in one run (collection `messages`), the source
//! of truth for sending (ARCHITECTURE §3).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::delivery::DeliveryState;
use crate::ids::{CampaignId, ContactId, MessageId, RunId, TemplateId, Wamid};

/// An outbound message. (campaign_id, run_id, contact_id) is unique; so is `wamid` once set.
///
/// The delivery fields (`status`, `sentAt`, `deliveredAt`, `readAt`, `failedAt`, `error`) are
/// flattened in with the seed's names and change only through [`DeliveryState::merge`], except
/// the claim (`queued → sending`) and its release, which are store operations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub id: MessageId,
    pub campaign_id: CampaignId,
    pub run_id: RunId,
    pub contact_id: ContactId,
    pub template_id: TemplateId,
    #[serde(flatten)]
    pub delivery: DeliveryState,
    /// Meta's id, once a send was accepted (or a webhook revealed it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wamid: Option<Wamid>,
    /// Graph calls made for this message so far.
    #[serde(default)]
    pub attempts: u32,
    /// When a worker claimed it; a claim older than the lease is recovered by the dispatcher.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_at: Option<DateTime<Utc>>,
    /// Which worker claimed it (replica and task), for diagnosis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_by: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Message {
    /// A queued message, as a run creates one per contact.
    pub fn queued(
        campaign_id: CampaignId,
        run_id: RunId,
        contact_id: ContactId,
        template_id: TemplateId,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: MessageId::new(),
            campaign_id,
            run_id,
            contact_id,
            template_id,
            delivery: DeliveryState::default(),
            wamid: None,
            attempts: 0,
            claimed_at: None,
            claimed_by: None,
            created_at: now,
        }
    }

    /// The `biz_opaque_callback_data` to send with this message: Meta echoes it on status
    /// webhooks, so a status finds its message even when the wamid was never recorded (§7).
    pub fn callback_data(&self) -> String {
        self.id.to_hex()
    }
}

/// The message id carried in a webhook's `biz_opaque_callback_data`, when it is one of Herald's
/// (another sender on the same number may put anything there).
pub fn message_id_from_callback_data(data: &str) -> Option<MessageId> {
    MessageId::parse(data).ok()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::delivery::{MessageStatus, ReportedStatus, StatusUpdate};

    fn message() -> Message {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        Message::queued(
            CampaignId::new(),
            RunId::new(),
            ContactId::new(),
            TemplateId::new(),
            now,
        )
    }

    #[test]
    fn a_new_message_is_queued_with_no_attempts() {
        let m = message();
        assert_eq!(
            (m.delivery.status, m.attempts, m.wamid.clone()),
            (MessageStatus::Queued, 0, None)
        );
    }

    #[test]
    fn the_callback_data_leads_back_to_the_message() {
        let m = message();
        assert_eq!(
            message_id_from_callback_data(&m.callback_data()),
            Some(m.id)
        );
        assert_eq!(message_id_from_callback_data("camp42:c9"), None);
    }

    #[test]
    fn a_message_serializes_its_delivery_fields_flat_with_the_seed_names() {
        let mut m = message();
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 5).unwrap();
        m.delivery = m.delivery.merge(&StatusUpdate {
            status: ReportedStatus::Sent,
            timestamp: at,
            error: None,
        });
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["status"], "sent");
        assert_eq!(json["sentAt"], "2026-01-01T00:00:05Z");
        assert_eq!(serde_json::from_value::<Message>(json).unwrap(), m);
    }
}

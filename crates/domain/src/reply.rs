//! `Reply`: an inbound WhatsApp message (collection `replies`), linked to its contact and, when
//! it answers one, to a campaign.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{CampaignId, ContactId, ReplyId, Wamid};
use crate::phone::WaId;
use crate::util::open_enum;

open_enum! {
    /// Meta's inbound message `type`. The seed's five plus every type Meta documents; anything
    /// newer is kept as `Other`, never dropped (ARCHITECTURE §4).
    pub enum ReplyType {
        Text => "text",
        Image => "image",
        Audio => "audio",
        Video => "video",
        Document => "document",
        /// A tap on a template's quick-reply button.
        Button => "button",
        /// A reply to an interactive message (button or list reply).
        Interactive => "interactive",
        Reaction => "reaction",
        Location => "location",
        Sticker => "sticker",
        Contacts => "contacts",
        Unsupported => "unsupported",
    }
}

/// An inbound message. `message_id` (the inbound wamid) is unique: duplicates are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reply {
    pub id: ReplyId,
    /// The contact whose match key equals the sender's, if one exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<ContactId>,
    /// The sender's `wa_id`, exactly as Meta reported it.
    pub from: WaId,
    /// Which business number received it (`metadata.phone_number_id`).
    pub phone_number_id: String,
    /// The inbound wamid.
    pub message_id: Wamid,
    #[serde(rename = "type")]
    pub kind: ReplyType,
    /// The text body, a caption, or a button or list title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Meta's media id, to download the media with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_url: Option<String>,
    /// `context.id`: the wamid of the message this replies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_wamid: Option<Wamid>,
    /// A quick-reply button's payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub button_payload: Option<String>,
    /// The campaign whose message this answers, found through `context_wamid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<CampaignId>,
    /// Meta's timestamp of the message.
    pub received_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_reply_type_is_known_and_a_new_one_is_kept() {
        for known in [
            "text",
            "image",
            "button",
            "interactive",
            "reaction",
            "contacts",
            "unsupported",
        ] {
            assert!(
                !matches!(ReplyType::from(known), ReplyType::Other(_)),
                "{known}"
            );
        }
        let new: ReplyType = serde_json::from_str("\"order\"").unwrap();
        assert_eq!(new, ReplyType::Other("order".into()));
        assert_eq!(serde_json::to_string(&new).unwrap(), "\"order\"");
    }

    #[test]
    fn a_reply_round_trips_with_the_seed_field_names() {
        let json = serde_json::json!({
            "id": "65f1a2b3c4d5e6f708192a3b", "from": "923001234567", "phoneNumberId": "1065403522",
            "messageId": "wamid.in1", "type": "button", "text": "Stop promotions",
            "buttonPayload": "STOP", "contextWamid": "wamid.out1",
            "receivedAt": "2026-01-01T00:00:00Z", "createdAt": "2026-01-01T00:00:01Z"
        });
        let reply: Reply = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(reply.kind, ReplyType::Button);
        assert_eq!(serde_json::to_value(&reply).unwrap(), json);
    }
}

//! Bus events (ARCHITECTURE §3, §6): what services tell each other through RabbitMQ or the
//! in-process bus, as versioned JSON.
//!
//! Every event type implements [`Event`], which names its `KIND` (the routing name) and its wire
//! `VERSION`; the payload is the type's JSON. The bus (`crates/bus`) carries kind, version, a
//! message id and the trace context beside the payload, and checks kind and version before it
//! decodes, so a message routed to the wrong consumer, or written by a newer Herald during a
//! rolling upgrade, is a clear error (dead-letter it) rather than a confusing field error.
//!
//! Delivery is at least once and unordered: consumers de-duplicate by effect (the store decides),
//! not by envelope id, which serves tracing and logs.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::contact::OptOutReason;
use crate::delivery::{MessageError, ReportedStatus, StatusUpdate};
use crate::ids::{CampaignId, ContactId, MessageId, ReplyId, RunId, Wamid};
use crate::names::{LanguageCode, TemplateName};
use crate::phone::WaId;
use crate::reply::{Reply, ReplyType};
use crate::template::TemplateStatus;

/// A payload that can travel on the bus.
pub trait Event: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The routing name, `area.what` (`message.status`). Never reused for another shape.
    const KIND: &'static str;
    /// The payload's wire version. A consumer reads any version up to its own, so a change
    /// stays backwards compatible (new fields with `#[serde(default)]`) and bumps this; a change
    /// old readers cannot read needs a new `KIND`.
    const VERSION: u16;
}

/// "Look at message X": the dispatcher asks a sender worker to send one message. The message in
/// the store decides what happens; the job carries no content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendJob {
    pub message_id: MessageId,
    pub campaign_id: CampaignId,
    pub run_id: RunId,
    /// 0 for the first dispatch, then one more for each re-dispatch (retry or recovery).
    #[serde(default)]
    pub attempt: u32,
}

impl Event for SendJob {
    const KIND: &'static str = "message.send";
    const VERSION: u16 = 1;
}

/// One error of a failed status webhook (`statuses[].errors[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookError {
    pub code: i64,
    pub title: String,
    /// `error_data.details`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

/// A status webhook for one outbound message (`statuses[]`), published by webhook-ingest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusEvent {
    /// The business number it concerns (`metadata.phone_number_id`).
    pub phone_number_id: String,
    pub wamid: Wamid,
    pub status: ReportedStatus,
    /// Meta's `timestamp` (unix seconds in the webhook).
    pub timestamp: DateTime<Utc>,
    /// `recipient_id`: the recipient's wa_id, possibly in a legacy form.
    pub recipient_id: WaId,
    /// Herald's message id, when `biz_opaque_callback_data` held one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<MessageId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<WebhookError>,
    /// `pricing.category` (marketing, utility, …), when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing_category: Option<String>,
}

impl StatusEvent {
    /// The report to merge into the message (its first error, if any, becomes the message's).
    pub fn to_update(&self) -> StatusUpdate {
        StatusUpdate {
            status: self.status,
            timestamp: self.timestamp,
            error: self.errors.first().map(|e| MessageError {
                code: Some(e.code),
                title: e.title.clone(),
                detail: e.details.clone(),
            }),
        }
    }
}

impl Event for StatusEvent {
    const KIND: &'static str = "message.status";
    const VERSION: u16 = 1;
}

/// A quick-reply button tap (`messages[].button`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ButtonTap {
    pub payload: String,
    pub text: String,
}

/// An inbound message (`messages[]`), published by webhook-ingest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundMessage {
    /// The business number that received it.
    pub phone_number_id: String,
    pub from: WaId,
    /// `contacts[].profile.name`, when Meta sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_name: Option<String>,
    /// `id`: the inbound wamid.
    pub wamid: Wamid,
    pub timestamp: DateTime<Utc>,
    #[serde(rename = "type")]
    pub kind: ReplyType,
    /// The object under the type's key (`text`, `image`, `interactive`…) exactly as Meta sent it,
    /// so no type loses data; `null` when there is none.
    #[serde(default)]
    pub payload: Value,
    /// `context.id`: the wamid this replies to (for a button tap, the template message's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_wamid: Option<Wamid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub button: Option<ButtonTap>,
}

impl InboundMessage {
    /// The human-readable text: a text body, a button or list title, or a media caption.
    pub fn text(&self) -> Option<String> {
        let field = |pointer: &str| {
            self.payload
                .pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        match &self.kind {
            ReplyType::Text => field("/body"),
            ReplyType::Button => self.button.as_ref().map(|b| b.text.clone()),
            ReplyType::Interactive => {
                field("/button_reply/title").or_else(|| field("/list_reply/title"))
            }
            ReplyType::Image | ReplyType::Video | ReplyType::Document => field("/caption"),
            _ => None,
        }
    }

    /// Meta's media id, for media types.
    pub fn media_id(&self) -> Option<String> {
        match self.kind {
            ReplyType::Image
            | ReplyType::Video
            | ReplyType::Document
            | ReplyType::Audio
            | ReplyType::Sticker => self
                .payload
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_owned),
            _ => None,
        }
    }

    /// Whether the message asks to stop: its text, or its button payload, equals one of
    /// `keywords` ignoring case and surrounding spaces.
    pub fn is_stop_request(&self, keywords: &[&str]) -> bool {
        let matches = |s: &str| {
            keywords
                .iter()
                .any(|k| s.trim().eq_ignore_ascii_case(k.trim()))
        };
        self.text().is_some_and(|t| matches(&t))
            || self.button.as_ref().is_some_and(|b| matches(&b.payload))
    }

    /// The reply to store, once the contact and the answered campaign are resolved.
    pub fn to_reply(
        &self,
        contact_id: Option<ContactId>,
        campaign_id: Option<CampaignId>,
        now: DateTime<Utc>,
    ) -> Reply {
        Reply {
            id: ReplyId::new(),
            contact_id,
            from: self.from.clone(),
            phone_number_id: self.phone_number_id.clone(),
            message_id: self.wamid.clone(),
            kind: self.kind.clone(),
            text: self.text(),
            media_id: self.media_id(),
            media_url: self
                .payload
                .get("url")
                .and_then(Value::as_str)
                .map(str::to_owned),
            context_wamid: self.context_wamid.clone(),
            button_payload: self.button.as_ref().map(|b| b.payload.clone()),
            campaign_id,
            received_at: self.timestamp,
            created_at: now,
        }
    }
}

impl Event for InboundMessage {
    const KIND: &'static str = "message.inbound";
    const VERSION: u16 = 1;
}

/// A template status change (`message_template_status_update`), published by webhook-ingest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateEvent {
    /// `entry[].id`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waba_id: Option<String>,
    /// Meta's template id (a JSON number in the webhook, a string here).
    pub template_id: String,
    pub name: TemplateName,
    pub language: LanguageCode,
    /// Meta's `event`: a status, or a change such as `FLAGGED` or `REINSTATED` (kept as `Other`).
    pub status: TemplateStatus,
    /// Meta's `reason` (`NONE` is dropped by webhook-ingest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Event for TemplateEvent {
    const KIND: &'static str = "template.status";
    const VERSION: u16 = 1;
}

/// What a control event asks every replica to do at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ControlAction {
    Pause,
    Resume,
    Stop,
}

impl fmt::Display for ControlAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ControlAction::Pause => "pause",
            ControlAction::Resume => "resume",
            ControlAction::Stop => "stop",
        })
    }
}

/// A campaign was paused, resumed or stopped: published after the store changed, so that every
/// sender replica reacts within a second (ARCHITECTURE §7). The store stays the truth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CampaignControl {
    pub campaign_id: CampaignId,
    pub action: ControlAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Event for CampaignControl {
    const KIND: &'static str = "campaign.control";
    const VERSION: u16 = 1;
}

/// A WhatsApp user asked not to receive campaigns (a STOP reply, or Meta's `user_preferences`
/// `stop`); contacts matching `phone` by match key are opted out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OptOutEvent {
    pub phone: WaId,
    pub reason: OptOutReason,
    pub at: DateTime<Utc>,
}

impl Event for OptOutEvent {
    const KIND: &'static str = "contact.opt_out";
    const VERSION: u16 = 1;
}

/// A WhatsApp user resumed marketing messages (Meta's `user_preferences` `resume`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OptInEvent {
    pub phone: WaId,
    pub at: DateTime<Utc>,
}

impl Event for OptInEvent {
    const KIND: &'static str = "contact.opt_in";
    const VERSION: u16 = 1;
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
    }

    /// `wire` pins kind, version and payload as they travel: the payload encodes to exactly
    /// `wire.payload`, decodes from it, and survives a round trip.
    fn assert_wire_format<T: Event + PartialEq + fmt::Debug>(payload: T, wire: &str) {
        let wire: Value = serde_json::from_str(wire).unwrap();
        assert_eq!(wire["kind"], T::KIND);
        assert_eq!(wire["version"], T::VERSION);
        let expected = &wire["payload"];
        let encoded = serde_json::to_value(&payload).unwrap();
        assert_eq!(&encoded, expected, "encoding of {}", T::KIND);
        assert_eq!(
            serde_json::from_value::<T>(expected.clone()).unwrap(),
            payload,
            "decoding of {}",
            T::KIND
        );
    }

    fn id<T: std::str::FromStr>(hex: &str) -> T
    where
        T::Err: fmt::Debug,
    {
        hex.parse().unwrap()
    }

    #[test]
    fn a_send_job_has_a_pinned_wire_format() {
        let job = SendJob {
            message_id: id("6650a1b2c3d4e5f607182931"),
            campaign_id: id("6650a1b2c3d4e5f607182932"),
            run_id: id("6650a1b2c3d4e5f607182933"),
            attempt: 0,
        };
        assert_wire_format(
            job,
            r#"{"kind":"message.send","version":1,"id":"6650a1b2c3d4e5f607182930",
            "occurredAt":"2026-06-01T12:00:00Z","payload":{"messageId":"6650a1b2c3d4e5f607182931",
            "campaignId":"6650a1b2c3d4e5f607182932","runId":"6650a1b2c3d4e5f607182933","attempt":0}}"#,
        );
    }

    #[test]
    fn a_status_event_has_a_pinned_wire_format() {
        let event = StatusEvent {
            phone_number_id: "1065403522".into(),
            wamid: id("wamid.xyzxyz"),
            status: ReportedStatus::Failed,
            timestamp: Utc.timestamp_opt(1689380458, 0).unwrap(),
            recipient_id: id("972987654321"),
            message_id: Some(id("6650a1b2c3d4e5f607182931")),
            errors: vec![WebhookError {
                code: 130472,
                title: "User's number is part of an experiment".into(),
                details: Some("Failed to send message because this user's phone number is part of an experiment".into()),
            }],
            pricing_category: Some("marketing".into()),
        };
        assert_wire_format(
            event,
            r#"{"kind":"message.status","version":1,"id":"6650a1b2c3d4e5f607182930",
            "occurredAt":"2026-06-01T12:00:00Z","payload":{"phoneNumberId":"1065403522","wamid":"wamid.xyzxyz",
            "status":"failed","timestamp":"2023-07-15T00:20:58Z","recipientId":"972987654321",
            "messageId":"6650a1b2c3d4e5f607182931","errors":[{"code":130472,
            "title":"User's number is part of an experiment",
            "details":"Failed to send message because this user's phone number is part of an experiment"}],
            "pricingCategory":"marketing"}}"#,
        );
    }

    #[test]
    fn an_inbound_message_has_a_pinned_wire_format() {
        let event = InboundMessage {
            phone_number_id: "409552778964973".into(),
            from: id("1111111111111"),
            profile_name: Some("Mauricio Binda".into()),
            wamid: id("wamid.in1"),
            timestamp: Utc.timestamp_opt(1673023653, 0).unwrap(),
            kind: ReplyType::Button,
            payload: Value::Null,
            context_wamid: Some(id("wamid.out1")),
            button: Some(ButtonTap {
                payload: "SIM".into(),
                text: "SIM".into(),
            }),
        };
        assert_wire_format(
            event,
            r#"{"kind":"message.inbound","version":1,"id":"6650a1b2c3d4e5f607182930",
            "occurredAt":"2026-06-01T12:00:00Z","payload":{"phoneNumberId":"409552778964973",
            "from":"1111111111111","profileName":"Mauricio Binda","wamid":"wamid.in1",
            "timestamp":"2023-01-06T16:47:33Z","type":"button","payload":null,"contextWamid":"wamid.out1",
            "button":{"payload":"SIM","text":"SIM"}}}"#,
        );
    }

    #[test]
    fn a_template_event_has_a_pinned_wire_format() {
        let event = TemplateEvent {
            waba_id: Some("5467539754836534".into()),
            template_id: "1689556908129832".into(),
            name: id("order_update"),
            language: id("en_US"),
            status: TemplateStatus::Approved,
            reason: None,
        };
        assert_wire_format(
            event,
            r#"{"kind":"template.status","version":1,"id":"6650a1b2c3d4e5f607182930",
            "occurredAt":"2026-06-01T12:00:00Z","payload":{"wabaId":"5467539754836534",
            "templateId":"1689556908129832","name":"order_update","language":"en_US","status":"APPROVED"}}"#,
        );
    }

    #[test]
    fn a_campaign_control_has_a_pinned_wire_format() {
        let event = CampaignControl {
            campaign_id: id("6650a1b2c3d4e5f607182932"),
            action: ControlAction::Pause,
            reason: Some("template paused by Meta".into()),
        };
        assert_wire_format(
            event,
            r#"{"kind":"campaign.control","version":1,"id":"6650a1b2c3d4e5f607182930",
            "occurredAt":"2026-06-01T12:00:00Z","payload":{"campaignId":"6650a1b2c3d4e5f607182932",
            "action":"pause","reason":"template paused by Meta"}}"#,
        );
    }

    #[test]
    fn an_opt_out_event_has_a_pinned_wire_format() {
        let event = OptOutEvent {
            phone: id("923001234567"),
            reason: OptOutReason::StopKeyword,
            at: at(),
        };
        assert_wire_format(
            event,
            r#"{"kind":"contact.opt_out","version":1,"id":"6650a1b2c3d4e5f607182930",
            "occurredAt":"2026-06-01T12:00:00Z","payload":{"phone":"923001234567","reason":"stop_keyword",
            "at":"2026-06-01T12:00:00Z"}}"#,
        );
    }

    #[test]
    fn an_opt_in_event_has_a_pinned_wire_format() {
        let event = OptInEvent {
            phone: id("923001234567"),
            at: at(),
        };
        assert_wire_format(
            event,
            r#"{"kind":"contact.opt_in","version":1,"id":"6650a1b2c3d4e5f607182930",
            "occurredAt":"2026-06-01T12:00:00Z","payload":{"phone":"923001234567","at":"2026-06-01T12:00:00Z"}}"#,
        );
    }

    #[test]
    fn a_send_job_without_an_attempt_is_a_first_dispatch() {
        let job: SendJob = serde_json::from_value(json!({"messageId": "6650a1b2c3d4e5f607182931",
            "campaignId": "6650a1b2c3d4e5f607182932", "runId": "6650a1b2c3d4e5f607182933"}))
        .unwrap();
        assert_eq!(job.attempt, 0);
    }

    #[test]
    fn a_failed_status_becomes_an_update_carrying_its_first_error() {
        let event = StatusEvent {
            phone_number_id: "1".into(),
            wamid: id("wamid.a"),
            status: ReportedStatus::Failed,
            timestamp: at(),
            recipient_id: id("923001234567"),
            message_id: None,
            errors: vec![WebhookError {
                code: 131026,
                title: "Message undeliverable".into(),
                details: None,
            }],
            pricing_category: None,
        };
        let update = event.to_update();
        assert_eq!(update.status, ReportedStatus::Failed);
        assert_eq!(update.error.unwrap().code, Some(131026));
    }

    fn inbound(kind: &str, payload: Value) -> InboundMessage {
        InboundMessage {
            phone_number_id: "1".into(),
            from: id("923001234567"),
            profile_name: None,
            wamid: id("wamid.in"),
            timestamp: at(),
            kind: ReplyType::from(kind),
            payload,
            context_wamid: None,
            button: None,
        }
    }

    #[test]
    fn an_inbound_message_yields_its_text_and_media_by_type() {
        assert_eq!(
            inbound("text", json!({"body": "hi"})).text().as_deref(),
            Some("hi")
        );
        let list = inbound(
            "interactive",
            json!({"type": "list_reply", "list_reply": {"id": "1", "title": "Blue"}}),
        );
        assert_eq!(list.text().as_deref(), Some("Blue"));
        let image = inbound(
            "image",
            json!({"id": "media-1", "mime_type": "image/jpeg", "caption": "look"}),
        );
        assert_eq!(
            (image.text().as_deref(), image.media_id().as_deref()),
            (Some("look"), Some("media-1"))
        );
        assert_eq!(inbound("reaction", json!({"emoji": "👍"})).text(), None);
    }

    #[test]
    fn a_stop_word_or_stop_button_payload_is_a_stop_request() {
        assert!(
            inbound("text", json!({"body": "  stop "})).is_stop_request(&["STOP", "UNSUBSCRIBE"])
        );
        assert!(!inbound("text", json!({"body": "don't stop"})).is_stop_request(&["STOP"]));
        let mut tap = inbound("button", Value::Null);
        tap.button = Some(ButtonTap {
            payload: "STOP".into(),
            text: "Stop promotions".into(),
        });
        assert!(tap.is_stop_request(&["stop"]));
    }

    #[test]
    fn an_inbound_message_becomes_a_reply_linked_to_its_contact_and_campaign() {
        let mut message = inbound("text", json!({"body": "Thanks!"}));
        message.context_wamid = Some(id("wamid.out"));
        let (contact, campaign) = (ContactId::new(), CampaignId::new());
        let reply = message.to_reply(Some(contact), Some(campaign), at());
        assert_eq!(reply.text.as_deref(), Some("Thanks!"));
        assert_eq!(
            (reply.contact_id, reply.campaign_id),
            (Some(contact), Some(campaign))
        );
        assert_eq!(reply.message_id.as_str(), "wamid.in");
        assert_eq!(reply.context_wamid, Some(id("wamid.out")));
    }
}

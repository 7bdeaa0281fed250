//! The bodies the sandbox posts, shaped like the real ones in `shared/reference/webhook-samples`:
//! `{"object":"whatsapp_business_account","entry":[{"id":<WABA>,"changes":[{"field":…,"value":…}]}]}`.

use serde_json::{Value, json};

/// Which business number a notification is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub waba_id: String,
    pub phone_number_id: String,
    /// Digits only, as in `metadata.display_phone_number`.
    pub display_phone_number: String,
}

/// A message status to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusKind {
    Sent,
    Delivered,
    Read,
    Failed(i64),
}

impl StatusKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusKind::Sent => "sent",
            StatusKind::Delivered => "delivered",
            StatusKind::Read => "read",
            StatusKind::Failed(_) => "failed",
        }
    }
}

/// `pricing` of a status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pricing {
    pub billable: bool,
    /// `regular` or `free_customer_service`.
    pub pricing_type: &'static str,
    /// marketing, utility, authentication, service.
    pub category: String,
}

/// One status notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEvent {
    pub route: Route,
    pub wamid: String,
    pub kind: StatusKind,
    pub recipient_id: String,
    pub biz_opaque_callback_data: Option<String>,
    pub pricing: Option<Pricing>,
    /// `conversation.id`; `None` from v24 on, where Meta dropped the object.
    pub conversation_id: Option<String>,
    /// Unix seconds of the conversation's end; only on `sent`.
    pub conversation_expires: Option<u64>,
}

/// Title and details Meta uses for the asynchronous failure codes.
pub fn failure_text(code: i64) -> (&'static str, &'static str) {
    match code {
        131_026 => (
            "Message undeliverable",
            "Unable to deliver message. Reasons can include: the recipient phone number is not a WhatsApp phone number; the recipient has not accepted our new Terms of Service and Privacy Policy; the recipient is using an old WhatsApp version.",
        ),
        131_047 => (
            "Re-engagement message",
            "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
        ),
        131_049 => (
            "This message was not delivered to maintain healthy ecosystem engagement.",
            "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
        ),
        131_050 => (
            "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business",
            "The user has stopped marketing messages from this business.",
        ),
        130_472 => (
            "User's number is part of an experiment",
            "Failed to send message because this user's phone number is part of an experiment",
        ),
        132_015 => (
            "Template is Paused",
            "Template is paused due to low quality so it cannot be sent in a template message.",
        ),
        _ => (
            "Something went wrong",
            "Message failed to send because of an unknown error.",
        ),
    }
}

const ERROR_HREF: &str =
    "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/";

impl StatusEvent {
    /// The status object, stamped with `timestamp` (unix seconds).
    pub fn to_json(&self, timestamp: u64) -> Value {
        let mut status = json!({
            "id": self.wamid,
            "status": self.kind.as_str(),
            "timestamp": timestamp.to_string(),
            "recipient_id": self.recipient_id,
        });
        if let Some(data) = &self.biz_opaque_callback_data {
            status["biz_opaque_callback_data"] = json!(data);
        }
        if let Some(id) = &self.conversation_id {
            let mut conversation = json!({
                "id": id,
                "origin": {"type": self.pricing.as_ref().map_or("service", |p| p.category.as_str())},
            });
            if let Some(expires) = self.conversation_expires {
                conversation["expiration_timestamp"] = json!(expires.to_string());
            }
            status["conversation"] = conversation;
        }
        if let Some(pricing) = &self.pricing {
            status["pricing"] = json!({
                "billable": pricing.billable,
                "pricing_model": "PMP",
                "type": pricing.pricing_type,
                "category": pricing.category,
            });
        }
        if let StatusKind::Failed(code) = self.kind {
            let (title, details) = failure_text(code);
            status["errors"] = json!([{
                "code": code,
                "title": title,
                "message": title,
                "error_data": {"details": details},
                "href": ERROR_HREF,
            }]);
        }
        status
    }
}

fn envelope(waba_id: &str, time: Option<u64>, field: &str, value: Value) -> Value {
    let mut entry = json!({
        "id": waba_id,
        "changes": [{"value": value, "field": field}],
    });
    if let Some(time) = time {
        entry["time"] = json!(time);
    }
    json!({"object": "whatsapp_business_account", "entry": [entry]})
}

fn metadata(route: &Route) -> Value {
    json!({
        "display_phone_number": route.display_phone_number,
        "phone_number_id": route.phone_number_id,
    })
}

/// A `messages` notification carrying statuses of one phone number.
pub fn statuses_body(route: &Route, statuses: Vec<Value>) -> Value {
    envelope(
        &route.waba_id,
        None,
        "messages",
        json!({
            "messaging_product": "whatsapp",
            "metadata": metadata(route),
            "statuses": statuses,
        }),
    )
}

/// A `messages` notification carrying one inbound message from `wa_id`.
pub fn inbound_body(route: &Route, profile_name: &str, wa_id: &str, message: Value) -> Value {
    envelope(
        &route.waba_id,
        None,
        "messages",
        json!({
            "messaging_product": "whatsapp",
            "metadata": metadata(route),
            "contacts": [{"profile": {"name": profile_name}, "wa_id": wa_id}],
            "messages": [message],
        }),
    )
}

/// A `user_preferences` notification (stop or resume of marketing messages).
pub fn user_preferences_body(
    route: &Route,
    profile_name: &str,
    wa_id: &str,
    value: &str,
    timestamp: u64,
) -> Value {
    let detail = match value {
        "stop" => "User requested to stop marketing messages",
        _ => "User requested to resume marketing messages",
    };
    envelope(
        &route.waba_id,
        None,
        "user_preferences",
        json!({
            "messaging_product": "whatsapp",
            "metadata": metadata(route),
            "contacts": [{"profile": {"name": profile_name}, "wa_id": wa_id}],
            "user_preferences": [{
                "wa_id": wa_id,
                "detail": detail,
                "category": "marketing_messages",
                "value": value,
                "timestamp": timestamp,
            }],
        }),
    )
}

/// What a `message_template_status_update` reports.
#[derive(Debug, Clone)]
pub struct TemplateStatusUpdate<'a> {
    pub waba_id: &'a str,
    pub template_id: &'a str,
    pub name: &'a str,
    pub language: &'a str,
    pub category: &'a str,
    pub event: &'a str,
    pub reason: &'a str,
}

/// A `message_template_status_update` notification; the template id is a JSON number, as Meta
/// sends it.
pub fn template_status_body(update: &TemplateStatusUpdate<'_>, time: u64) -> Value {
    let id: Value = update
        .template_id
        .parse::<u64>()
        .map_or_else(|_| json!(update.template_id), |id| json!(id));
    envelope(
        update.waba_id,
        Some(time),
        "message_template_status_update",
        json!({
            "event": update.event,
            "message_template_id": id,
            "message_template_name": update.name,
            "message_template_language": update.language,
            "reason": update.reason,
            "message_template_category": update.category,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route() -> Route {
        Route {
            waba_id: "5467539754836534".into(),
            phone_number_id: "1122334455667".into(),
            display_phone_number: "972123456789".into(),
        }
    }

    #[test]
    fn a_sent_status_has_the_sample_shape() {
        let event = StatusEvent {
            route: route(),
            wamid: "wamid.xyzxyz".into(),
            kind: StatusKind::Sent,
            recipient_id: "972987654321".into(),
            biz_opaque_callback_data: Some("some data".into()),
            pricing: Some(Pricing {
                billable: true,
                pricing_type: "regular",
                category: "marketing".into(),
            }),
            conversation_id: Some("7270432eae37498234f4444b35ffc5".into()),
            conversation_expires: Some(1_698_339_900),
        };
        let body = statuses_body(&route(), vec![event.to_json(1_698_266_945)]);
        let status = &body["entry"][0]["changes"][0]["value"]["statuses"][0];
        assert_eq!(body["object"], "whatsapp_business_account");
        assert_eq!(body["entry"][0]["changes"][0]["field"], "messages");
        assert_eq!(status["timestamp"], "1698266945");
        assert_eq!(status["biz_opaque_callback_data"], "some data");
        assert_eq!(status["conversation"]["expiration_timestamp"], "1698339900");
        assert_eq!(status["conversation"]["origin"]["type"], "marketing");
        assert_eq!(status["pricing"]["pricing_model"], "PMP");
        assert!(status.get("errors").is_none());
    }

    #[test]
    fn a_failed_status_carries_the_error_like_the_131047_sample() {
        let event = StatusEvent {
            route: route(),
            wamid: "wamid.x".into(),
            kind: StatusKind::Failed(131_047),
            recipient_id: "5511111111111".into(),
            biz_opaque_callback_data: None,
            pricing: None,
            conversation_id: None,
            conversation_expires: None,
        };
        let status = event.to_json(1);
        assert_eq!(status["status"], "failed");
        assert_eq!(status["errors"][0]["code"], 131_047);
        assert_eq!(status["errors"][0]["title"], "Re-engagement message");
        assert_eq!(status["errors"][0]["message"], status["errors"][0]["title"]);
        assert!(status.get("pricing").is_none());
    }

    #[test]
    fn a_template_status_update_has_a_numeric_id_and_a_time() {
        let body = template_status_body(
            &TemplateStatusUpdate {
                waba_id: "102290129340398",
                template_id: "1689556908129832",
                name: "order_confirmation",
                language: "en_US",
                category: "UTILITY",
                event: "APPROVED",
                reason: "NONE",
            },
            1_751_247_548,
        );
        assert_eq!(body["entry"][0]["time"], 1_751_247_548);
        let value = &body["entry"][0]["changes"][0]["value"];
        assert_eq!(value["message_template_id"], 1_689_556_908_129_832_u64);
        assert_eq!(
            body["entry"][0]["changes"][0]["field"],
            "message_template_status_update"
        );
    }
}

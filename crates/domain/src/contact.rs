//! `Contact`: someone Herald can message (collection `contacts`), with their opt-out state.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::ContactId;
use crate::phone::PhoneNumber;

/// A contact. `phone` is unique; `variables` is the free object template parameters read from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    pub id: ContactId,
    #[serde(default)]
    pub name: String,
    pub phone: PhoneNumber,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub variables: Map<String, Value>,
    /// Set while the contact must not receive campaigns (ARCHITECTURE §7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_out: Option<OptOut>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Contact {
    /// A new contact with no tags, groups, variables or opt-out.
    pub fn new(name: String, phone: PhoneNumber, now: DateTime<Utc>) -> Self {
        Self {
            id: ContactId::new(),
            name,
            phone,
            tags: Vec::new(),
            groups: Vec::new(),
            variables: Map::new(),
            opt_out: None,
            created_at: now,
            updated_at: now,
        }
    }

    pub fn is_opted_out(&self) -> bool {
        self.opt_out.is_some()
    }

    /// A variable by key or dotted path: `city`, then `address.city` as a nested lookup. A key
    /// that itself contains dots (`"address.city"` imported from a CSV header) wins over nesting.
    pub fn variable(&self, path: &str) -> Option<&Value> {
        if let Some(value) = self.variables.get(path) {
            return Some(value);
        }
        let mut parts = path.split('.');
        let first = self.variables.get(parts.next()?)?;
        parts.try_fold(first, |value, part| value.as_object()?.get(part))
    }
}

/// Why and when a contact opted out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OptOut {
    pub at: DateTime<Utc>,
    pub reason: OptOutReason,
}

/// How an opt-out came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptOutReason {
    /// The contact replied STOP (or a configured stop word) or tapped a stop quick-reply.
    StopKeyword,
    /// Meta's `user_preferences` webhook: the user stopped marketing messages in WhatsApp.
    MetaStopMarketing,
    /// An operator set it.
    Manual,
    /// It came with an imported contact list.
    Import,
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn contact() -> Contact {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut c = Contact::new(
            "Ana".into(),
            PhoneNumber::parse("+923001234567", None).unwrap(),
            now,
        );
        c.variables = json!({"city": "Lahore", "address": {"city": "Karachi"}, "a.b": 1})
            .as_object()
            .unwrap()
            .clone();
        c
    }

    #[test]
    fn a_variable_is_found_by_key_or_by_dotted_path() {
        let c = contact();
        assert_eq!(c.variable("city"), Some(&json!("Lahore")));
        assert_eq!(c.variable("address.city"), Some(&json!("Karachi")));
        assert_eq!(c.variable("a.b"), Some(&json!(1)));
        assert_eq!(c.variable("address.zip"), None);
        assert_eq!(c.variable("city.name"), None);
    }

    #[test]
    fn an_opt_out_serializes_with_a_snake_case_reason() {
        let mut c = contact();
        assert!(!c.is_opted_out());
        c.opt_out = Some(OptOut {
            at: c.created_at,
            reason: OptOutReason::MetaStopMarketing,
        });
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(
            json["optOut"],
            json!({"at": "2026-01-01T00:00:00Z", "reason": "meta_stop_marketing"})
        );
        assert_eq!(json["phone"], "+923001234567");
        assert_eq!(serde_json::from_value::<Contact>(json).unwrap(), c);
    }

    #[test]
    fn a_contact_with_an_invalid_phone_does_not_deserialize() {
        let json = json!({"id": "65f1a2b3c4d5e6f708192a3b", "phone": "12345",
            "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z"});
        assert!(serde_json::from_value::<Contact>(json).is_err());
    }
}

//! Typed identifiers: one type per collection over MongoDB's `ObjectId`, plus Meta's message id.
//!
//! A `ContactId` cannot be passed where a `CampaignId` is expected, and every id reaches the API
//! and the bus as the same 24-hex string MongoDB shows, so clients never see two spellings.

use std::fmt;
use std::str::FromStr;

use bson::oid::ObjectId;
use serde::{Deserialize, Serialize};

use crate::util::excerpt;

/// Why a string is not an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Not 24 hexadecimal characters.
    #[error("{kind} '{input}' is not valid: expected 24 hexadecimal characters")]
    NotObjectId { kind: &'static str, input: String },
}

macro_rules! object_id_type {
    ($(#[$doc:meta])* $name:ident, $label:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(ObjectId);

        impl $name {
            /// A fresh, unique id. ObjectIds start with a timestamp, so ids sort by creation time.
            pub fn new() -> Self {
                Self(ObjectId::new())
            }

            /// Parses the 24-hex form shown by the API.
            pub fn parse(input: &str) -> Result<Self, IdError> {
                ObjectId::parse_str(input.trim()).map(Self).map_err(|_| IdError::NotObjectId {
                    kind: $label,
                    input: excerpt(input),
                })
            }

            /// Wraps an ObjectId read from storage.
            pub const fn from_object_id(id: ObjectId) -> Self {
                Self(id)
            }

            /// The ObjectId to write to storage.
            pub const fn object_id(&self) -> ObjectId {
                self.0
            }

            /// The 24-hex form.
            pub fn to_hex(&self) -> String {
                self.0.to_hex()
            }
        }

        impl Default for $name {
            /// A fresh id, as [`Self::new`].
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0.to_hex())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.to_hex())
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.to_hex()
            }
        }

        impl From<ObjectId> for $name {
            fn from(id: ObjectId) -> Self {
                Self(id)
            }
        }
    };
}

object_id_type!(
    /// A user of Herald (collection `users`).
    UserId,
    "user id"
);
object_id_type!(
    /// One WhatsApp business phone number's settings (collection `settings`).
    SettingsId,
    "settings id"
);
object_id_type!(
    /// A contact (collection `contacts`).
    ContactId,
    "contact id"
);
object_id_type!(
    /// Herald's id of a template (collection `templates`); Meta's own id is a plain string field.
    TemplateId,
    "template id"
);
object_id_type!(
    /// A campaign (collection `campaigns`).
    CampaignId,
    "campaign id"
);
object_id_type!(
    /// One occurrence of a campaign.
    RunId,
    "run id"
);
object_id_type!(
    /// Herald's id of one outbound message (collection `messages`), echoed by Meta through
    /// `biz_opaque_callback_data`.
    MessageId,
    "message id"
);
object_id_type!(
    /// An inbound reply (collection `replies`).
    ReplyId,
    "reply id"
);

/// Longest wamid accepted. Real ones are about 60 characters; the bound only stops abuse.
pub const WAMID_MAX_CHARS: usize = 256;

/// Why a string is not a wamid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WamidError {
    #[error("a WhatsApp message id (wamid) cannot be empty")]
    Empty,
    #[error(
        "WhatsApp message id '{input}' is too long: {chars} characters, at most {WAMID_MAX_CHARS}"
    )]
    TooLong { input: String, chars: usize },
    #[error("WhatsApp message id '{input}' contains whitespace or control characters")]
    BadCharacter { input: String },
}

/// Meta's id of a WhatsApp message (`wamid.HBgL…`), returned by a send and quoted by webhooks.
///
/// Opaque: Herald only checks that it is a plausible token and compares it byte for byte.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Wamid(String);

impl Wamid {
    /// Accepts any non-empty token of at most [`WAMID_MAX_CHARS`] characters without whitespace.
    pub fn parse(input: impl Into<String>) -> Result<Self, WamidError> {
        let input = input.into();
        let chars = input.chars().count();
        if chars == 0 {
            return Err(WamidError::Empty);
        }
        if chars > WAMID_MAX_CHARS {
            return Err(WamidError::TooLong {
                input: excerpt(&input),
                chars,
            });
        }
        if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(WamidError::BadCharacter {
                input: excerpt(&input),
            });
        }
        Ok(Self(input))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Wamid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Wamid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Wamid({})", self.0)
    }
}

impl AsRef<str> for Wamid {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for Wamid {
    type Err = WamidError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Wamid {
    type Error = WamidError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl From<Wamid> for String {
    fn from(w: Wamid) -> String {
        w.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_round_trips_through_its_hex_form() {
        let id = CampaignId::new();
        assert_eq!(CampaignId::parse(&id.to_string()).unwrap(), id);
    }

    #[test]
    fn an_id_serializes_as_its_24_hex_string() {
        let id = ContactId::parse("65f1a2b3c4d5e6f708192a3b").unwrap();
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"65f1a2b3c4d5e6f708192a3b\""
        );
        let back: ContactId = serde_json::from_str("\"65f1a2b3c4d5e6f708192a3b\"").unwrap();
        assert_eq!(back, id);
    }

    #[test]
    fn a_malformed_id_is_rejected_with_its_kind_in_the_message() {
        let err = UserId::parse("not-an-id").unwrap_err();
        assert_eq!(
            err.to_string(),
            "user id 'not-an-id' is not valid: expected 24 hexadecimal characters"
        );
        assert!(serde_json::from_str::<UserId>("\"123\"").is_err());
    }

    #[test]
    fn an_id_converts_to_and_from_its_object_id() {
        let oid = ObjectId::new();
        assert_eq!(MessageId::from_object_id(oid).object_id(), oid);
    }

    #[test]
    fn a_wamid_must_be_a_non_empty_bounded_token() {
        assert!(Wamid::parse("wamid.HBgLMTIzNDU2Nzg5MA==").is_ok());
        assert_eq!(Wamid::parse("").unwrap_err(), WamidError::Empty);
        assert!(matches!(
            Wamid::parse("wamid x"),
            Err(WamidError::BadCharacter { .. })
        ));
        assert!(matches!(
            Wamid::parse("w".repeat(257)),
            Err(WamidError::TooLong { .. })
        ));
        assert!(serde_json::from_str::<Wamid>("\"\"").is_err());
    }
}

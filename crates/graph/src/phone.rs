//! A business phone number's details (`GET /{version}/{phone-number-id}`): quality, throughput
//! level and messaging limit, which the pacer and the operators' dashboard read.

use serde::{Deserialize, Serialize};

/// The fields requested. The messaging limit moved to
/// `whatsapp_business_manager_messaging_limit` in v24 (`messaging_limit_tier` is deprecated), and
/// asking a version for a field it does not know is an error, so the list depends on the version.
pub(crate) fn phone_number_fields(api_major_version: u32) -> &'static str {
    if api_major_version >= 24 {
        "id,display_phone_number,verified_name,quality_rating,throughput,whatsapp_business_manager_messaging_limit"
    } else {
        "id,display_phone_number,verified_name,quality_rating,throughput,messaging_limit_tier"
    }
}

/// A business phone number as Meta describes it (`PhoneNumberInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneNumberDetails {
    /// The phone-number id.
    #[serde(default)]
    pub id: String,
    /// e.g. `+1 555-555-5555`.
    #[serde(default)]
    pub display_phone_number: String,
    /// The approved display name.
    #[serde(default)]
    pub verified_name: String,
    /// GREEN, YELLOW, RED or NA.
    #[serde(default)]
    pub quality_rating: QualityRating,
    /// The messages-per-second level, when requested and returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput: Option<Throughput>,
    /// Older (≤ v23) messaging-limit field, e.g. `TIER_1K`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_limit_tier: Option<String>,
    /// v24+ messaging-limit field, e.g. `TIER_250`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whatsapp_business_manager_messaging_limit: Option<String>,
}

impl PhoneNumberDetails {
    /// The messaging limit under whichever name this API version uses.
    pub fn messaging_limit(&self) -> Option<&str> {
        self.whatsapp_business_manager_messaging_limit
            .as_deref()
            .or(self.messaging_limit_tier.as_deref())
    }

    /// The throughput level (`STANDARD`; `HIGH` after upgrade is UNCONFIRMED).
    pub fn throughput_level(&self) -> Option<&str> {
        self.throughput
            .as_ref()
            .map(|throughput| throughput.level.as_str())
    }
}

/// `throughput` of a phone number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Throughput {
    /// e.g. `STANDARD`. Kept as text: the set of values is not confirmed.
    pub level: String,
}

/// The phone number's quality rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum QualityRating {
    /// High quality.
    Green,
    /// Medium quality: act before it turns red.
    Yellow,
    /// Low quality: sends are at risk.
    Red,
    /// Not rated yet (new numbers).
    #[default]
    Na,
    /// Any other value.
    #[serde(other)]
    Unknown,
}

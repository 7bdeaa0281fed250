//! Phone numbers: `PhoneNumber` (E.164, validated by libphonenumber's metadata through the
//! `phonenumber` crate), `DefaultRegion` (how national-format input is read), `WaId` (the digits
//! Meta uses in webhooks) and `WhatsAppMatchKey` (what to compare when matching the two).
//!
//! # WhatsApp quirks
//!
//! Meta's `wa_id` is not always the E.164 number a contact was sent to:
//!
//! - **Mexico.** Mobile numbers used to be dialled as `+52 1 …`; the `1` was abolished in 2019,
//!   but WhatsApp may still report a Mexican mobile as `521XXXXXXXXXX` (13 digits). Herald stores
//!   `+52XXXXXXXXXX`, and both forms have the same match key.
//! - **Brazil.** Mobile numbers gained a ninth digit (`+55 DD 9XXXX-XXXX`) between 2012 and 2016;
//!   accounts created before may still be reported without it (`55DDXXXXXXXX`, 12 digits, the
//!   subscriber part starting with 6–9, which is what separates old mobiles from landlines).
//!   Herald stores the 9-digit form, and both forms have the same match key.
//!
//! So: send to `PhoneNumber::as_e164`, and match webhook `wa_id`s to contacts by
//! `WhatsAppMatchKey`, never by string equality. `PhoneNumber::from_wa_id` applies the same two
//! rules, so a reply from a legacy `wa_id` becomes the contact's canonical number.

use std::fmt;
use std::str::FromStr;

use phonenumber::country::Id as CountryId;
use phonenumber::{Mode, ParseError};
use serde::{Deserialize, Serialize};

use crate::util::{excerpt, string_value_conversions};

/// Why a string is not a region.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown region '{input}': expected a two-letter ISO 3166 country code such as PK or US")]
pub struct RegionError {
    input: String,
}

/// The country assumed for numbers written without `+` and a country code (`0300 1234567`).
/// Parsed from configuration as a two-letter code, case-insensitive (`"PK"`, `"us"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DefaultRegion(CountryId);

impl DefaultRegion {
    pub fn parse(input: &str) -> Result<Self, RegionError> {
        let code = input.trim().to_ascii_uppercase();
        // The crate's country list includes non-geographic pseudo-regions ("001"); letters only.
        if code.len() != 2 || !code.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(RegionError {
                input: excerpt(input),
            });
        }
        CountryId::from_str(&code)
            .map(Self)
            .map_err(|_| RegionError {
                input: excerpt(input),
            })
    }

    /// The `phonenumber` crate's country id.
    pub fn country_id(self) -> CountryId {
        self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.as_ref()
    }
}

impl fmt::Display for DefaultRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DefaultRegion {
    type Err = RegionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for DefaultRegion {
    type Error = RegionError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<DefaultRegion> for String {
    fn from(region: DefaultRegion) -> String {
        region.as_str().to_owned()
    }
}

impl From<CountryId> for DefaultRegion {
    fn from(id: CountryId) -> Self {
        Self(id)
    }
}

/// Why a string is not a usable phone number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneNumberError {
    #[error("phone number cannot be empty")]
    Empty,
    #[error("'{input}' is not a phone number")]
    NotANumber { input: String },
    #[error(
        "phone number '{input}' has no country code: write it with '+' and the country code, \
         or configure a default region"
    )]
    NoCountry { input: String },
    #[error("phone number '{input}' starts with an unknown country code")]
    UnknownCountryCode { input: String },
    #[error("phone number '{input}' is too short for its country")]
    TooShort { input: String },
    #[error("phone number '{input}' is too long")]
    TooLong { input: String },
    #[error("phone number '{input}' is not a valid number for {country}")]
    Invalid { input: String, country: String },
    #[error("WhatsApp id '{input}' is not valid: expected 5 to 20 digits")]
    NotAWaId { input: String },
}

/// A phone number that libphonenumber considers valid, stored in E.164 form (`+923001234567`).
///
/// Serialized as the E.164 string. Equality is E.164 equality; use
/// [`PhoneNumber::whatsapp_match_key`] to compare with what webhooks report.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses a number as a person would type it: `+92 300 1234567`, `(0300) 123-4567`.
    ///
    /// Input starting with `+` (or an international prefix such as `00`) needs no region;
    /// national-format input is read in `default_region`. A Mexican `+52 1 …` mobile is stored
    /// without the legacy `1`.
    pub fn parse(
        input: &str,
        default_region: Option<DefaultRegion>,
    ) -> Result<Self, PhoneNumberError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(PhoneNumberError::Empty);
        }
        let shown = || excerpt(trimmed);
        let parsed = phonenumber::parse(default_region.map(DefaultRegion::country_id), trimmed)
            .map_err(|e| match e {
                ParseError::InvalidCountryCode
                    if default_region.is_none() && !trimmed.starts_with('+') =>
                {
                    PhoneNumberError::NoCountry { input: shown() }
                }
                ParseError::InvalidCountryCode => {
                    PhoneNumberError::UnknownCountryCode { input: shown() }
                }
                ParseError::TooShortAfterIdd | ParseError::TooShortNsn => {
                    PhoneNumberError::TooShort { input: shown() }
                }
                ParseError::TooLong => PhoneNumberError::TooLong { input: shown() },
                // Fewer than three digits is "no number" to libphonenumber; to a person who typed
                // `+12` it is a number that is too short.
                ParseError::NoNumber if looks_like_digits(trimmed) => {
                    PhoneNumberError::TooShort { input: shown() }
                }
                ParseError::NoNumber | ParseError::MalformedInteger(_) => {
                    PhoneNumberError::NotANumber { input: shown() }
                }
            })?;
        let e164 = parsed.format().mode(Mode::E164).to_string();
        let canonical = canonical_digits(e164.trim_start_matches('+'));
        // Validate the canonical form: it is what Herald sends to.
        let number = if canonical == e164.trim_start_matches('+') {
            parsed
        } else {
            phonenumber::parse(None, format!("+{canonical}"))
                .map_err(|_| PhoneNumberError::NotANumber { input: shown() })?
        };
        if !phonenumber::is_valid(&number) {
            let country = match number.country().id() {
                Some(id) => id.as_ref().to_owned(),
                None => format!("country code +{}", number.code().value()),
            };
            return Err(PhoneNumberError::Invalid {
                input: shown(),
                country,
            });
        }
        Ok(Self(format!("+{canonical}")))
    }

    /// Parses a `wa_id` from a webhook (digits, no `+`), undoing the Mexican and Brazilian legacy
    /// forms described in the module documentation.
    pub fn from_wa_id(wa_id: &str) -> Result<Self, PhoneNumberError> {
        let wa_id = WaId::parse(wa_id)?;
        Self::parse(&format!("+{}", wa_id.match_key().as_str()), None)
    }

    /// `+923001234567`: the form to send to and to store.
    pub fn as_e164(&self) -> &str {
        &self.0
    }

    /// `923001234567`: the E.164 digits without `+`, the shape of Meta's `wa_id`.
    pub fn wa_id(&self) -> &str {
        self.0.trim_start_matches('+')
    }

    /// The key under which this number and every `wa_id` WhatsApp may report for it compare equal.
    pub fn whatsapp_match_key(&self) -> WhatsAppMatchKey {
        WhatsAppMatchKey(canonical_digits(self.wa_id()))
    }

    /// Used by serde and `FromStr`: the E.164 form, no default region.
    fn parse_international(input: &str) -> Result<Self, PhoneNumberError> {
        Self::parse(input, None)
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for PhoneNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for PhoneNumber {
    type Err = PhoneNumberError;
    /// Parses with no default region: the input must carry its country code.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_international(s)
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = PhoneNumberError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse_international(&s)
    }
}

impl From<PhoneNumber> for String {
    fn from(p: PhoneNumber) -> String {
        p.0
    }
}

/// A WhatsApp id as Meta reports it in webhooks (`from`, `recipient_id`, `wa_id`): digits only.
///
/// Kept exactly as reported, because it may be a legacy form that is not a valid E.164 number
/// today (see the module documentation); compare it through [`WaId::match_key`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WaId(String);

impl WaId {
    /// Accepts 5 to 20 digits; a leading `+` is dropped.
    pub fn parse(input: &str) -> Result<Self, PhoneNumberError> {
        let digits = input.trim().trim_start_matches('+');
        if (5..=20).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
            Ok(Self(digits.to_owned()))
        } else {
            Err(PhoneNumberError::NotAWaId {
                input: excerpt(input),
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn match_key(&self) -> WhatsAppMatchKey {
        WhatsAppMatchKey(canonical_digits(&self.0))
    }
}

string_value_conversions!(WaId, PhoneNumberError);

impl From<&PhoneNumber> for WaId {
    fn from(phone: &PhoneNumber) -> Self {
        Self(phone.wa_id().to_owned())
    }
}

/// E.164 digits with the WhatsApp legacy forms folded into today's form. Two numbers that
/// WhatsApp may report differently for the same account have the same key. Stores can index it
/// to find the contact of an inbound `wa_id`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WhatsAppMatchKey(String);

impl WhatsAppMatchKey {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WhatsAppMatchKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Digits with the punctuation people type in phone numbers, and at least one digit.
fn looks_like_digits(input: &str) -> bool {
    input.chars().any(|c| c.is_ascii_digit())
        && input
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c))
}

/// Folds the legacy forms: `521` + 10 digits → `52` + 10 digits (Mexico), and `55` + area code +
/// an 8-digit subscriber starting with 6–9 → the same with a `9` inserted (Brazil).
fn canonical_digits(digits: &str) -> String {
    let bytes = digits.as_bytes();
    if digits.len() == 13 && digits.starts_with("521") {
        return format!("52{}", &digits[3..]);
    }
    if digits.len() == 12 && digits.starts_with("55") && matches!(bytes[4], b'6'..=b'9') {
        return format!("{}9{}", &digits[..4], &digits[4..]);
    }
    digits.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(code: &str) -> Option<DefaultRegion> {
        Some(DefaultRegion::parse(code).unwrap())
    }

    #[test]
    fn a_national_number_is_read_in_the_default_region() {
        let phone = PhoneNumber::parse("0300 1234567", region("PK")).unwrap();
        assert_eq!(phone.as_e164(), "+923001234567");
        assert_eq!(phone.wa_id(), "923001234567");
    }

    #[test]
    fn an_international_number_needs_no_region_and_ignores_punctuation() {
        let phone = PhoneNumber::parse(" +49 (151) 123-45678 ", None).unwrap();
        assert_eq!(phone.as_e164(), "+4915112345678");
        let same = PhoneNumber::parse("+4915112345678", region("PK")).unwrap();
        assert_eq!(phone, same);
    }

    #[test]
    fn a_national_number_without_a_region_asks_for_a_country_code() {
        let err = PhoneNumber::parse("0300 1234567", None).unwrap_err();
        assert!(matches!(err, PhoneNumberError::NoCountry { .. }), "{err}");
    }

    #[test]
    fn a_too_short_number_says_so() {
        assert_eq!(
            PhoneNumber::parse("+12", None).unwrap_err().to_string(),
            "phone number '+12' is too short for its country"
        );
    }

    #[test]
    fn a_number_invalid_for_its_country_is_rejected_with_the_country() {
        let err = PhoneNumber::parse("+92 100 1234567", None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "phone number '+92 100 1234567' is not a valid number for PK"
        );
    }

    #[test]
    fn garbage_is_not_a_phone_number() {
        assert!(matches!(
            PhoneNumber::parse("call me", region("US")),
            Err(PhoneNumberError::NotANumber { .. })
        ));
        assert_eq!(
            PhoneNumber::parse("  ", None).unwrap_err(),
            PhoneNumberError::Empty
        );
    }

    #[test]
    fn a_phone_number_serializes_as_e164_and_rejects_bad_input() {
        let phone: PhoneNumber = serde_json::from_str("\"+923001234567\"").unwrap();
        assert_eq!(serde_json::to_string(&phone).unwrap(), "\"+923001234567\"");
        assert!(serde_json::from_str::<PhoneNumber>("\"+12\"").is_err());
    }

    #[test]
    fn a_mexican_mobile_with_the_legacy_1_is_stored_without_it() {
        let phone = PhoneNumber::parse("+52 1 55 1234 5678", None).unwrap();
        assert_eq!(phone.as_e164(), "+525512345678");
    }

    #[test]
    fn a_mexican_wa_id_with_521_matches_the_contact_stored_as_52() {
        let contact = PhoneNumber::parse("+52 55 1234 5678", None).unwrap();
        let reported = WaId::parse("5215512345678").unwrap();
        assert_eq!(reported.match_key(), contact.whatsapp_match_key());
        assert_eq!(PhoneNumber::from_wa_id("5215512345678").unwrap(), contact);
    }

    #[test]
    fn a_brazilian_wa_id_without_the_ninth_digit_matches_the_contact_with_it() {
        let contact = PhoneNumber::parse("+55 11 98765-4321", None).unwrap();
        let legacy = WaId::parse("551187654321").unwrap();
        assert_eq!(legacy.match_key(), contact.whatsapp_match_key());
        assert_eq!(PhoneNumber::from_wa_id("551187654321").unwrap(), contact);
    }

    #[test]
    fn a_brazilian_landline_is_not_given_a_ninth_digit() {
        let landline = PhoneNumber::parse("+55 11 3456-7890", None).unwrap();
        assert_eq!(landline.whatsapp_match_key().as_str(), "551134567890");
    }

    #[test]
    fn other_countries_match_on_their_plain_digits() {
        let phone = PhoneNumber::parse("+4915112345678", None).unwrap();
        assert_eq!(
            phone.whatsapp_match_key(),
            WaId::parse("4915112345678").unwrap().match_key()
        );
        assert_eq!(WaId::from(&phone).as_str(), "4915112345678");
    }

    #[test]
    fn a_wa_id_must_be_digits() {
        assert!(WaId::parse("+4915112345678").is_ok());
        assert!(matches!(
            WaId::parse("49-151"),
            Err(PhoneNumberError::NotAWaId { .. })
        ));
        assert!(serde_json::from_str::<WaId>("\"abc\"").is_err());
    }

    #[test]
    fn a_default_region_parses_from_configuration_text() {
        assert_eq!(DefaultRegion::parse("pk").unwrap().to_string(), "PK");
        assert_eq!(
            DefaultRegion::parse("Pakistan").unwrap_err().to_string(),
            "unknown region 'Pakistan': expected a two-letter ISO 3166 country code such as PK or US"
        );
        assert!(DefaultRegion::parse("XX").is_err());
        let from_config: DefaultRegion = serde_json::from_str("\"US\"").unwrap();
        assert_eq!(from_config.as_str(), "US");
    }
}

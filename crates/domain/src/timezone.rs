//! `Timezone`: an IANA time zone name, checked against the tz database `chrono-tz` ships.

use std::fmt;
use std::str::FromStr;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::util::excerpt;

/// Why a string is not a time zone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown time zone '{input}': expected an IANA name such as Asia/Karachi or Europe/London")]
pub struct TimezoneError {
    input: String,
}

/// An IANA time zone (`Asia/Karachi`, `America/New_York`, `UTC`). Serialized as its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Timezone(Tz);

impl Timezone {
    pub const UTC: Timezone = Timezone(Tz::UTC);

    /// Accepts the canonical names and the tz database's links (e.g. `Asia/Calcutta`); names are
    /// case-sensitive, as in the database.
    pub fn parse(input: &str) -> Result<Self, TimezoneError> {
        input
            .trim()
            .parse::<Tz>()
            .map(Self)
            .map_err(|_| TimezoneError {
                input: excerpt(input),
            })
    }

    /// The chrono-tz zone, for date arithmetic.
    pub fn tz(self) -> Tz {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

impl Default for Timezone {
    fn default() -> Self {
        Self::UTC
    }
}

impl From<Tz> for Timezone {
    fn from(tz: Tz) -> Self {
        Self(tz)
    }
}

impl fmt::Display for Timezone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl AsRef<str> for Timezone {
    fn as_ref(&self) -> &str {
        self.name()
    }
}

impl FromStr for Timezone {
    type Err = TimezoneError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Timezone {
    type Error = TimezoneError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Timezone> for String {
    fn from(tz: Timezone) -> String {
        tz.name().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iana_names_are_accepted_and_shown_back() {
        for name in ["Asia/Karachi", "America/New_York", "Europe/London", "UTC"] {
            assert_eq!(Timezone::parse(name).unwrap().to_string(), name);
        }
    }

    #[test]
    fn an_unknown_zone_is_rejected_with_its_name_in_the_message() {
        assert_eq!(
            Timezone::parse("Mars/Olympus").unwrap_err().to_string(),
            "unknown time zone 'Mars/Olympus': expected an IANA name such as Asia/Karachi or \
             Europe/London"
        );
        assert!(serde_json::from_str::<Timezone>("\"PKT\"").is_err());
    }

    #[test]
    fn a_timezone_serializes_as_its_name() {
        let tz: Timezone = serde_json::from_str("\"Asia/Karachi\"").unwrap();
        assert_eq!(tz.tz(), chrono_tz::Asia::Karachi);
        assert_eq!(serde_json::to_string(&tz).unwrap(), "\"Asia/Karachi\"");
    }
}

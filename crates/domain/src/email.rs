//! `Email`: a user's login address, trimmed and lower-cased so that uniqueness holds.

use serde::{Deserialize, Serialize};

use crate::util::{excerpt, string_value_conversions};

/// The longest address SMTP can carry (RFC 5321 path limit minus the brackets).
const MAX_CHARS: usize = 254;
/// The longest local part (before the `@`) RFC 5321 allows.
const MAX_LOCAL_CHARS: usize = 64;

/// Why a string is not an email address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("email address cannot be empty")]
    Empty,
    #[error("email address '{input}' is too long: at most {MAX_CHARS} characters")]
    TooLong { input: String },
    #[error("email address '{input}' is not valid: {reason}")]
    Malformed { input: String, reason: &'static str },
}

/// A plausible email address, stored trimmed and lower-cased.
///
/// The check is deliberately not RFC 5322: one `@`, a local part of at most 64 characters without
/// spaces, and a domain of dot-separated labels of letters, digits and hyphens. Whether the address
/// receives mail is not something a parser can know.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let normalised = input.trim().to_lowercase();
        let malformed = |reason| EmailError::Malformed {
            input: excerpt(input.trim()),
            reason,
        };
        if normalised.is_empty() {
            return Err(EmailError::Empty);
        }
        if normalised.chars().count() > MAX_CHARS {
            return Err(EmailError::TooLong {
                input: excerpt(input.trim()),
            });
        }
        if normalised
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(malformed("it contains whitespace"));
        }
        let Some((local, domain)) = normalised.split_once('@') else {
            return Err(malformed("it has no '@'"));
        };
        if domain.contains('@') {
            return Err(malformed("it has more than one '@'"));
        }
        if local.is_empty() {
            return Err(malformed("nothing comes before the '@'"));
        }
        if local.chars().count() > MAX_LOCAL_CHARS {
            return Err(malformed(
                "the part before the '@' is longer than 64 characters",
            ));
        }
        if !domain.contains('.') {
            return Err(malformed("the domain has no dot"));
        }
        let label_ok = |label: &str| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if !domain.split('.').all(label_ok) {
            return Err(malformed("the domain is not a valid host name"));
        }
        Ok(Self(normalised))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_value_conversions!(Email, EmailError);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Ana.Lima@Example.COM ").unwrap().as_str(),
            "ana.lima@example.com"
        );
    }

    #[test]
    fn common_address_shapes_are_accepted() {
        for ok in [
            "a@b.co",
            "first.last+tag@sub.example.org",
            "x_y@xn--bcher-kva.de",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn malformed_addresses_are_rejected_with_the_reason() {
        let cases = [
            ("", "email address cannot be empty"),
            ("ana", "email address 'ana' is not valid: it has no '@'"),
            (
                "a@b@c.com",
                "email address 'a@b@c.com' is not valid: it has more than one '@'",
            ),
            (
                "@example.com",
                "email address '@example.com' is not valid: nothing comes before the '@'",
            ),
            (
                "ana@localhost",
                "email address 'ana@localhost' is not valid: the domain has no dot",
            ),
            (
                "ana@exa mple.com",
                "email address 'ana@exa mple.com' is not valid: it contains whitespace",
            ),
            (
                "ana@-x.com",
                "email address 'ana@-x.com' is not valid: the domain is not a valid host name",
            ),
            (
                "ana@x..com",
                "email address 'ana@x..com' is not valid: the domain is not a valid host name",
            ),
        ];
        for (input, message) in cases {
            assert_eq!(Email::parse(input).unwrap_err().to_string(), message);
        }
    }

    #[test]
    fn an_overlong_address_is_rejected() {
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(matches!(
            Email::parse(&long),
            Err(EmailError::TooLong { .. })
        ));
    }

    #[test]
    fn deserializing_a_bad_email_fails_and_a_good_one_is_normalised() {
        assert!(serde_json::from_str::<Email>("\"nope\"").is_err());
        let email: Email = serde_json::from_str("\"Ana@Example.com\"").unwrap();
        assert_eq!(
            serde_json::to_string(&email).unwrap(),
            "\"ana@example.com\""
        );
    }
}

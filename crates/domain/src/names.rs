//! `TemplateName` and `LanguageCode`: the pair that identifies a WhatsApp template at Meta.

use serde::{Deserialize, Serialize};

use crate::util::{excerpt, string_value_conversions};

/// Meta's limit on template names.
pub const TEMPLATE_NAME_MAX_CHARS: usize = 512;

/// Why a string is not a template name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateNameError {
    #[error("template name cannot be empty")]
    Empty,
    #[error("template name '{input}' is too long: at most {TEMPLATE_NAME_MAX_CHARS} characters")]
    TooLong { input: String },
    #[error(
        "template name '{input}' is not valid: only lower-case letters, digits and underscores \
         are allowed (found '{found}')"
    )]
    BadCharacter { input: String, found: char },
}

/// A template name as Meta requires it: 1 to 512 characters of `[a-z0-9_]`.
///
/// Names are not unique at Meta: a template is one (name, language) pair.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TemplateName(String);

impl TemplateName {
    pub fn parse(input: &str) -> Result<Self, TemplateNameError> {
        if input.is_empty() {
            return Err(TemplateNameError::Empty);
        }
        if input.chars().count() > TEMPLATE_NAME_MAX_CHARS {
            return Err(TemplateNameError::TooLong {
                input: excerpt(input),
            });
        }
        if let Some(found) = input
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
        {
            return Err(TemplateNameError::BadCharacter {
                input: excerpt(input),
                found,
            });
        }
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_value_conversions!(TemplateName, TemplateNameError);

/// Why a string is not a language code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "language code '{input}' is not valid: expected 2 or 3 lower-case letters, optionally \
     followed by '_' and a region of 2 upper-case letters or 3 digits (like en, en_US, es_419)"
)]
pub struct LanguageCodeError {
    input: String,
}

/// A template language as Meta spells it: `en`, `fil`, `en_US`, `pt_BR`, `es_MX`, `es_419`.
///
/// Kept exactly as given (no case folding): Meta matches it literally, so `en_us` is refused here
/// rather than at send time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LanguageCode(String);

impl LanguageCode {
    pub fn parse(input: &str) -> Result<Self, LanguageCodeError> {
        let (language, region) = match input.split_once('_') {
            Some((language, region)) => (language, Some(region)),
            None => (input, None),
        };
        let language_ok =
            (2..=3).contains(&language.len()) && language.chars().all(|c| c.is_ascii_lowercase());
        let region_ok = match region {
            None => true,
            Some(r) => {
                (r.len() == 2 && r.chars().all(|c| c.is_ascii_uppercase()))
                    || (r.len() == 3 && r.chars().all(|c| c.is_ascii_digit()))
            }
        };
        if language_ok && region_ok {
            Ok(Self(input.to_owned()))
        } else {
            Err(LanguageCodeError {
                input: excerpt(input),
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_value_conversions!(LanguageCode, LanguageCodeError);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_names_of_lower_case_letters_digits_and_underscores_are_accepted() {
        for ok in ["order_update", "a", "promo_2026_q1", &"x".repeat(512)] {
            assert!(TemplateName::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn template_names_with_other_characters_say_which_character() {
        assert_eq!(
            TemplateName::parse("Order-update").unwrap_err().to_string(),
            "template name 'Order-update' is not valid: only lower-case letters, digits and \
             underscores are allowed (found 'O')"
        );
        assert_eq!(
            TemplateName::parse("").unwrap_err(),
            TemplateNameError::Empty
        );
        assert!(matches!(
            TemplateName::parse(&"x".repeat(513)),
            Err(TemplateNameError::TooLong { .. })
        ));
        assert!(serde_json::from_str::<TemplateName>("\"has space\"").is_err());
    }

    #[test]
    fn meta_language_codes_are_accepted() {
        for ok in ["en", "fil", "en_US", "pt_BR", "es_MX", "zh_HK", "es_419"] {
            assert_eq!(LanguageCode::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn malformed_language_codes_are_rejected_with_the_expected_shape() {
        for bad in ["", "e", "english", "en_us", "EN", "en-US", "en_USA", "en_"] {
            assert!(LanguageCode::parse(bad).is_err(), "{bad}");
        }
        assert!(
            LanguageCode::parse("en-US")
                .unwrap_err()
                .to_string()
                .starts_with(
                    "language code 'en-US' is not valid: expected 2 or 3 lower-case letters"
                )
        );
    }

    #[test]
    fn names_and_languages_serialize_as_plain_strings() {
        let lang: LanguageCode = serde_json::from_str("\"pt_BR\"").unwrap();
        assert_eq!(serde_json::to_string(&lang).unwrap(), "\"pt_BR\"");
        assert!(serde_json::from_str::<LanguageCode>("\"pt-br\"").is_err());
    }
}

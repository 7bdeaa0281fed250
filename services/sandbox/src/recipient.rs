//! Reading the `to` of a send the way the Cloud API does (reference §1).
//!
//! - `+`, `-`, spaces, parentheses and dots are allowed around the digits; anything else, or
//!   fewer than 5 / more than 15 digits, is refused at once with code 100 and details naming the
//!   `to` parameter (Herald's client then fails only that recipient).
//! - Without a leading `+`, Meta prepends the *business* number's country code. The sandbox does
//!   so unless the digits already start with that code (an approximation: Meta documents the
//!   trap, not the exact rule). The result is what `wa_id` reports.
//! - A well-formed number that libphonenumber does not consider valid is accepted and then fails
//!   with 131026, as a number without a WhatsApp account does (configurable).
//! - Mexican mobiles may be reported with the legacy `521…` `wa_id` (configurable), so that
//!   Herald's matching of `wa_id`s to contacts is exercised.

/// A recipient as the sandbox understood it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The `to` as sent (echoed as `contacts[].input`).
    pub input: String,
    /// The digits WhatsApp reports (`contacts[].wa_id`, `recipient_id`, inbound `from`).
    pub wa_id: String,
    /// The E.164 digits the message goes to (before any legacy `wa_id` rewrite).
    pub digits: String,
    /// Whether libphonenumber considers the number valid.
    pub valid_number: bool,
}

/// Reads `to`. `business_country_code` is the calling code of the sending number.
pub fn parse_recipient(
    to: &str,
    business_country_code: Option<u16>,
    mexico_legacy_wa_id: bool,
) -> Result<Recipient, String> {
    let trimmed = to.trim();
    let mut digits = String::with_capacity(trimmed.len());
    let mut international = false;
    for (i, c) in trimmed.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => international = true,
            '-' | ' ' | '(' | ')' | '.' => {}
            _ => {
                return Err(format!(
                    "Invalid parameter 'to': '{to}' is not a phone number (only digits, '+', '-', spaces and parentheses are allowed)"
                ));
            }
        }
    }
    if !(5..=15).contains(&digits.len()) {
        return Err(format!(
            "Invalid parameter 'to': '{to}' must have 5 to 15 digits with the country code"
        ));
    }
    if !international && let Some(code) = business_country_code {
        let code = code.to_string();
        if !digits.starts_with(&code) {
            digits.insert_str(0, &code);
        }
    }
    let valid_number = phonenumber::parse(None, format!("+{digits}"))
        .map(|number| phonenumber::is_valid(&number))
        .unwrap_or(false);
    let wa_id = if mexico_legacy_wa_id && digits.len() == 12 && digits.starts_with("52") {
        format!("521{}", &digits[2..])
    } else {
        digits.clone()
    };
    Ok(Recipient {
        input: to.to_owned(),
        wa_id,
        digits,
        valid_number,
    })
}

/// The calling code of a business display number such as `+1 555-000-1111`.
pub fn country_code_of(display_phone_number: &str) -> Option<u16> {
    let digits: String = display_phone_number
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    phonenumber::parse(None, format!("+{digits}"))
        .ok()
        .map(|number| number.code().value())
}

/// Digits of a number as given to the admin API or a query (`+49 151…` or `49151…`).
pub fn digits_of(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

/// `*` matches any run of digits, `?` exactly one.
pub fn glob_matches(pattern: &str, digits: &str) -> bool {
    let (p, d) = (pattern.as_bytes(), digits.as_bytes());
    let (mut pi, mut di) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while di < d.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == d[di]) {
            pi += 1;
            di += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            backtrack = Some((pi, di));
            pi += 1;
        } else if let Some((star, matched)) = backtrack {
            pi = star + 1;
            di = matched + 1;
            backtrack = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punctuation_around_the_digits_is_accepted() {
        let r = parse_recipient("+49 (151) 123-456.78", Some(1), false).unwrap();
        assert_eq!(r.wa_id, "4915112345678");
        assert_eq!(r.input, "+49 (151) 123-456.78");
        assert!(r.valid_number);
    }

    #[test]
    fn letters_or_wrong_lengths_are_refused_naming_the_to_parameter() {
        for bad in ["+49abc", "1234", "+1234567890123456", "", "49+151"] {
            let err = parse_recipient(bad, None, false).unwrap_err();
            assert!(err.contains("'to'"), "{bad}: {err}");
        }
    }

    #[test]
    fn without_a_plus_the_business_country_code_is_prepended_unless_present() {
        let r = parse_recipient("15112345678", Some(49), false).unwrap();
        assert_eq!(r.wa_id, "4915112345678");
        let r = parse_recipient("16315555555", Some(1), false).unwrap();
        assert_eq!(r.wa_id, "16315555555");
        // The trap Meta documents: a foreign number without '+' goes to the wrong place.
        let r = parse_recipient("4915112345678", Some(1), false).unwrap();
        assert_eq!(r.wa_id, "14915112345678");
        assert!(!r.valid_number);
    }

    #[test]
    fn numbers_libphonenumber_rejects_are_marked_invalid() {
        assert!(
            !parse_recipient("+999 1234567", None, false)
                .unwrap()
                .valid_number
        );
    }

    #[test]
    fn mexican_mobiles_get_the_legacy_wa_id_when_configured() {
        let r = parse_recipient("+52 55 1234 5678", None, true).unwrap();
        assert_eq!(r.wa_id, "5215512345678");
        assert_eq!(r.digits, "525512345678");
        let r = parse_recipient("+52 55 1234 5678", None, false).unwrap();
        assert_eq!(r.wa_id, "525512345678");
    }

    #[test]
    fn display_numbers_give_their_country_code() {
        assert_eq!(country_code_of("+1 555-000-1111"), Some(1));
        assert_eq!(country_code_of("4915112345678"), Some(49));
    }

    #[test]
    fn glob_patterns_match_digits() {
        assert!(glob_matches("49151*", "4915112345678"));
        assert!(glob_matches("*0000", "4915112340000"));
        assert!(glob_matches("*00?0", "4915112340010"));
        assert!(!glob_matches("*0000", "4915112340001"));
        assert!(glob_matches("*", "1"));
        assert!(!glob_matches("1?", "1"));
    }
}

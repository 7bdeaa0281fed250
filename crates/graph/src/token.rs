//! The access token, kept out of logs.
//!
//! Herald holds one token per business phone number and passes it on every call, so the client
//! never stores one. The newtype exists so that a token cannot reach a log line or an error
//! message by accident: its `Debug` is redacted and it has no `Display`.

use std::fmt;

/// A Graph API bearer token (system-user or business token with `whatsapp_business_messaging`).
///
/// `Debug` prints `AccessToken(<redacted>)`; there is no `Display`. Read the secret only with
/// [`AccessToken::expose_secret`], at the point where it goes into a header or a comparison.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    /// Wraps a token as read from configuration or the secret store.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The token itself. Named loudly so that each use is easy to audit.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

impl From<String> for AccessToken {
    fn from(token: String) -> Self {
        Self(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_contains_the_token() {
        let token = AccessToken::new("EAAG-super-secret");
        let printed = format!("{token:?}");
        assert!(!printed.contains("super-secret"), "{printed}");
        assert_eq!(printed, "AccessToken(<redacted>)");
    }
}

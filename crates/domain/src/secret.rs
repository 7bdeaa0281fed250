//! Stored secrets: `PasswordHash` and `EncryptedSecret`. The domain never hashes or decrypts;
//! it only makes the stored forms hard to print or return by accident.
//!
//! Neither type implements `Display` or `Serialize`, and both print `[redacted]` under `Debug`,
//! so a `{:?}` of a `User` in a log line or an entity returned by an API leaks nothing. Code that
//! must read the text (the store writing it, auth verifying it, the sender decrypting it) calls the
//! explicitly named accessor.

use std::fmt;

use serde::Deserialize;

/// Why a stored secret is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("password hash is not a PHC string (it must start with '$', like '$argon2id$v=19$…')")]
    NotPhcString,
    #[error("encrypted secret cannot be empty")]
    EmptyCiphertext,
}

/// A password hash in PHC string format (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string produced by the hasher or read from storage. Only the shape is checked:
    /// the auth service's verifier rejects a corrupt hash anyway.
    pub fn new(phc: impl Into<String>) -> Result<Self, SecretError> {
        let phc = phc.into();
        if phc.starts_with('$') && phc.len() > 1 {
            Ok(Self(phc))
        } else {
            Err(SecretError::NotPhcString)
        }
    }

    /// The PHC string, for the password verifier and the store only.
    pub fn expose_phc(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PasswordHash {
    type Error = SecretError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Ciphertext of a secret (a Meta access token) as `crates/platform`'s AES-256-GCM produces it,
/// key id included. Opaque here: only the platform's secret box can open it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct EncryptedSecret(String);

impl EncryptedSecret {
    pub fn new(ciphertext: impl Into<String>) -> Result<Self, SecretError> {
        let ciphertext = ciphertext.into();
        if ciphertext.is_empty() {
            Err(SecretError::EmptyCiphertext)
        } else {
            Ok(Self(ciphertext))
        }
    }

    /// The ciphertext text, for the store and the decrypting side only.
    pub fn ciphertext(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EncryptedSecret {
    type Error = SecretError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl fmt::Debug for EncryptedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";

    #[test]
    fn a_password_hash_debug_prints_redacted() {
        let hash = PasswordHash::new(PHC).unwrap();
        assert_eq!(format!("{hash:?}"), "[redacted]");
        assert_eq!(hash.expose_phc(), PHC);
    }

    #[test]
    fn a_password_hash_must_be_a_phc_string() {
        assert_eq!(
            PasswordHash::new("hunter2").unwrap_err(),
            SecretError::NotPhcString
        );
        assert!(serde_json::from_str::<PasswordHash>("\"plain\"").is_err());
    }

    #[test]
    fn an_encrypted_secret_debug_prints_redacted_and_must_not_be_empty() {
        let secret = EncryptedSecret::new("k1:bm9uY2U:Y2lwaGVy").unwrap();
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(secret.ciphertext(), "k1:bm9uY2U:Y2lwaGVy");
        assert_eq!(
            EncryptedSecret::new("").unwrap_err(),
            SecretError::EmptyCiphertext
        );
    }
}

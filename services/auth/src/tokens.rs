//! Issuing tokens: the signed access token and the opaque refresh token (only its SHA-256 is
//! stored, so a copy of the database does not hold usable tokens).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use herald_domain::User;
use herald_platform::auth::Claims;
use ring::digest::{SHA256, digest};
use ring::rand::{SecureRandom as _, SystemRandom};

use crate::config::AuthSettings;
use crate::keys::KeyRing;

/// Refresh tokens start with this, so secret scanners and people can tell what leaked.
const REFRESH_PREFIX: &str = "hrt_";

/// `n` random bytes.
pub(crate) fn random_bytes<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| anyhow::anyhow!("the system random number generator failed"))?;
    Ok(bytes)
}

/// A new random identifier (token ids, refresh-token families), 128 bits in hex.
pub(crate) fn random_id() -> anyhow::Result<String> {
    Ok(hex::encode(random_bytes::<16>()?))
}

/// A fresh refresh token: 256 random bits.
pub(crate) fn new_refresh_token() -> anyhow::Result<String> {
    Ok(format!(
        "{REFRESH_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(random_bytes::<32>()?)
    ))
}

/// What is stored for a refresh token: the hex SHA-256. The token is 256 random bits, so a
/// fast hash is enough (nothing to brute-force), and it allows lookup by equality.
pub(crate) fn refresh_token_hash(token: &str) -> String {
    hex::encode(digest(&SHA256, token.as_bytes()))
}

/// Signs access tokens for users.
#[derive(Debug, Clone)]
pub(crate) struct AccessTokens {
    keys: KeyRing,
    issuer: String,
    audience: String,
    ttl: TimeDelta,
}

impl AccessTokens {
    pub(crate) fn new(keys: KeyRing, settings: &AuthSettings) -> Self {
        Self {
            keys,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            ttl: TimeDelta::seconds(
                i64::try_from(settings.access_token_ttl_seconds).unwrap_or(900),
            ),
        }
    }

    pub(crate) fn ttl_seconds(&self) -> i64 {
        self.ttl.num_seconds()
    }

    /// A signed access token for `user` as of `now`.
    pub(crate) fn issue(&self, user: &User, now: DateTime<Utc>) -> anyhow::Result<String> {
        let claims = Claims {
            sub: user.id,
            role: user.role,
            iat: now.timestamp(),
            exp: (now + self.ttl).timestamp(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            jti: random_id()?,
        };
        Ok(self.keys.current().sign(&claims)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_are_random_prefixed_and_stored_only_as_a_hash() {
        let a = new_refresh_token().unwrap();
        let b = new_refresh_token().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("hrt_") && a.len() == 4 + 43);
        let hash = refresh_token_hash(&a);
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains(&a[4..]));
        assert_eq!(hash, refresh_token_hash(&a));
    }
}

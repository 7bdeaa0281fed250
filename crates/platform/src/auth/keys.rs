//! Ed25519 keys: the private [`SigningKey`] the auth service signs with, and the [`PublicKey`]
//! every service verifies with, published as a JWKS.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm,
    OctetKeyPairParameters, OctetKeyPairType, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair as _};

use super::Claims;

/// Why a key could not be used. Never carries key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("key id '{0}' must be 1 to 64 lower-case letters, digits, '-', '_' or '.'")]
    BadKeyId(String),
    #[error("key '{0}' is not standard base64")]
    NotBase64(String),
    #[error("key '{0}' is not an Ed25519 private key in PKCS#8 DER")]
    NotEd25519Pkcs8(String),
    #[error("key '{0}' is not a 32-byte Ed25519 public key in base64url")]
    NotEd25519Public(String),
    #[error("the system random number generator failed")]
    Random,
    #[error("signing the token failed: {0}")]
    Signing(String),
}

/// Key ids go into configuration keys (`HERALD__AUTH__SIGNING_KEYS__<kid>`), which the
/// configuration loader lower-cases, and into token headers: keep them short and plain.
pub(crate) fn check_key_id(kid: &str) -> Result<(), KeyError> {
    let ok = !kid.is_empty()
        && kid.len() <= 64
        && kid.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
        });
    if ok {
        Ok(())
    } else {
        Err(KeyError::BadKeyId(kid.chars().take(64).collect()))
    }
}

/// An Ed25519 public key and its key id.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    kid: String,
    bytes: [u8; 32],
}

impl PublicKey {
    /// From the JWK form: the key id and `x`, the raw 32 bytes in base64url without padding
    /// (what `/.well-known/jwks.json` shows).
    pub fn from_jwk_x(kid: &str, x: &str) -> Result<Self, KeyError> {
        check_key_id(kid)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(x.trim().trim_end_matches('='))
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| KeyError::NotEd25519Public(kid.to_owned()))?;
        Ok(Self {
            kid: kid.to_owned(),
            bytes,
        })
    }

    /// From a JWK as published in a JWKS; `None` unless it is an Ed25519 (OKP) key with a key id
    /// meant for signatures.
    pub fn from_jwk(jwk: &Jwk) -> Option<Self> {
        let kid = jwk.common.key_id.as_deref()?;
        if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
            return None;
        }
        match &jwk.algorithm {
            AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
                Self::from_jwk_x(kid, &p.x).ok()
            }
            _ => None,
        }
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// The JWK: `{"kty":"OKP","crv":"Ed25519","x":…,"kid":…,"use":"sig","alg":"EdDSA"}`.
    pub fn to_jwk(&self) -> Jwk {
        Jwk {
            common: CommonParameters {
                public_key_use: Some(PublicKeyUse::Signature),
                key_algorithm: Some(KeyAlgorithm::EdDSA),
                key_id: Some(self.kid.clone()),
                ..CommonParameters::default()
            },
            algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: URL_SAFE_NO_PAD.encode(self.bytes),
            }),
        }
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("kid", &self.kid)
            .field("x", &URL_SAFE_NO_PAD.encode(self.bytes))
            .finish()
    }
}

/// The JWKS document for these keys.
pub fn jwks<'a>(keys: impl IntoIterator<Item = &'a PublicKey>) -> JwkSet {
    JwkSet {
        keys: keys.into_iter().map(PublicKey::to_jwk).collect(),
    }
}

/// An Ed25519 private key with its key id. `Debug` shows only the key id.
#[derive(Clone)]
pub struct SigningKey {
    public: PublicKey,
    pkcs8: Vec<u8>,
}

impl SigningKey {
    /// From PKCS#8 DER (v1, as `openssl genpkey -algorithm ed25519 -outform DER` writes, or v2).
    pub fn from_pkcs8_der(kid: &str, der: &[u8]) -> Result<Self, KeyError> {
        check_key_id(kid)?;
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
            .map_err(|_| KeyError::NotEd25519Pkcs8(kid.to_owned()))?;
        let bytes = <[u8; 32]>::try_from(pair.public_key().as_ref())
            .map_err(|_| KeyError::NotEd25519Pkcs8(kid.to_owned()))?;
        let key = Self {
            public: PublicKey {
                kid: kid.to_owned(),
                bytes,
            },
            pkcs8: der.to_vec(),
        };
        // The JWT library parses PKCS#8 itself; prove now that it accepts this one, so a key it
        // cannot use fails at start-up rather than at the first login.
        key.sign_raw(b"probe")?;
        Ok(key)
    }

    /// From the standard base64 of the PKCS#8 DER (how keys are given in configuration).
    pub fn from_pkcs8_base64(kid: &str, encoded: &str) -> Result<Self, KeyError> {
        check_key_id(kid)?;
        let compact: String = encoded.split_whitespace().collect();
        let der = STANDARD
            .decode(compact)
            .map_err(|_| KeyError::NotBase64(kid.to_owned()))?;
        Self::from_pkcs8_der(kid, &der)
    }

    /// A fresh random key.
    pub fn generate(kid: &str) -> Result<Self, KeyError> {
        check_key_id(kid)?;
        let doc =
            Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| KeyError::Random)?;
        Self::from_pkcs8_der(kid, doc.as_ref())
    }

    pub fn kid(&self) -> &str {
        self.public.kid()
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The standard base64 of the PKCS#8 DER, for persisting a generated key.
    pub fn expose_pkcs8_base64(&self) -> String {
        STANDARD.encode(&self.pkcs8)
    }

    /// A signed compact JWT for `claims`, with `alg: EdDSA`, `typ: JWT` and this key's `kid`.
    pub fn sign(&self, claims: &Claims) -> Result<String, KeyError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid().to_owned());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(&self.pkcs8))
            .map_err(|e| KeyError::Signing(e.to_string()))
    }

    fn sign_raw(&self, message: &[u8]) -> Result<String, KeyError> {
        jsonwebtoken::crypto::sign(
            message,
            &EncodingKey::from_ed_der(&self.pkcs8),
            Algorithm::EdDSA,
        )
        .map_err(|_| KeyError::NotEd25519Pkcs8(self.kid().to_owned()))
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_round_trips_through_its_base64_pkcs8() {
        let key = SigningKey::generate("k1").unwrap();
        let again = SigningKey::from_pkcs8_base64("k1", &key.expose_pkcs8_base64()).unwrap();
        assert_eq!(key.public_key(), again.public_key());
    }

    #[test]
    fn an_openssl_style_pkcs8_v1_key_is_accepted() {
        // `openssl genpkey -algorithm ed25519 -outform DER | base64`: PKCS#8 v1, seed only.
        let v1 = "MC4CAQAwBQYDK2VwBCIEIOp6dHpyWwp0i1cD+Qg4kw/rPNyeMVS4eVVMmkPParh/";
        let key = SigningKey::from_pkcs8_base64("ops-2026", v1).unwrap();
        assert_eq!(key.kid(), "ops-2026");
    }

    #[test]
    fn bad_keys_and_key_ids_are_rejected_without_echoing_material() {
        assert_eq!(
            SigningKey::from_pkcs8_base64("k1", "not base64!").unwrap_err(),
            KeyError::NotBase64("k1".into())
        );
        assert_eq!(
            SigningKey::from_pkcs8_base64("k1", "AAAA").unwrap_err(),
            KeyError::NotEd25519Pkcs8("k1".into())
        );
        assert!(matches!(
            SigningKey::generate("Has Space"),
            Err(KeyError::BadKeyId(_))
        ));
        assert!(matches!(
            PublicKey::from_jwk_x("k1", "c2hvcnQ"),
            Err(KeyError::NotEd25519Public(_))
        ));
    }

    #[test]
    fn a_public_key_survives_the_jwk_round_trip() {
        let key = SigningKey::generate("k1").unwrap();
        let set = jwks([key.public_key()]);
        let json = serde_json::to_value(&set).unwrap();
        assert_eq!(json["keys"][0]["kty"], "OKP");
        assert_eq!(json["keys"][0]["crv"], "Ed25519");
        assert_eq!(json["keys"][0]["alg"], "EdDSA");
        assert_eq!(json["keys"][0]["kid"], "k1");
        assert!(!json.to_string().contains(&key.expose_pkcs8_base64()));
        let parsed: JwkSet = serde_json::from_value(json).unwrap();
        assert_eq!(
            PublicKey::from_jwk(&parsed.keys[0]).as_ref(),
            Some(key.public_key())
        );
    }

    #[test]
    fn a_signing_key_debug_print_shows_only_its_id() {
        let key = SigningKey::generate("k1").unwrap();
        let printed = format!("{key:?}");
        assert!(printed.contains("k1") && !printed.contains(&key.expose_pkcs8_base64()));
    }
}

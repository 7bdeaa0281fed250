//! Secrets at rest and signatures on the wire, both on `ring`.
//!
//! **Encryption** (Meta access tokens in the settings collection): AES-256-GCM with a random
//! 96-bit nonce. The ciphertext text is `hgcm1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`, so
//! it names the key that sealed it: a [`Keyring`] holds the current key plus older ones, decrypts
//! with whichever key the text names, and re-seals old texts with the current key
//! ([`Keyring::reencrypt`]), which is how a key is rotated without downtime. The key id is also
//! bound as associated data, so a text cannot be passed off as sealed by another key.
//!
//! **Signatures** (Meta's `X-Hub-Signature-256` on webhooks): HMAC-SHA256 over the raw body,
//! lower-case hex, compared in constant time by `ring::hmac::verify`.

use std::collections::HashMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

const FORMAT: &str = "hgcm1";

/// Why a secret could not be sealed or opened. Never carries key or plaintext material.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("key id '{0}' must be 1 to 32 letters, digits, '-' or '_'")]
    BadKeyId(String),
    #[error("key '{0}' must be 32 bytes encoded in standard base64")]
    BadKey(String),
    #[error("the current key id '{0}' is not in the keyring")]
    UnknownCurrentKey(String),
    #[error("the ciphertext is not in Herald's format")]
    Malformed,
    #[error("the ciphertext was sealed with key '{0}', which is not in the keyring")]
    UnknownKey(String),
    #[error("the ciphertext does not open with its key (tampered, or the key changed)")]
    Unsealable,
    #[error("the system random number generator failed")]
    Random,
}

/// The encryption keys: one current key that seals, and any number of older keys that still open.
pub struct Keyring {
    current: String,
    keys: HashMap<String, LessSafeKey>,
    rng: SystemRandom,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ids: Vec<_> = self.keys.keys().collect();
        ids.sort();
        f.debug_struct("Keyring")
            .field("current", &self.current)
            .field("key_ids", &ids)
            .finish_non_exhaustive()
    }
}

impl Keyring {
    /// Builds a keyring from `(key id, base64 of 32 random bytes)` pairs and the id that seals.
    pub fn new<'a>(
        keys: impl IntoIterator<Item = (&'a str, &'a str)>,
        current: &str,
    ) -> Result<Self, SecretError> {
        let mut map = HashMap::new();
        for (id, encoded) in keys {
            if id.is_empty()
                || id.len() > 32
                || !id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(SecretError::BadKeyId(id.to_owned()));
            }
            let bytes = STANDARD
                .decode(encoded.trim())
                .map_err(|_| SecretError::BadKey(id.to_owned()))?;
            let key = UnboundKey::new(&AES_256_GCM, &bytes)
                .map_err(|_| SecretError::BadKey(id.to_owned()))?;
            map.insert(id.to_owned(), LessSafeKey::new(key));
        }
        if !map.contains_key(current) {
            return Err(SecretError::UnknownCurrentKey(current.to_owned()));
        }
        Ok(Self {
            current: current.to_owned(),
            keys: map,
            rng: SystemRandom::new(),
        })
    }

    /// A new random key, base64-encoded: what `herald` prints for an operator to store.
    pub fn generate_key() -> Result<String, SecretError> {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| SecretError::Random)?;
        Ok(STANDARD.encode(bytes))
    }

    /// The id of the key that seals.
    pub fn current_key_id(&self) -> &str {
        &self.current
    }

    /// Seals `plaintext` with the current key.
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<String, SecretError> {
        let key = self
            .keys
            .get(&self.current)
            .ok_or_else(|| SecretError::UnknownCurrentKey(self.current.clone()))?;
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| SecretError::Random)?;
        let mut sealed = plaintext.to_vec();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(self.current.as_bytes()),
            &mut sealed,
        )
        .map_err(|_| SecretError::Unsealable)?;
        let mut payload = Vec::with_capacity(NONCE_LEN + sealed.len());
        payload.extend_from_slice(&nonce);
        payload.extend_from_slice(&sealed);
        Ok(format!(
            "{FORMAT}.{}.{}",
            self.current,
            URL_SAFE_NO_PAD.encode(payload)
        ))
    }

    /// Opens a text sealed by any key in the ring.
    pub fn decrypt(&self, text: &str) -> Result<Vec<u8>, SecretError> {
        let (key_id, payload) = parse(text)?;
        let key = self
            .keys
            .get(key_id)
            .ok_or_else(|| SecretError::UnknownKey(key_id.to_owned()))?;
        if payload.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(SecretError::Malformed);
        }
        let (nonce, sealed) = payload.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SecretError::Malformed)?;
        let mut buffer = sealed.to_vec();
        let plain = key
            .open_in_place(nonce, Aad::from(key_id.as_bytes()), &mut buffer)
            .map_err(|_| SecretError::Unsealable)?;
        Ok(plain.to_vec())
    }

    /// The id of the key that sealed `text`.
    pub fn key_id_of(text: &str) -> Result<&str, SecretError> {
        parse(text).map(|(id, _)| id)
    }

    /// Re-seals `text` with the current key; `None` when it already is.
    pub fn reencrypt(&self, text: &str) -> Result<Option<String>, SecretError> {
        if Self::key_id_of(text)? == self.current {
            return Ok(None);
        }
        self.encrypt(&self.decrypt(text)?).map(Some)
    }
}

fn parse(text: &str) -> Result<(&str, Vec<u8>), SecretError> {
    let mut parts = text.splitn(3, '.');
    let (Some(FORMAT), Some(key_id), Some(payload)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(SecretError::Malformed);
    };
    let payload = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| SecretError::Malformed)?;
    Ok((key_id, payload))
}

/// Why a webhook signature was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("the signature header is missing")]
    Missing,
    #[error("the signature header is not 'sha256=<64 hex digits>'")]
    Malformed,
    #[error("the signature does not match the body")]
    Mismatch,
}

/// `sha256=<hex>` of the HMAC-SHA256 of `body` under `secret`: the `X-Hub-Signature-256` value.
pub fn sign_sha256(secret: &[u8], body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    format!("sha256={}", hex::encode(hmac::sign(&key, body).as_ref()))
}

/// Checks an `X-Hub-Signature-256` header against the raw body, in constant time.
pub fn verify_sha256(
    secret: &[u8],
    body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let hex_digest = header
        .trim()
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    if hex_digest.len() != 64 {
        return Err(SignatureError::Malformed);
    }
    let expected = hex::decode(hex_digest).map_err(|_| SignatureError::Malformed)?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    hmac::verify(&key, body, &expected).map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring_with(ids: &[&str], current: &str) -> (Keyring, Vec<(String, String)>) {
        let keys: Vec<(String, String)> = ids
            .iter()
            .map(|id| (id.to_string(), Keyring::generate_key().unwrap()))
            .collect();
        let ring =
            Keyring::new(keys.iter().map(|(a, b)| (a.as_str(), b.as_str())), current).unwrap();
        (ring, keys)
    }

    #[test]
    fn encrypted_text_opens_to_the_plaintext_and_does_not_contain_it() {
        let (ring, _) = ring_with(&["k1"], "k1");
        let text = ring.encrypt(b"EAAG-secret-token").unwrap();
        assert!(text.starts_with("hgcm1.k1."));
        assert!(!text.contains("EAAG"));
        assert_eq!(ring.decrypt(&text).unwrap(), b"EAAG-secret-token");
    }

    #[test]
    fn two_encryptions_of_one_plaintext_differ() {
        let (ring, _) = ring_with(&["k1"], "k1");
        assert_ne!(ring.encrypt(b"x").unwrap(), ring.encrypt(b"x").unwrap());
    }

    #[test]
    fn a_rotated_keyring_opens_old_texts_and_reseals_them_with_the_new_key() {
        let (old, keys) = ring_with(&["k1"], "k1");
        let text = old.encrypt(b"token").unwrap();
        let new_key = Keyring::generate_key().unwrap();
        let rotated = Keyring::new(
            [
                (keys[0].0.as_str(), keys[0].1.as_str()),
                ("k2", new_key.as_str()),
            ],
            "k2",
        )
        .unwrap();
        assert_eq!(rotated.decrypt(&text).unwrap(), b"token");
        let resealed = rotated.reencrypt(&text).unwrap().unwrap();
        assert_eq!(Keyring::key_id_of(&resealed).unwrap(), "k2");
        assert_eq!(rotated.decrypt(&resealed).unwrap(), b"token");
        assert_eq!(rotated.reencrypt(&resealed).unwrap(), None);
    }

    #[test]
    fn a_tampered_ciphertext_is_refused() {
        let (ring, _) = ring_with(&["k1"], "k1");
        let text = ring.encrypt(b"token").unwrap();
        let mut bytes = text.into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert_eq!(ring.decrypt(&tampered), Err(SecretError::Unsealable));
    }

    #[test]
    fn relabelling_a_ciphertext_with_another_key_id_is_refused() {
        let (ring, _) = ring_with(&["k1", "k2"], "k1");
        let text = ring.encrypt(b"token").unwrap();
        let relabelled = text.replacen("hgcm1.k1.", "hgcm1.k2.", 1);
        assert_eq!(ring.decrypt(&relabelled), Err(SecretError::Unsealable));
    }

    #[test]
    fn a_text_sealed_by_an_unknown_key_names_the_key() {
        let (ring, _) = ring_with(&["k1"], "k1");
        let (other, _) = ring_with(&["k9"], "k9");
        let text = other.encrypt(b"token").unwrap();
        assert_eq!(
            ring.decrypt(&text),
            Err(SecretError::UnknownKey("k9".into()))
        );
    }

    #[test]
    fn bad_keys_and_key_ids_are_refused() {
        assert!(matches!(
            Keyring::new([("k1", "c2hvcnQ=")], "k1"),
            Err(SecretError::BadKey(_))
        ));
        let key = Keyring::generate_key().unwrap();
        assert!(matches!(
            Keyring::new([("bad.id", key.as_str())], "bad.id"),
            Err(SecretError::BadKeyId(_))
        ));
        assert!(matches!(
            Keyring::new([("k1", key.as_str())], "k2"),
            Err(SecretError::UnknownCurrentKey(_))
        ));
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        let (ring, _) = ring_with(&["k1"], "k1");
        for text in [
            "",
            "hgcm1",
            "hgcm1.k1",
            "hgcm1.k1.!!!",
            "hgcm1.k1.AAAA",
            "x.k1.AAAA",
        ] {
            assert!(ring.decrypt(text).is_err(), "{text}");
        }
    }

    #[test]
    fn debug_output_lists_key_ids_but_no_key_material() {
        let (ring, keys) = ring_with(&["k1"], "k1");
        let debug = format!("{ring:?}");
        assert!(debug.contains("k1"));
        assert!(!debug.contains(&keys[0].1));
    }

    // Computed independently: printf %s '{"a":1}' | openssl dgst -sha256 -hmac secret
    const KNOWN_SIGNATURE: &str =
        "sha256=aa9e2e3575f5d7098b6caccd790888c36d5fdb63342a73bada2d6a51747a8494";

    #[test]
    fn a_signature_made_with_the_secret_verifies() {
        let body = br#"{"object":"whatsapp_business_account"}"#;
        let header = sign_sha256(b"app-secret", body);
        assert_eq!(verify_sha256(b"app-secret", body, Some(&header)), Ok(()));
    }

    #[test]
    fn the_signature_matches_an_independent_hmac_implementation() {
        assert_eq!(sign_sha256(b"secret", br#"{"a":1}"#), KNOWN_SIGNATURE);
    }

    #[test]
    fn a_wrong_missing_or_malformed_signature_is_refused() {
        let body = b"{}";
        let other = sign_sha256(b"other-secret", body);
        assert_eq!(
            verify_sha256(b"app-secret", body, Some(&other)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_sha256(b"app-secret", body, None),
            Err(SignatureError::Missing)
        );
        for header in ["sha1=abc", "sha256=zz", "sha256=", "abc"] {
            assert_eq!(
                verify_sha256(b"app-secret", body, Some(header)),
                Err(SignatureError::Malformed),
                "{header}"
            );
        }
    }

    #[test]
    fn a_signature_over_a_changed_body_is_refused() {
        let header = sign_sha256(b"s", b"{\"a\":1}");
        assert_eq!(
            verify_sha256(b"s", b"{\"a\": 1}", Some(&header)),
            Err(SignatureError::Mismatch)
        );
    }
}

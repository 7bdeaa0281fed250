//! [`TokenVerifier`]: checks an access token locally, from configured public keys and/or the
//! auth service's JWKS.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

use super::Claims;
use super::keys::{PublicKey, check_key_id};
use crate::config::ConfigProblem;

/// The longest token looked at; anything longer is refused before any decoding.
const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// The largest JWKS document accepted.
const MAX_JWKS_BYTES: usize = 256 * 1024;

/// How a service verifies access tokens. Lives under a section the service chooses (usually
/// `auth`), e.g. `HERALD__AUTH__JWKS_URL=http://auth:8080/.well-known/jwks.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VerifierSettings {
    /// The `iss` every token must carry; the auth service's `issuer`.
    pub issuer: String,
    /// The `aud` every token must carry; the auth service's `audience`.
    pub audience: String,
    /// Where the auth service publishes its keys. Fetched on first use, cached, refetched when
    /// a token names an unknown key id or the cache is older than `jwks_max_age_seconds`.
    pub jwks_url: Option<String>,
    /// Public keys given directly: key id → `x` of the JWK (the raw 32-byte Ed25519 key in
    /// base64url), for deployments that pin keys instead of fetching them.
    pub public_keys: BTreeMap<String, String>,
    /// Clock skew tolerated on `exp`, in seconds.
    pub leeway_seconds: u64,
    /// The JWKS is refetched because of an unknown key id at most this often.
    pub jwks_min_refresh_seconds: u64,
    /// A cached JWKS older than this is refetched before use (a failed refetch keeps the old
    /// keys, so a short auth outage does not lock everyone out).
    pub jwks_max_age_seconds: u64,
    /// How long one JWKS request may take.
    pub jwks_timeout_seconds: u64,
}

impl Default for VerifierSettings {
    fn default() -> Self {
        Self {
            issuer: "herald".to_owned(),
            audience: "herald-api".to_owned(),
            jwks_url: None,
            public_keys: BTreeMap::new(),
            leeway_seconds: 30,
            jwks_min_refresh_seconds: 30,
            jwks_max_age_seconds: 300,
            jwks_timeout_seconds: 5,
        }
    }
}

impl VerifierSettings {
    /// Problems with these settings, keyed under `prefix`. At least one key source is needed.
    pub fn problems(&self, prefix: &str) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        let key = |k: &str| format!("{prefix}.{k}");
        if self.issuer.trim().is_empty() {
            problems.push(ConfigProblem::new(key("issuer"), "must not be empty"));
        }
        if self.audience.trim().is_empty() {
            problems.push(ConfigProblem::new(key("audience"), "must not be empty"));
        }
        match &self.jwks_url {
            Some(url) if !(url.starts_with("http://") || url.starts_with("https://")) => {
                problems.push(ConfigProblem::new(
                    key("jwks_url"),
                    format!("'{url}' must be an http:// or https:// URL"),
                ));
            }
            None if self.public_keys.is_empty() => problems.push(ConfigProblem::new(
                key("jwks_url"),
                "set jwks_url or public_keys: tokens cannot be verified without keys",
            )),
            _ => {}
        }
        for (kid, x) in &self.public_keys {
            if let Err(e) = PublicKey::from_jwk_x(kid, x) {
                problems.push(ConfigProblem::new(
                    format!("{prefix}.public_keys.{kid}"),
                    e.to_string(),
                ));
            }
        }
        if self.leeway_seconds > 300 {
            problems.push(ConfigProblem::new(
                key("leeway_seconds"),
                "must be at most 300",
            ));
        }
        if !(1..=60).contains(&self.jwks_timeout_seconds) {
            problems.push(ConfigProblem::new(
                key("jwks_timeout_seconds"),
                "must be between 1 and 60",
            ));
        }
        problems
    }
}

/// Why a token was refused. The `Display` text is what the client reads in the 401 detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("no bearer token: send 'Authorization: Bearer <access token>'")]
    Missing,
    #[error("the Authorization header must use the Bearer scheme")]
    NotBearer,
    #[error("the bearer token is not a well-formed access token")]
    Malformed,
    #[error("tokens signed with '{0}' are not accepted")]
    DisallowedAlgorithm(String),
    #[error("the token was not signed by a known key")]
    UnknownKey,
    #[error("the token's signature is not valid")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token was not issued by this Herald")]
    WrongIssuer,
    #[error("the token is not meant for this API")]
    WrongAudience,
    /// The keys could not be fetched: not the client's fault, answered 503.
    #[error("the signing keys are unavailable: {0}")]
    KeysUnavailable(String),
}

/// Verifies access tokens. Cheap to clone; share one per process (as `web::Data`).
#[derive(Clone)]
pub struct TokenVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    validation: Validation,
    fixed: HashMap<String, DecodingKey>,
    jwks: Option<Jwks>,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut kids: Vec<_> = self.inner.fixed.keys().collect();
        kids.sort();
        f.debug_struct("TokenVerifier")
            .field("fixed_keys", &kids)
            .field("jwks_url", &self.inner.jwks.as_ref().map(|j| &j.url))
            .finish()
    }
}

impl TokenVerifier {
    /// A verifier for validated settings (see [`VerifierSettings::problems`]).
    pub fn from_settings(settings: &VerifierSettings) -> anyhow::Result<Self> {
        let keys = settings
            .public_keys
            .iter()
            .map(|(kid, x)| PublicKey::from_jwk_x(kid, x))
            .collect::<Result<Vec<_>, _>>()?;
        let jwks = match &settings.jwks_url {
            Some(url) => Some(Jwks {
                url: url.clone(),
                client: reqwest::Client::builder()
                    .timeout(Duration::from_secs(settings.jwks_timeout_seconds))
                    .build()?,
                min_refresh: Duration::from_secs(settings.jwks_min_refresh_seconds),
                max_age: Duration::from_secs(settings.jwks_max_age_seconds),
                cache: RwLock::new(Cache::default()),
                refresh: tokio::sync::Mutex::new(()),
            }),
            None => None,
        };
        Ok(Self::build(settings, keys, jwks))
    }

    /// A verifier that knows exactly these keys (the auth service hands this to services that
    /// run in the same process). `issuer`, `audience` and `leeway_seconds` come from `settings`.
    pub fn with_keys(
        settings: &VerifierSettings,
        keys: impl IntoIterator<Item = PublicKey>,
    ) -> Self {
        Self::build(settings, keys.into_iter().collect(), None)
    }

    fn build(settings: &VerifierSettings, keys: Vec<PublicKey>, jwks: Option<Jwks>) -> Self {
        // Pinned to EdDSA: the header's `alg` never chooses how a token is checked.
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = settings.leeway_seconds;
        let fixed = keys
            .iter()
            .map(|k| (k.kid().to_owned(), DecodingKey::from_ed_der(k.as_bytes())))
            .collect();
        Self {
            inner: Arc::new(Inner {
                validation,
                fixed,
                jwks,
            }),
        }
    }

    /// Checks `token` (the compact JWT, without `Bearer `) and returns its claims.
    pub async fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::Malformed);
        }
        let header = peek_header(token)?;
        if header.alg != "EdDSA" {
            // `none`, HS256 (the "public key as HMAC secret" trick), RS256…: refused by name,
            // before any key is looked up.
            return Err(TokenError::DisallowedAlgorithm(
                header.alg.chars().take(16).collect(),
            ));
        }
        let kid = header.kid.ok_or(TokenError::UnknownKey)?;
        if check_key_id(&kid).is_err() {
            return Err(TokenError::UnknownKey);
        }
        let key = self.key(&kid).await?;
        // Decoded as a plain JSON object first, so that the standard claims (`exp`, `iss`,
        // `aud`) are judged and named before our own shape is required of the rest.
        let value = jsonwebtoken::decode::<serde_json::Value>(token, &key, &self.inner.validation)
            .map_err(|e| classify(e.kind()))?
            .claims;
        serde_json::from_value(value).map_err(|_| TokenError::Malformed)
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, TokenError> {
        if let Some(key) = self.inner.fixed.get(kid) {
            return Ok(key.clone());
        }
        let Some(jwks) = &self.inner.jwks else {
            return Err(TokenError::UnknownKey);
        };
        if let Some(key) = jwks.fresh(kid) {
            return Ok(key);
        }
        let refreshed = jwks.refresh().await;
        match (jwks.cached(kid), refreshed) {
            (Some(key), _) => Ok(key),
            (None, Ok(())) => Err(TokenError::UnknownKey),
            (None, Err(reason)) => Err(TokenError::KeysUnavailable(reason)),
        }
    }
}

#[derive(Deserialize)]
struct PeekedHeader {
    alg: String,
    kid: Option<String>,
}

/// The header, read without trusting it: only to refuse a foreign `alg` by name and to pick
/// the key. `jsonwebtoken` parses it again, strictly.
fn peek_header(token: &str) -> Result<PeekedHeader, TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| TokenError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)
}

fn classify(kind: &ErrorKind) -> TokenError {
    match kind {
        ErrorKind::InvalidSignature => TokenError::BadSignature,
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
        ErrorKind::InvalidAudience => TokenError::WrongAudience,
        ErrorKind::MissingRequiredClaim(claim) if claim == "iss" => TokenError::WrongIssuer,
        ErrorKind::MissingRequiredClaim(claim) if claim == "aud" => TokenError::WrongAudience,
        ErrorKind::InvalidAlgorithm => TokenError::DisallowedAlgorithm("?".to_owned()),
        ErrorKind::InvalidEddsaKey | ErrorKind::InvalidKeyFormat => TokenError::UnknownKey,
        _ => TokenError::Malformed,
    }
}

#[derive(Default)]
struct Cache {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
    attempted_at: Option<Instant>,
    last_error: Option<String>,
}

struct Jwks {
    url: String,
    client: reqwest::Client,
    min_refresh: Duration,
    max_age: Duration,
    cache: RwLock<Cache>,
    /// Serialises fetches: concurrent requests with an unknown key id wait for one fetch.
    refresh: tokio::sync::Mutex<()>,
}

impl Jwks {
    fn fresh(&self, kid: &str) -> Option<DecodingKey> {
        let cache = self.cache.read().ok()?;
        let fresh = cache
            .fetched_at
            .is_some_and(|at| at.elapsed() < self.max_age);
        if fresh {
            cache.keys.get(kid).cloned()
        } else {
            None
        }
    }

    fn cached(&self, kid: &str) -> Option<DecodingKey> {
        self.cache.read().ok()?.keys.get(kid).cloned()
    }

    /// Fetches the JWKS unless a fetch was attempted less than `min_refresh` ago. `Err` says why
    /// the keys are unavailable (this attempt's failure, or the last one's while rate-limited).
    async fn refresh(&self) -> Result<(), String> {
        let _one_at_a_time = self.refresh.lock().await;
        {
            let cache = self
                .cache
                .read()
                .map_err(|_| "key cache poisoned".to_owned())?;
            if cache
                .attempted_at
                .is_some_and(|at| at.elapsed() < self.min_refresh)
            {
                return match &cache.last_error {
                    Some(e) => Err(e.clone()),
                    None => Ok(()),
                };
            }
        }
        let outcome = self.fetch().await;
        let mut cache = self
            .cache
            .write()
            .map_err(|_| "key cache poisoned".to_owned())?;
        cache.attempted_at = Some(Instant::now());
        match outcome {
            Ok(keys) => {
                tracing::debug!(url = %self.url, keys = keys.len(), "fetched the JWKS");
                cache.keys = keys;
                cache.fetched_at = Some(Instant::now());
                cache.last_error = None;
                Ok(())
            }
            Err(e) => {
                tracing::warn!(url = %self.url, error = %e, "cannot fetch the JWKS");
                cache.last_error = Some(e.clone());
                Err(e)
            }
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, DecodingKey>, String> {
        let response = self
            .client
            .get(&self.url)
            .send()
            .await
            .map_err(|e| format!("GET {}: {e}", self.url))?;
        if !response.status().is_success() {
            return Err(format!("GET {}: status {}", self.url, response.status()));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| format!("GET {}: {e}", self.url))?;
        if body.len() > MAX_JWKS_BYTES {
            return Err(format!("GET {}: the JWKS is too large", self.url));
        }
        let set: JwkSet = serde_json::from_slice(&body)
            .map_err(|e| format!("GET {}: not a JWKS: {e}", self.url))?;
        // Keys of other types (RSA, HMAC…) are skipped: only EdDSA is ever accepted.
        Ok(set
            .keys
            .iter()
            .filter_map(PublicKey::from_jwk)
            .map(|k| (k.kid().to_owned(), DecodingKey::from_ed_der(k.as_bytes())))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::SigningKey;
    use herald_domain::{Role, UserId};

    fn settings() -> VerifierSettings {
        VerifierSettings::default()
    }

    fn now() -> i64 {
        chrono_now()
    }

    fn chrono_now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    fn claims() -> Claims {
        Claims {
            sub: UserId::new(),
            role: Role::Manager,
            iat: now(),
            exp: now() + 900,
            iss: "herald".into(),
            aud: "herald-api".into(),
            jti: "t1".into(),
        }
    }

    fn setup() -> (SigningKey, TokenVerifier) {
        let key = SigningKey::generate("k1").unwrap();
        let verifier = TokenVerifier::with_keys(&settings(), [key.public_key().clone()]);
        (key, verifier)
    }

    fn b64(value: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(value.to_string())
    }

    #[tokio::test]
    async fn a_token_signed_by_a_known_key_yields_its_claims() {
        let (key, verifier) = setup();
        let claims = claims();
        let token = key.sign(&claims).unwrap();
        assert_eq!(verifier.verify(&token).await.unwrap(), claims);
    }

    #[tokio::test]
    async fn an_expired_token_is_refused_but_clock_skew_within_the_leeway_is_not() {
        let (key, verifier) = setup();
        let expired = Claims {
            exp: now() - 120,
            ..claims()
        };
        assert_eq!(
            verifier.verify(&key.sign(&expired).unwrap()).await,
            Err(TokenError::Expired)
        );
        let skewed = Claims {
            exp: now() - 5,
            ..claims()
        };
        assert!(verifier.verify(&key.sign(&skewed).unwrap()).await.is_ok());
    }

    #[tokio::test]
    async fn a_token_signed_by_another_key_under_a_known_key_id_is_refused() {
        let (_, verifier) = setup();
        let impostor = SigningKey::generate("k1").unwrap();
        assert_eq!(
            verifier.verify(&impostor.sign(&claims()).unwrap()).await,
            Err(TokenError::BadSignature)
        );
    }

    #[tokio::test]
    async fn a_tampered_payload_breaks_the_signature() {
        let (key, verifier) = setup();
        let token = key.sign(&claims()).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        let mut forged = claims();
        forged.role = Role::Admin;
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        let tampered = format!("{}.{}.{}", parts[0], payload, parts[2]);
        assert_eq!(
            verifier.verify(&tampered).await,
            Err(TokenError::BadSignature)
        );
    }

    #[tokio::test]
    async fn alg_none_and_hmac_tokens_are_refused_by_name() {
        let (key, verifier) = setup();
        let payload = b64(&serde_json::to_value(claims()).unwrap());
        let none = format!(
            "{}.{payload}.",
            b64(&serde_json::json!({"alg": "none", "kid": "k1"}))
        );
        assert_eq!(
            verifier.verify(&none).await,
            Err(TokenError::DisallowedAlgorithm("none".into()))
        );
        // The classic confusion attack: HMAC keyed with the public key.
        let header = b64(&serde_json::json!({"alg": "HS256", "typ": "JWT", "kid": "k1"}));
        let signing_input = format!("{header}.{payload}");
        let mac = ring::hmac::sign(
            &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.public_key().as_bytes()),
            signing_input.as_bytes(),
        );
        let hs256 = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(mac.as_ref()));
        assert_eq!(
            verifier.verify(&hs256).await,
            Err(TokenError::DisallowedAlgorithm("HS256".into()))
        );
    }

    #[tokio::test]
    async fn a_wrong_issuer_or_audience_is_refused_and_so_is_a_missing_one() {
        let (key, verifier) = setup();
        let other_issuer = Claims {
            iss: "someone-else".into(),
            ..claims()
        };
        assert_eq!(
            verifier.verify(&key.sign(&other_issuer).unwrap()).await,
            Err(TokenError::WrongIssuer)
        );
        let other_audience = Claims {
            aud: "another-api".into(),
            ..claims()
        };
        assert_eq!(
            verifier.verify(&key.sign(&other_audience).unwrap()).await,
            Err(TokenError::WrongAudience)
        );
        let mut without_aud = serde_json::to_value(claims()).unwrap();
        without_aud.as_object_mut().unwrap().remove("aud");
        let header = jsonwebtoken::Header {
            kid: Some("k1".into()),
            ..jsonwebtoken::Header::new(Algorithm::EdDSA)
        };
        let der = base64::engine::general_purpose::STANDARD
            .decode(key.expose_pkcs8_base64())
            .unwrap();
        let token = jsonwebtoken::encode(
            &header,
            &without_aud,
            &jsonwebtoken::EncodingKey::from_ed_der(&der),
        )
        .unwrap();
        assert_eq!(
            verifier.verify(&token).await,
            Err(TokenError::WrongAudience)
        );
    }

    #[tokio::test]
    async fn garbage_and_unknown_key_ids_are_refused() {
        let (_, verifier) = setup();
        for bad in [
            "",
            "abc",
            "a.b.c",
            "a.b.c.d",
            &"x".repeat(MAX_TOKEN_BYTES + 1),
        ] {
            assert_eq!(
                verifier.verify(bad).await,
                Err(TokenError::Malformed),
                "{bad}"
            );
        }
        let stranger = SigningKey::generate("k2").unwrap();
        assert_eq!(
            verifier.verify(&stranger.sign(&claims()).unwrap()).await,
            Err(TokenError::UnknownKey)
        );
    }

    #[test]
    fn settings_without_any_key_source_or_with_a_bad_key_are_reported() {
        let problems = settings().problems("auth");
        assert_eq!(problems[0].key, "auth.jwks_url");
        let mut bad = settings();
        bad.public_keys.insert("k1".into(), "short".into());
        let problems = bad.problems("auth");
        assert_eq!(problems[0].key, "auth.public_keys.k1");
        let mut good = settings();
        good.jwks_url = Some("http://auth:8080/.well-known/jwks.json".into());
        assert!(good.problems("auth").is_empty());
    }
}

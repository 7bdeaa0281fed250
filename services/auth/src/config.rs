//! Configuration: the `auth` section ([`AuthSettings`]) that `herald serve` embeds too, and the
//! whole configuration of the `herald-auth` binary ([`AuthConfig`]).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use herald_domain::Email;
use herald_platform::auth::{SigningKey, VerifierSettings};
use herald_platform::config::{ConfigProblem, HttpSettings, TelemetrySettings, Validate};
use herald_store::StoreSettings;
use serde::{Deserialize, Serialize};

/// A configured secret (a signing key, the bootstrap password): never printed by `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The whole configuration of `herald-auth` run alone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    pub http: HttpSettings,
    pub telemetry: TelemetrySettings,
    pub store: StoreSettings,
    pub auth: AuthSettings,
}

impl Validate for AuthConfig {
    fn validate(&self) -> Vec<ConfigProblem> {
        let mut problems = self.http.problems("http");
        problems.extend(self.telemetry.problems("telemetry"));
        problems.extend(self.store.problems("store"));
        problems.extend(self.auth.problems("auth"));
        problems
    }
}

/// The `auth` section: tokens, keys, password hashing, login throttling, the first admin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// `iss` of every access token; verifiers must expect the same.
    pub issuer: String,
    /// `aud` of every access token; verifiers must expect the same.
    pub audience: String,
    /// Lifetime of an access token.
    pub access_token_ttl_seconds: u64,
    /// Lifetime of a refresh token (each refresh issues a new one with a fresh lifetime).
    pub refresh_token_ttl_seconds: u64,
    /// Signing keys: key id → the standard base64 of an Ed25519 private key in PKCS#8 DER
    /// (`openssl genpkey -algorithm ed25519 -outform DER | base64 -w0`). Every key is published
    /// in the JWKS; `current_key` signs. To rotate, add a new key, make it current, and remove
    /// the old one once the longest access-token lifetime has passed. Key ids: lower-case
    /// letters, digits, `-`, `_`, `.` (environment variable names are lower-cased).
    pub signing_keys: BTreeMap<String, SecretString>,
    /// The key id that signs; may be omitted when exactly one key is configured.
    pub current_key: Option<String>,
    /// When `signing_keys` is empty (one machine), a key is generated on first start and kept
    /// in this file (mode 0600), so tokens survive restarts. Several replicas must share
    /// configured keys instead.
    pub generated_key_file: PathBuf,
    pub password: PasswordSettings,
    pub throttle: ThrottleSettings,
    /// Take the client address for throttling from the last `X-Forwarded-For` entry (the one
    /// the gateway appended) instead of the TCP peer. Only when a gateway you trust is the only
    /// way in: otherwise a client could pick its own address.
    pub trust_forwarded_for: bool,
    /// Created as an admin at start-up when the store has no user at all (never logged).
    pub bootstrap_admin_email: Option<String>,
    pub bootstrap_admin_password: Option<SecretString>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            issuer: "herald".to_owned(),
            audience: "herald-api".to_owned(),
            access_token_ttl_seconds: 15 * 60,
            refresh_token_ttl_seconds: 30 * 24 * 3600,
            signing_keys: BTreeMap::new(),
            current_key: None,
            generated_key_file: PathBuf::from("./data/auth-signing-key.json"),
            password: PasswordSettings::default(),
            throttle: ThrottleSettings::default(),
            trust_forwarded_for: false,
            bootstrap_admin_email: None,
            bootstrap_admin_password: None,
        }
    }
}

/// argon2id cost and password length rules. Defaults follow OWASP's argon2id recommendation
/// (19 MiB, 2 passes, 1 lane).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordSettings {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    pub min_length: usize,
    pub max_length: usize,
}

impl Default for PasswordSettings {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
            min_length: 12,
            max_length: 256,
        }
    }
}

/// Failed-login throttling: a sliding window per account (email) and per client address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThrottleSettings {
    pub window_seconds: u64,
    /// Failures for one email within the window before its logins are refused.
    pub max_failures_per_account: u32,
    /// Failures from one client address within the window before its logins are refused.
    pub max_failures_per_address: u32,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            window_seconds: 15 * 60,
            max_failures_per_account: 5,
            max_failures_per_address: 20,
        }
    }
}

impl AuthSettings {
    /// What a service in the same process needs to verify this service's tokens.
    pub fn verifier_settings(&self) -> VerifierSettings {
        VerifierSettings {
            issuer: self.issuer.clone(),
            audience: self.audience.clone(),
            ..VerifierSettings::default()
        }
    }

    /// Problems with these settings, keyed under `prefix` (usually `auth`).
    pub fn problems(&self, prefix: &str) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        let key = |k: &str| format!("{prefix}.{k}");
        if self.issuer.trim().is_empty() {
            problems.push(ConfigProblem::new(key("issuer"), "must not be empty"));
        }
        if self.audience.trim().is_empty() {
            problems.push(ConfigProblem::new(key("audience"), "must not be empty"));
        }
        if !(60..=24 * 3600).contains(&self.access_token_ttl_seconds) {
            problems.push(ConfigProblem::new(
                key("access_token_ttl_seconds"),
                "must be between 60 and 86400",
            ));
        }
        if self.refresh_token_ttl_seconds < self.access_token_ttl_seconds
            || self.refresh_token_ttl_seconds > 365 * 24 * 3600
        {
            problems.push(ConfigProblem::new(
                key("refresh_token_ttl_seconds"),
                "must be at least the access-token lifetime and at most a year",
            ));
        }
        for (kid, secret) in &self.signing_keys {
            if let Err(e) = SigningKey::from_pkcs8_base64(kid, secret.expose()) {
                problems.push(ConfigProblem::new(
                    format!("{prefix}.signing_keys.{kid}"),
                    e.to_string(),
                ));
            }
        }
        match (&self.current_key, self.signing_keys.len()) {
            (Some(kid), n) if n > 0 && !self.signing_keys.contains_key(kid) => {
                problems.push(ConfigProblem::new(
                    key("current_key"),
                    format!("'{kid}' is not one of signing_keys"),
                ));
            }
            (None, n) if n > 1 => problems.push(ConfigProblem::new(
                key("current_key"),
                "several signing_keys are configured: name the one that signs",
            )),
            _ => {}
        }
        if self.signing_keys.is_empty() && self.generated_key_file.as_os_str().is_empty() {
            problems.push(ConfigProblem::new(
                key("generated_key_file"),
                "must be set when no signing_keys are configured",
            ));
        }
        let p = &self.password;
        if argon2::Params::new(p.memory_kib, p.iterations, p.parallelism, None).is_err() {
            problems.push(ConfigProblem::new(
                key("password"),
                "memory_kib, iterations and parallelism are not valid argon2 parameters",
            ));
        }
        if p.min_length < 8 || p.min_length > p.max_length || p.max_length > 1024 {
            problems.push(ConfigProblem::new(
                key("password.min_length"),
                "need 8 <= min_length <= max_length <= 1024",
            ));
        }
        let t = &self.throttle;
        if t.window_seconds == 0
            || t.max_failures_per_account == 0
            || t.max_failures_per_address == 0
        {
            problems.push(ConfigProblem::new(
                key("throttle"),
                "window_seconds and both maxima must be at least 1",
            ));
        }
        match (&self.bootstrap_admin_email, &self.bootstrap_admin_password) {
            (Some(email), Some(password)) => {
                if let Err(e) = Email::parse(email) {
                    problems.push(ConfigProblem::new(
                        key("bootstrap_admin_email"),
                        e.to_string(),
                    ));
                }
                let n = password.expose().chars().count();
                if n < p.min_length || n > p.max_length {
                    problems.push(ConfigProblem::new(
                        key("bootstrap_admin_password"),
                        format!("must be {} to {} characters", p.min_length, p.max_length),
                    ));
                }
            }
            (None, None) => {}
            _ => problems.push(ConfigProblem::new(
                key("bootstrap_admin_email"),
                "set both bootstrap_admin_email and bootstrap_admin_password, or neither",
            )),
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_platform::config::load_with_env;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(AuthSettings::default().problems("auth"), vec![]);
    }

    #[test]
    fn signing_keys_and_the_bootstrap_admin_come_from_the_environment() {
        let key = SigningKey::generate("k2026").unwrap().expose_pkcs8_base64();
        let config: AuthConfig = load_with_env(
            None,
            env(&[
                ("HERALD__AUTH__SIGNING_KEYS__K2026", key.as_str()),
                ("HERALD__AUTH__BOOTSTRAP_ADMIN_EMAIL", "Root@Example.com"),
                (
                    "HERALD__AUTH__BOOTSTRAP_ADMIN_PASSWORD",
                    "a long enough secret",
                ),
            ]),
        )
        .unwrap();
        assert!(config.auth.signing_keys.contains_key("k2026"));
        let printed = format!("{config:?}");
        assert!(!printed.contains("a long enough secret") && !printed.contains(&key));
    }

    #[test]
    fn bad_auth_settings_are_reported_with_their_keys() {
        let settings = AuthSettings {
            access_token_ttl_seconds: 5,
            signing_keys: [
                ("a".to_owned(), SecretString::new("bm9wZQ==")),
                ("b".to_owned(), SecretString::new("bm9wZQ==")),
            ]
            .into(),
            bootstrap_admin_email: Some("root@example.com".into()),
            ..AuthSettings::default()
        };
        let keys: Vec<String> = settings
            .problems("auth")
            .into_iter()
            .map(|p| p.key)
            .collect();
        assert_eq!(
            keys,
            [
                "auth.access_token_ttl_seconds",
                "auth.signing_keys.a",
                "auth.signing_keys.b",
                "auth.current_key",
                "auth.bootstrap_admin_email"
            ]
        );
    }
}

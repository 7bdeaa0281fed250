//! Password hashing: argon2id, always off the async runtime (`spawn_blocking`, with the current
//! span so the work shows up in the request's trace).

use std::fmt;
use std::sync::Arc;

use anyhow::Context as _;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use herald_domain::PasswordHash;
use serde::Deserialize;
use tokio::sync::OnceCell;

use crate::config::PasswordSettings;

/// A password as a client sent it. `Debug` prints `[redacted]`; there is no `Display` and no
/// `Serialize`, so it cannot reach a log line or a response by accident.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Password(String);

impl Password {
    pub fn new(password: impl Into<String>) -> Self {
        Self(password.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The length rule, as a message for the client when broken.
    pub fn check_length(&self, settings: &PasswordSettings) -> Result<(), String> {
        let n = self.0.chars().count();
        if n < settings.min_length {
            Err(format!(
                "must be at least {} characters",
                settings.min_length
            ))
        } else if n > settings.max_length {
            Err(format!(
                "must be at most {} characters",
                settings.max_length
            ))
        } else {
            Ok(())
        }
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Hashes and verifies passwords with the configured argon2id cost.
#[derive(Clone)]
pub struct Hasher {
    params: Params,
    /// A hash of a random password with the same cost, verified when the email is unknown so
    /// that a login costs the same whether or not the account exists.
    dummy: Arc<OnceCell<PasswordHash>>,
}

impl Hasher {
    pub fn new(settings: &PasswordSettings) -> anyhow::Result<Self> {
        let params = Params::new(
            settings.memory_kib,
            settings.iterations,
            settings.parallelism,
            None,
        )
        .map_err(|e| anyhow::anyhow!("invalid argon2 parameters: {e}"))?;
        Ok(Self {
            params,
            dummy: Arc::new(OnceCell::new()),
        })
    }

    fn argon2(params: Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    /// A new PHC string for `password`, with a fresh random salt.
    pub async fn hash(&self, password: Password) -> anyhow::Result<PasswordHash> {
        let params = self.params.clone();
        blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            let phc = Self::argon2(params)
                .hash_password(password.expose().as_bytes(), &salt)
                .map_err(|e| anyhow::anyhow!("hashing the password failed: {e}"))?
                .to_string();
            PasswordHash::new(phc).context("argon2 produced an unexpected hash")
        })
        .await
    }

    /// Whether `password` matches `stored`; with `None` (unknown user), the same work is done
    /// against a dummy hash and the answer is `false`.
    pub async fn verify(
        &self,
        password: Password,
        stored: Option<PasswordHash>,
    ) -> anyhow::Result<bool> {
        let (stored, real) = match stored {
            Some(hash) => (hash, true),
            None => (self.dummy().await?, false),
        };
        let matches = blocking(move || {
            // The parameters are read from the stored PHC string, so hashes made with an
            // older cost still verify.
            let parsed = argon2::PasswordHash::new(stored.expose_phc())
                .map_err(|e| anyhow::anyhow!("a stored password hash is unreadable: {e}"))?;
            Ok(Argon2::default()
                .verify_password(password.expose().as_bytes(), &parsed)
                .is_ok())
        })
        .await?;
        Ok(matches && real)
    }

    async fn dummy(&self) -> anyhow::Result<PasswordHash> {
        self.dummy
            .get_or_try_init(|| async {
                let mut random = [0u8; 24];
                ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random)
                    .map_err(|_| anyhow::anyhow!("the system random number generator failed"))?;
                self.hash(Password::new(hex::encode(random))).await
            })
            .await
            .cloned()
    }
}

/// Runs CPU-heavy `f` on the blocking pool, inside the caller's span.
async fn blocking<T, F>(f: F) -> anyhow::Result<T>
where
    F: FnOnce() -> anyhow::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(f))
        .await
        .context("the password hashing task failed")?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordSettings {
        PasswordSettings {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
            ..PasswordSettings::default()
        }
    }

    #[tokio::test]
    async fn a_hash_is_argon2id_and_verifies_only_its_password() {
        let hasher = Hasher::new(&cheap()).unwrap();
        let hash = hasher.hash(Password::new("correct horse")).await.unwrap();
        assert!(
            hash.expose_phc()
                .starts_with("$argon2id$v=19$m=64,t=1,p=1$")
        );
        assert!(!hash.expose_phc().contains("correct horse"));
        assert!(
            hasher
                .verify(Password::new("correct horse"), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify(Password::new("wrong"), Some(hash))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies_even_against_the_dummy() {
        let hasher = Hasher::new(&cheap()).unwrap();
        assert!(
            !hasher
                .verify(Password::new("anything"), None)
                .await
                .unwrap()
        );
    }

    #[test]
    fn the_default_parameters_are_owasps() {
        let hasher = Hasher::new(&PasswordSettings::default()).unwrap();
        assert_eq!(
            (
                hasher.params.m_cost(),
                hasher.params.t_cost(),
                hasher.params.p_cost()
            ),
            (19_456, 2, 1)
        );
    }

    #[test]
    fn a_password_debug_prints_redacted() {
        assert_eq!(
            format!("{:?}", Password::new("hunter2hunter2")),
            "[redacted]"
        );
    }
}

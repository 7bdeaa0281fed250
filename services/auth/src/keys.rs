//! The signing keys: from configuration, or — on one machine with none configured — generated
//! once and kept in a file so that tokens survive restarts.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use herald_platform::auth::{PublicKey, SigningKey};
use ring::rand::{SecureRandom as _, SystemRandom};
use serde::{Deserialize, Serialize};

use crate::config::AuthSettings;

/// Every key the service publishes, and the one it signs with.
#[derive(Debug, Clone)]
pub struct KeyRing {
    current: SigningKey,
    all: Vec<SigningKey>,
}

/// The file a generated key is kept in.
#[derive(Serialize, Deserialize)]
struct KeyFile {
    kid: String,
    pkcs8: String,
}

impl KeyRing {
    /// The configured keys, or the generated one (read from `generated_key_file`, created there
    /// when missing). Blocking file I/O: call it at start-up.
    pub fn load(settings: &AuthSettings) -> anyhow::Result<Self> {
        if settings.signing_keys.is_empty() {
            return Self::from_file(&settings.generated_key_file);
        }
        let all = settings
            .signing_keys
            .iter()
            .map(|(kid, secret)| SigningKey::from_pkcs8_base64(kid, secret.expose()))
            .collect::<Result<Vec<_>, _>>()?;
        let current_kid = match &settings.current_key {
            Some(kid) => kid.clone(),
            None if all.len() == 1 => all[0].kid().to_owned(),
            None => anyhow::bail!("auth.current_key must name the signing key"),
        };
        let current = all
            .iter()
            .find(|k| k.kid() == current_kid)
            .cloned()
            .with_context(|| format!("auth.current_key '{current_kid}' is not configured"))?;
        Ok(Self { current, all })
    }

    /// A ring of exactly these keys; the first signs.
    pub fn from_keys(current: SigningKey, older: impl IntoIterator<Item = SigningKey>) -> Self {
        let mut all = vec![current.clone()];
        all.extend(older);
        Self { current, all }
    }

    fn from_file(path: &Path) -> anyhow::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let file: KeyFile = serde_json::from_str(&text)
                    .with_context(|| format!("{} is not a Herald key file", path.display()))?;
                let key = SigningKey::from_pkcs8_base64(&file.kid, &file.pkcs8)
                    .with_context(|| format!("the key in {} is unusable", path.display()))?;
                Ok(Self::from_keys(key, []))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = generate_into(path)?;
                tracing::warn!(
                    file = %path.display(),
                    kid = key.kid(),
                    "no auth.signing_keys configured: generated a signing key and kept it in a \
                     file; configure shared keys when running several auth replicas"
                );
                Ok(Self::from_keys(key, []))
            }
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    pub fn current(&self) -> &SigningKey {
        &self.current
    }

    /// The public keys, for the JWKS and for in-process verifiers.
    pub fn public_keys(&self) -> Vec<PublicKey> {
        self.all.iter().map(|k| k.public_key().clone()).collect()
    }
}

/// Generates a key and writes it to `path` (created with mode 0600, never overwritten: when
/// another process won the race, its key is used).
fn generate_into(path: &Path) -> anyhow::Result<SigningKey> {
    let mut suffix = [0u8; 4];
    SystemRandom::new()
        .fill(&mut suffix)
        .map_err(|_| anyhow::anyhow!("the system random number generator failed"))?;
    let key = SigningKey::generate(&format!("gen-{}", hex::encode(suffix)))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the directory {}", dir.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return KeyRing::from_file(path).map(|ring| ring.current.clone());
        }
        Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
    };
    let body = serde_json::to_string_pretty(&KeyFile {
        kid: key.kid().to_owned(),
        pkcs8: key.expose_pkcs8_base64(),
    })?;
    file.write_all(body.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SecretString;

    #[test]
    fn a_generated_key_is_kept_and_reused_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let settings = AuthSettings {
            generated_key_file: dir.path().join("keys/auth.json"),
            ..AuthSettings::default()
        };
        let first = KeyRing::load(&settings).unwrap();
        let second = KeyRing::load(&settings).unwrap();
        assert_eq!(first.public_keys(), second.public_keys());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&settings.generated_key_file)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn configured_keys_are_all_published_and_the_current_one_signs() {
        let old = SigningKey::generate("old").unwrap();
        let new = SigningKey::generate("new").unwrap();
        let settings = AuthSettings {
            signing_keys: [
                (
                    "old".to_owned(),
                    SecretString::new(old.expose_pkcs8_base64()),
                ),
                (
                    "new".to_owned(),
                    SecretString::new(new.expose_pkcs8_base64()),
                ),
            ]
            .into(),
            current_key: Some("new".into()),
            ..AuthSettings::default()
        };
        let ring = KeyRing::load(&settings).unwrap();
        assert_eq!(ring.current().kid(), "new");
        let kids: Vec<String> = ring
            .public_keys()
            .iter()
            .map(|k| k.kid().to_owned())
            .collect();
        assert_eq!(kids, ["new", "old"]);
    }
}

//! Layered configuration, the same for every Herald binary.
//!
//! Layers, later ones win: the defaults in code (the `Default` of the settings type), then an
//! optional TOML file, then environment variables `HERALD__SECTION__KEY` (double underscores
//! separate the path, so `HERALD__HTTP__PORT=9000` sets `http.port`). The result is deserialized
//! and then validated as a whole, so a bad value is reported — with its key — before any listener
//! is bound or any connection is opened.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The prefix of every environment variable Herald reads for its configuration.
pub const ENV_PREFIX: &str = "HERALD";
/// Separates the prefix and the path segments of an environment variable name.
pub const ENV_SEPARATOR: &str = "__";

/// One thing wrong with the configuration, named by its dotted key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub key: String,
    pub message: String,
}

impl ConfigProblem {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Why the configuration could not be loaded. Its `Display` lists every problem with its key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration: {0}")]
    Source(String),
    #[error("invalid configuration:{}", list(.0))]
    Invalid(Vec<ConfigProblem>),
}

fn list(problems: &[ConfigProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("\n  - {}: {}", p.key, p.message))
        .collect()
}

/// A settings type checks its own values; each problem names its key (`http.port`, …).
pub trait Validate {
    /// Every problem found, empty when the settings are usable.
    fn validate(&self) -> Vec<ConfigProblem>;
}

/// Loads `T` from its defaults, `file` (if given) and the process environment.
pub fn load<T>(file: Option<&Path>) -> Result<T, ConfigError>
where
    T: Default + Serialize + DeserializeOwned + Validate,
{
    load_with_env(file, std::env::vars())
}

/// Like [`load`], with the environment given explicitly: tests use it so they never touch the
/// process environment, which other tests share.
pub fn load_with_env<T>(
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<T, ConfigError>
where
    T: Default + Serialize + DeserializeOwned + Validate,
{
    let defaults = config::Config::try_from(&T::default())
        .map_err(|e| ConfigError::Source(format!("defaults: {e}")))?;
    let mut builder = config::Config::builder().add_source(defaults);
    if let Some(path) = file {
        if !path.exists() {
            return Err(ConfigError::Source(format!(
                "the configuration file {} does not exist",
                path.display()
            )));
        }
        builder = builder.add_source(config::File::from(path).format(config::FileFormat::Toml));
    }
    let env: HashMap<String, String> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with(&format!("{ENV_PREFIX}{ENV_SEPARATOR}")))
        .collect();
    builder = builder.add_source(
        config::Environment::with_prefix(ENV_PREFIX)
            .prefix_separator(ENV_SEPARATOR)
            .separator(ENV_SEPARATOR)
            .try_parsing(true)
            .source(Some(env)),
    );
    let settings: T = builder
        .build()
        .and_then(|c| c.try_deserialize())
        .map_err(describe)?;
    let problems = settings.validate();
    if problems.is_empty() {
        Ok(settings)
    } else {
        Err(ConfigError::Invalid(problems))
    }
}

/// The `config` crate names the key in most of its errors (`invalid type … for key http.port`);
/// keep that text whole, as one problem, so the key reaches the operator.
fn describe(err: config::ConfigError) -> ConfigError {
    let text = err.to_string();
    let key = text
        .rsplit_once("for key `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(key, _)| key.to_owned())
        .unwrap_or_else(|| "(configuration)".to_owned());
    ConfigError::Invalid(vec![ConfigProblem::new(key, text)])
}

/// Where and how a service listens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// Address to bind; `0.0.0.0` in containers, `127.0.0.1` on a laptop.
    pub host: String,
    /// Port to bind; 0 picks a free one (tests).
    pub port: u16,
    /// The largest request body accepted anywhere, in bytes. Endpoints may set a lower limit.
    pub max_body_bytes: usize,
    /// How long in-flight requests may take to finish after a stop was asked for.
    pub shutdown_grace_seconds: u64,
    /// actix worker threads; `None` means one per core.
    pub workers: Option<usize>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".to_owned(),
            port: 8080,
            max_body_bytes: 1024 * 1024,
            shutdown_grace_seconds: 10,
            workers: None,
        }
    }
}

impl HttpSettings {
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_seconds)
    }

    /// Problems with these settings, keyed under `prefix` (usually `http`).
    pub fn problems(&self, prefix: &str) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        if self.host.parse::<IpAddr>().is_err() && self.host != "localhost" {
            problems.push(ConfigProblem::new(
                format!("{prefix}.host"),
                format!("'{}' is not an IP address", self.host),
            ));
        }
        if !(1024..=64 * 1024 * 1024).contains(&self.max_body_bytes) {
            problems.push(ConfigProblem::new(
                format!("{prefix}.max_body_bytes"),
                "must be between 1024 and 67108864",
            ));
        }
        if self.shutdown_grace_seconds > 300 {
            problems.push(ConfigProblem::new(
                format!("{prefix}.shutdown_grace_seconds"),
                "must be at most 300",
            ));
        }
        if self.workers == Some(0) {
            problems.push(ConfigProblem::new(
                format!("{prefix}.workers"),
                "must be at least 1",
            ));
        }
        problems
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line: what log collectors want.
    Json,
    /// Human-readable lines for a terminal.
    Pretty,
}

/// Logs and traces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetrySettings {
    /// The `service.name` on traces and the `service` field of log lines.
    pub service_name: String,
    /// A `tracing` filter directive, e.g. `info` or `info,herald_bus=debug`.
    pub log_level: String,
    pub log_format: LogFormat,
    /// OTLP/HTTP endpoint (e.g. `http://otel-collector:4318/v1/traces`); no traces are exported
    /// when absent.
    pub otlp_endpoint: Option<String>,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self {
            service_name: "herald".to_owned(),
            log_level: "info".to_owned(),
            log_format: LogFormat::Json,
            otlp_endpoint: None,
        }
    }
}

impl TelemetrySettings {
    pub fn problems(&self, prefix: &str) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        if self.service_name.trim().is_empty() {
            problems.push(ConfigProblem::new(
                format!("{prefix}.service_name"),
                "must not be empty",
            ));
        }
        if let Err(e) = tracing_subscriber::EnvFilter::builder().parse(&self.log_level) {
            problems.push(ConfigProblem::new(
                format!("{prefix}.log_level"),
                format!("'{}' is not a valid filter: {e}", self.log_level),
            ));
        }
        if let Some(endpoint) = &self.otlp_endpoint
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            problems.push(ConfigProblem::new(
                format!("{prefix}.otlp_endpoint"),
                format!("'{endpoint}' must be an http:// or https:// URL"),
            ));
        }
        problems
    }
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, Serialize, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Sample {
        http: HttpSettings,
        telemetry: TelemetrySettings,
    }

    impl Validate for Sample {
        fn validate(&self) -> Vec<ConfigProblem> {
            let mut p = self.http.problems("http");
            p.extend(self.telemetry.problems("telemetry"));
            p
        }
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let s: Sample = load_with_env(None, env(&[])).unwrap();
        assert_eq!(s.http, HttpSettings::default());
    }

    #[test]
    fn environment_overrides_the_file_which_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("herald.toml");
        std::fs::write(&path, "[http]\nport = 9000\nhost = \"0.0.0.0\"\n").unwrap();
        let s: Sample = load_with_env(
            Some(&path),
            env(&[("HERALD__HTTP__PORT", "9100"), ("OTHER__HTTP__PORT", "1")]),
        )
        .unwrap();
        assert_eq!(s.http.port, 9100);
        assert_eq!(s.http.host, "0.0.0.0");
    }

    #[test]
    fn a_value_of_the_wrong_type_names_its_key() {
        let err = load_with_env::<Sample>(None, env(&[("HERALD__HTTP__PORT", "eighty")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("http.port"), "{err}");
    }

    #[test]
    fn every_invalid_value_is_reported_with_its_key() {
        let err = load_with_env::<Sample>(
            None,
            env(&[
                ("HERALD__HTTP__HOST", "not-an-ip"),
                ("HERALD__TELEMETRY__OTLP_ENDPOINT", "collector:4318"),
            ]),
        )
        .unwrap_err();
        let ConfigError::Invalid(problems) = err else {
            panic!("expected validation problems, got {err}");
        };
        let keys: Vec<_> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["http.host", "telemetry.otlp_endpoint"]);
    }

    #[test]
    fn a_missing_file_is_an_error_not_silently_skipped() {
        let err = load_with_env::<Sample>(Some(Path::new("/nonexistent/herald.toml")), env(&[]))
            .unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }

    #[test]
    fn an_unknown_key_in_the_file_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("herald.toml");
        std::fs::write(&path, "[http]\nprot = 9000\n").unwrap();
        let err = load_with_env::<Sample>(Some(&path), env(&[])).unwrap_err();
        assert!(err.to_string().contains("prot"), "{err}");
    }
}

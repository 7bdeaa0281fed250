//! The configuration of `herald serve`: one section per concern, each with embedded defaults
//! that work on one machine, overridable by a TOML file and `HERALD__SECTION__KEY` variables.

use herald_auth::AuthSettings;
use herald_platform::config::{ConfigProblem, HttpSettings, TelemetrySettings, Validate};
use herald_sandbox::SandboxConfig;
use herald_store::StoreSettings;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HeraldConfig {
    pub http: HttpSettings,
    pub telemetry: TelemetrySettings,
    /// SQLite in `./data` by default; MongoDB for the distributed deployment.
    pub store: StoreSettings,
    pub auth: AuthSettings,
    /// Which optional services this process mounts.
    pub services: ServicesSettings,
    /// The stand-in for Meta's Cloud API, when `services.sandbox` is on. Its own `http` and
    /// `telemetry` sections only matter to the standalone `herald-sandbox` binary.
    pub sandbox: SandboxConfig,
}

/// Optional services of the one-process deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServicesSettings {
    /// Mount the sandbox, so that Herald runs without Meta credentials or network. Turn it off
    /// when real credentials are configured.
    pub sandbox: bool,
}

impl Default for ServicesSettings {
    fn default() -> Self {
        Self { sandbox: true }
    }
}

impl Default for HeraldConfig {
    fn default() -> Self {
        let mut sandbox = SandboxConfig::default();
        // Inside Herald the sandbox's Graph API sits under its own prefix, beside the admin API,
        // so it cannot be mistaken for one of Herald's own routes.
        sandbox.routes.graph_prefix = "/sandbox/graph".to_owned();
        Self {
            http: HttpSettings::default(),
            telemetry: TelemetrySettings::default(),
            store: StoreSettings::default(),
            auth: AuthSettings::default(),
            services: ServicesSettings::default(),
            sandbox,
        }
    }
}

impl Validate for HeraldConfig {
    fn validate(&self) -> Vec<ConfigProblem> {
        let mut problems = self.http.problems("http");
        problems.extend(self.telemetry.problems("telemetry"));
        problems.extend(self.store.problems("store"));
        problems.extend(self.auth.problems("auth"));
        if self.services.sandbox {
            problems.extend(
                self.sandbox
                    .validate()
                    .into_iter()
                    .map(|p| ConfigProblem::new(format!("sandbox.{}", p.key), p.message)),
            );
        }
        problems
    }
}

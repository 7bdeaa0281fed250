//! The configuration of `herald serve`: one section per concern, each with embedded defaults
//! that work on one machine, overridable by a TOML file and `HERALD__SECTION__KEY` variables.

use herald_platform::config::{ConfigProblem, HttpSettings, TelemetrySettings, Validate};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HeraldConfig {
    pub http: HttpSettings,
    pub telemetry: TelemetrySettings,
}

impl Validate for HeraldConfig {
    fn validate(&self) -> Vec<ConfigProblem> {
        let mut problems = self.http.problems("http");
        problems.extend(self.telemetry.problems("telemetry"));
        problems
    }
}

//! Client configuration: where the Graph API is, which version, and how long to wait.
//!
//! The base URL is configurable so that development and tests point at the sandbox (which may be
//! mounted under a path prefix) and production at `https://graph.facebook.com`. The API version is
//! pinned: Meta changes field names between versions (v24 dropped `conversation` and renamed the
//! messaging-limit field), so Herald moves versions on purpose, never by default.

use std::time::Duration;

use reqwest::Url;

/// The production Graph API host.
pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com";

/// The version Herald is written and tested against (Meta's OpenAPI file is v23.0).
pub const DEFAULT_API_VERSION: &str = "v23.0";

/// Settings for [`crate::GraphClient::new`].
#[derive(Debug, Clone)]
pub struct GraphConfig {
    /// Scheme, host and optional path prefix; `/{version}/…` is appended to it.
    pub base_url: Url,
    /// `vNN.N`, e.g. `v23.0`. Checked by [`crate::GraphClient::new`].
    pub api_version: String,
    /// Whole-request deadline. A send that passes it has an unknown outcome (Meta may have
    /// accepted the message), so keep it generous compared with Meta's usual latency.
    pub timeout: Duration,
    /// Deadline for opening a connection. A send that fails here was never sent.
    pub connect_timeout: Duration,
    /// Idle connections kept per host. A sender doing hundreds of sends per second needs about
    /// as many connections as it has requests in flight.
    pub pool_max_idle_per_host: usize,
    /// How long an idle pooled connection is kept before it is closed.
    pub pool_idle_timeout: Duration,
    /// The `User-Agent` header sent on every request.
    pub user_agent: String,
}

impl Default for GraphConfig {
    fn default() -> Self {
        Self {
            // Parsing a constant that is a valid URL; covered by a unit test below.
            base_url: Url::parse(DEFAULT_BASE_URL).unwrap_or_else(|_| unreachable!()),
            api_version: DEFAULT_API_VERSION.to_owned(),
            timeout: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(5),
            pool_max_idle_per_host: 64,
            pool_idle_timeout: Duration::from_secs(90),
            user_agent: concat!("herald-graph/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

impl GraphConfig {
    /// The default settings with another base URL (the sandbox, a stub server).
    pub fn with_base_url(base_url: Url) -> Self {
        Self {
            base_url,
            ..Self::default()
        }
    }
}

/// Why a [`GraphConfig`] was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The version is not of the form `vNN.N`.
    #[error("api_version must look like `v23.0`, got {0:?}")]
    ApiVersion(String),
    /// The base URL cannot carry path segments, or is not http(s).
    #[error("base_url must be an http or https URL that can take a path, got {0}")]
    BaseUrl(Url),
    /// The HTTP client could not be built (e.g. TLS backend initialisation).
    #[error("could not build the HTTP client")]
    Http(#[source] reqwest::Error),
}

/// `v` then digits, a dot, digits.
pub(crate) fn is_valid_api_version(version: &str) -> bool {
    let Some(rest) = version.strip_prefix('v') else {
        return false;
    };
    let mut parts = rest.split('.');
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(major), Some(minor), None) if all_digits(major) && all_digits(minor)
    )
}

/// The major number of a version already checked by [`is_valid_api_version`].
pub(crate) fn api_major_version(version: &str) -> u32 {
    version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|major| major.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_points_at_graph_facebook_com_with_the_pinned_version() {
        let config = GraphConfig::default();
        assert_eq!(config.base_url.as_str(), "https://graph.facebook.com/");
        assert_eq!(config.api_version, "v23.0");
    }

    #[test]
    fn api_versions_are_accepted_only_in_meta_form() {
        for good in ["v23.0", "v24.0", "v3.10"] {
            assert!(is_valid_api_version(good), "{good}");
        }
        for bad in ["23.0", "v23", "v23.0.1", "v.0", "vx.0", "", "v23.0/"] {
            assert!(!is_valid_api_version(bad), "{bad}");
        }
        assert_eq!(api_major_version("v24.0"), 24);
    }
}

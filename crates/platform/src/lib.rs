//! What every Herald service shares, so that each service only writes its own logic:
//!
//! - [`config`]: layered configuration (defaults in code, an optional file, `HERALD__…` variables),
//!   validated as a whole before anything binds.
//! - [`telemetry`]: JSON logs through `tracing`, OTLP traces when an endpoint is configured.
//! - [`http`]: the actix-web kit: problem+json errors with stable codes, request ids, request
//!   metrics, body limits, and the `App` every service mounts its routes into.
//! - [`health`]: `/healthz` and `/readyz`.
//! - [`metrics`]: the Prometheus registry and `/metrics`.
//! - [`shutdown`]: one cancellation token, cancelled by SIGTERM/SIGINT, watched by every task.
//! - [`secrets`]: AES-256-GCM with rotatable key ids, and HMAC-SHA256 signatures.
//! - [`auth`]: access-token verification (EdDSA JWTs, JWKS), the `Authenticated` extractor and
//!   role guards.

pub mod auth;
pub mod config;
pub mod health;
pub mod http;
pub mod metrics;
pub mod secrets;
pub mod shutdown;
pub mod telemetry;

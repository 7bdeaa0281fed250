//! Herald's auth service: users, roles, login, refresh tokens and the JWKS (ARCHITECTURE §9).
//!
//! - **Mount it** in another actix app (what `herald serve` does): build an [`AuthService`]
//!   from a [`herald_store::Store`] and the [`AuthSettings`], call
//!   `app.configure(|cfg| auth.configure(cfg))`, and hand [`AuthService::verifier`] to the other
//!   services (it verifies with this service's keys, without HTTP). `configure` also registers
//!   that verifier as app data, so `herald_platform::auth::Authenticated` works in every
//!   service mounted in the same app.
//! - **Run it alone**: [`Application::build`] then [`Application::run_until_stopped`] (the
//!   `herald-auth` binary).
//! - **The first admin**: [`admin::create_user`] for `herald admin create`, and
//!   [`AuthService::ensure_first_admin`] for start-up on an empty store.
//!
//! The routes are one table, [`routes::Endpoint`]; the OpenAPI document is generated from the
//! handlers ([`routes::ApiDoc`]) and served at `/api/v1/auth/openapi.json`.

pub mod admin;
mod app;
pub mod config;
mod keys;
mod password;
pub mod routes;
mod service;
mod throttle;
mod tokens;

use actix_web::web;
use herald_platform::auth::TokenVerifier;
use herald_store::Store;

pub use admin::FirstAdmin;
pub use app::{Application, maintain};
pub use config::{AuthConfig, AuthSettings, PasswordSettings, SecretString, ThrottleSettings};
pub use keys::KeyRing;
pub use password::Password;
pub use service::{AuthState, NewUser, Session, UserChanges};

/// The auth service, ready to be mounted into an actix app. Cheap to clone.
#[derive(Clone)]
pub struct AuthService {
    state: web::Data<AuthState>,
}

impl AuthService {
    /// Loads the signing keys (configured, or the generated key file — created on first use)
    /// and builds the service on `store`, which must be migrated.
    pub fn new(store: Store, settings: AuthSettings) -> anyhow::Result<Self> {
        let keys = KeyRing::load(&settings)?;
        Self::with_keys(store, settings, keys)
    }

    /// Like [`AuthService::new`] with keys given directly (tests).
    pub fn with_keys(store: Store, settings: AuthSettings, keys: KeyRing) -> anyhow::Result<Self> {
        Ok(Self {
            state: web::Data::new(AuthState::new(store, settings, keys)?),
        })
    }

    /// Registers the routes, the service state and the token verifier (as
    /// `web::Data<TokenVerifier>`, for every service in the same app).
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        cfg.app_data(self.state.clone())
            .app_data(web::Data::new(self.verifier()));
        routes::configure(cfg);
    }

    /// Verifies this service's access tokens with its own public keys, in process.
    pub fn verifier(&self) -> TokenVerifier {
        self.state.verifier.clone()
    }

    /// The operations behind the routes.
    pub fn state(&self) -> &AuthState {
        &self.state
    }

    /// On an empty store: creates the admin from `auth.bootstrap_admin_*` when configured, else
    /// reports that one is needed (print [`admin::first_admin_instructions`]). Never logs the
    /// password.
    pub async fn ensure_first_admin(&self) -> anyhow::Result<FirstAdmin> {
        admin::ensure_first_admin(&self.state).await
    }

    /// Deletes refresh tokens that expired more than a day ago; returns how many. Run it now
    /// and then (see [`Application`]'s maintenance loop).
    pub async fn purge_expired_refresh_tokens(&self) -> anyhow::Result<u64> {
        let cutoff = chrono::Utc::now() - chrono::TimeDelta::days(1);
        Ok(self
            .state
            .store
            .refresh_tokens()
            .purge_expired(cutoff)
            .await?)
    }
}

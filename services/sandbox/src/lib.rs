//! A faithful local stand-in for Meta's WhatsApp Cloud API and its webhooks
//! (`shared/reference/whatsapp-cloud-api.md`, ARCHITECTURE §11).
//!
//! - The Graph API: `POST /{version}/{phone-number-id}/messages` with Meta's checks, limits and
//!   error bodies; `GET/POST/DELETE /{version}/{waba-id}/message_templates` with cursor paging;
//!   `GET /{version}/{phone-number-id}`.
//! - Webhooks: signed `sent` → `delivered` → `read` (or `failed` with a real code) statuses,
//!   inbound messages, `user_preferences` and `message_template_status_update`, with
//!   configurable delays, outcomes, duplicates, reordering, batching, and retries with backoff.
//! - An admin API to seed the world, inject events and faults, and read the **ledger** of every
//!   accepted message.
//!
//! Two ways to run it:
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use herald_sandbox::{Application, Sandbox, SandboxConfig};
//! use herald_platform::shutdown::CancellationToken;
//!
//! // Alone, on its own port (the `herald-sandbox` binary does this).
//! let app = Application::build(SandboxConfig::default())?;
//! println!("listening on {}", app.port());
//! app.run_until_stopped(CancellationToken::new()).await?;
//!
//! // Inside another actix application (e.g. `herald serve`).
//! let sandbox = Sandbox::new(SandboxConfig::default())?;
//! let workers = sandbox.run_workers(CancellationToken::new());
//! let routes = sandbox.clone();
//! // HttpServer::new(move || App::new().configure(|cfg| routes.configure(cfg)))…
//! # drop(workers); Ok(()) }
//! ```

pub mod admin;
pub mod config;
pub mod graph;
pub mod ledger;
pub mod limits;
pub mod meta_error;
pub mod metrics;
pub mod recipient;
mod send;
pub mod startup;
pub mod state;
pub mod templates;
pub mod webhooks;

use actix_web::middleware::from_fn;
use actix_web::web;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use config::SandboxConfig;
pub use ledger::{LedgerEntry, LedgerSummary};
pub use startup::Application;
pub use state::{BuildError, SandboxState, SendFault};
pub use webhooks::{DispatchOutcome, Dispatcher, SIGNATURE_HEADER};

/// The sandbox: its state, its routes and its webhook workers. Cheap to clone.
#[derive(Clone)]
pub struct Sandbox {
    state: SandboxState,
}

impl Sandbox {
    /// Builds the world from a configuration that passed `Validate`.
    pub fn new(config: SandboxConfig) -> Result<Self, BuildError> {
        Ok(Self {
            state: SandboxState::new(config)?,
        })
    }

    /// The shared state (world, ledger, outbox).
    pub fn state(&self) -> &SandboxState {
        &self.state
    }

    /// Mounts the Graph API under `routes.graph_prefix` and the admin API under
    /// `routes.admin_prefix`, with the state as `web::Data<SandboxState>`.
    ///
    /// Graph errors are Meta's JSON bodies with 4xx/5xx statuses: an outer middleware that
    /// rewrites error responses (such as `herald_platform::http::app`'s problem+json renderer)
    /// must leave them alone, or the Graph client cannot classify them.
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        let routes = &self.state.config().routes;
        cfg.app_data(web::Data::new(self.state.clone()));
        cfg.service(
            web::scope(&routes.admin_prefix)
                .wrap(from_fn(admin::require_admin_token))
                .configure(admin::routes),
        );
        if routes.graph_prefix.is_empty() {
            graph::routes(cfg);
        } else {
            cfg.service(web::scope(&routes.graph_prefix).configure(graph::routes));
        }
    }

    /// Starts the webhook workers; they stop when `shutdown` is cancelled.
    pub fn run_workers(&self, shutdown: CancellationToken) -> JoinHandle<()> {
        tokio::spawn(self.dispatcher().run(shutdown))
    }

    /// The webhook dispatcher, to drive one step at a time in tests.
    pub fn dispatcher(&self) -> Dispatcher {
        Dispatcher::new(self.state.clone())
    }

    /// Registers the sandbox's metrics into the registry behind `/metrics`.
    pub fn register_metrics(&self, registry: &prometheus::Registry) -> prometheus::Result<()> {
        self.state.inner.metrics.register(registry)
    }

    /// Points webhooks at `url` (or nowhere), e.g. once the receiver's port is known.
    pub fn set_callback_url(&self, url: Option<reqwest::Url>) {
        self.state.set_callback_url(url);
        self.state.wake();
    }
}

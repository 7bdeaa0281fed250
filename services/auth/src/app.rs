//! `herald-auth` on its own: store, service, HTTP server, maintenance loop.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::{HttpServer, web};
use anyhow::Context as _;
use herald_platform::health::Readiness;
use herald_platform::http::{self, HttpKit};
use herald_platform::metrics::Metrics;
use herald_platform::shutdown::{CancellationToken, run_server_until};
use herald_store::Store;

use crate::AuthService;
use crate::admin::{FirstAdmin, first_admin_instructions};
use crate::config::AuthConfig;

/// How often expired refresh tokens are purged.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// A bound, not yet running, auth service.
pub struct Application {
    port: u16,
    server: actix_web::dev::Server,
    service: AuthService,
    shutdown: CancellationToken,
}

impl Application {
    /// Connects and migrates the store, loads the keys, checks for a first admin, binds the
    /// listener (port 0 picks a free one). The configuration arrives validated.
    pub async fn build(config: AuthConfig, shutdown: CancellationToken) -> anyhow::Result<Self> {
        let store = Store::connect(&config.store)
            .await
            .context("cannot open the store")?;
        store.migrate().await.context("cannot migrate the store")?;
        let service = AuthService::new(store.clone(), config.auth.clone())?;
        if service.ensure_first_admin().await? == FirstAdmin::Missing {
            tracing::warn!("{}", first_admin_instructions("herald"));
        }

        let address = format!("{}:{}", config.http.host, config.http.port);
        let listener =
            TcpListener::bind(&address).with_context(|| format!("cannot listen on {address}"))?;
        let port = listener.local_addr()?.port();
        let readiness = Readiness::new(shutdown.clone()).with_check("store", move || {
            let store = store.clone();
            async move { store.ping().await.map_err(|e| e.to_string()) }
        });
        let kit = HttpKit {
            metrics: web::Data::new(Metrics::new(&config.telemetry.service_name)?),
            readiness: web::Data::new(readiness),
            max_body_bytes: config.http.max_body_bytes,
        };
        let mounted = service.clone();
        let mut server = HttpServer::new(move || {
            let mounted = mounted.clone();
            http::app(kit.clone()).configure(move |cfg| mounted.configure(cfg))
        })
        .disable_signals()
        .shutdown_timeout(config.http.shutdown_grace_seconds);
        if let Some(workers) = config.http.workers {
            server = server.workers(workers);
        }
        let server = server.listen(listener)?.run();
        Ok(Self {
            port,
            server,
            service,
            shutdown,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The service, e.g. to reach its state in tests.
    pub fn service(&self) -> &AuthService {
        &self.service
    }

    /// Serves until the shutdown token is cancelled, purging expired refresh tokens hourly.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let maintenance = tokio::spawn(maintain(self.service.clone(), self.shutdown.clone()));
        let outcome = run_server_until(self.server, self.shutdown.clone()).await;
        self.shutdown.cancel();
        let _ = maintenance.await;
        outcome
    }
}

/// Purges expired refresh tokens every [`PURGE_EVERY`] until `shutdown`.
pub async fn maintain(service: AuthService, shutdown: CancellationToken) {
    loop {
        match service.purge_expired_refresh_tokens().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "purged expired refresh tokens"),
            Err(e) => tracing::warn!(error = ?e, "cannot purge expired refresh tokens"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(PURGE_EVERY) => {}
        }
    }
}

//! `herald`: every Herald service in one process, on one port, plus the admin commands.
//!
//! [`Application::build`] validates nothing itself (the configuration arrives validated), binds
//! the listener — so port 0 works in tests and [`Application::port`] tells the real one — and
//! mounts each service's routes into one actix `App` built on the platform kit.
//! [`Application::run_until_stopped`] serves until the shutdown token is cancelled, then drains.

pub mod config;

use std::net::TcpListener;

use actix_web::{HttpServer, web};
use anyhow::Context as _;
use herald_platform::health::Readiness;
use herald_platform::http::{self, HttpKit};
use herald_platform::metrics::Metrics;
use herald_platform::shutdown::{CancellationToken, run_server_until};

pub use config::HeraldConfig;

/// A bound, not yet running, Herald.
pub struct Application {
    port: u16,
    server: actix_web::dev::Server,
    shutdown: CancellationToken,
}

impl Application {
    /// Binds the listener and assembles the services. Nothing is served until
    /// [`Application::run_until_stopped`].
    pub async fn build(config: HeraldConfig, shutdown: CancellationToken) -> anyhow::Result<Self> {
        let address = format!("{}:{}", config.http.host, config.http.port);
        let listener =
            TcpListener::bind(&address).with_context(|| format!("cannot listen on {address}"))?;
        let port = listener.local_addr()?.port();

        let kit = HttpKit {
            metrics: web::Data::new(Metrics::new(&config.telemetry.service_name)?),
            readiness: web::Data::new(Readiness::new(shutdown.clone())),
            max_body_bytes: config.http.max_body_bytes,
        };
        let mut server = HttpServer::new(move || http::app(kit.clone()))
            // The shutdown token is the only stop signal: `main` turns SIGTERM/SIGINT into it.
            .disable_signals()
            .shutdown_timeout(config.http.shutdown_grace_seconds);
        if let Some(workers) = config.http.workers {
            server = server.workers(workers);
        }
        let server = server.listen(listener)?.run();
        Ok(Self {
            port,
            server,
            shutdown,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the shutdown token is cancelled, then lets in-flight requests finish within
    /// the grace period.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        run_server_until(self.server, self.shutdown).await
    }
}

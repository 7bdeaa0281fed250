//! `herald`: every Herald service in one process, on one port, plus the admin commands.
//!
//! [`Application::build`] connects the store (and migrates it: one machine has no separate
//! migration step), builds each service, binds the listener — so port 0 works in tests and
//! [`Application::port`] tells the real one — and mounts each service's routes into one actix
//! `App` built on the platform kit. [`Application::run_until_stopped`] serves until the shutdown
//! token is cancelled, then drains.

pub mod config;

use std::net::TcpListener;

use actix_web::{HttpServer, web};
use anyhow::Context as _;
use herald_auth::{AuthService, FirstAdmin};
use herald_platform::health::Readiness;
use herald_platform::http::{self, HttpKit};
use herald_platform::metrics::Metrics;
use herald_platform::shutdown::{CancellationToken, run_server_until};
use herald_sandbox::Sandbox;
use herald_store::Store;
use tokio::task::JoinHandle;

pub use config::HeraldConfig;

/// A bound, not yet running, Herald.
pub struct Application {
    port: u16,
    server: actix_web::dev::Server,
    workers: Vec<JoinHandle<()>>,
    shutdown: CancellationToken,
    first_admin: FirstAdmin,
}

/// Connects the configured store and brings its schema and indexes up to date (idempotent).
pub async fn open_store(config: &HeraldConfig) -> anyhow::Result<Store> {
    let store = Store::connect(&config.store)
        .await
        .context("cannot open the store")?;
    store.migrate().await.context("cannot migrate the store")?;
    Ok(store)
}

impl Application {
    /// Opens the store, assembles the services and binds the listener. Nothing is served until
    /// [`Application::run_until_stopped`].
    pub async fn build(config: HeraldConfig, shutdown: CancellationToken) -> anyhow::Result<Self> {
        let store = open_store(&config).await?;
        let auth = AuthService::new(store.clone(), config.auth.clone())
            .context("cannot start the auth service")?;
        let first_admin = auth.ensure_first_admin().await?;
        let sandbox = if config.services.sandbox {
            Some(Sandbox::new(config.sandbox.clone()).context("cannot start the sandbox")?)
        } else {
            None
        };

        let metrics = Metrics::new(&config.telemetry.service_name)?;
        if let Some(sandbox) = &sandbox {
            sandbox.register_metrics(metrics.registry())?;
        }
        let readiness = Readiness::new(shutdown.clone()).with_check("store", move || {
            let store = store.clone();
            async move { store.ping().await.map_err(|e| e.to_string()) }
        });
        let kit = HttpKit {
            metrics: web::Data::new(metrics),
            readiness: web::Data::new(readiness),
            max_body_bytes: config.http.max_body_bytes,
        };

        let mut workers = vec![tokio::spawn(herald_auth::maintain(
            auth.clone(),
            shutdown.clone(),
        ))];
        if let Some(sandbox) = &sandbox {
            workers.push(sandbox.run_workers(shutdown.clone()));
        }

        let address = format!("{}:{}", config.http.host, config.http.port);
        let listener =
            TcpListener::bind(&address).with_context(|| format!("cannot listen on {address}"))?;
        let port = listener.local_addr()?.port();
        let mut server = HttpServer::new(move || {
            let auth = auth.clone();
            let sandbox = sandbox.clone();
            http::app(kit.clone())
                .configure(move |cfg| auth.configure(cfg))
                .configure(move |cfg| {
                    if let Some(sandbox) = &sandbox {
                        sandbox.configure(cfg);
                    }
                })
        })
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
            workers,
            shutdown,
            first_admin,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// What the start-up check found about the first admin, for `main` to tell the operator.
    pub fn first_admin(&self) -> &FirstAdmin {
        &self.first_admin
    }

    /// Serves until the shutdown token is cancelled, then lets in-flight requests finish within
    /// the grace period and waits for the background workers to stop.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let outcome = run_server_until(self.server, self.shutdown.clone()).await;
        // The server may also stop by itself (a bind error); the workers must not outlive it.
        self.shutdown.cancel();
        for worker in self.workers {
            if let Err(e) = worker.await {
                tracing::warn!(error = %e, "a background worker ended abnormally");
            }
        }
        outcome
    }
}

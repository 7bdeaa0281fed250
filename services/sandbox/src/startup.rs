//! The standalone application: validate the configuration, bind the listener (port 0 works, and
//! [`Application::port`] tells the real port), serve until the shutdown token is cancelled.
//!
//! It does not use `herald_platform::http::app`: that app rewrites every error response into
//! problem+json, and the Graph routes must answer with Meta's own error bodies. It has the same
//! pieces otherwise: `/healthz`, `/readyz`, `/metrics`, a log line per request, problem+json for
//! the admin API and for unknown routes, body limits.

use std::net::TcpListener;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::error::QueryPayloadError;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use anyhow::Context as _;
use herald_platform::config::{ConfigError, Validate};
use herald_platform::http::{ApiError, ErrorCode, json_config};
use herald_platform::metrics::Metrics;
use herald_platform::shutdown::{CancellationToken, run_server_until};

use crate::{Sandbox, SandboxConfig};

/// The running standalone sandbox.
pub struct Application {
    port: u16,
    server: Server,
    sandbox: Sandbox,
    ready: CancellationToken,
}

impl Application {
    /// Validates `config`, builds the sandbox and binds `http.host:http.port`.
    pub fn build(config: SandboxConfig) -> anyhow::Result<Self> {
        let problems = config.validate();
        if !problems.is_empty() {
            return Err(ConfigError::Invalid(problems).into());
        }
        let sandbox = Sandbox::new(config.clone())?;
        let metrics = web::Data::new(Metrics::new("sandbox")?);
        sandbox.register_metrics(metrics.registry())?;
        let listener = TcpListener::bind((config.http.host.as_str(), config.http.port))
            .with_context(|| format!("binding {}:{}", config.http.host, config.http.port))?;
        let port = listener.local_addr()?.port();
        let ready = CancellationToken::new();
        let max_body = config.http.max_body_bytes;
        let routes = sandbox.clone();
        let not_ready = ready.clone();
        let mut server = HttpServer::new(move || {
            let routes = routes.clone();
            App::new()
                .app_data(metrics.clone())
                .app_data(web::Data::new(not_ready.clone()))
                .app_data(json_config(max_body))
                .app_data(web::PayloadConfig::new(max_body))
                .app_data(web::QueryConfig::default().error_handler(query_error))
                .wrap(from_fn(log_request))
                .service(web::resource("/healthz").get(healthz))
                .service(web::resource("/readyz").get(readyz))
                .service(web::resource("/metrics").get(render_metrics))
                .configure(move |cfg| routes.configure(cfg))
                .default_service(web::to(route_not_found))
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
            sandbox,
            ready,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The sandbox behind the server (to reach its state from a test).
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// Serves and runs the webhook workers until `shutdown` is cancelled, then stops gracefully.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> std::io::Result<()> {
        let workers = self.sandbox.run_workers(shutdown.clone());
        let ready = self.ready.clone();
        let watch = shutdown.clone();
        tokio::spawn(async move {
            watch.cancelled().await;
            ready.cancel();
        });
        let outcome = run_server_until(self.server, shutdown.clone()).await;
        shutdown.cancel();
        let _ = workers.await;
        outcome
    }
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

async fn readyz(stopping: web::Data<CancellationToken>) -> Result<HttpResponse, ApiError> {
    if stopping.is_cancelled() {
        return Err(ApiError::new(
            ErrorCode::ServiceUnavailable,
            "process: shutting down",
        ));
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({"status": "ready"})))
}

async fn render_metrics(metrics: web::Data<Metrics>) -> Result<HttpResponse, ApiError> {
    let body = metrics
        .encode()
        .map_err(|e| ApiError::unexpected(anyhow::Error::new(e)))?;
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        ))
        .body(body))
}

async fn route_not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(
        ErrorCode::RouteNotFound,
        format!("no route for {} {}", req.method(), req.path()),
    ))
}

fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::new(
        ErrorCode::InvalidRequest,
        format!("bad query string: {err}"),
    )
    .into()
}

/// One log line per request (at debug for probes and metrics).
async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().to_string();
    let path = req.path().to_owned();
    let res = next.call(req).await?;
    let status = res.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    if matches!(path.as_str(), "/healthz" | "/readyz" | "/metrics") {
        tracing::debug!(%method, %path, status, latency_ms, "request completed");
    } else {
        tracing::info!(%method, %path, status, latency_ms, "request completed");
    }
    Ok(res)
}

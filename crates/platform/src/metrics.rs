//! Prometheus metrics: one registry per application (not a process-global one, so tests can run
//! several applications side by side), the HTTP request metrics every service has, and the
//! `/metrics` handler. Services register their own collectors in [`Metrics::registry`].

use std::time::Duration;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder};

/// The registry and the HTTP request collectors.
pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
}

impl Metrics {
    /// A fresh registry with the HTTP collectors registered. `service` becomes a constant
    /// `service` label on every series, so one Prometheus can scrape every service apart.
    pub fn new(service: &str) -> prometheus::Result<Self> {
        let labels = std::iter::once(("service".to_owned(), service.to_owned())).collect();
        let registry = Registry::new_custom(Some("herald".to_owned()), Some(labels))?;
        let http_requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered"),
            &["method", "route", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from request received to response ready",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["method", "route"],
        )?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        Ok(Self {
            registry,
            http_requests,
            http_duration,
        })
    }

    /// Where a service registers its own collectors.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub(crate) fn observe_http(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.http_requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.http_duration
            .with_label_values(&[method, route])
            .observe(elapsed.as_secs_f64());
    }

    /// The Prometheus text exposition of everything registered.
    pub fn encode(&self) -> Result<String, prometheus::Error> {
        TextEncoder::new().encode_to_string(&self.registry.gather())
    }
}

pub(crate) async fn render(
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, crate::http::ApiError> {
    let body = metrics
        .encode()
        .map_err(|e| crate::http::ApiError::unexpected(anyhow::Error::new(e)))?;
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        ))
        .body(body))
}

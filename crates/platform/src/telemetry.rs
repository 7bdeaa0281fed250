//! Logs and traces, set up once per process.
//!
//! Log lines are JSON (or pretty for a terminal) through `tracing`. When an OTLP endpoint is
//! configured, spans are also exported over OTLP/HTTP with a batch processor, and the W3C trace
//! context propagator is installed so that trace ids cross HTTP and the bus. The returned
//! [`TelemetryGuard`] flushes pending spans when the process stops.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{LogFormat, TelemetrySettings};

/// Keeps the exporter alive; dropping it (or calling [`TelemetryGuard::shutdown`]) flushes the
/// spans still buffered, so the last requests before a stop are not lost.
#[must_use = "dropping the guard flushes and stops trace export"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// Flushes and stops the exporter. Idempotent.
    pub fn shutdown(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("telemetry: flushing traces at shutdown failed: {e}");
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Installs the global subscriber. Call once, from `main`, before anything logs.
///
/// Returns an error when a subscriber is already installed or the exporter cannot be built;
/// tests that start several applications in one process do not call it.
pub fn init(settings: &TelemetrySettings) -> anyhow::Result<TelemetryGuard> {
    let filter = EnvFilter::builder().parse(&settings.log_level)?;
    let fmt_layer = match settings.log_format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer().boxed(),
    };

    let provider = match &settings.otlp_endpoint {
        Some(endpoint) => Some(otlp_provider(&settings.service_name, endpoint)?),
        None => None,
    };
    let otel_layer = provider.as_ref().map(|p| {
        tracing_opentelemetry::layer().with_tracer(p.tracer(settings.service_name.clone()))
    });

    tracing_subscriber::registry()
        .with(filter)
        .with(fmt_layer)
        .with(otel_layer)
        .try_init()?;
    // The propagator is what lets a trace started by the campaign service continue in the
    // sender, through HTTP headers and bus message headers alike.
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    Ok(TelemetryGuard { provider })
}

fn otlp_provider(service_name: &str, endpoint: &str) -> anyhow::Result<SdkTracerProvider> {
    use opentelemetry_otlp::WithExportConfig as _;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(endpoint)
        .build()?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name(service_name.to_owned())
                .build(),
        )
        .build())
}

//! The request context: every request gets an id, a tracing span that continues the caller's
//! trace, a line in the log and a sample in the request metrics.

use std::time::Instant;

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use opentelemetry::propagation::Extractor;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::metrics::Metrics;

/// The header that carries the request id both ways.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The id of the current request, available to handlers through `req.extensions()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// A gateway in front of Herald may already have named the request; keep its id when it is
/// short and plain, so one id follows the request through every hop. Anything else is replaced
/// rather than echoed, so a client cannot inject text into our logs.
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

struct HeaderExtractor<'a>(&'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

pub(super) async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = request_id(req.headers());
    let span = tracing::info_span!(
        "http_request",
        otel.kind = "server",
        http.method = %req.method(),
        http.route = tracing::field::Empty,
        http.status = tracing::field::Empty,
        request_id = %id,
    );
    let parent = opentelemetry::global::get_text_map_propagator(|p| {
        p.extract(&HeaderExtractor(req.headers()))
    });
    // Fails only when no OpenTelemetry layer is installed, in which case there is nothing to
    // link to.
    let _ = span.set_parent(parent);
    req.extensions_mut().insert(RequestId(id.clone()));
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let started = Instant::now();

    // Handlers and extractors turn their errors into responses before they get here, so an
    // `Err` only comes from a middleware failing; actix renders it. The request is not cloned
    // before the call: the router needs to hold the only reference to it.
    let mut res = next.call(req).instrument(span.clone()).await?;

    let elapsed = started.elapsed();
    let status = res.status();
    // The route pattern, not the path: ids in paths would give every request its own series.
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    span.record("http.route", route.as_str());
    span.record("http.status", status.as_u16());
    if let Some(metrics) = metrics {
        metrics.observe_http(
            res.request().method().as_str(),
            &route,
            status.as_u16(),
            elapsed,
        );
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    let _entered = span.enter();
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    if matches!(route.as_str(), "/healthz" | "/readyz" | "/metrics") {
        tracing::debug!(status = status.as_u16(), latency_ms, "request completed");
    } else {
        tracing::info!(status = status.as_u16(), latency_ms, "request completed");
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            HeaderName::from_static(REQUEST_ID_HEADER),
            HeaderValue::from_str(value).unwrap(),
        );
        h
    }

    #[test]
    fn a_plain_incoming_request_id_is_kept() {
        assert_eq!(request_id(&headers("gw-123_abc.9")), "gw-123_abc.9");
    }

    #[test]
    fn an_incoming_request_id_with_odd_characters_is_replaced() {
        let id = request_id(&headers("x\" injected=1"));
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    }

    #[test]
    fn a_missing_request_id_is_generated() {
        assert!(uuid::Uuid::parse_str(&request_id(&HeaderMap::new())).is_ok());
    }
}

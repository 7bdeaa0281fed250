//! With an OTLP endpoint configured, spans reach it over OTLP/HTTP, and shutting telemetry down
//! flushes what the batch processor still holds. Its own test binary: it installs the
//! process-wide subscriber.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;

use actix_web::{HttpRequest, HttpResponse, HttpServer, web};
use herald_platform::config::{LogFormat, TelemetrySettings};
use herald_platform::telemetry;
use tokio::sync::mpsc;

async fn collect(
    req: HttpRequest,
    body: web::Bytes,
    seen: web::Data<mpsc::UnboundedSender<(String, String, usize)>>,
) -> HttpResponse {
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let _ = seen.send((req.path().to_owned(), content_type, body.len()));
    HttpResponse::Ok().finish()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_are_exported_to_the_configured_endpoint_and_flushed_at_shutdown() {
    let (tx, mut rx) = mpsc::unbounded_channel::<(String, String, usize)>();
    let seen = web::Data::new(tx);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        actix_web::App::new()
            .app_data(seen.clone())
            .default_service(web::to(collect))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    tokio::spawn(server);

    let settings = TelemetrySettings {
        service_name: "telemetry-test".to_owned(),
        log_level: "info".to_owned(),
        log_format: LogFormat::Json,
        otlp_endpoint: Some(format!("http://127.0.0.1:{port}/v1/traces")),
    };
    let mut guard = telemetry::init(&settings).unwrap();
    tracing::info_span!("campaign_run", campaign = "c1").in_scope(|| {
        tracing::info!("inside a span");
    });
    // The exporter's client blocks; flush from a blocking thread so the runtime keeps serving
    // the collector.
    tokio::task::spawn_blocking(move || guard.shutdown())
        .await
        .unwrap();

    let (path, content_type, size) =
        tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
            .await
            .expect("the collector received the flushed spans")
            .unwrap();
    assert_eq!(path, "/v1/traces");
    assert_eq!(content_type, "application/x-protobuf");
    assert!(size > 0);

    let again = telemetry::init(&settings);
    assert!(
        again.is_err(),
        "a second initialisation is an error, not a panic"
    );
    handle.stop(false).await;
}

//! The HTTP kit over a real socket: every error is problem+json, every response has a request id,
//! metrics count requests, readiness follows its checks and the shutdown token, and a stop lets
//! in-flight requests finish.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::time::Duration;

use actix_web::{HttpResponse, HttpServer, web};
use herald_platform::health::Readiness;
use herald_platform::http::{self, ApiError, HttpKit, PROBLEM_JSON};
use herald_platform::metrics::Metrics;
use herald_platform::shutdown::{CancellationToken, run_server_until};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::oneshot;

#[derive(Deserialize)]
struct Greeting {
    #[allow(dead_code)]
    name: String,
}

async fn greet(body: web::Json<Greeting>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"hello": body.name}))
}

/// An error body a handler writes on purpose, as the sandbox does when it plays Meta.
async fn meta_style_error() -> HttpResponse {
    HttpResponse::BadRequest().json(serde_json::json!({"error": {"code": 131_056}}))
}

async fn boom() -> Result<HttpResponse, ApiError> {
    Err(ApiError::unexpected(anyhow::anyhow!("db password=hunter2")))
}

type Gate = tokio::sync::Mutex<Option<(oneshot::Sender<()>, oneshot::Receiver<()>)>>;

/// Tells the test it has started, then waits for the test to release it.
async fn slow(gate: web::Data<Gate>) -> HttpResponse {
    let gate = gate.lock().await.take();
    if let Some((started, release)) = gate {
        let _ = started.send(());
        let _ = release.await;
    }
    HttpResponse::Ok().body("finished")
}

struct TestApp {
    base: String,
    client: reqwest::Client,
    shutdown: CancellationToken,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    started: Option<oneshot::Receiver<()>>,
    release: Option<oneshot::Sender<()>>,
    ready_flag: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

async fn spawn_app() -> TestApp {
    let shutdown = CancellationToken::new();
    let ready_flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let flag = ready_flag.clone();
    let readiness = Readiness::new(shutdown.clone()).with_check("store", move || {
        let ok = flag.load(std::sync::atomic::Ordering::SeqCst);
        async move {
            if ok {
                Ok(())
            } else {
                Err("connection refused".to_owned())
            }
        }
    });
    let kit = HttpKit {
        metrics: web::Data::new(Metrics::new("test").unwrap()),
        readiness: web::Data::new(readiness),
        max_body_bytes: 2048,
    };
    let (started_tx, started_rx) = oneshot::channel();
    let (release_tx, release_rx) = oneshot::channel();
    let release: web::Data<Gate> =
        web::Data::new(tokio::sync::Mutex::new(Some((started_tx, release_rx))));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        http::app(kit.clone())
            .app_data(release.clone())
            .service(web::resource("/greet").post(greet))
            .service(web::resource("/boom").get(boom))
            .service(web::resource("/meta").get(meta_style_error))
            .service(web::resource("/slow").get(slow))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(5)
    .listen(listener)
    .unwrap()
    .run();
    let server = tokio::spawn(run_server_until(server, shutdown.clone()));
    TestApp {
        base: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::new(),
        shutdown,
        server,
        started: Some(started_rx),
        release: Some(release_tx),
        ready_flag,
    }
}

async fn problem(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status().as_u16(), status);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap(),
        PROBLEM_JSON
    );
    assert!(response.headers().contains_key("x-request-id"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert_eq!(body["code"], code);
    assert_eq!(body["type"], format!("urn:herald:problem:{code}"));
    assert!(body["title"].is_string());
    body
}

#[tokio::test]
async fn healthz_answers_ok_with_a_request_id() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    assert_eq!(response.json::<Value>().await.unwrap()["status"], "ok");
}

#[tokio::test]
async fn an_incoming_request_id_is_echoed() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/healthz", app.base))
        .header("x-request-id", "gateway-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "gateway-42");
}

#[tokio::test]
async fn an_unknown_route_is_a_404_problem() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/nope", app.base))
        .send()
        .await
        .unwrap();
    let body = problem(response, 404, "route_not_found").await;
    assert!(body["detail"].as_str().unwrap().contains("/nope"));
}

#[tokio::test]
async fn a_wrong_method_is_a_405_problem() {
    let app = spawn_app().await;
    let response = app
        .client
        .delete(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    problem(response, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn broken_json_is_a_400_problem() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/greet", app.base))
        .header("content-type", "application/json")
        .body("{\"name\":")
        .send()
        .await
        .unwrap();
    problem(response, 400, "malformed_body").await;
}

#[tokio::test]
async fn json_with_a_missing_field_is_a_422_problem_naming_the_field() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/greet", app.base))
        .json(&serde_json::json!({"nom": "Ana"}))
        .send()
        .await
        .unwrap();
    let body = problem(response, 422, "validation_failed").await;
    assert!(body["detail"].as_str().unwrap().contains("name"));
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_415_problem() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/greet", app.base))
        .header("content-type", "text/plain")
        .body("name=Ana")
        .send()
        .await
        .unwrap();
    problem(response, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn an_oversized_body_is_a_413_problem() {
    let app = spawn_app().await;
    let big = serde_json::json!({"name": "x".repeat(10_000)});
    let response = app
        .client
        .post(format!("{}/greet", app.base))
        .json(&big)
        .send()
        .await
        .unwrap();
    problem(response, 413, "payload_too_large").await;
}

#[tokio::test]
async fn an_unexpected_error_is_a_500_problem_that_hides_its_cause() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/boom", app.base))
        .send()
        .await
        .unwrap();
    let body = problem(response, 500, "internal_error").await;
    assert!(!body.to_string().contains("hunter2"));
}

#[tokio::test]
async fn an_error_body_a_handler_wrote_on_purpose_is_left_alone() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/meta", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], 131_056);
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern_and_status() {
    let app = spawn_app().await;
    for _ in 0..3 {
        app.client
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .unwrap();
    }
    app.client
        .get(format!("{}/missing/123", app.base))
        .send()
        .await
        .unwrap();
    let response = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = response.text().await.unwrap();
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("herald_http_requests_total{")
                && l.contains("route=\"/healthz\"")
                && l.contains("status=\"200\"")
        })
        .unwrap_or_else(|| panic!("no healthz counter in:\n{text}"));
    assert!(line.ends_with(" 3"), "{line}");
    assert!(
        text.contains("route=\"unmatched\""),
        "unknown paths share one series"
    );
    assert!(!text.contains("/missing/123"));
    assert!(text.contains("herald_http_request_duration_seconds_bucket"));
}

#[tokio::test]
async fn readyz_reports_a_failing_dependency_by_name() {
    let app = spawn_app().await;
    let ok = app
        .client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    app.ready_flag
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let response = app
        .client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    let body = problem(response, 503, "service_unavailable").await;
    assert_eq!(body["errors"][0]["field"], "store");
}

#[tokio::test]
async fn readyz_is_503_once_shutdown_has_begun() {
    let app = spawn_app().await;
    let readiness = Readiness::new(app.shutdown.clone());
    assert!(readiness.failures().await.is_empty());
    app.shutdown.cancel();
    let failures = readiness.failures().await;
    assert_eq!(failures[0].message, "shutting down");
}

#[tokio::test]
async fn a_stop_lets_the_in_flight_request_finish_then_the_server_exits() {
    let mut app = spawn_app().await;
    let client = app.client.clone();
    let url = format!("{}/slow", app.base);
    let in_flight = tokio::spawn(async move { client.get(url).send().await });
    app.started.take().unwrap().await.unwrap();
    app.shutdown.cancel();
    app.release.take().unwrap().send(()).unwrap();
    let response = in_flight.await.unwrap().unwrap();
    assert_eq!(response.text().await.unwrap(), "finished");
    tokio::time::timeout(Duration::from_secs(10), app.server)
        .await
        .expect("server stopped within the grace period")
        .unwrap()
        .unwrap();
}

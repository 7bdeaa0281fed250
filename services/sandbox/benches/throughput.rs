//! Sustained throughput of the sandbox on this machine, with Meta's limits lifted:
//!
//! 1. accepted sends per second, several concurrent Graph clients, no webhooks;
//! 2. the same with every message's `sent`, `delivered` and `read` posted (one status per POST,
//!    signed) to a local receiver: sends per second and webhook POSTs per second until the
//!    outbox has drained.
//!
//! Client, sandbox and receiver share the process (and the machine's cores), so the figures are a
//! floor. `cargo bench -p herald-sandbox --bench throughput`; `BENCH_SECONDS` (default 5) bounds
//! each phase, `BENCH_CLIENTS` (default 32) sets the concurrency.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::{HttpRequest, HttpResponse, HttpServer, web};
use herald_graph::{
    AccessToken, Component, GraphClient, GraphConfig, Parameter, TemplateMessage, Url,
};
use herald_platform::shutdown::{CancellationToken, run_server_until};
use herald_sandbox::config::{
    DEFAULT_ACCESS_TOKEN, DEFAULT_APP_SECRET, DEFAULT_PHONE_NUMBER_ID, DEFAULT_WABA_ID,
    SeedTemplate,
};
use herald_sandbox::{Application, SandboxConfig};
use serde_json::json;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn receive(count: web::Data<AtomicU64>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let signature = req
        .headers()
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if herald_platform::secrets::verify_sha256(DEFAULT_APP_SECRET.as_bytes(), &body, signature)
        .is_err()
    {
        return HttpResponse::Unauthorized().finish();
    }
    count.fetch_add(1, Ordering::Relaxed);
    HttpResponse::Ok().finish()
}

fn start_receiver(stop: CancellationToken) -> (String, Arc<AtomicU64>) {
    let count = Arc::new(AtomicU64::new(0));
    let data = web::Data::from(count.clone());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        actix_web::App::new()
            .app_data(data.clone())
            .service(web::resource("/webhooks/whatsapp").post(receive))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(run_server_until(server, stop));
    (format!("http://127.0.0.1:{port}/webhooks/whatsapp"), count)
}

fn config(callback: Option<String>) -> SandboxConfig {
    let mut config = SandboxConfig::default();
    config.http.port = 0;
    config.http.workers = Some(2);
    config.limits.enforce_throughput = false;
    config.limits.pair_rate.enabled = false;
    config.webhooks.callback_url = callback;
    config.webhooks.delays.sent_ms = 0;
    config.webhooks.delays.delivered_ms = 0;
    config.webhooks.delays.read_ms = 0;
    config.webhooks.outcomes.read = 1.0;
    config.webhooks.outcomes.delivered = 0.0;
    config.webhooks.concurrency = 64;
    config.webhooks.keep_finished = 1_000;
    config.recipients.invalid_numbers_undeliverable = false;
    config.random_seed = Some(1);
    config.seed.templates = vec![SeedTemplate {
        waba_id: DEFAULT_WABA_ID.into(),
        id: None,
        name: "order_update".into(),
        language: "en_US".into(),
        category: "UTILITY".into(),
        status: "APPROVED".into(),
        parameter_format: None,
        components: json!([{"type":"BODY","text":"Order {{1}} ships {{2}}."}]),
    }];
    config
}

/// Sends from `clients` tasks for `seconds`; returns (accepted, elapsed).
async fn send_for(base: &str, clients: u64, seconds: u64) -> (u64, Duration) {
    let graph = GraphClient::new(GraphConfig {
        pool_max_idle_per_host: clients as usize,
        ..GraphConfig::with_base_url(Url::parse(base).unwrap())
    })
    .unwrap();
    let token = AccessToken::new(DEFAULT_ACCESS_TOKEN);
    let accepted = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let (graph, token, accepted) = (graph.clone(), token.clone(), accepted.clone());
            tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    n += 1;
                    let to = format!("+4915{:02}{:07}", client % 100, n % 10_000_000);
                    let message = TemplateMessage::new(to, "order_update", "en_US")
                        .with_callback_data(format!("{client}:{n}"))
                        .with_components(vec![Component::body(vec![
                            Parameter::text("A-17"),
                            Parameter::text("today"),
                        ])]);
                    if graph
                        .send_template(DEFAULT_PHONE_NUMBER_ID, &token, &message)
                        .await
                        .is_ok()
                    {
                        accepted.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    (accepted.load(Ordering::Relaxed), started.elapsed())
}

#[tokio::main]
async fn main() {
    let seconds = env_number("BENCH_SECONDS", 5);
    let clients = env_number("BENCH_CLIENTS", 32);
    let stop = CancellationToken::new();
    println!("herald-sandbox throughput ({clients} clients, {seconds} s per phase, limits lifted)");

    // 1. Sends only.
    let app = Application::build(config(None)).unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped(stop.clone()));
    let (accepted, elapsed) = send_for(&base, clients, seconds).await;
    println!(
        "sends, no webhooks:     {accepted} accepted in {:.1} s = {:.0} sends/s",
        elapsed.as_secs_f64(),
        accepted as f64 / elapsed.as_secs_f64()
    );

    // 2. Sends with three signed status webhooks each.
    let (callback, received) = start_receiver(stop.clone());
    let app = Application::build(config(Some(callback))).unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let sandbox = app.sandbox().clone();
    tokio::spawn(app.run_until_stopped(stop.clone()));
    let started = Instant::now();
    let (accepted, elapsed) = send_for(&base, clients, seconds).await;
    println!(
        "sends, with webhooks:   {accepted} accepted in {:.1} s = {:.0} sends/s",
        elapsed.as_secs_f64(),
        accepted as f64 / elapsed.as_secs_f64()
    );
    let expected = accepted * 3;
    let drain_deadline = Instant::now() + Duration::from_secs(120);
    while received.load(Ordering::Relaxed) < expected && Instant::now() < drain_deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let posts = received.load(Ordering::Relaxed);
    let total = started.elapsed();
    let stats = sandbox.state().config().webhooks.concurrency;
    println!(
        "webhook POSTs:          {posts} of {expected} received in {:.1} s = {:.0} posts/s ({stats} in flight)",
        total.as_secs_f64(),
        posts as f64 / total.as_secs_f64()
    );
    stop.cancel();
}

//! `herald serve` as a newcomer and Kubernetes meet it: over a real socket, and as a real process
//! that answers SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use herald::{Application, HeraldConfig};
use herald_platform::shutdown::CancellationToken;
use serde_json::Value;

struct TestApp {
    base: String,
    shutdown: CancellationToken,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn spawn_app() -> TestApp {
    let mut config = HeraldConfig::default();
    config.http.port = 0;
    config.http.workers = Some(1);
    let shutdown = CancellationToken::new();
    let app = Application::build(config, shutdown.clone()).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let server = tokio::spawn(app.run_until_stopped());
    TestApp {
        base,
        shutdown,
        server,
    }
}

#[tokio::test]
async fn serve_answers_healthz_metrics_and_unknown_paths() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();

    let health = client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    let ready = client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);

    let metrics = client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains("# TYPE herald_http_requests_total counter"),
        "{text}"
    );

    let missing = client
        .get(format!("{}/no/such/path", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["code"], "route_not_found");

    app.shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(15), app.server)
        .await
        .expect("stopped within the grace period")
        .unwrap()
        .unwrap();
}

#[test]
fn help_lists_the_commands() {
    let output = Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    for command in ["serve", "check-config"] {
        assert!(text.contains(command), "{command} missing from:\n{text}");
    }
}

#[test]
fn a_bad_configuration_value_is_refused_naming_its_key() {
    let output = Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("check-config")
        .env("HERALD__HTTP__PORT", "eighty")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = String::from_utf8(output.stderr).unwrap();
    assert!(text.contains("http.port"), "{text}");
}

#[test]
fn the_process_prints_its_address_and_stops_cleanly_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("serve")
        .env("HERALD__HTTP__PORT", "0")
        .env("HERALD__TELEMETRY__LOG_LEVEL", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let banner = lines.next().unwrap().unwrap();
    let url = banner
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {banner:?}"))
        .to_owned();

    let status = get_status(&format!("{url}/healthz"));
    assert_eq!(status, 200);

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "herald exited with {exit:?} after SIGTERM");
}

/// A GET from a synchronous test: the child process is driven with std's blocking API.
fn get_status(url: &str) -> u16 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async { reqwest::get(url).await.unwrap().status().as_u16() })
}

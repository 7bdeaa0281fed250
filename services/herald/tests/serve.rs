//! `herald` as a newcomer and Kubernetes meet it: the application over a real socket, and the
//! binary as a real process (commands, configuration errors, SIGTERM).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use herald::{Application, HeraldConfig};
use herald_auth::FirstAdmin;
use herald_platform::shutdown::CancellationToken;
use serde_json::{Value, json};

/// Keeps every file of one Herald (database, signing key) in a temporary folder.
fn config_in(dir: &Path) -> HeraldConfig {
    let mut config = HeraldConfig::default();
    config.http.port = 0;
    config.http.workers = Some(1);
    config.store.sqlite.path = dir.join("herald.db");
    config.auth.generated_key_file = dir.join("auth-signing-key.json");
    config
}

/// The same, for the binary: environment variables.
fn herald_in(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_herald"));
    command
        .env("HERALD__STORE__SQLITE__PATH", dir.join("herald.db"))
        .env(
            "HERALD__AUTH__GENERATED_KEY_FILE",
            dir.join("auth-signing-key.json"),
        )
        .env("HERALD__TELEMETRY__LOG_LEVEL", "warn");
    command
}

struct TestApp {
    base: String,
    client: reqwest::Client,
    first_admin: FirstAdmin,
    shutdown: CancellationToken,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn spawn_app(config: HeraldConfig) -> TestApp {
    let shutdown = CancellationToken::new();
    let app = Application::build(config, shutdown.clone()).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let first_admin = app.first_admin().clone();
    let server = tokio::spawn(app.run_until_stopped());
    TestApp {
        base,
        client: reqwest::Client::new(),
        first_admin,
        shutdown,
        server,
    }
}

impl TestApp {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(15), self.server)
            .await
            .expect("stopped within the grace period")
            .unwrap()
            .unwrap();
    }
}

#[tokio::test]
async fn serve_answers_healthz_readyz_metrics_and_unknown_paths() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app(config_in(dir.path())).await;

    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(
        app.get("/readyz").await.status(),
        200,
        "the store is reachable"
    );

    let metrics = app.get("/metrics").await;
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains("# TYPE herald_http_requests_total counter"),
        "{text}"
    );

    let missing = app.get("/no/such/path").await;
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["code"], "route_not_found");

    app.stop().await;
}

#[tokio::test]
async fn an_empty_store_reports_the_first_admin_missing_and_bootstrap_variables_create_one() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app(config_in(dir.path())).await;
    assert_eq!(app.first_admin, FirstAdmin::Missing);
    app.stop().await;

    let mut config = config_in(dir.path());
    config.auth.bootstrap_admin_email = Some("Boss@Example.com".to_owned());
    config.auth.bootstrap_admin_password =
        Some(herald_auth::SecretString::new("a-long-enough-password"));
    let app = spawn_app(config).await;
    assert!(
        matches!(app.first_admin, FirstAdmin::Created(ref e) if e.as_ref() == "boss@example.com")
    );
    let login = app
        .client
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"email": "boss@example.com", "password": "a-long-enough-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn the_sandbox_is_mounted_and_answers_like_meta() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app(config_in(dir.path())).await;
    let send = |token: &'static str| {
        app.client
            .post(format!(
                "{}/sandbox/graph/v23.0/1065403522/messages",
                app.base
            ))
            .bearer_auth(token)
            .json(
                &json!({"messaging_product": "whatsapp", "to": "+4915112345678",
                "type": "template",
                "template": {"name": "hello_world", "language": {"code": "en_US"}}}),
            )
            .send()
    };

    let accepted = send("sandbox-token").await.unwrap();
    assert_eq!(accepted.status(), 200);
    let body: Value = accepted.json().await.unwrap();
    assert!(
        body["messages"][0]["id"]
            .as_str()
            .unwrap()
            .starts_with("wamid.")
    );

    let refused = send("wrong-token").await.unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.headers()["content-type"], "application/json");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(
        body["error"]["code"], 190,
        "Meta's error shape, not problem+json"
    );

    let ledger = app.get("/sandbox/admin/ledger/summary").await;
    assert_eq!(ledger.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn without_the_sandbox_its_paths_are_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config_in(dir.path());
    config.services.sandbox = false;
    let app = spawn_app(config).await;
    assert_eq!(app.get("/sandbox/admin/ledger/summary").await.status(), 404);
    app.stop().await;
}

#[test]
fn help_lists_the_commands() {
    let output = Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    for command in ["serve", "migrate", "check-config", "admin"] {
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
fn migrate_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let output = herald_in(dir.path()).arg("migrate").output().unwrap();
        assert!(output.status.success(), "{output:?}");
        assert!(
            String::from_utf8(output.stdout)
                .unwrap()
                .contains("up to date")
        );
    }
    assert!(dir.path().join("herald.db").exists());
}

fn admin_create(dir: &Path, email: &str, password: &str) -> std::process::Output {
    let mut child = herald_in(dir)
        .args(["admin", "create", "--email", email, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn admin_create_makes_a_user_who_can_log_in_and_never_echoes_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let password = "correct-horse-battery-staple";
    let output = admin_create(dir.path(), "admin@example.com", password);
    assert!(output.status.success(), "{output:?}");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(printed.contains("admin@example.com"));
    assert!(!printed.contains(password));

    let again = admin_create(dir.path(), "ADMIN@example.com", password);
    assert_eq!(again.status.code(), Some(2), "a duplicate email is refused");

    let app = spawn_app(config_in(dir.path())).await;
    assert_eq!(app.first_admin, FirstAdmin::UsersExist);
    let login: Value = app
        .client
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"email": "admin@example.com", "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"]
        .as_str()
        .or_else(|| login["accessToken"].as_str())
        .unwrap_or_else(|| panic!("no access token in {login}"));
    let me = app
        .client
        .get(format!("{}/api/v1/auth/me", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["role"], "admin");
    app.stop().await;
}

#[test]
fn admin_create_refuses_a_bad_email_without_touching_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let output = admin_create(dir.path(), "not-an-email", "correct-horse-battery-staple");
    assert_eq!(output.status.code(), Some(2));
    assert!(!dir.path().join("herald.db").exists());
}

#[test]
fn the_process_prints_its_address_and_how_to_log_in_then_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = herald_in(dir.path())
        .arg("serve")
        .env("HERALD__HTTP__PORT", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // Log lines (JSON) share stdout with the plain lines meant for the person at the terminal.
    let mut plain = BufReader::new(stdout)
        .lines()
        .map(Result::unwrap)
        .filter(|line| !line.starts_with('{'));
    let banner = plain.next().unwrap();
    let url = banner
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {banner:?}"))
        .to_owned();
    let next = plain.next().unwrap();
    assert!(next.contains("No user exists yet"), "{next}");

    assert_eq!(get_status(&format!("{url}/healthz")), 200);

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

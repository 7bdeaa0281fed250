//! Test helpers: the sandbox on a random port with webhooks pointed at a receiver in the test,
//! and that receiver (a tiny actix server on port 0) which checks every signature with
//! `herald_platform::secrets::verify_sha256` and hands each POST to the test through a channel.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, HttpServer, web};
use herald_graph::{AccessToken, GraphClient, GraphConfig, Url};
use herald_platform::shutdown::CancellationToken;
use herald_sandbox::config::{RecipientRule, SeedPhoneNumber, SeedTemplate};
use herald_sandbox::{Application, Sandbox, SandboxConfig};
use serde_json::{Value, json};
use tokio::sync::mpsc;

pub const TOKEN: &str = "test-token";
pub const SECRET: &str = "test-app-secret";
pub const PHONE_NUMBER_ID: &str = "1000001";
pub const WABA_ID: &str = "2000001";
pub const DISPLAY: &str = "+49 30 1234567";
/// How long a test waits for something that should happen at once before it fails.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A valid German mobile number, different for each `n`.
pub fn recipient(n: u32) -> String {
    format!("+49151{:08}", n)
}

pub fn wa_id(n: u32) -> String {
    recipient(n).trim_start_matches('+').to_owned()
}

/// The templates every test sandbox has.
pub fn test_templates() -> Vec<SeedTemplate> {
    let template =
        |name: &str, category: &str, format: Option<&str>, components: Value| SeedTemplate {
            waba_id: WABA_ID.into(),
            id: None,
            name: name.into(),
            language: "en_US".into(),
            category: category.into(),
            status: "APPROVED".into(),
            parameter_format: format.map(str::to_owned),
            components,
        };
    vec![
        template(
            "order_update",
            "UTILITY",
            None,
            json!([
                {"type":"HEADER","format":"TEXT","text":"Hi {{1}}"},
                {"type":"BODY","text":"Order {{1}} ships {{2}}."},
                {"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"Stop promotions"},
                    {"type":"URL","text":"Track","url":"https://ex.com/t/{{1}}"}]}
            ]),
        ),
        template(
            "spring_sale",
            "MARKETING",
            None,
            json!([{"type":"BODY","text":"Hi {{1}}, our sale is on!"},
                   {"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"Stop promotions"}]}]),
        ),
        template(
            "welcome_named",
            "UTILITY",
            Some("NAMED"),
            json!([{"type":"BODY","text":"Welcome {{first_name}}!"}]),
        ),
    ]
}

/// The configuration of a test sandbox: port 0, no delays, every message read, one webhook
/// worker (so that order is observable), fast retries, a fixed random seed.
pub fn test_config() -> SandboxConfig {
    let mut config = SandboxConfig::default();
    config.http.port = 0;
    config.http.workers = Some(1);
    config.access_tokens = vec![TOKEN.into()];
    config.webhooks.app_secret = SECRET.into();
    config.webhooks.delays.sent_ms = 0;
    config.webhooks.delays.delivered_ms = 0;
    config.webhooks.delays.read_ms = 0;
    config.webhooks.outcomes.read = 1.0;
    config.webhooks.outcomes.delivered = 0.0;
    config.webhooks.concurrency = 1;
    config.webhooks.retry.min_delay_ms = 10;
    config.webhooks.retry.max_delay_ms = 50;
    config.webhooks.timeout_ms = 2_000;
    config.template_review.review_delay_ms = 0;
    config.random_seed = Some(42);
    config.seed.phone_numbers = vec![SeedPhoneNumber {
        id: PHONE_NUMBER_ID.into(),
        waba_id: WABA_ID.into(),
        display_phone_number: DISPLAY.into(),
        verified_name: "Herald Test".into(),
        quality_rating: "GREEN".into(),
        messages_per_second: None,
        messaging_limit: "TIER_2K".into(),
    }];
    config.seed.templates = test_templates();
    config.recipients.rules = vec![RecipientRule {
        pattern: "*0000".into(),
        behaviour: herald_sandbox::config::RecipientBehaviour::Undeliverable,
    }];
    config
}

/// One POST the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub body: Value,
    pub raw: Vec<u8>,
    pub signature: Option<String>,
    pub signature_valid: bool,
    /// The status the receiver answered.
    pub answered: u16,
}

impl Received {
    /// Every status in the body.
    pub fn statuses(&self) -> Vec<Value> {
        changes(&self.body)
            .filter_map(|(_, value)| value["statuses"].as_array().cloned())
            .flatten()
            .collect()
    }

    /// The `field` of the (first) change.
    pub fn field(&self) -> String {
        changes(&self.body)
            .next()
            .map(|(field, _)| field)
            .unwrap_or_default()
    }

    /// The `value` of the (first) change.
    pub fn value(&self) -> Value {
        changes(&self.body)
            .next()
            .map(|(_, value)| value)
            .unwrap_or(Value::Null)
    }
}

fn changes(body: &Value) -> impl Iterator<Item = (String, Value)> + '_ {
    body["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|entry| entry["changes"].as_array().into_iter().flatten())
        .map(|change| {
            (
                change["field"].as_str().unwrap_or_default().to_owned(),
                change["value"].clone(),
            )
        })
}

struct ReceiverState {
    tx: mpsc::UnboundedSender<Received>,
    /// Statuses to answer, in order; 200 once empty.
    script: Mutex<VecDeque<u16>>,
    verify_token: String,
}

/// A webhook endpoint in the test.
pub struct Receiver {
    pub url: String,
    rx: mpsc::UnboundedReceiver<Received>,
    state: Arc<ReceiverState>,
    stop: CancellationToken,
}

async fn receive(
    state: web::Data<ReceiverState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let signature = req
        .headers()
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let signature_valid =
        herald_platform::secrets::verify_sha256(SECRET.as_bytes(), &body, signature.as_deref())
            .is_ok();
    let answered = state.script.lock().unwrap().pop_front().unwrap_or(200);
    let _ = state.tx.send(Received {
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        raw: body.to_vec(),
        signature,
        signature_valid,
        answered,
    });
    HttpResponse::build(actix_web::http::StatusCode::from_u16(answered).unwrap()).finish()
}

#[derive(serde::Deserialize)]
struct Handshake {
    #[serde(rename = "hub.mode")]
    mode: String,
    #[serde(rename = "hub.challenge")]
    challenge: String,
    #[serde(rename = "hub.verify_token")]
    verify_token: String,
}

async fn handshake(state: web::Data<ReceiverState>, query: web::Query<Handshake>) -> HttpResponse {
    if query.mode == "subscribe" && query.verify_token == state.verify_token {
        HttpResponse::Ok().body(query.challenge.clone())
    } else {
        HttpResponse::Unauthorized().finish()
    }
}

impl Receiver {
    pub fn start(verify_token: &str) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let state = Arc::new(ReceiverState {
            tx,
            script: Mutex::new(VecDeque::new()),
            verify_token: verify_token.to_owned(),
        });
        let data = web::Data::from(state.clone());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            actix_web::App::new().app_data(data.clone()).service(
                web::resource("/webhooks/whatsapp")
                    .post(receive)
                    .get(handshake),
            )
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener)
        .unwrap()
        .run();
        let stop = CancellationToken::new();
        tokio::spawn(herald_platform::shutdown::run_server_until(
            server,
            stop.clone(),
        ));
        Self {
            url: format!("http://127.0.0.1:{port}/webhooks/whatsapp"),
            rx,
            state,
            stop,
        }
    }

    /// The next answers the receiver gives (then 200).
    pub fn answer_with(&self, statuses: &[u16]) {
        self.state.script.lock().unwrap().extend(statuses);
    }

    /// The next POST, or a failed test after [`PATIENCE`].
    pub async fn next(&mut self) -> Received {
        tokio::time::timeout(PATIENCE, self.rx.recv())
            .await
            .expect("no webhook arrived in time")
            .expect("the receiver stopped")
    }

    /// The next POST the receiver answered 200.
    pub async fn next_accepted(&mut self) -> Received {
        loop {
            let received = self.next().await;
            if received.answered == 200 {
                return received;
            }
        }
    }

    /// The next `n` statuses, across however many POSTs carry them.
    pub async fn statuses(&mut self, n: usize) -> Vec<Value> {
        let mut statuses = Vec::new();
        while statuses.len() < n {
            let received = self.next_accepted().await;
            assert!(
                received.signature_valid,
                "bad signature on {}",
                received.body
            );
            statuses.extend(received.statuses());
        }
        statuses
    }

    /// The next POST of a given field.
    pub async fn next_of(&mut self, field: &str) -> Received {
        loop {
            let received = self.next_accepted().await;
            if received.field() == field {
                return received;
            }
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// The sandbox under test.
pub struct TestSandbox {
    pub base: String,
    pub admin: String,
    pub http: reqwest::Client,
    pub graph: GraphClient,
    pub token: AccessToken,
    pub sandbox: Sandbox,
    pub receiver: Receiver,
    stop: CancellationToken,
}

impl TestSandbox {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut SandboxConfig)) -> Self {
        let receiver = Receiver::start("sandbox-verify-token");
        let mut config = test_config();
        config.webhooks.callback_url = Some(receiver.url.clone());
        adjust(&mut config);
        let app = Application::build(config).expect("the test configuration is valid");
        let port = app.port();
        let sandbox = app.sandbox().clone();
        let stop = CancellationToken::new();
        tokio::spawn(app.run_until_stopped(stop.clone()));
        let base = format!("http://127.0.0.1:{port}");
        let graph =
            GraphClient::new(GraphConfig::with_base_url(Url::parse(&base).unwrap())).unwrap();
        Self {
            admin: format!("{base}/sandbox/admin"),
            base,
            http: reqwest::Client::new(),
            graph,
            token: AccessToken::new(TOKEN),
            sandbox,
            receiver,
            stop,
        }
    }

    /// A client with a short timeout, for the timeout fault.
    pub fn impatient_graph(&self, timeout: Duration) -> GraphClient {
        GraphClient::new(GraphConfig {
            timeout,
            ..GraphConfig::with_base_url(Url::parse(&self.base).unwrap())
        })
        .unwrap()
    }

    pub async fn admin_get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.admin))
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    pub async fn admin_send(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let response = self
            .http
            .request(method.clone(), format!("{}{path}", self.admin))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    pub async fn admin_post(&self, path: &str, body: Value) -> Value {
        self.admin_send(reqwest::Method::POST, path, body).await
    }

    /// Raw `POST /v23.0/{pnid}/messages`: status and body.
    pub async fn post_message(
        &self,
        token: Option<&str>,
        phone_number_id: &str,
        body: &Value,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .post(format!("{}/v23.0/{phone_number_id}/messages", self.base))
            .json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    /// The ledger entries of one recipient.
    pub async fn ledger_for(&self, recipient: &str) -> Vec<Value> {
        let encoded: String = recipient.replace('+', "%2B");
        self.admin_get(&format!("/ledger?recipient={encoded}"))
            .await["data"]
            .as_array()
            .unwrap()
            .clone()
    }

    /// Every webhook delivery the sandbox recorded.
    /// The delivery records once none is in flight. The receiver sees a POST before the
    /// dispatcher has read its answer and recorded it, so a record read straight after the
    /// receiver's event may still be `in_flight`; wait for the record itself to settle.
    pub async fn deliveries(&self) -> Value {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let deliveries = self.admin_get("/webhooks/deliveries").await;
            let in_flight = deliveries["data"]
                .as_array()
                .is_some_and(|d| d.iter().any(|r| r["state"] == "in_flight"));
            if !in_flight || tokio::time::Instant::now() > deadline {
                return deliveries;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
}

impl Drop for TestSandbox {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// `shared/reference`, beside the repository.
pub fn reference_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference")
}

/// A webhook sample as JSON.
pub fn webhook_sample(name: &str) -> Value {
    let path = reference_dir().join("webhook-samples").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Keys of `sample` missing from `actual`, recursively (arrays compared on their first item).
pub fn missing_keys(sample: &Value, actual: &Value, path: &str) -> Vec<String> {
    let mut missing = Vec::new();
    match (sample, actual) {
        (Value::Object(s), Value::Object(a)) => {
            for (key, value) in s {
                match a.get(key) {
                    Some(other) => {
                        missing.extend(missing_keys(value, other, &format!("{path}.{key}")))
                    }
                    None => missing.push(format!("{path}.{key}")),
                }
            }
        }
        (Value::Array(s), Value::Array(a)) => {
            if let (Some(s), Some(a)) = (s.first(), a.first()) {
                missing.extend(missing_keys(s, a, &format!("{path}[0]")));
            }
        }
        (s, a) if std::mem::discriminant(s) != std::mem::discriminant(a) => {
            missing.push(format!("{path} (type differs)"));
        }
        _ => {}
    }
    missing
}

//! `spawn_app`: the real auth service on port 0 over a fresh SQLite file, with typed request
//! helpers. Every response body is kept, so tests can prove no secret ever left the service.

use std::sync::{Arc, Mutex, OnceLock};

use herald_auth::{
    Application, AuthConfig, AuthSettings, NewUser, Password, PasswordSettings, SecretString,
    ThrottleSettings,
};
use herald_domain::{Email, Role, User};
use herald_platform::auth::{Claims, SigningKey};
use herald_platform::shutdown::CancellationToken;
use herald_store::{SqliteSettings, Store, StoreSettings};
use reqwest::Method;
use serde_json::Value;

/// Everything any test's application logs, through one process-wide subscriber: actix runs
/// handlers on its own worker threads, so a thread-local subscriber would miss them.
pub fn captured_logs() -> String {
    let buffer = log_buffer();
    let bytes = buffer.lock().unwrap();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn log_buffer() -> Arc<Mutex<Vec<u8>>> {
    static BUFFER: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUFFER
        .get_or_init(|| {
            let buffer = Arc::new(Mutex::new(Vec::new()));
            let writer = buffer.clone();
            let subscriber = tracing_subscriber::fmt()
                .json()
                .with_current_span(true)
                .with_span_list(true)
                .with_env_filter("trace,h2=off,hyper=off,reqwest=off,actix_server=info")
                .with_writer(move || Capture(writer.clone()))
                .finish();
            tracing::subscriber::set_global_default(subscriber).unwrap();
            buffer
        })
        .clone()
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The password every fixture user starts with.
pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    /// Signs access tokens exactly as the service does (it is the service's configured key).
    pub key: SigningKey,
    pub store: Store,
    pub app_store_settings: StoreSettings,
    pub settings: AuthSettings,
    pub shutdown: CancellationToken,
    pub bodies: Arc<Mutex<Vec<String>>>,
    pub dir: Arc<tempfile::TempDir>,
    pub service: herald_auth::AuthService,
}

/// Options for [`spawn_app_with`].
pub struct Options {
    pub throttle: ThrottleSettings,
    pub keys: Vec<SigningKey>,
    pub bootstrap: Option<(String, String)>,
    pub dir: Option<Arc<tempfile::TempDir>>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            throttle: ThrottleSettings {
                window_seconds: 600,
                max_failures_per_account: 50,
                max_failures_per_address: 100,
            },
            keys: vec![SigningKey::generate("test-key").unwrap()],
            bootstrap: None,
            dir: None,
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    log_buffer();
    let dir = options
        .dir
        .unwrap_or_else(|| Arc::new(tempfile::tempdir().unwrap()));
    let store_settings = StoreSettings {
        sqlite: SqliteSettings::at(dir.path().join("herald.db")),
        ..StoreSettings::default()
    };
    let key = options.keys[0].clone();
    let settings = AuthSettings {
        // Cheap hashing: the cost is a setting, the algorithm is the same.
        password: PasswordSettings {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
            ..PasswordSettings::default()
        },
        throttle: options.throttle,
        signing_keys: options
            .keys
            .iter()
            .map(|k| {
                (
                    k.kid().to_owned(),
                    SecretString::new(k.expose_pkcs8_base64()),
                )
            })
            .collect(),
        current_key: Some(key.kid().to_owned()),
        generated_key_file: dir.path().join("unused-key.json"),
        bootstrap_admin_email: options.bootstrap.as_ref().map(|(e, _)| e.clone()),
        bootstrap_admin_password: options
            .bootstrap
            .as_ref()
            .map(|(_, p)| SecretString::new(p.clone())),
        ..AuthSettings::default()
    };
    let mut config = AuthConfig {
        store: store_settings.clone(),
        auth: settings.clone(),
        ..AuthConfig::default()
    };
    config.http.port = 0;
    config.http.workers = Some(1);
    let shutdown = CancellationToken::new();
    let app = Application::build(config, shutdown.clone()).await.unwrap();
    let port = app.port();
    let service = app.service().clone();
    tokio::spawn(app.run_until_stopped());
    let store = Store::connect(&store_settings).await.unwrap();
    TestApp {
        base: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::new(),
        key,
        store,
        app_store_settings: store_settings,
        settings,
        shutdown,
        bodies: Arc::new(Mutex::new(Vec::new())),
        dir,
        service,
    }
}

pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl TestApp {
    /// Sends a request and keeps its response body for the secret scan.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        self.bodies.lock().unwrap().push(text.clone());
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.send(Method::POST, path, token, Some(body)).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.post(
            "/api/v1/auth/login",
            None,
            serde_json::json!({"email": email, "password": password}),
        )
        .await
    }

    /// Logs in and returns (access token, refresh token); panics unless it succeeds.
    pub async fn session(&self, email: &str, password: &str) -> (String, String) {
        let reply = self.login(email, password).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        (
            reply.body["accessToken"].as_str().unwrap().to_owned(),
            reply.body["refreshToken"].as_str().unwrap().to_owned(),
        )
    }

    /// Creates a user with [`PASSWORD`] directly through the service.
    pub async fn user(&self, email: &str, role: Role) -> User {
        self.service
            .state()
            .create_user(NewUser {
                name: format!("{role} user"),
                email: Email::parse(email).unwrap(),
                password: Password::new(PASSWORD),
                role,
            })
            .await
            .unwrap()
    }

    /// A signed-in user of `role`: (user, access token).
    pub async fn signed_in(&self, email: &str, role: Role) -> (User, String) {
        let user = self.user(email, role).await;
        let (access, _) = self.session(email, PASSWORD).await;
        (user, access)
    }

    /// An access token for `claims`, signed with the service's own key.
    pub fn token(&self, claims: &Claims) -> String {
        self.key.sign(claims).unwrap()
    }

    /// The stored PHC hash of a user's password.
    pub async fn stored_hash(&self, email: &str) -> String {
        self.store
            .users()
            .find_by_email(&Email::parse(email).unwrap())
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .expose_phc()
            .to_owned()
    }

    /// Asserts that no response body ever contained one of `secrets`.
    pub fn assert_no_response_contains(&self, secrets: &[&str]) {
        let bodies = self.bodies.lock().unwrap();
        assert!(!bodies.is_empty());
        for body in bodies.iter() {
            for secret in secrets {
                assert!(!body.contains(secret), "a response leaked a secret: {body}");
            }
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Claims as the service would issue them for `user`.
pub fn claims_for(user: &User) -> Claims {
    Claims {
        sub: user.id,
        role: user.role,
        iat: now(),
        exp: now() + 600,
        iss: "herald".into(),
        aud: "herald-api".into(),
        jti: "test".into(),
    }
}

//! The auth kit over real sockets: the `Authenticated` extractor, the role guards and the JWKS
//! cache. Every refused token is a 401 problem+json with a `WWW-Authenticate: Bearer` challenge;
//! a valid token without the role is a 403.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::middleware::from_fn;
use actix_web::{HttpResponse, HttpServer, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use herald_domain::{Role, UserId};
use herald_platform::auth::{
    self, Access, Authenticated, Claims, Manager, RequireRole, SigningKey, TokenError,
    TokenVerifier, VerifierSettings,
};
use herald_platform::health::Readiness;
use herald_platform::http::{self, ApiError, HttpKit, PROBLEM_JSON};
use herald_platform::metrics::Metrics;
use herald_platform::shutdown::CancellationToken;
use serde_json::Value;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn claims(role: Role) -> Claims {
    Claims {
        sub: UserId::new(),
        role,
        iat: now(),
        exp: now() + 600,
        iss: "herald".into(),
        aud: "herald-api".into(),
        jti: uuid_like(),
    }
}

fn uuid_like() -> String {
    format!("{:x}", now())
}

async fn whoami(user: Authenticated) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"sub": user.user_id(), "role": user.role()}))
}

async fn managers_only(user: RequireRole<Manager>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"role": user.user.role()}))
}

async fn admins_by_hand(user: Authenticated) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    Ok(HttpResponse::Ok().finish())
}

async fn guarded(user: Authenticated) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"role": user.role()}))
}

/// Starts an app whose routes use every way of checking a token; returns its base URL.
fn spawn_app(verifier: TokenVerifier) -> String {
    let kit = HttpKit {
        metrics: web::Data::new(Metrics::new("test").unwrap()),
        readiness: web::Data::new(Readiness::new(CancellationToken::new())),
        max_body_bytes: 4096,
    };
    let verifier = web::Data::new(verifier);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        http::app(kit.clone())
            .app_data(verifier.clone())
            .service(web::resource("/whoami").get(whoami))
            .service(web::resource("/managers").get(managers_only))
            .service(web::resource("/admins").get(admins_by_hand))
            .service(
                web::resource("/guarded").route(
                    web::get()
                        .to(guarded)
                        .wrap(from_fn(auth::guard(Access::Role(Role::Manager)))),
                ),
            )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    format!("http://127.0.0.1:{port}")
}

fn settings() -> VerifierSettings {
    VerifierSettings::default()
}

async fn get(url: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    request.send().await.unwrap()
}

/// Asserts a 401 problem+json with a Bearer challenge; returns the body.
async fn assert_unauthorized(response: reqwest::Response) -> Value {
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(response.headers()["content-type"], PROBLEM_JSON);
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "unauthorized");
    assert_eq!(body["status"], 401);
    body
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

#[tokio::test]
async fn a_valid_token_reaches_the_handler_with_its_claims() {
    let key = SigningKey::generate("k1").unwrap();
    let base = spawn_app(TokenVerifier::with_keys(
        &settings(),
        [key.public_key().clone()],
    ));
    let claims = claims(Role::Agent);
    let response = get(&format!("{base}/whoami"), Some(&key.sign(&claims).unwrap())).await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["sub"], claims.sub.to_string());
    assert_eq!(body["role"], "agent");
}

#[tokio::test]
async fn every_bad_token_is_a_401_problem_with_a_bearer_challenge() {
    let key = SigningKey::generate("k1").unwrap();
    let base = spawn_app(TokenVerifier::with_keys(
        &settings(),
        [key.public_key().clone()],
    ));
    let url = format!("{base}/whoami");
    let good = claims(Role::Admin);
    let payload = b64(&serde_json::to_value(&good).unwrap());
    let impostor = SigningKey::generate("k1").unwrap();
    let cases: Vec<(&str, Option<String>, &str)> = vec![
        ("missing", None, "no bearer token"),
        ("malformed", Some("not-a-jwt".into()), "not a well-formed"),
        (
            "expired",
            Some(
                key.sign(&Claims {
                    exp: now() - 3600,
                    ..good.clone()
                })
                .unwrap(),
            ),
            "expired",
        ),
        (
            "wrongly signed",
            Some(impostor.sign(&good).unwrap()),
            "signature",
        ),
        (
            "alg none",
            Some(format!(
                "{}.{payload}.",
                b64(&serde_json::json!({"alg": "none", "kid": "k1"}))
            )),
            "'none'",
        ),
        (
            "wrong issuer",
            Some(
                key.sign(&Claims {
                    iss: "evil".into(),
                    ..good.clone()
                })
                .unwrap(),
            ),
            "not issued by",
        ),
        (
            "wrong audience",
            Some(
                key.sign(&Claims {
                    aud: "other-api".into(),
                    ..good.clone()
                })
                .unwrap(),
            ),
            "not meant for this API",
        ),
    ];
    for (case, token, detail) in cases {
        let body = assert_unauthorized(get(&url, token.as_deref()).await).await;
        let text = body["detail"].as_str().unwrap();
        assert!(text.contains(detail), "{case}: {text}");
    }
    // Another scheme is refused the same way.
    let response = reqwest::Client::new()
        .get(&url)
        .header("Authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .unwrap();
    assert_unauthorized(response).await;
}

#[tokio::test]
async fn a_valid_token_without_the_role_is_a_403_on_every_kind_of_guard() {
    let key = SigningKey::generate("k1").unwrap();
    let base = spawn_app(TokenVerifier::with_keys(
        &settings(),
        [key.public_key().clone()],
    ));
    let agent = key.sign(&claims(Role::Agent)).unwrap();
    let manager = key.sign(&claims(Role::Manager)).unwrap();
    for path in ["/managers", "/guarded", "/admins"] {
        let response = get(&format!("{base}{path}"), Some(&agent)).await;
        assert_eq!(response.status().as_u16(), 403, "{path}");
        assert_eq!(response.headers()["content-type"], PROBLEM_JSON);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "forbidden");
    }
    for (path, status) in [("/managers", 200), ("/guarded", 200), ("/admins", 403)] {
        let response = get(&format!("{base}{path}"), Some(&manager)).await;
        assert_eq!(response.status().as_u16(), status, "{path}");
    }
    for path in ["/managers", "/guarded", "/admins"] {
        assert_unauthorized(get(&format!("{base}{path}"), None).await).await;
    }
}

/// A JWKS endpoint whose key set the test changes, counting the fetches.
struct JwksServer {
    url: String,
    keys: Arc<Mutex<Vec<SigningKey>>>,
    hits: Arc<AtomicUsize>,
}

fn spawn_jwks(keys: Vec<SigningKey>) -> JwksServer {
    let keys = Arc::new(Mutex::new(keys));
    let hits = Arc::new(AtomicUsize::new(0));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (k, h) = (keys.clone(), hits.clone());
    let server = HttpServer::new(move || {
        let (k, h) = (k.clone(), h.clone());
        actix_web::App::new().route(
            "/jwks.json",
            web::get().to(move || {
                let (k, h) = (k.clone(), h.clone());
                async move {
                    h.fetch_add(1, Ordering::SeqCst);
                    let keys = k.lock().unwrap();
                    HttpResponse::Ok().json(auth::jwks(keys.iter().map(SigningKey::public_key)))
                }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    JwksServer {
        url: format!("http://127.0.0.1:{port}/jwks.json"),
        keys,
        hits,
    }
}

#[tokio::test]
async fn the_jwks_is_fetched_once_cached_and_refetched_for_a_new_key_id() {
    let old = SigningKey::generate("old").unwrap();
    let jwks = spawn_jwks(vec![old.clone()]);
    let verifier = TokenVerifier::from_settings(&VerifierSettings {
        jwks_url: Some(jwks.url.clone()),
        jwks_min_refresh_seconds: 0,
        ..settings()
    })
    .unwrap();
    for _ in 0..3 {
        verifier
            .verify(&old.sign(&claims(Role::Agent)).unwrap())
            .await
            .unwrap();
    }
    assert_eq!(
        jwks.hits.load(Ordering::SeqCst),
        1,
        "cached after the first fetch"
    );

    // Rotation: the auth service now signs with `new` and still publishes `old`.
    let new = SigningKey::generate("new").unwrap();
    jwks.keys.lock().unwrap().push(new.clone());
    verifier
        .verify(&new.sign(&claims(Role::Agent)).unwrap())
        .await
        .unwrap();
    assert_eq!(
        jwks.hits.load(Ordering::SeqCst),
        2,
        "refetched for the unknown kid"
    );
    verifier
        .verify(&old.sign(&claims(Role::Agent)).unwrap())
        .await
        .expect("tokens of the old key stay valid until they expire");
}

#[tokio::test]
async fn unknown_key_ids_do_not_make_the_verifier_hammer_the_jwks() {
    let known = SigningKey::generate("known").unwrap();
    let jwks = spawn_jwks(vec![known.clone()]);
    let verifier = TokenVerifier::from_settings(&VerifierSettings {
        jwks_url: Some(jwks.url.clone()),
        jwks_min_refresh_seconds: 3600,
        ..settings()
    })
    .unwrap();
    for i in 0..5 {
        let stranger = SigningKey::generate(&format!("stranger-{i}")).unwrap();
        assert_eq!(
            verifier
                .verify(&stranger.sign(&claims(Role::Admin)).unwrap())
                .await,
            Err(TokenError::UnknownKey)
        );
    }
    assert_eq!(jwks.hits.load(Ordering::SeqCst), 1);
    verifier
        .verify(&known.sign(&claims(Role::Agent)).unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn an_unreachable_jwks_is_a_503_not_a_401() {
    // A port that was free a moment ago: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let verifier = TokenVerifier::from_settings(&VerifierSettings {
        jwks_url: Some(format!("http://127.0.0.1:{port}/jwks.json")),
        ..settings()
    })
    .unwrap();
    let key = SigningKey::generate("k1").unwrap();
    let token = key.sign(&claims(Role::Agent)).unwrap();
    assert!(matches!(
        verifier.verify(&token).await,
        Err(TokenError::KeysUnavailable(_))
    ));
    let base = spawn_app(verifier);
    let response = get(&format!("{base}/whoami"), Some(&token)).await;
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(response.headers()["content-type"], PROBLEM_JSON);
}

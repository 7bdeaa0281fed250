//! Every bad access token is a 401 problem with a Bearer challenge; signing keys rotate without
//! invalidating tokens that are still within their lifetime.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use herald_domain::Role;
use herald_platform::auth::{Claims, SigningKey};

use crate::helpers::{Options, PASSWORD, claims_for, now, spawn_app, spawn_app_with};

#[tokio::test]
async fn every_bad_access_token_is_a_401_problem_with_a_bearer_challenge() {
    let app = spawn_app().await;
    let admin = app.user("root@example.com", Role::Admin).await;
    let good = claims_for(&admin);
    let impostor = SigningKey::generate("test-key").unwrap();
    let b64 = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let payload = b64(serde_json::to_value(&good).unwrap());
    let cases: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("malformed", Some("definitely.not.a-jwt".into())),
        (
            "expired",
            Some(app.token(&Claims {
                exp: now() - 3600,
                iat: now() - 4500,
                ..good.clone()
            })),
        ),
        ("wrongly signed", Some(impostor.sign(&good).unwrap())),
        (
            "alg none",
            Some(format!(
                "{}.{payload}.",
                b64(serde_json::json!({"alg": "none", "kid": "test-key"}))
            )),
        ),
        (
            "wrong issuer",
            Some(app.token(&Claims {
                iss: "evil".into(),
                ..good.clone()
            })),
        ),
        (
            "wrong audience",
            Some(app.token(&Claims {
                aud: "another-api".into(),
                ..good.clone()
            })),
        ),
    ];
    for path in ["/api/v1/auth/me", "/api/v1/auth/users"] {
        for (case, token) in &cases {
            let reply = app.get(path, token.as_deref()).await;
            assert_eq!(reply.status, 401, "{case} on {path}: {}", reply.body);
            assert_eq!(reply.headers["content-type"], "application/problem+json");
            assert_eq!(reply.body["code"], "unauthorized", "{case}");
            let challenge = reply.headers["www-authenticate"].to_str().unwrap();
            assert!(challenge.starts_with("Bearer"), "{case}: {challenge}");
        }
    }
    // The same claims, properly signed, pass.
    assert_eq!(
        app.get("/api/v1/auth/users", Some(&app.token(&good)))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn after_a_key_rotation_old_tokens_stay_valid_and_new_ones_use_the_new_key() {
    let old = SigningKey::generate("k-old").unwrap();
    let first = spawn_app_with(Options {
        keys: vec![old.clone()],
        ..Options::default()
    })
    .await;
    first.user("ana@example.com", Role::Agent).await;
    let (old_access, _) = first.session("ana@example.com", PASSWORD).await;
    let dir = first.dir.clone();
    drop(first);

    let new = SigningKey::generate("k-new").unwrap();
    let second = spawn_app_with(Options {
        keys: vec![new, old],
        dir: Some(dir),
        ..Options::default()
    })
    .await;
    let kids: Vec<String> = second.get("/.well-known/jwks.json", None).await.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kids, ["k-new", "k-old"]);
    assert_eq!(
        second
            .get("/api/v1/auth/me", Some(&old_access))
            .await
            .status,
        200
    );
    let (new_access, _) = second.session("ana@example.com", PASSWORD).await;
    let header = jsonwebtoken::decode_header(&new_access).unwrap();
    assert_eq!(header.kid.as_deref(), Some("k-new"));
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
}

//! Login, refresh rotation with reuse detection, logout, `me`, changing one's own password.

use herald_domain::Role;
use serde_json::json;

use crate::helpers::{PASSWORD, spawn_app};

#[tokio::test]
async fn a_user_logs_in_with_any_case_of_their_email_and_gets_a_working_access_token() {
    let app = spawn_app().await;
    let ana = app.user("ana@example.com", Role::Manager).await;
    let reply = app.login("  ANA@Example.com ", PASSWORD).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.headers["cache-control"], "no-store");
    assert_eq!(reply.body["tokenType"], "Bearer");
    assert_eq!(reply.body["expiresIn"], 900);
    assert_eq!(reply.body["user"]["email"], "ana@example.com");
    assert!(
        reply.body["refreshToken"]
            .as_str()
            .unwrap()
            .starts_with("hrt_")
    );

    let access = reply.body["accessToken"].as_str().unwrap();
    let claims = app.service.verifier().verify(access).await.unwrap();
    assert_eq!(claims.sub, ana.id);
    assert_eq!(claims.role, Role::Manager);
    assert_eq!(
        (claims.iss.as_str(), claims.aud.as_str()),
        ("herald", "herald-api")
    );
    assert_eq!(claims.exp - claims.iat, 900);
    assert!(!claims.jti.is_empty());

    let me = app.get("/api/v1/auth/me", Some(access)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["id"], ana.id.to_string());
    assert_eq!(me.body["role"], "manager");
    assert!(me.body.get("password").is_none() && me.body.get("passwordHash").is_none());
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_401() {
    let app = spawn_app().await;
    app.user("ana@example.com", Role::Agent).await;
    let wrong = app.login("ana@example.com", "not the password").await;
    let unknown = app.login("nobody@example.com", PASSWORD).await;
    assert_eq!((wrong.status, unknown.status), (401, 401));
    assert_eq!(wrong.body["detail"], unknown.body["detail"]);
    assert_eq!(wrong.headers["content-type"], "application/problem+json");
    let malformed = app.login("not-an-email", PASSWORD).await;
    assert_eq!(malformed.status, 422);
}

#[tokio::test]
async fn a_refresh_rotates_the_token_and_reusing_the_old_one_revokes_the_whole_family() {
    let app = spawn_app().await;
    app.user("ana@example.com", Role::Agent).await;
    let (_, first) = app.session("ana@example.com", PASSWORD).await;

    let rotated = app
        .post("/api/v1/auth/refresh", None, json!({"refreshToken": first}))
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let second = rotated.body["refreshToken"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    let access = rotated.body["accessToken"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/auth/me", Some(access)).await.status, 200);

    // The first token was copied: whoever presents it again, the family dies.
    let reused = app
        .post("/api/v1/auth/refresh", None, json!({"refreshToken": first}))
        .await;
    assert_eq!(reused.status, 401);
    let after_reuse = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refreshToken": second}),
        )
        .await;
    assert_eq!(
        after_reuse.status, 401,
        "the newest token of the family is revoked too"
    );

    // Another login is another family, unaffected.
    let (_, other) = app.session("ana@example.com", PASSWORD).await;
    let ok = app
        .post("/api/v1/auth/refresh", None, json!({"refreshToken": other}))
        .await;
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn an_unknown_refresh_token_is_a_401() {
    let app = spawn_app().await;
    let reply = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refreshToken": "hrt_forged"}),
        )
        .await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.body["code"], "unauthorized");
}

#[tokio::test]
async fn logout_revokes_the_session_and_is_harmless_twice() {
    let app = spawn_app().await;
    app.user("ana@example.com", Role::Agent).await;
    let (_, refresh) = app.session("ana@example.com", PASSWORD).await;
    for _ in 0..2 {
        let reply = app
            .post(
                "/api/v1/auth/logout",
                None,
                json!({"refreshToken": refresh}),
            )
            .await;
        assert_eq!(reply.status, 204);
    }
    let reply = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refreshToken": refresh}),
        )
        .await;
    assert_eq!(reply.status, 401);
}

#[tokio::test]
async fn a_user_changes_their_own_password_with_the_old_one_and_every_session_ends() {
    let app = spawn_app().await;
    app.user("ana@example.com", Role::Agent).await;
    let (access, refresh) = app.session("ana@example.com", PASSWORD).await;

    let wrong = app
        .post(
            "/api/v1/auth/password",
            Some(&access),
            json!({"currentPassword": "guess guess guess", "newPassword": "a brand new password"}),
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert_eq!(wrong.body["errors"][0]["field"], "currentPassword");

    let short = app
        .post(
            "/api/v1/auth/password",
            Some(&access),
            json!({"currentPassword": PASSWORD, "newPassword": "short"}),
        )
        .await;
    assert_eq!(short.status, 422);
    assert_eq!(short.body["errors"][0]["field"], "newPassword");

    let changed = app
        .post(
            "/api/v1/auth/password",
            Some(&access),
            json!({"currentPassword": PASSWORD, "newPassword": "a brand new password"}),
        )
        .await;
    assert_eq!(changed.status, 204);
    assert_eq!(app.login("ana@example.com", PASSWORD).await.status, 401);
    assert_eq!(
        app.login("ana@example.com", "a brand new password")
            .await
            .status,
        200
    );
    let old_session = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refreshToken": refresh}),
        )
        .await;
    assert_eq!(old_session.status, 401);
}

#[tokio::test]
async fn the_jwks_and_the_openapi_document_are_public() {
    let app = spawn_app().await;
    let jwks = app.get("/.well-known/jwks.json", None).await;
    assert_eq!(jwks.status, 200);
    assert_eq!(jwks.body["keys"][0]["kid"], "test-key");
    assert_eq!(jwks.body["keys"][0]["kty"], "OKP");
    assert!(jwks.body["keys"][0].get("d").is_none(), "no private part");

    let doc = app.get("/api/v1/auth/openapi.json", None).await;
    assert_eq!(doc.status, 200);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc.body["paths"]["/api/v1/auth/login"]["post"].is_object());
    assert!(doc.body["components"]["securitySchemes"]["bearer"].is_object());
}

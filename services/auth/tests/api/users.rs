//! User management by an admin: create, list in pages, get, update, disable, enable, reset.

use herald_domain::Role;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{PASSWORD, spawn_app};

#[tokio::test]
async fn an_admin_creates_a_user_who_can_then_log_in_and_emails_are_unique_whatever_the_case() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in("root@example.com", Role::Admin).await;
    let created = app
        .post(
            "/api/v1/auth/users",
            Some(&admin),
            json!({"name": "Ana Lima", "email": "Ana@Example.com", "password": "a fine long password", "role": "manager"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap();
    assert_eq!(
        created.headers["location"].to_str().unwrap(),
        format!("/api/v1/auth/users/{id}")
    );
    assert_eq!(created.body["email"], "ana@example.com");
    assert_eq!(created.body["role"], "manager");
    assert_eq!(created.body["disabled"], false);
    let read = app
        .get(&format!("/api/v1/auth/users/{id}"), Some(&admin))
        .await;
    assert_eq!(
        (&read.body["createdAt"], &read.body["updatedAt"]),
        (&created.body["createdAt"], &created.body["updatedAt"]),
        "the timestamps answered on create are the ones stored"
    );
    assert_eq!(
        app.login("ana@example.com", "a fine long password")
            .await
            .status,
        200
    );

    let duplicate = app
        .post(
            "/api/v1/auth/users",
            Some(&admin),
            json!({"name": "Other", "email": "ANA@example.COM", "password": "another long password"}),
        )
        .await;
    assert_eq!(duplicate.status, 409);
    assert_eq!(duplicate.body["code"], "conflict");

    let defaulted = app
        .post(
            "/api/v1/auth/users",
            Some(&admin),
            json!({"name": "Bo", "email": "bo@example.com", "password": "another long password"}),
        )
        .await;
    assert_eq!(defaulted.body["role"], "agent");
}

#[tokio::test]
async fn bad_user_fields_are_422_with_the_field_named() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in("root@example.com", Role::Admin).await;
    let cases = [
        (
            json!({"name": "A", "email": "a@example.com", "password": "short"}),
            Some("password"),
        ),
        (
            json!({"name": "  ", "email": "a@example.com", "password": "long enough pass"}),
            Some("name"),
        ),
        (
            json!({"name": "A", "email": "nope", "password": "long enough pass"}),
            None,
        ),
        (
            json!({"name": "A", "email": "a@example.com", "password": "long enough pass", "role": "owner"}),
            None,
        ),
    ];
    for (body, field) in cases {
        let reply = app
            .post("/api/v1/auth/users", Some(&admin), body.clone())
            .await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.body);
        if let Some(field) = field {
            assert_eq!(reply.body["errors"][0]["field"], field);
        }
    }
}

#[tokio::test]
async fn users_are_listed_in_pages_and_fetched_by_id() {
    let app = spawn_app().await;
    let (root, admin) = app.signed_in("root@example.com", Role::Admin).await;
    for i in 0..4 {
        app.user(&format!("u{i}@example.com"), Role::Agent).await;
    }
    let mut emails = Vec::new();
    let mut path = "/api/v1/auth/users?limit=2".to_owned();
    loop {
        let page = app.get(&path, Some(&admin)).await;
        assert_eq!(page.status, 200, "{}", page.body);
        for user in page.body["items"].as_array().unwrap() {
            emails.push(user["email"].as_str().unwrap().to_owned());
        }
        match page.body["next"].as_str() {
            Some(next) => path = format!("/api/v1/auth/users?limit=2&after={next}"),
            None => break,
        }
    }
    assert_eq!(
        emails,
        [
            "root@example.com",
            "u0@example.com",
            "u1@example.com",
            "u2@example.com",
            "u3@example.com"
        ]
    );
    let one = app
        .get(&format!("/api/v1/auth/users/{}", root.id), Some(&admin))
        .await;
    assert_eq!(one.body["email"], "root@example.com");
    let missing = app
        .get("/api/v1/auth/users/65f1a2b3c4d5e6f708192a3b", Some(&admin))
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        app.get("/api/v1/auth/users/not-an-id", Some(&admin))
            .await
            .status,
        400
    );
    assert_eq!(
        app.get("/api/v1/auth/users?after=garbage", Some(&admin))
            .await
            .status,
        400
    );
    assert_eq!(
        app.get("/api/v1/auth/users?limit=0", Some(&admin))
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn an_admin_renames_and_changes_roles_but_not_their_own_role() {
    let app = spawn_app().await;
    let (root, admin) = app.signed_in("root@example.com", Role::Admin).await;
    let bo = app.user("bo@example.com", Role::Agent).await;
    let path = format!("/api/v1/auth/users/{}", bo.id);
    let updated = app
        .send(
            Method::PATCH,
            &path,
            Some(&admin),
            Some(json!({"name": "Bo B", "role": "manager"})),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(
        (updated.body["name"].as_str(), updated.body["role"].as_str()),
        (Some("Bo B"), Some("manager"))
    );
    let (bo_access, _) = app.session("bo@example.com", PASSWORD).await;
    let claims = app.service.verifier().verify(&bo_access).await.unwrap();
    assert_eq!(claims.role, Role::Manager, "new tokens carry the new role");

    let own = app
        .send(
            Method::PATCH,
            &format!("/api/v1/auth/users/{}", root.id),
            Some(&admin),
            Some(json!({"role": "agent"})),
        )
        .await;
    assert_eq!(own.status, 409);
}

#[tokio::test]
async fn a_disabled_user_cannot_log_in_or_refresh_until_enabled_again() {
    let app = spawn_app().await;
    let (root, admin) = app.signed_in("root@example.com", Role::Admin).await;
    let bo = app.user("bo@example.com", Role::Agent).await;
    let (_, bo_refresh) = app.session("bo@example.com", PASSWORD).await;

    let disabled = app
        .post(
            &format!("/api/v1/auth/users/{}/disable", bo.id),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(disabled.status, 200);
    assert_eq!(disabled.body["disabled"], true);
    assert_eq!(app.login("bo@example.com", PASSWORD).await.status, 403);
    let refresh = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refreshToken": bo_refresh}),
        )
        .await;
    assert_eq!(refresh.status, 401);

    let own = app
        .post(
            &format!("/api/v1/auth/users/{}/disable", root.id),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(own.status, 409, "an admin cannot lock themselves out");

    let enabled = app
        .post(
            &format!("/api/v1/auth/users/{}/enable", bo.id),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(enabled.body["disabled"], false);
    assert_eq!(app.login("bo@example.com", PASSWORD).await.status, 200);
}

#[tokio::test]
async fn an_admin_resets_a_password_which_ends_the_users_sessions() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in("root@example.com", Role::Admin).await;
    let bo = app.user("bo@example.com", Role::Agent).await;
    let (_, bo_refresh) = app.session("bo@example.com", PASSWORD).await;
    let path = format!("/api/v1/auth/users/{}/password", bo.id);
    let short = app
        .post(&path, Some(&admin), json!({"password": "tiny"}))
        .await;
    assert_eq!(short.status, 422);
    let reset = app
        .post(
            &path,
            Some(&admin),
            json!({"password": "the reset password"}),
        )
        .await;
    assert_eq!(reset.status, 204);
    assert_eq!(app.login("bo@example.com", PASSWORD).await.status, 401);
    assert_eq!(
        app.login("bo@example.com", "the reset password")
            .await
            .status,
        200
    );
    let old = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refreshToken": bo_refresh}),
        )
        .await;
    assert_eq!(old.status, 401);
}

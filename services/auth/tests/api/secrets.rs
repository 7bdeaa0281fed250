//! No response and no log line ever contains a password or a password hash.

use herald_domain::Role;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{PASSWORD, captured_logs, spawn_app};

#[tokio::test]
async fn no_response_or_log_line_contains_a_password_or_a_hash() {
    let app = spawn_app().await;
    let (root, admin) = app.signed_in("secrets-root@example.com", Role::Admin).await;
    let created_password = "created via the api 7f3a9";
    let reset_password = "reset by an admin 2c81d";
    let changed_password = "changed by myself 9e04b";
    let wrong_password = "a wrong guess 5d1c6";

    let created = app
        .post(
            "/api/v1/auth/users",
            Some(&admin),
            json!({"name": "Cy", "email": "secrets-cy@example.com", "password": created_password}),
        )
        .await;
    let cy_id = created.body["id"].as_str().unwrap().to_owned();
    let first_hash = app.stored_hash("secrets-cy@example.com").await;
    app.login("secrets-cy@example.com", wrong_password).await;
    app.login("secrets-nobody@example.com", wrong_password)
        .await;
    let (cy_access, cy_refresh) = app
        .session("secrets-cy@example.com", created_password)
        .await;
    app.get("/api/v1/auth/me", Some(&cy_access)).await;
    app.get("/api/v1/auth/users", Some(&admin)).await;
    app.get(&format!("/api/v1/auth/users/{cy_id}"), Some(&admin))
        .await;
    app.send(
        Method::PATCH,
        &format!("/api/v1/auth/users/{cy_id}"),
        Some(&admin),
        Some(json!({"name": "Cy C"})),
    )
    .await;
    app.post(
        "/api/v1/auth/password",
        Some(&cy_access),
        json!({"currentPassword": wrong_password, "newPassword": changed_password}),
    )
    .await;
    app.post(
        "/api/v1/auth/password",
        Some(&cy_access),
        json!({"currentPassword": created_password, "newPassword": changed_password}),
    )
    .await;
    let second_hash = app.stored_hash("secrets-cy@example.com").await;
    app.post(
        &format!("/api/v1/auth/users/{cy_id}/password"),
        Some(&admin),
        json!({"password": reset_password}),
    )
    .await;
    let third_hash = app.stored_hash("secrets-cy@example.com").await;
    app.post(
        "/api/v1/auth/refresh",
        None,
        json!({"refreshToken": cy_refresh}),
    )
    .await;
    app.post(
        &format!("/api/v1/auth/users/{}/disable", root.id),
        Some(&admin),
        json!({}),
    )
    .await;
    let root_hash = app.stored_hash("secrets-root@example.com").await;

    let passwords = [
        PASSWORD,
        created_password,
        reset_password,
        changed_password,
        wrong_password,
    ];
    let hashes = [
        first_hash.as_str(),
        second_hash.as_str(),
        third_hash.as_str(),
        root_hash.as_str(),
    ];
    // The salt and digest parts of each PHC string, which a log could carry on their own.
    let hash_parts: Vec<&str> = hashes.iter().flat_map(|h| h.rsplit('$').take(2)).collect();
    let mut secrets: Vec<&str> = passwords.to_vec();
    secrets.extend(hashes);
    secrets.extend(hash_parts.iter().copied());
    app.assert_no_response_contains(&secrets);

    let logs = captured_logs();
    assert!(logs.contains("login succeeded"), "the logs were captured");
    assert!(
        logs.contains("secrets-cy") || logs.contains(&cy_id),
        "this test's requests were logged"
    );
    for secret in &secrets {
        assert!(
            !logs.contains(secret),
            "a log line leaked a secret ({secret})"
        );
    }
    assert!(!logs.contains("$argon2"), "no PHC string in any log line");
}

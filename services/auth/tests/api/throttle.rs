//! Repeated failed logins are throttled per account and per client address: 429 with
//! `Retry-After`, without even checking the password.

use herald_auth::ThrottleSettings;
use herald_domain::Role;

use crate::helpers::{Options, PASSWORD, spawn_app_with};

fn options(per_account: u32, per_address: u32) -> Options {
    Options {
        throttle: ThrottleSettings {
            window_seconds: 300,
            max_failures_per_account: per_account,
            max_failures_per_address: per_address,
        },
        ..Options::default()
    }
}

#[tokio::test]
async fn an_account_with_repeated_failures_is_throttled_with_retry_after() {
    let app = spawn_app_with(options(3, 100)).await;
    app.user("ana@example.com", Role::Agent).await;
    for _ in 0..3 {
        assert_eq!(
            app.login("ana@example.com", "wrong password!").await.status,
            401
        );
    }
    for password in ["wrong password!", PASSWORD] {
        let reply = app.login("ana@example.com", password).await;
        assert_eq!(reply.status, 429, "{}", reply.body);
        assert_eq!(reply.body["code"], "too_many_requests");
        assert_eq!(reply.headers["content-type"], "application/problem+json");
        let retry: u64 = reply.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=301).contains(&retry), "{retry}");
    }
    // Another account from the same address is not affected by this account's window.
    app.user("bo@example.com", Role::Agent).await;
    assert_eq!(app.login("bo@example.com", PASSWORD).await.status, 200);
}

#[tokio::test]
async fn an_unknown_email_is_throttled_like_a_known_one() {
    let app = spawn_app_with(options(2, 100)).await;
    for _ in 0..2 {
        assert_eq!(app.login("ghost@example.com", PASSWORD).await.status, 401);
    }
    assert_eq!(app.login("ghost@example.com", PASSWORD).await.status, 429);
}

#[tokio::test]
async fn a_client_address_failing_across_accounts_is_throttled() {
    let app = spawn_app_with(options(100, 4)).await;
    app.user("ana@example.com", Role::Agent).await;
    for i in 0..4 {
        let reply = app.login(&format!("guess{i}@example.com"), PASSWORD).await;
        assert_eq!(reply.status, 401);
    }
    let reply = app.login("ana@example.com", PASSWORD).await;
    assert_eq!(reply.status, 429);
    assert!(reply.headers.contains_key("retry-after"));
}

//! The admin API and the ledger: exactly-once checks, reset, the admin token, problem+json
//! errors, and the service endpoints of the standalone application.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use herald_graph::{Component, Parameter, TemplateMessage};
use serde_json::json;
use support::{PHONE_NUMBER_ID, TestSandbox, recipient};

fn spring_sale(to: &str, callback: &str) -> TemplateMessage {
    TemplateMessage::new(to, "spring_sale", "en_US")
        .with_components(vec![Component::body(vec![Parameter::text("Ana")])])
        .with_callback_data(callback)
}

#[tokio::test]
async fn the_ledger_summary_shows_that_each_contact_got_exactly_one_message_or_who_got_two() {
    let app = TestSandbox::start().await;
    for n in 1..=5 {
        app.graph
            .send_template(
                PHONE_NUMBER_ID,
                &app.token,
                &spring_sale(&recipient(n), &format!("msg-{n}")),
            )
            .await
            .unwrap();
    }
    let summary = app.admin_get("/ledger/summary").await;
    assert_eq!(summary["accepted"], 5);
    assert_eq!(summary["unique_recipients"], 5);
    assert_eq!(summary["unique_callback_data"], 5);
    assert_eq!(summary["repeated_recipients"], json!([]));
    assert_eq!(summary["repeated_callback_data"], json!([]));

    // A duplicate send (the bug Herald must never have) shows up by recipient and by callback data.
    app.graph
        .send_template(
            PHONE_NUMBER_ID,
            &app.token,
            &spring_sale(&recipient(3), "msg-3"),
        )
        .await
        .unwrap();
    let summary = app.admin_get("/ledger/summary").await;
    assert_eq!(summary["accepted"], 6);
    assert_eq!(summary["repeated_recipients"][0]["key"], "4915100000003");
    assert_eq!(summary["repeated_recipients"][0]["count"], 2);
    assert_eq!(summary["repeated_callback_data"][0]["key"], "msg-3");
    assert_eq!(
        summary["repeated_callback_data"][0]["wamids"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(app.ledger_for(&recipient(3)).await.len(), 2);
    assert_eq!(app.ledger_for("4915100000003").await.len(), 2);
}

#[tokio::test]
async fn reset_returns_to_the_configured_world() {
    let app = TestSandbox::start().await;
    app.graph
        .send_template(
            PHONE_NUMBER_ID,
            &app.token,
            &spring_sale(&recipient(1), "m"),
        )
        .await
        .unwrap();
    app.admin_post(
        "/phone-numbers",
        json!({"id": "123", "waba_id": "456", "display_phone_number": "+1 555 0100"}),
    )
    .await;
    app.admin_post("/reset", json!({})).await;
    let state = app.admin_get("/state").await;
    assert_eq!(state["world"]["ledger"], 0);
    // The default number plus the test one.
    assert_eq!(state["world"]["phone_numbers"], 2);
}

#[tokio::test]
async fn the_admin_api_needs_the_admin_token_when_one_is_configured() {
    let app = TestSandbox::start_with(|c| c.admin_token = Some("admin-secret".into())).await;
    let url = format!("{}/state", app.admin);
    let refused = app.http.get(&url).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(
        refused.headers()["content-type"],
        herald_platform::http::PROBLEM_JSON
    );
    let wrong = app
        .http
        .get(&url)
        .bearer_auth("guess")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let allowed = app
        .http
        .get(&url)
        .bearer_auth("admin-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);
}

#[tokio::test]
async fn bad_admin_input_is_a_problem_json_4xx() {
    let app = TestSandbox::start().await;
    let bad_template = app
        .http
        .post(format!("{}/templates", app.admin))
        .json(&json!({"waba_id": "1", "name": "x", "language": "en", "category": "SHINY"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_template.status(), 422);
    let body: serde_json::Value = bad_template.json().await.unwrap();
    assert_eq!(body["code"], "validation_failed");
    assert!(body["detail"].as_str().unwrap().contains("SHINY"));

    let unknown = app
        .http
        .post(format!("{}/templates/42/status", app.admin))
        .json(&json!({"status": "PAUSED"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    let broken = app
        .http
        .post(format!("{}/faults/sends", app.admin))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status(), 400);
    assert_eq!(
        broken.headers()["content-type"],
        herald_platform::http::PROBLEM_JSON
    );
}

#[tokio::test]
async fn graph_errors_keep_metas_body_and_a_trace_id() {
    let app = TestSandbox::start().await;
    let (status, body) = app
        .post_message(
            Some(support::TOKEN),
            PHONE_NUMBER_ID,
            &json!({"to": recipient(1)}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], 100);
    assert_eq!(body["error"]["type"], "OAuthException");
    assert!(body["error"]["fbtrace_id"].is_string());
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("(#100)")
    );
}

#[tokio::test]
async fn the_standalone_app_serves_health_readiness_and_metrics() {
    let app = TestSandbox::start().await;
    let health = app
        .http
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = app
        .http
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    app.graph
        .send_template(
            PHONE_NUMBER_ID,
            &app.token,
            &spring_sale(&recipient(1), "m"),
        )
        .await
        .unwrap();
    let metrics = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("herald_sandbox_sends_total"), "{metrics}");
    let missing = app
        .http
        .get(format!("{}/nowhere", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.headers()["content-type"],
        herald_platform::http::PROBLEM_JSON
    );
}

#[tokio::test]
async fn an_invalid_configuration_is_refused_before_binding() {
    let mut config = support::test_config();
    config.webhooks.outcomes.read = 0.5;
    let error = herald_sandbox::Application::build(config).err().unwrap();
    assert!(error.to_string().contains("webhooks.outcomes"), "{error}");
}

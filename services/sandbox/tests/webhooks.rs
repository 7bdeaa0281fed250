//! The sandbox's webhooks as a receiver sees them: signed over the exact body, shaped like Meta's
//! samples, retried until the callback answers 200, duplicated, batched and reordered on demand;
//! template status updates, inbound messages and stop/resume events.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use herald_graph::{Component, Parameter, TemplateMessage};
use serde_json::{Value, json};
use support::{
    PHONE_NUMBER_ID, TestSandbox, WABA_ID, missing_keys, recipient, wa_id, webhook_sample,
};

fn spring_sale(to: &str) -> TemplateMessage {
    TemplateMessage::new(to, "spring_sale", "en_US")
        .with_components(vec![Component::body(vec![Parameter::text("Ana")])])
}

async fn send(app: &TestSandbox, to: &str, callback: &str) -> String {
    app.graph
        .send_template(
            PHONE_NUMBER_ID,
            &app.token,
            &spring_sale(to).with_callback_data(callback),
        )
        .await
        .unwrap()
        .wamid
}

#[tokio::test]
async fn statuses_are_signed_over_the_exact_body_with_the_app_secret() {
    let mut app = TestSandbox::start().await;
    send(&app, &recipient(1), "m1").await;
    let received = app.receiver.next().await;
    assert!(received.signature_valid, "{:?}", received.signature);
    let signature = received.signature.unwrap();
    assert!(signature.starts_with("sha256=") && signature.len() == 7 + 64);
    assert_eq!(
        signature,
        herald_platform::secrets::sign_sha256(support::SECRET.as_bytes(), &received.raw)
    );
    // Any other secret does not verify.
    assert!(
        herald_platform::secrets::verify_sha256(b"other", &received.raw, Some(&signature)).is_err()
    );
}

#[tokio::test]
async fn sent_delivered_read_look_like_metas_samples_and_echo_the_callback_data() {
    let mut app = TestSandbox::start().await;
    let wamid = send(&app, &recipient(2), "camp42:c9").await;
    let received = app.receiver.next().await;
    // Envelope and sent status have every key of the real sample (pywa's "with_tracker").
    let sample = webhook_sample("status_sent_biz_opaque_callback_data__pywa.json");
    let mut sample_without_contacts = sample.clone();
    // Status notifications carry no `contacts` (as in the Java samples and Meta's reference).
    sample_without_contacts["entry"][0]["changes"][0]["value"]
        .as_object_mut()
        .unwrap()
        .remove("contacts");
    assert_eq!(
        missing_keys(&sample_without_contacts, &received.body, "$"),
        Vec::<String>::new()
    );
    assert_eq!(received.body["entry"][0]["id"], WABA_ID);
    let value = received.value();
    assert_eq!(value["metadata"]["phone_number_id"], PHONE_NUMBER_ID);
    assert_eq!(value["metadata"]["display_phone_number"], "49301234567");

    let mut statuses = received.statuses();
    statuses.extend(app.receiver.statuses(2).await);
    let kinds: Vec<&str> = statuses
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["sent", "delivered", "read"]);
    for status in &statuses {
        assert_eq!(status["id"], wamid);
        assert_eq!(status["recipient_id"], wa_id(2));
        assert_eq!(status["biz_opaque_callback_data"], "camp42:c9");
        assert!(status["timestamp"].as_str().unwrap().parse::<u64>().is_ok());
    }
    assert_eq!(statuses[0]["pricing"]["category"], "marketing");
    assert_eq!(statuses[0]["pricing"]["pricing_model"], "PMP");
    assert!(statuses[0]["conversation"]["expiration_timestamp"].is_string());
    assert!(
        statuses[1]["conversation"]
            .get("expiration_timestamp")
            .is_none()
    );
}

#[tokio::test]
async fn from_v24_statuses_carry_no_conversation() {
    let mut app = TestSandbox::start().await;
    let body = json!({"messaging_product":"whatsapp","to":recipient(3),"type":"template",
        "template":{"name":"spring_sale","language":{"code":"en_US"},
            "components":[{"type":"body","parameters":[{"type":"text","text":"Ana"}]}]}});
    let response = app
        .http
        .post(format!("{}/v24.0/{PHONE_NUMBER_ID}/messages", app.base))
        .bearer_auth(support::TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let status = &app.receiver.statuses(1).await[0];
    assert!(status.get("conversation").is_none(), "{status}");
    assert!(status.get("pricing").is_some());
}

#[tokio::test]
async fn a_failing_callback_is_retried_until_it_answers_200_and_delivered_once() {
    let mut app = TestSandbox::start_with(|c| {
        c.webhooks.outcomes.read = 0.0;
        c.webhooks.outcomes.failed = 1.0;
        c.webhooks.outcomes.failure_codes = vec![131_000];
    })
    .await;
    app.receiver.answer_with(&[500, 500]);
    let wamid = send(&app, &recipient(4), "m4").await;
    let first = app.receiver.next().await;
    let second = app.receiver.next().await;
    let third = app.receiver.next().await;
    assert_eq!(
        [first.answered, second.answered, third.answered],
        [500, 500, 200]
    );
    assert_eq!(first.raw, third.raw, "a retry posts the same bytes");
    assert_eq!(first.signature, third.signature);
    assert_eq!(third.statuses()[0]["id"], wamid);

    let deliveries = app.deliveries().await;
    let data = deliveries["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{deliveries}");
    assert_eq!(data[0]["state"], "delivered");
    let attempts: Vec<Value> = data[0]["attempts"].as_array().unwrap().clone();
    let answered: Vec<&Value> = attempts.iter().map(|a| &a["status"]).collect();
    assert_eq!(answered, [&json!(500), &json!(500), &json!(200)]);
    assert_eq!(deliveries["stats"]["delivered"], 1);
    assert_eq!(deliveries["stats"]["failed_attempts"], 2);
    assert_eq!(deliveries["stats"]["pending_deliveries"], 0);
}

#[tokio::test]
async fn a_delivery_whose_retries_run_out_is_reported_as_given_up() {
    let mut app = TestSandbox::start_with(|c| {
        c.webhooks.retry.max_retries = 1;
        c.webhooks.outcomes.read = 0.0;
        c.webhooks.outcomes.failed = 1.0;
    })
    .await;
    app.receiver.answer_with(&[503, 503]);
    send(&app, &recipient(5), "m5").await;
    app.receiver.next().await;
    app.receiver.next().await;
    // The give-up is recorded right after the second answer; poll the admin API for it.
    let deadline = tokio::time::Instant::now() + support::PATIENCE;
    loop {
        let given_up = app.admin_get("/webhooks/deliveries?state=gave_up").await;
        if let Some(delivery) = given_up["data"].as_array().unwrap().first() {
            assert_eq!(delivery["attempts"].as_array().unwrap().len(), 2);
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never given up");
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn duplicates_post_every_status_twice() {
    let mut app = TestSandbox::start_with(|c| c.webhooks.duplicate_share = 1.0).await;
    send(&app, &recipient(6), "m6").await;
    let statuses = app.receiver.statuses(6).await;
    let kinds: Vec<&str> = statuses
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["sent", "sent", "delivered", "delivered", "read", "read"]
    );
    assert_eq!(statuses[0], statuses[1]);
}

#[tokio::test]
async fn batching_puts_several_statuses_in_one_post() {
    let mut app = TestSandbox::start_with(|c| {
        c.webhooks.batch.max_statuses = 3;
        c.webhooks.batch.linger_ms = 5_000;
    })
    .await;
    let wamid = send(&app, &recipient(7), "m7").await;
    let received = app.receiver.next().await;
    let statuses = received.statuses();
    assert_eq!(statuses.len(), 3, "{}", received.body);
    assert!(statuses.iter().all(|s| s["id"] == wamid));
}

#[tokio::test]
async fn reordering_posts_read_before_sent() {
    let mut app = TestSandbox::start_with(|c| c.webhooks.reorder_share = 1.0).await;
    send(&app, &recipient(8), "m8").await;
    let statuses = app.receiver.statuses(3).await;
    let kinds: Vec<&str> = statuses
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["read", "delivered", "sent"]);
}

#[tokio::test]
async fn outcome_shares_decide_how_sends_end() {
    let mut app = TestSandbox::start_with(|c| {
        c.webhooks.outcomes.read = 0.0;
        c.webhooks.outcomes.delivered = 1.0;
    })
    .await;
    send(&app, &recipient(9), "m9").await;
    let statuses = app.receiver.statuses(2).await;
    let kinds: Vec<&str> = statuses
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["sent", "delivered"]);
    assert_eq!(
        app.ledger_for(&recipient(9)).await[0]["outcome"],
        "delivered"
    );
}

#[tokio::test]
async fn a_template_status_change_through_the_admin_api_posts_message_template_status_update() {
    let mut app = TestSandbox::start().await;
    let templates = app.admin_get("/templates").await;
    let template = templates["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "spring_sale")
        .unwrap()
        .clone();
    let id = template["id"].as_str().unwrap();
    app.admin_post(
        &format!("/templates/{id}/status"),
        json!({"status": "PAUSED", "reason": "NONE"}),
    )
    .await;
    let received = app.receiver.next_of("message_template_status_update").await;
    assert!(received.signature_valid);
    let sample = webhook_sample("template_status_approved__pywa.json");
    assert_eq!(
        missing_keys(&sample, &received.body, "$"),
        Vec::<String>::new()
    );
    let value = received.value();
    assert_eq!(value["event"], "PAUSED");
    assert_eq!(value["message_template_name"], "spring_sale");
    assert_eq!(value["message_template_language"], "en_US");
    assert_eq!(value["message_template_category"], "MARKETING");
    assert_eq!(
        value["message_template_id"].as_u64().unwrap().to_string(),
        id
    );
    assert!(received.body["entry"][0]["time"].is_u64());
}

#[tokio::test]
async fn injected_inbound_text_and_button_tap_look_like_metas_and_reference_our_wamid() {
    let mut app = TestSandbox::start().await;
    let to = recipient(10);
    let wamid = send(&app, &to, "m10").await;
    app.receiver.statuses(3).await;

    app.admin_post(
        "/inbound",
        json!({"phone_number_id": PHONE_NUMBER_ID, "from": to, "profile_name": "Ana",
               "type": "text", "body": "STOP"}),
    )
    .await;
    let text = app.receiver.next_of("messages").await;
    assert!(text.signature_valid);
    assert_eq!(
        missing_keys(&webhook_sample("msg_text__heyoo.json"), &text.body, "$"),
        Vec::<String>::new()
    );
    let value = text.value();
    assert_eq!(value["contacts"][0]["profile"]["name"], "Ana");
    assert_eq!(value["contacts"][0]["wa_id"], wa_id(10));
    assert_eq!(value["messages"][0]["from"], wa_id(10));
    assert_eq!(value["messages"][0]["type"], "text");
    assert_eq!(value["messages"][0]["text"]["body"], "STOP");
    assert!(
        value["messages"][0]["id"]
            .as_str()
            .unwrap()
            .starts_with("wamid.")
    );

    app.admin_post(
        "/inbound",
        json!({"phone_number_id": PHONE_NUMBER_ID, "from": to, "type": "button",
               "payload": "Stop promotions", "context_id": wamid}),
    )
    .await;
    let tap = app.receiver.next_of("messages").await;
    let sample = webhook_sample("msg_button_template_quick_reply__java.json");
    assert_eq!(missing_keys(&sample, &tap.body, "$"), Vec::<String>::new());
    let message = &tap.value()["messages"][0];
    assert_eq!(message["type"], "button");
    assert_eq!(message["button"]["payload"], "Stop promotions");
    assert_eq!(message["context"]["id"], wamid);
    assert_eq!(message["context"]["from"], "49301234567");
}

#[tokio::test]
async fn a_button_tap_must_reference_a_wamid_the_sandbox_sent() {
    let app = TestSandbox::start().await;
    let response = app
        .http
        .post(format!("{}/inbound", app.admin))
        .json(
            &json!({"phone_number_id": PHONE_NUMBER_ID, "from": recipient(11), "type": "button",
                      "payload": "x", "context_id": "wamid.unknown"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    assert_eq!(
        response.headers()["content-type"],
        herald_platform::http::PROBLEM_JSON
    );
}

#[tokio::test]
async fn raw_inbound_messages_are_passed_through_with_from_id_and_timestamp() {
    let mut app = TestSandbox::start().await;
    app.admin_post(
        "/inbound",
        json!({"phone_number_id": PHONE_NUMBER_ID, "from": recipient(12), "type": "raw",
               "message": {"type": "reaction", "reaction": {"message_id": "wamid.x", "emoji": "👍"}}}),
    )
    .await;
    let message = app.receiver.next_of("messages").await.value()["messages"][0].clone();
    assert_eq!(message["type"], "reaction");
    assert_eq!(message["from"], wa_id(12));
    assert!(message["timestamp"].is_string());
}

#[tokio::test]
async fn stop_and_resume_of_marketing_post_user_preferences_and_gate_marketing_sends() {
    let mut app = TestSandbox::start().await;
    let to = recipient(13);
    app.admin_post(
        "/user-preferences",
        json!({"phone_number_id": PHONE_NUMBER_ID, "from": to, "value": "stop"}),
    )
    .await;
    let stop = app.receiver.next_of("user_preferences").await;
    let preference = &stop.value()["user_preferences"][0];
    assert_eq!(preference["value"], "stop");
    assert_eq!(preference["category"], "marketing_messages");
    assert_eq!(preference["wa_id"], wa_id(13));
    assert!(preference["timestamp"].is_u64());

    send(&app, &to, "m13").await;
    let status = &app.receiver.statuses(1).await[0];
    assert_eq!(status["errors"][0]["code"], 131_050);

    app.admin_post(
        "/user-preferences",
        json!({"phone_number_id": PHONE_NUMBER_ID, "from": to, "value": "resume"}),
    )
    .await;
    assert_eq!(
        app.receiver.next_of("user_preferences").await.value()["user_preferences"][0]["value"],
        "resume"
    );
    send(&app, &to, "m13b").await;
    let statuses = app.receiver.statuses(3).await;
    assert!(statuses.iter().all(|s| s["status"] != "failed"));
}

#[tokio::test]
async fn the_verification_handshake_echoes_the_challenge() {
    let app = TestSandbox::start().await;
    let outcome = app.admin_post("/webhooks/verify", json!({})).await;
    assert_eq!(outcome["verified"], true, "{outcome}");
    assert_eq!(outcome["answer"], outcome["challenge"]);
}

#[tokio::test]
async fn the_callback_url_can_be_changed_at_runtime() {
    let mut app = TestSandbox::start_with(|c| c.webhooks.callback_url = None).await;
    send(&app, &recipient(14), "m14").await;
    assert_eq!(app.deliveries().await["stats"]["deliveries_created"], 0);
    let url = app.receiver.url.clone();
    app.admin_send(
        reqwest::Method::PUT,
        "/webhooks/callback",
        json!({"url": url}),
    )
    .await;
    send(&app, &recipient(15), "m15").await;
    let statuses = app.receiver.statuses(3).await;
    assert_eq!(statuses[0]["recipient_id"], wa_id(15));
}

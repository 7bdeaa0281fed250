//! Herald's Graph client against the sandbox on a random port: success, every error class, the
//! rate limits, faults, template paging and phone-number details, with the ledger as witness.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use herald_graph::{
    AccessToken, ButtonSubType, Component, ErrorAction, ErrorClass, MessageStatus, Parameter,
    RetryScope, TemplateMessage, TemplateQuery, TemplateStatus, TextMessage,
};
use serde_json::json;
use support::{PHONE_NUMBER_ID, TestSandbox, WABA_ID, recipient, wa_id};

fn order_update(to: &str) -> TemplateMessage {
    TemplateMessage::new(to, "order_update", "en_US").with_components(vec![
        Component::header(vec![Parameter::text("Ana")]),
        Component::body(vec![Parameter::text("A-17"), Parameter::text("today")]),
        Component::button(ButtonSubType::Url, 1, vec![Parameter::text("A-17")]),
    ])
}

fn spring_sale(to: &str) -> TemplateMessage {
    TemplateMessage::new(to, "spring_sale", "en_US")
        .with_components(vec![Component::body(vec![Parameter::text("Ana")])])
}

#[tokio::test]
async fn an_accepted_template_gets_a_wamid_and_lands_in_the_ledger_once() {
    let app = TestSandbox::start().await;
    let to = recipient(1);
    let accepted = app
        .graph
        .send_template(
            PHONE_NUMBER_ID,
            &app.token,
            &order_update(&to).with_callback_data("msg-1"),
        )
        .await
        .unwrap();
    assert!(
        accepted.wamid.starts_with("wamid.HBg"),
        "{}",
        accepted.wamid
    );
    assert_eq!(accepted.message_status, Some(MessageStatus::Accepted));
    assert_eq!(accepted.wa_id.as_deref(), Some(wa_id(1).as_str()));
    assert_eq!(accepted.input.as_deref(), Some(to.as_str()));

    let ledger = app.ledger_for(&to).await;
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0]["wamid"], accepted.wamid);
    assert_eq!(ledger[0]["biz_opaque_callback_data"], "msg-1");
    assert_eq!(ledger[0]["template_name"], "order_update");
    let by_callback = app.admin_get("/ledger?callback_data=msg-1").await;
    assert_eq!(by_callback["total"], 1);
}

#[tokio::test]
async fn named_parameters_are_accepted_in_any_order() {
    let app = TestSandbox::start().await;
    let message =
        TemplateMessage::new(recipient(2), "welcome_named", "en_US").with_components(vec![
            Component::body(vec![Parameter::text("Ana").named("first_name")]),
        ]);
    app.graph
        .send_template(PHONE_NUMBER_ID, &app.token, &message)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_wrong_token_is_190_and_halts_the_phone_number() {
    let app = TestSandbox::start().await;
    let error = app
        .graph
        .send_template(
            PHONE_NUMBER_ID,
            &AccessToken::new("stolen"),
            &order_update(&recipient(3)),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some(190));
    assert_eq!(error.http_status(), Some(401));
    assert_eq!(error.class(), ErrorClass::HaltPhoneNumber);
    assert!(app.ledger_for(&recipient(3)).await.is_empty());
}

#[tokio::test]
async fn a_revoked_token_stops_working() {
    let app = TestSandbox::start().await;
    app.admin_post("/tokens", json!({"token": "second"})).await;
    let second = AccessToken::new("second");
    app.graph
        .send_template(PHONE_NUMBER_ID, &second, &order_update(&recipient(4)))
        .await
        .unwrap();
    app.admin_post("/tokens/revoke", json!({"token": "second"}))
        .await;
    let error = app
        .graph
        .send_template(PHONE_NUMBER_ID, &second, &order_update(&recipient(4)))
        .await
        .unwrap_err();
    assert_eq!(error.action(), ErrorAction::HaltPhoneNumber);
}

#[tokio::test]
async fn a_missing_token_is_104_with_http_401() {
    let app = TestSandbox::start().await;
    let (status, body) = app
        .post_message(None, PHONE_NUMBER_ID, &json!({"messaging_product":"whatsapp","to":"+4915112345678","type":"text","text":{"body":"x"}}))
        .await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], 104);
}

#[tokio::test]
async fn an_unknown_phone_number_id_is_metas_object_does_not_exist_error() {
    let app = TestSandbox::start().await;
    let error = app
        .graph
        .send_template("999999", &app.token, &order_update(&recipient(5)))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some(100));
    assert_eq!(error.http_status(), Some(400));
    let body = error.body().unwrap();
    assert!(
        body.error
            .message
            .contains("Object with ID '999999' does not exist"),
        "{body:?}"
    );
    assert_eq!(body.error.error_type, "GraphMethodException");
}

#[tokio::test]
async fn a_template_missing_in_that_language_is_132001_with_http_404_and_halts_the_campaign() {
    let app = TestSandbox::start().await;
    let message = TemplateMessage::new(recipient(6), "order_update", "de_DE");
    let error = app
        .graph
        .send_template(PHONE_NUMBER_ID, &app.token, &message)
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some(132_001));
    assert_eq!(error.http_status(), Some(404));
    assert_eq!(error.action(), ErrorAction::HaltCampaign);
    assert!(error.body().unwrap().details().unwrap().contains("de_DE"));
}

#[tokio::test]
async fn a_template_that_is_not_approved_cannot_be_sent() {
    let app = TestSandbox::start().await;
    let templates = app.admin_get("/templates").await;
    let id = templates["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "spring_sale")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (status, code) in [
        ("PENDING", 132_001),
        ("PAUSED", 132_015),
        ("DISABLED", 132_016),
    ] {
        app.admin_post(
            &format!("/templates/{id}/status"),
            json!({"status": status}),
        )
        .await;
        let error = app
            .graph
            .send_template(PHONE_NUMBER_ID, &app.token, &spring_sale(&recipient(7)))
            .await
            .unwrap_err();
        assert_eq!(error.code(), Some(code), "{status}");
        assert_eq!(error.class(), ErrorClass::HaltCampaign, "{status}");
    }
    app.admin_post(
        &format!("/templates/{id}/status"),
        json!({"status": "APPROVED"}),
    )
    .await;
    app.graph
        .send_template(PHONE_NUMBER_ID, &app.token, &spring_sale(&recipient(7)))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_wrong_parameter_count_is_132000_and_a_wrong_kind_132012_both_halting_the_campaign() {
    let app = TestSandbox::start().await;
    let too_few =
        TemplateMessage::new(recipient(8), "order_update", "en_US").with_components(vec![
            Component::header(vec![Parameter::text("Ana")]),
            Component::body(vec![Parameter::text("A-17")]),
            Component::button(ButtonSubType::Url, 1, vec![Parameter::text("A-17")]),
        ]);
    let error = app
        .graph
        .send_template(PHONE_NUMBER_ID, &app.token, &too_few)
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some(132_000));
    assert_eq!(error.action(), ErrorAction::HaltCampaign);

    let wrong_kind =
        TemplateMessage::new(recipient(8), "order_update", "en_US").with_components(vec![
            Component::header(vec![Parameter::image(herald_graph::MediaSource::Id(
                "1".into(),
            ))]),
            Component::body(vec![Parameter::text("A-17"), Parameter::text("today")]),
            Component::button(ButtonSubType::Url, 1, vec![Parameter::text("A-17")]),
        ]);
    let error = app
        .graph
        .send_template(PHONE_NUMBER_ID, &app.token, &wrong_kind)
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some(132_012));
    assert_eq!(error.action(), ErrorAction::HaltCampaign);
    assert!(app.ledger_for(&recipient(8)).await.is_empty());
}

#[tokio::test]
async fn a_malformed_recipient_is_100_naming_to_and_fails_only_that_recipient() {
    let app = TestSandbox::start().await;
    let error = app
        .graph
        .send_template(
            PHONE_NUMBER_ID,
            &app.token,
            &order_update("+49 151 CALL-ME"),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some(100));
    assert_eq!(error.action(), ErrorAction::FailRecipient);
}

#[tokio::test]
async fn recipients_are_read_with_punctuation_and_reported_as_wa_ids() {
    let app = TestSandbox::start().await;
    let accepted = app
        .graph
        .send_template(
            PHONE_NUMBER_ID,
            &app.token,
            &order_update("+49 (151) 0000-0009"),
        )
        .await
        .unwrap();
    assert_eq!(accepted.wa_id.as_deref(), Some("4915100000009"));
    // Without '+', the business number's country code (+49 here) is prepended when missing.
    let accepted = app
        .graph
        .send_template(PHONE_NUMBER_ID, &app.token, &order_update("15100000019"))
        .await
        .unwrap();
    assert_eq!(accepted.wa_id.as_deref(), Some("4915100000019"));
}

#[tokio::test]
async fn the_per_number_throughput_limit_answers_130429_and_asks_to_retry_the_number() {
    let app = TestSandbox::start_with(|c| {
        c.limits.messages_per_second = 3;
        c.limits.pair_rate.enabled = false;
    })
    .await;
    let started = std::time::Instant::now();
    let mut accepted = 0;
    let mut throttled = None;
    for i in 0..20 {
        match app
            .graph
            .send_template(
                PHONE_NUMBER_ID,
                &app.token,
                &order_update(&recipient(100 + i)),
            )
            .await
        {
            Ok(_) => accepted += 1,
            Err(error) => {
                throttled = Some(error);
                break;
            }
        }
    }
    let error = throttled.expect("20 sends at 3 mps must hit the limit");
    assert_eq!(error.code(), Some(130_429));
    assert!(matches!(
        error.action(),
        ErrorAction::RetryLater {
            scope: RetryScope::PhoneNumber,
            outcome_unknown: false,
            ..
        }
    ));
    // A full bucket holds 3; more only as time passes (3 per second).
    let allowed = 3 + (started.elapsed().as_secs_f64() * 3.0).ceil() as usize;
    assert!(
        accepted >= 3 && accepted <= allowed,
        "{accepted} accepted, {allowed} allowed"
    );
    let summary = app.admin_get("/ledger/summary").await;
    assert_eq!(summary["accepted"], accepted);
}

#[tokio::test]
async fn the_throughput_limit_can_be_lifted() {
    let app = TestSandbox::start_with(|c| {
        c.limits.messages_per_second = 1;
        c.limits.enforce_throughput = false;
    })
    .await;
    for i in 0..10 {
        app.graph
            .send_template(
                PHONE_NUMBER_ID,
                &app.token,
                &order_update(&recipient(200 + i)),
            )
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn the_pair_rate_limit_answers_131056_for_that_recipient_only() {
    let app = TestSandbox::start_with(|c| {
        c.limits.pair_rate.burst = 2;
    })
    .await;
    let to = recipient(300);
    for _ in 0..2 {
        app.graph
            .send_template(PHONE_NUMBER_ID, &app.token, &order_update(&to))
            .await
            .unwrap();
    }
    let error = app
        .graph
        .send_template(PHONE_NUMBER_ID, &app.token, &order_update(&to))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some(131_056));
    assert!(matches!(
        error.action(),
        ErrorAction::RetryLater {
            scope: RetryScope::Recipient,
            ..
        }
    ));
    // Others are not affected.
    app.graph
        .send_template(PHONE_NUMBER_ID, &app.token, &order_update(&recipient(301)))
        .await
        .unwrap();
    assert_eq!(app.ledger_for(&to).await.len(), 2);
}

#[tokio::test]
async fn queued_faults_give_5xx_throttles_and_proxy_errors_that_the_client_retries() {
    let app = TestSandbox::start().await;
    app.admin_post(
        "/faults/sends",
        json!({"faults": ["server_error", "internal_error", "bad_gateway", "throttle"]}),
    )
    .await;
    let message = order_update(&recipient(400));
    let send = || {
        app.graph
            .send_template(PHONE_NUMBER_ID, &app.token, &message)
    };

    let unavailable = send().await.unwrap_err();
    assert_eq!(
        (unavailable.code(), unavailable.http_status()),
        (Some(2), Some(503))
    );
    assert!(unavailable.is_retryable());

    let internal = send().await.unwrap_err();
    assert_eq!(
        (internal.code(), internal.http_status()),
        (Some(131_000), Some(500))
    );
    assert!(internal.is_retryable());

    let gateway = send().await.unwrap_err();
    assert_eq!((gateway.code(), gateway.http_status()), (None, Some(502)));
    assert!(gateway.is_retryable() && gateway.outcome_unknown());

    let throttled = send().await.unwrap_err();
    assert_eq!(throttled.code(), Some(130_429));

    assert!(app.ledger_for(&recipient(400)).await.is_empty());
    send().await.unwrap();
    assert_eq!(app.ledger_for(&recipient(400)).await.len(), 1);
}

#[tokio::test]
async fn a_timed_out_send_may_have_been_accepted_and_the_ledger_says_so() {
    let app = TestSandbox::start_with(|c| {
        c.faults.timeout_ms = 1_500;
    })
    .await;
    app.admin_post("/faults/sends", json!({"faults": ["timeout"]}))
        .await;
    let impatient = app.impatient_graph(Duration::from_millis(300));
    let error = impatient
        .send_template(
            PHONE_NUMBER_ID,
            &app.token,
            &order_update(&recipient(500)).with_callback_data("msg-500"),
        )
        .await
        .unwrap_err();
    assert!(error.outcome_unknown(), "{error}");
    let ledger = app.ledger_for(&recipient(500)).await;
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0]["biz_opaque_callback_data"], "msg-500");
}

#[tokio::test]
async fn random_throttle_bursts_can_be_configured() {
    let app = TestSandbox::start_with(|c| {
        c.faults.throttle_burst_share = 1.0;
        c.faults.throttle_burst_length = 3;
    })
    .await;
    for _ in 0..3 {
        let error = app
            .graph
            .send_template(PHONE_NUMBER_ID, &app.token, &order_update(&recipient(600)))
            .await
            .unwrap_err();
        assert_eq!(error.code(), Some(130_429));
    }
}

#[tokio::test]
async fn an_undeliverable_recipient_is_accepted_then_fails_by_webhook_with_131026() {
    let mut app = TestSandbox::start().await;
    // `*0000` is configured as undeliverable in the test configuration.
    let to = recipient(90_000);
    let accepted = app
        .graph
        .send_template(
            PHONE_NUMBER_ID,
            &app.token,
            &order_update(&to).with_callback_data("m-9"),
        )
        .await
        .unwrap();
    let statuses = app.receiver.statuses(1).await;
    assert_eq!(statuses[0]["id"], accepted.wamid);
    assert_eq!(statuses[0]["status"], "failed");
    assert_eq!(statuses[0]["errors"][0]["code"], 131_026);
    assert_eq!(statuses[0]["biz_opaque_callback_data"], "m-9");
    let classification = herald_graph::classify(131_026, None, None);
    assert_eq!(classification.action, ErrorAction::FailRecipient);
}

#[tokio::test]
async fn recipients_marked_through_the_admin_api_fail_with_their_codes() {
    let mut app = TestSandbox::start().await;
    for (n, behaviour) in [
        (701, "opted_out"),
        (702, "marketing_limited"),
        (703, "experiment"),
    ] {
        app.admin_send(
            reqwest::Method::PUT,
            &format!("/recipients/{}", recipient(n).replace('+', "%2B")),
            json!({"behaviour": behaviour}),
        )
        .await;
    }
    // Opt-outs and the marketing limit apply to marketing templates only.
    for (n, code) in [(701, 131_050), (702, 131_049), (703, 130_472)] {
        app.graph
            .send_template(PHONE_NUMBER_ID, &app.token, &spring_sale(&recipient(n)))
            .await
            .unwrap();
        let status = &app.receiver.statuses(1).await[0];
        assert_eq!(status["status"], "failed");
        assert_eq!(status["errors"][0]["code"], code, "{n}");
    }
    app.graph
        .send_template(PHONE_NUMBER_ID, &app.token, &order_update(&recipient(701)))
        .await
        .unwrap();
    let statuses = app.receiver.statuses(3).await;
    assert!(
        statuses.iter().all(|s| s["status"] != "failed"),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn a_text_outside_the_service_window_fails_with_131047_and_inside_it_is_delivered() {
    let mut app = TestSandbox::start().await;
    let to = recipient(800);
    app.graph
        .send_text(PHONE_NUMBER_ID, &app.token, &TextMessage::new(&to, "hello"))
        .await
        .unwrap();
    let status = &app.receiver.statuses(1).await[0];
    assert_eq!(status["status"], "failed");
    assert_eq!(status["errors"][0]["code"], 131_047);

    app.admin_post(
        "/inbound",
        json!({"phone_number_id": PHONE_NUMBER_ID, "from": to, "type": "text", "body": "hi"}),
    )
    .await;
    app.receiver.next_of("messages").await;
    app.graph
        .send_text(
            PHONE_NUMBER_ID,
            &app.token,
            &TextMessage::new(&to, "hello again"),
        )
        .await
        .unwrap();
    let statuses = app.receiver.statuses(3).await;
    let kinds: Vec<_> = statuses
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["sent", "delivered", "read"]);
    assert_eq!(statuses[0]["pricing"]["category"], "service");
}

#[tokio::test]
async fn texts_outside_the_window_can_be_refused_at_once() {
    let app = TestSandbox::start_with(|c| {
        c.messaging.text_outside_window = herald_sandbox::config::OutsideWindow::Reject;
    })
    .await;
    let error = app
        .graph
        .send_text(
            PHONE_NUMBER_ID,
            &app.token,
            &TextMessage::new(recipient(801), "hello"),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some(131_047));
    assert_eq!(error.action(), ErrorAction::FailRecipient);
}

#[tokio::test]
async fn templates_are_listed_page_by_page_with_cursors() {
    let app = TestSandbox::start().await;
    for i in 0..5 {
        app.admin_post(
            "/templates",
            json!({"waba_id": WABA_ID, "name": format!("extra_{i}"), "language": "en_US",
                   "category": "UTILITY", "components": [{"type":"BODY","text":"x"}]}),
        )
        .await;
    }
    // 3 test templates + 5 extra = 8, in pages of 3.
    let mut query = TemplateQuery::first_page(3);
    let mut names = Vec::new();
    let mut pages = 0;
    loop {
        let page = app
            .graph
            .list_templates(WABA_ID, &app.token, &query)
            .await
            .unwrap();
        pages += 1;
        names.extend(page.data.iter().map(|t| t.name.clone()));
        match query.next_after(&page) {
            Some(next) => query = next,
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names.len(), 8);
    assert_eq!(names[0], "order_update");
    assert_eq!(names[7], "extra_4");

    let approved = TemplateQuery {
        name: Some("spring_sale".into()),
        status: Some(TemplateStatus::Approved),
        ..TemplateQuery::first_page(10)
    };
    let page = app
        .graph
        .list_templates(WABA_ID, &app.token, &approved)
        .await
        .unwrap();
    assert_eq!(page.data.len(), 1);
    assert_eq!(
        page.data[0].category,
        herald_graph::TemplateCategory::Marketing
    );
    assert!(page.next_cursor().is_none());
}

#[tokio::test]
async fn the_raw_template_list_has_metas_paging_shape() {
    let app = TestSandbox::start().await;
    let url = format!(
        "{}/v23.0/{WABA_ID}/message_templates?limit=2&fields=name,status",
        app.base
    );
    let body: serde_json::Value = app
        .http
        .get(&url)
        .bearer_auth(support::TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    assert!(
        body["data"][0].get("components").is_none(),
        "fields are projected"
    );
    let after = body["paging"]["cursors"]["after"].as_str().unwrap();
    assert!(body["paging"]["cursors"]["before"].is_string());
    let next = body["paging"]["next"].as_str().unwrap();
    assert!(next.contains(&format!("after={after}")), "{next}");
    let second: serde_json::Value = app
        .http
        .get(next)
        .bearer_auth(support::TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(second["data"].as_array().unwrap().len(), 1);
    assert!(second["paging"].get("next").is_none());
    assert!(second["paging"]["previous"].is_string());
}

#[tokio::test]
async fn templates_created_through_the_graph_api_start_pending_and_get_approved() {
    let mut app = TestSandbox::start().await;
    let created: serde_json::Value = app
        .http
        .post(format!("{}/v23.0/{WABA_ID}/message_templates", app.base))
        .bearer_auth(support::TOKEN)
        .json(
            &json!({"name": "shipping_note", "language": "en_US", "category": "UTILITY",
                      "components": [{"type": "BODY", "text": "Your parcel {{1}} ships."}]}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["status"], "PENDING");
    let update = app.receiver.next_of("message_template_status_update").await;
    assert_eq!(update.value()["event"], "APPROVED");
    assert_eq!(update.value()["message_template_name"], "shipping_note");
    let message = TemplateMessage::new(recipient(900), "shipping_note", "en_US")
        .with_components(vec![Component::body(vec![Parameter::text("P-1")])]);
    app.graph
        .send_template(PHONE_NUMBER_ID, &app.token, &message)
        .await
        .unwrap();
}

#[tokio::test]
async fn phone_number_details_report_throughput_and_messaging_limit() {
    let app = TestSandbox::start().await;
    let details = app
        .graph
        .phone_number(PHONE_NUMBER_ID, &app.token)
        .await
        .unwrap();
    assert_eq!(details.id, PHONE_NUMBER_ID);
    assert_eq!(details.throughput_level(), Some("STANDARD"));
    assert_eq!(details.messaging_limit(), Some("TIER_2K"));
    assert_eq!(details.quality_rating, herald_graph::QualityRating::Green);
}

//! The client against a local HTTP stub (wiremock on 127.0.0.1, port 0) standing in for Meta:
//! what it sends (path, version, bearer token, JSON body, query) and how it turns each kind of
//! answer, or the lack of one, into a result.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use herald_graph::{
    AccessToken, ButtonSubType, Component, ErrorAction, ErrorClass, Failure, GraphClient,
    GraphConfig, MediaSource, MessageStatus, Parameter, QualityRating, RetryScope, TemplateMessage,
    TemplateQuery, TemplateStatus, TextMessage, TransportKind, Url,
};
use serde_json::{Value, json};
use wiremock::matchers::{
    bearer_token, body_json, header, method, path, query_param, query_param_is_missing,
};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PHONE_NUMBER_ID: &str = "106540352242922";
const WABA_ID: &str = "102290129340398";
const TOKEN: &str = "EAAG-test-token-do-not-log";

fn token() -> AccessToken {
    AccessToken::new(TOKEN)
}

fn client_for(server: &MockServer) -> GraphClient {
    GraphClient::new(GraphConfig::with_base_url(
        Url::parse(&server.uri()).unwrap(),
    ))
    .unwrap()
}

fn order_update() -> TemplateMessage {
    TemplateMessage::new("+4915112345678", "order_update", "en_US")
        .with_callback_data("herald-msg-42")
        .with_components(vec![
            Component::header(vec![Parameter::image(MediaSource::Id("4490".into()))]),
            Component::body(vec![Parameter::text("Ana"), Parameter::text("A-17")]),
            Component::button(
                ButtonSubType::QuickReply,
                0,
                vec![Parameter::payload("STOP")],
            ),
        ])
}

fn accepted_body() -> Value {
    json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": "+4915112345678", "wa_id": "4915112345678"}],
        "messages": [{"id": "wamid.HBgLNDkxNTExMjM0NTY3OBUCABEYEjA", "message_status": "accepted"}]
    })
}

fn graph_error(code: i64, details: &str) -> Value {
    json!({"error": {
        "message": format!("(#{code}) title"), "type": "OAuthException", "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": details},
        "fbtrace_id": "AbC1"
    }})
}

async fn mount_send_answer(server: &MockServer, answer: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path(format!("/v23.0/{PHONE_NUMBER_ID}/messages")))
        .respond_with(answer)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_template_send_posts_the_json_body_with_the_bearer_token_and_returns_the_wamid() {
    let server = MockServer::start().await;
    let message = order_update();
    Mock::given(method("POST"))
        .and(path(format!("/v23.0/{PHONE_NUMBER_ID}/messages")))
        .and(bearer_token(TOKEN))
        .and(header("content-type", "application/json"))
        .and(body_json(serde_json::to_value(&message).unwrap()))
        .respond_with(ResponseTemplate::new(200).set_body_json(accepted_body()))
        .expect(1)
        .mount(&server)
        .await;

    let accepted = client_for(&server)
        .send_template(PHONE_NUMBER_ID, &token(), &message)
        .await
        .unwrap();

    assert_eq!(accepted.wamid, "wamid.HBgLNDkxNTExMjM0NTY3OBUCABEYEjA");
    assert_eq!(accepted.message_status, Some(MessageStatus::Accepted));
    assert_eq!(accepted.wa_id.as_deref(), Some("4915112345678"));
    assert_eq!(accepted.input.as_deref(), Some("+4915112345678"));

    let requests = server.received_requests().await.unwrap();
    let sent: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(sent["biz_opaque_callback_data"], "herald-msg-42");
    assert_eq!(sent["type"], "template");
    assert_eq!(sent["messaging_product"], "whatsapp");
    assert_eq!(
        requests[0].headers.get("authorization").unwrap(),
        &format!("Bearer {TOKEN}")
    );
}

#[tokio::test]
async fn a_text_send_posts_a_text_body_and_returns_the_wamid_without_a_status() {
    let server = MockServer::start().await;
    let message = TextMessage::new("+4915112345678", "Your order ships today");
    Mock::given(method("POST"))
        .and(path(format!("/v23.0/{PHONE_NUMBER_ID}/messages")))
        .and(bearer_token(TOKEN))
        .and(body_json(json!({
            "messaging_product": "whatsapp", "recipient_type": "individual",
            "to": "+4915112345678", "type": "text",
            "text": {"body": "Your order ships today", "preview_url": false}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": "+4915112345678", "wa_id": "4915112345678"}],
            "messages": [{"id": "wamid.text"}]
        })))
        .expect(1)
        .mount(&server)
        .await;

    let accepted = client_for(&server)
        .send_text(PHONE_NUMBER_ID, &token(), &message)
        .await
        .unwrap();
    assert_eq!(accepted.wamid, "wamid.text");
    assert_eq!(accepted.message_status, None);
}

#[tokio::test]
async fn a_base_url_with_a_path_prefix_keeps_the_prefix_and_ids_cannot_escape_the_path() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/sandbox/v23.0/1%2F..%2Fx/messages"))
        .respond_with(ResponseTemplate::new(200).set_body_json(accepted_body()))
        .expect(1)
        .mount(&server)
        .await;
    let base = Url::parse(&format!("{}/sandbox/", server.uri())).unwrap();
    let client = GraphClient::new(GraphConfig::with_base_url(base)).unwrap();
    client
        .send_template("1/../x", &token(), &order_update())
        .await
        .unwrap();
}

#[tokio::test]
async fn throughput_exceeded_is_retry_later_for_the_phone_number() {
    let server = MockServer::start().await;
    mount_send_answer(
        &server,
        ResponseTemplate::new(400).set_body_json(graph_error(130_429, "")),
    )
    .await;
    let error = client_for(&server)
        .send_template(PHONE_NUMBER_ID, &token(), &order_update())
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some(130_429));
    assert_eq!(error.class(), ErrorClass::RetryLater);
    assert!(matches!(
        error.action(),
        ErrorAction::RetryLater {
            scope: RetryScope::PhoneNumber,
            outcome_unknown: false,
            ..
        }
    ));
    assert!(error.retry_after().unwrap() >= Duration::from_secs(1));
    assert_eq!(error.http_status(), Some(400));
    assert_eq!(
        error.body().unwrap().error.fbtrace_id.as_deref(),
        Some("AbC1")
    );
}

#[tokio::test]
async fn a_waba_rate_limit_waits_for_the_time_in_the_business_use_case_header() {
    let server = MockServer::start().await;
    let usage = format!(
        r#"{{"{WABA_ID}":[{{"type":"whatsapp","call_count":100,"total_cputime":3,"total_time":4,"estimated_time_to_regain_access":7}}]}}"#
    );
    mount_send_answer(
        &server,
        ResponseTemplate::new(400)
            .set_body_json(graph_error(80007, ""))
            .insert_header("x-business-use-case-usage", usage.as_str()),
    )
    .await;
    let error = client_for(&server)
        .send_template(PHONE_NUMBER_ID, &token(), &order_update())
        .await
        .unwrap_err();
    assert!(matches!(
        error.action(),
        ErrorAction::RetryLater {
            scope: RetryScope::Waba,
            ..
        }
    ));
    assert_eq!(error.retry_after(), Some(Duration::from_secs(7 * 60)));
}

#[tokio::test]
async fn an_undeliverable_recipient_fails_that_recipient() {
    let server = MockServer::start().await;
    mount_send_answer(
        &server,
        ResponseTemplate::new(400).set_body_json(graph_error(131_026, "Message undeliverable")),
    )
    .await;
    let error = client_for(&server)
        .send_template(PHONE_NUMBER_ID, &token(), &order_update())
        .await
        .unwrap_err();
    assert_eq!(error.action(), ErrorAction::FailRecipient);
    assert!(!error.is_retryable());
    assert_eq!(
        error.body().unwrap().details(),
        Some("Message undeliverable")
    );
}

#[tokio::test]
async fn a_missing_template_halts_the_campaign() {
    let server = MockServer::start().await;
    mount_send_answer(
        &server,
        ResponseTemplate::new(404).set_body_json(graph_error(
            132_001,
            "template name does not exist in en_US",
        )),
    )
    .await;
    let error = client_for(&server)
        .send_template(PHONE_NUMBER_ID, &token(), &order_update())
        .await
        .unwrap_err();
    assert_eq!(error.action(), ErrorAction::HaltCampaign);
    assert_eq!(error.class(), ErrorClass::HaltCampaign);
}

#[tokio::test]
async fn an_invalid_token_halts_the_phone_number_and_the_token_never_appears_in_the_error() {
    let server = MockServer::start().await;
    // A hypothetical body that echoes the token: it must be redacted before anyone can log it.
    let body = json!({"error": {
        "message": format!("Invalid OAuth access token - Cannot parse access token {TOKEN}"),
        "type": "OAuthException", "code": 190, "error_subcode": 463, "fbtrace_id": "AbC1"
    }});
    mount_send_answer(&server, ResponseTemplate::new(401).set_body_json(body)).await;
    let error = client_for(&server)
        .send_template(PHONE_NUMBER_ID, &token(), &order_update())
        .await
        .unwrap_err();
    assert_eq!(error.action(), ErrorAction::HaltPhoneNumber);
    assert_eq!(error.code(), Some(190));
    for printed in [
        format!("{error}"),
        format!("{error:?}"),
        serde_json::to_string(error.body().unwrap()).unwrap(),
    ] {
        assert!(!printed.contains(TOKEN), "{printed}");
    }
}

#[tokio::test]
async fn an_unknown_code_is_retried_a_few_times_then_fails_the_recipient() {
    let server = MockServer::start().await;
    mount_send_answer(
        &server,
        ResponseTemplate::new(400).set_body_json(graph_error(987_654, "")),
    )
    .await;
    let error = client_for(&server)
        .send_template(PHONE_NUMBER_ID, &token(), &order_update())
        .await
        .unwrap_err();
    assert_eq!(error.class(), ErrorClass::Unknown);
    assert!(matches!(
        error.action(),
        ErrorAction::RetryLater {
            max_retries: Some(3),
            ..
        }
    ));
}

#[tokio::test]
async fn an_http_5xx_with_an_html_body_is_retry_later_with_an_unknown_outcome() {
    let server = MockServer::start().await;
    mount_send_answer(
        &server,
        ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>"),
    )
    .await;
    let error = client_for(&server)
        .send_template(PHONE_NUMBER_ID, &token(), &order_update())
        .await
        .unwrap_err();
    assert!(error.is_retryable());
    assert!(error.outcome_unknown());
    assert_eq!(error.http_status(), Some(502));
    assert!(
        matches!(error.failure(), Failure::UnexpectedBody { excerpt, .. } if excerpt.contains("Bad Gateway"))
    );
}

#[tokio::test]
async fn an_http_5xx_with_a_graph_body_is_classified_by_its_code() {
    let server = MockServer::start().await;
    mount_send_answer(
        &server,
        ResponseTemplate::new(503).set_body_json(graph_error(133_004, "")),
    )
    .await;
    let error = client_for(&server)
        .send_template(PHONE_NUMBER_ID, &token(), &order_update())
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some(133_004));
    assert!(matches!(
        error.action(),
        ErrorAction::RetryLater {
            scope: RetryScope::PhoneNumber,
            ..
        }
    ));
}

#[tokio::test]
async fn a_4xx_with_a_non_json_body_gets_the_unknown_code_default() {
    let server = MockServer::start().await;
    mount_send_answer(&server, ResponseTemplate::new(400).set_body_string("oops")).await;
    let error = client_for(&server)
        .send_template(PHONE_NUMBER_ID, &token(), &order_update())
        .await
        .unwrap_err();
    assert_eq!(error.class(), ErrorClass::Unknown);
    assert!(!error.outcome_unknown());
}

#[tokio::test]
async fn a_200_without_a_wamid_is_an_unknown_outcome() {
    let server = MockServer::start().await;
    mount_send_answer(
        &server,
        ResponseTemplate::new(200).set_body_json(json!({"messaging_product": "whatsapp"})),
    )
    .await;
    let error = client_for(&server)
        .send_template(PHONE_NUMBER_ID, &token(), &order_update())
        .await
        .unwrap_err();
    assert!(error.outcome_unknown());
    assert!(matches!(
        error.failure(),
        Failure::InvalidSuccessBody { .. }
    ));
}

#[tokio::test]
async fn a_send_that_outlives_the_client_timeout_is_retry_later_with_an_unknown_outcome() {
    let server = MockServer::start().await;
    mount_send_answer(
        &server,
        ResponseTemplate::new(200)
            .set_body_json(accepted_body())
            .set_delay(Duration::from_secs(3)),
    )
    .await;
    let config = GraphConfig {
        timeout: Duration::from_millis(300),
        ..GraphConfig::with_base_url(Url::parse(&server.uri()).unwrap())
    };
    let error = GraphClient::new(config)
        .unwrap()
        .send_template(PHONE_NUMBER_ID, &token(), &order_update())
        .await
        .unwrap_err();
    assert!(error.is_retryable());
    assert!(error.outcome_unknown(), "the stub did receive the request");
    assert!(matches!(
        error.failure(),
        Failure::Transport {
            kind: TransportKind::Timeout,
            ..
        }
    ));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn connection_refused_is_retry_later_and_known_not_to_have_been_sent() {
    // Bind a port, then free it: nothing listens there any more.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let base = Url::parse(&format!("http://{address}")).unwrap();
    let client = GraphClient::new(GraphConfig::with_base_url(base)).unwrap();

    let error = client
        .send_template(PHONE_NUMBER_ID, &token(), &order_update())
        .await
        .unwrap_err();
    assert!(error.is_retryable());
    assert!(!error.outcome_unknown());
    assert!(matches!(
        error.action(),
        ErrorAction::RetryLater {
            scope: RetryScope::App,
            ..
        }
    ));
    assert!(matches!(
        error.failure(),
        Failure::Transport {
            kind: TransportKind::Connect,
            ..
        }
    ));
    assert_eq!(error.http_status(), None);
}

#[tokio::test]
async fn list_templates_pages_through_the_after_cursor_until_next_is_absent() {
    let server = MockServer::start().await;
    let template = |name: &str| {
        json!({
            "id": format!("id-{name}"), "name": name, "language": "en_US", "status": "APPROVED",
            "category": "MARKETING", "parameter_format": "POSITIONAL",
            "components": [{"type": "BODY", "text": "Hi {{1}}"}]
        })
    };
    Mock::given(method("GET"))
        .and(path(format!("/v23.0/{WABA_ID}/message_templates")))
        .and(bearer_token(TOKEN))
        .and(query_param("fields", "id,name,language,status,category,components,parameter_format"))
        .and(query_param("limit", "2"))
        .and(query_param("status", "APPROVED"))
        .and(query_param_is_missing("after"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [template("a"), template("b")],
            "paging": {"cursors": {"before": "B0", "after": "A1"},
                       "next": format!("{}/v23.0/{WABA_ID}/message_templates?after=A1&access_token={TOKEN}", server.uri())}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v23.0/{WABA_ID}/message_templates")))
        .and(query_param("after", "A1"))
        .and(query_param("limit", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [template("c")],
            "paging": {"cursors": {"before": "B1", "after": "A2"}}
        })))
        .expect(1)
        .mount(&server)
        .await;

    let client = client_for(&server);
    let mut query = TemplateQuery {
        status: Some(TemplateStatus::Approved),
        ..TemplateQuery::first_page(2)
    };
    let mut names = Vec::new();
    loop {
        let page = client
            .list_templates(WABA_ID, &token(), &query)
            .await
            .unwrap();
        names.extend(page.data.iter().map(|t| t.name.clone()));
        match query.next_after(&page) {
            Some(next) => query = next,
            None => break,
        }
    }
    assert_eq!(names, ["a", "b", "c"]);
}

#[tokio::test]
async fn a_template_list_error_is_classified_like_any_other() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v23.0/{WABA_ID}/message_templates")))
        .respond_with(ResponseTemplate::new(403).set_body_json(graph_error(200, "")))
        .mount(&server)
        .await;
    let error = client_for(&server)
        .list_templates(WABA_ID, &token(), &TemplateQuery::default())
        .await
        .unwrap_err();
    assert_eq!(error.action(), ErrorAction::HaltPhoneNumber);
}

#[tokio::test]
async fn phone_number_details_ask_for_throughput_and_the_version_s_messaging_limit_field() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v23.0/{PHONE_NUMBER_ID}")))
        .and(bearer_token(TOKEN))
        .and(query_param(
            "fields",
            "id,display_phone_number,verified_name,quality_rating,throughput,messaging_limit_tier",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": PHONE_NUMBER_ID, "display_phone_number": "+1 555-555-5555",
            "verified_name": "Jaspers Market", "quality_rating": "GREEN",
            "throughput": {"level": "STANDARD"}, "messaging_limit_tier": "TIER_1K"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let details = client_for(&server)
        .phone_number(PHONE_NUMBER_ID, &token())
        .await
        .unwrap();
    assert_eq!(details.quality_rating, QualityRating::Green);
    assert_eq!(details.throughput_level(), Some("STANDARD"));
    assert_eq!(details.messaging_limit(), Some("TIER_1K"));
    assert_eq!(details.verified_name, "Jaspers Market");
}

#[tokio::test]
async fn from_v24_phone_number_details_ask_for_the_business_manager_messaging_limit() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v24.0/{PHONE_NUMBER_ID}")))
        .and(query_param(
            "fields",
            "id,display_phone_number,verified_name,quality_rating,throughput,whatsapp_business_manager_messaging_limit",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": PHONE_NUMBER_ID, "quality_rating": "RED",
            "whatsapp_business_manager_messaging_limit": "TIER_250"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let config = GraphConfig {
        api_version: "v24.0".into(),
        ..GraphConfig::with_base_url(Url::parse(&server.uri()).unwrap())
    };
    let details = GraphClient::new(config)
        .unwrap()
        .phone_number(PHONE_NUMBER_ID, &token())
        .await
        .unwrap();
    assert_eq!(details.messaging_limit(), Some("TIER_250"));
    assert_eq!(details.quality_rating, QualityRating::Red);
}

#[test]
fn a_malformed_api_version_or_base_url_is_refused() {
    let bad_version = GraphConfig {
        api_version: "23.0".into(),
        ..GraphConfig::default()
    };
    assert!(GraphClient::new(bad_version).is_err());
    let bad_base = GraphConfig::with_base_url(Url::parse("mailto:meta@example.com").unwrap());
    assert!(GraphClient::new(bad_base).is_err());
}

//! Every documented response and error shape parses into the client's types: the success bodies
//! of `sendMessage`, every Graph error body anywhere in Meta's OpenAPI file, the template list and
//! phone-number answers, and the JSON samples of the reference.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use herald_graph::{
    GraphErrorBody, MessageResponse, MessageStatus, MessageTemplate, ParameterFormat,
    PhoneNumberDetails, QualityRating, SendAccepted, TemplateCategory, TemplatePage,
    TemplateStatus, business_use_case_wait,
};
use serde_json::{Value, json};
use support::{openapi, operation, reference_json_block, response_examples};

/// Every object in the document of the form `{"error": {"code": …}}`: Graph error bodies.
fn graph_error_bodies(value: &Value, found: &mut Vec<Value>) {
    match value {
        Value::Object(map) => {
            if map.len() == 1 && map.get("error").is_some_and(|e| e.get("code").is_some()) {
                found.push(value.clone());
            }
            map.values().for_each(|v| graph_error_bodies(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| graph_error_bodies(v, found)),
        _ => {}
    }
}

#[test]
fn every_send_message_success_example_parses_into_an_accepted_send() {
    let doc = openapi();
    let examples = response_examples(
        operation(&doc, "/{Version}/{Phone-Number-ID}/messages", "post"),
        "200",
    );
    let mut parsed = 0;
    for (name, example) in examples {
        if name == "Send typing indicator and read receipt" {
            // `{"success": true}`: the answer to marking a message read, not to a send.
            assert_eq!(example, json!({"success": true}));
            continue;
        }
        let response: MessageResponse =
            serde_json::from_value(example.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let accepted = SendAccepted::from_response(response).unwrap();
        assert!(
            accepted.wamid.starts_with("wamid."),
            "{name}: {}",
            accepted.wamid
        );
        assert_eq!(
            accepted.input.as_deref(),
            example["contacts"][0]["input"].as_str()
        );
        assert_eq!(
            accepted.wa_id.as_deref(),
            example["contacts"][0]["wa_id"].as_str()
        );
        parsed += 1;
    }
    assert!(parsed >= 40, "only {parsed} success examples");
}

#[test]
fn the_reference_success_body_parses_with_its_message_status() {
    let body = reference_json_block("\"message_status\":\"accepted\"");
    let response: MessageResponse = serde_json::from_value(body).unwrap();
    let accepted = SendAccepted::from_response(response).unwrap();
    assert_eq!(accepted.wamid, "wamid.HBgL…");
    assert_eq!(accepted.message_status, Some(MessageStatus::Accepted));
    assert_eq!(accepted.wa_id.as_deref(), Some("4915112345678"));
    assert_eq!(accepted.input.as_deref(), Some("+4915112345678"));
}

#[test]
fn paced_and_unknown_message_statuses_parse() {
    let response: MessageResponse = serde_json::from_value(json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": "+491", "wa_id": "491", "user_id": "US.1"}],
        "messages": [{"id": "wamid.A", "message_status": "held_for_quality_assessment"},
                     {"id": "wamid.B", "message_status": "something_new"}]
    }))
    .unwrap();
    assert_eq!(
        response.messages[0].message_status,
        Some(MessageStatus::HeldForQualityAssessment)
    );
    assert_eq!(
        response.messages[1].message_status,
        Some(MessageStatus::Unknown)
    );
    assert_eq!(response.contacts[0].user_id.as_deref(), Some("US.1"));
}

#[test]
fn every_graph_error_body_in_the_openapi_file_parses() {
    let mut bodies = Vec::new();
    graph_error_bodies(&openapi(), &mut bodies);
    assert!(
        bodies.len() >= 50,
        "only {} error bodies found",
        bodies.len()
    );
    for body in bodies {
        let parsed: GraphErrorBody =
            serde_json::from_value(body.clone()).unwrap_or_else(|e| panic!("{e}: {body}"));
        assert_eq!(Some(parsed.error.code), body["error"]["code"].as_i64());
        assert_eq!(
            parsed.error.message,
            body["error"]["message"].as_str().unwrap_or("")
        );
        assert_eq!(
            parsed.error.fbtrace_id.as_deref(),
            body["error"]["fbtrace_id"].as_str()
        );
        assert_eq!(
            parsed.error.is_transient,
            body["error"]["is_transient"].as_bool()
        );
    }
}

#[test]
fn the_graph_api_error_schema_example_fields_all_have_a_place_in_the_error_body() {
    let doc = openapi();
    let schema =
        &doc["components"]["schemas"]["GraphAPIError"]["properties"]["error"]["properties"];
    let mut example = serde_json::Map::new();
    for (field, definition) in schema.as_object().unwrap() {
        example.insert(field.clone(), definition["example"].clone());
    }
    let body: GraphErrorBody = serde_json::from_value(json!({ "error": example })).unwrap();
    let round_trip = serde_json::to_value(&body).unwrap();
    for field in schema.as_object().unwrap().keys() {
        assert!(
            round_trip["error"].get(field).is_some(),
            "{field} was dropped"
        );
    }
}

#[test]
fn the_reference_error_body_parses_with_subcode_details_and_trace_id() {
    let body: GraphErrorBody =
        serde_json::from_value(reference_json_block("\"code\":131056")).unwrap();
    assert_eq!(body.error.code, 131_056);
    assert_eq!(body.error.error_type, "OAuthException");
    assert_eq!(body.error.error_subcode, Some(2_494_055));
    assert_eq!(body.details(), Some("…"));
    assert_eq!(body.error.fbtrace_id.as_deref(), Some("AbC1"));
}

#[test]
fn the_openapi_template_list_example_parses_with_its_cursors() {
    let doc = openapi();
    let examples = response_examples(
        operation(&doc, "/{Version}/{WABA-ID}/message_templates", "get"),
        "200",
    );
    assert!(!examples.is_empty());
    for (name, example) in examples {
        let page: TemplatePage =
            serde_json::from_value(example).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(page.data.len(), 2);
        let hello = &page.data[0];
        assert_eq!(hello.name, "hello_world");
        assert_eq!(hello.id, "1192339204654487");
        assert_eq!(hello.status, TemplateStatus::Approved);
        assert_eq!(hello.category, TemplateCategory::Marketing);
        assert_eq!(hello.parameter_format, ParameterFormat::Positional);
        assert_eq!(hello.components.len(), 3);
        let cursors = page.paging.as_ref().unwrap().cursors.as_ref().unwrap();
        assert_eq!(cursors.after.as_deref(), Some("MjQZD"));
        // No `next`: this is the last page.
        assert_eq!(page.next_cursor(), None);
    }
}

#[test]
fn the_reference_template_parses_with_its_components_and_parameter_format() {
    let template: MessageTemplate =
        serde_json::from_value(reference_json_block("\"id\":\"1387372356726668\"")).unwrap();
    assert_eq!(template.name, "order_update");
    assert_eq!(template.language, "en_US");
    assert_eq!(template.status, TemplateStatus::Approved);
    assert_eq!(template.category, TemplateCategory::Utility);
    assert_eq!(template.parameter_format, ParameterFormat::Positional);
    assert_eq!(template.components.len(), 4);
    assert_eq!(template.components[3]["buttons"][1]["type"], "URL");
}

#[test]
fn a_page_with_next_gives_its_after_cursor_and_hides_the_next_url_from_debug() {
    let page: TemplatePage = serde_json::from_value(json!({
        "data": [],
        "paging": {"cursors": {"before": "B", "after": "A"},
                   "next": "https://graph.facebook.com/v23.0/1/message_templates?access_token=SECRET&after=A"}
    }))
    .unwrap();
    assert_eq!(page.next_cursor(), Some("A"));
    assert!(!format!("{page:?}").contains("SECRET"));
}

#[test]
fn unknown_template_statuses_and_categories_parse_as_unknown() {
    let template: MessageTemplate = serde_json::from_value(json!({
        "name": "x", "language": "en", "status": "SOMETHING_NEW", "category": "NEW_KIND",
        "parameter_format": "NAMED"
    }))
    .unwrap();
    assert_eq!(template.status, TemplateStatus::Unknown);
    assert_eq!(template.category, TemplateCategory::Unknown);
    assert_eq!(template.parameter_format, ParameterFormat::Named);
}

#[test]
fn every_phone_number_example_in_the_openapi_file_parses() {
    let doc = openapi();
    let examples = response_examples(
        operation(&doc, "/{Version}/{Phone-Number-ID}", "get"),
        "200",
    );
    assert_eq!(examples.len(), 4);
    for (name, example) in examples {
        let details: PhoneNumberDetails =
            serde_json::from_value(example).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(details.id, "106853218861309");
        assert_eq!(details.display_phone_number, "+1 555-555-5555");
        assert_eq!(details.verified_name, "Jaspers Market");
        assert_eq!(details.quality_rating, QualityRating::Green);
    }
}

#[test]
fn phone_number_throughput_and_both_messaging_limit_fields_parse() {
    // §3 of the reference: `{"throughput":{"level":"STANDARD"}}`, `messaging_limit_tier` before
    // v24 and `whatsapp_business_manager_messaging_limit` from v24.
    let old: PhoneNumberDetails = serde_json::from_value(json!({
        "id": "1", "quality_rating": "YELLOW", "throughput": {"level": "STANDARD"},
        "messaging_limit_tier": "TIER_1K"
    }))
    .unwrap();
    assert_eq!(old.throughput_level(), Some("STANDARD"));
    assert_eq!(old.messaging_limit(), Some("TIER_1K"));
    assert_eq!(old.quality_rating, QualityRating::Yellow);
    let new: PhoneNumberDetails = serde_json::from_value(json!({
        "id": "1", "quality_rating": "NA",
        "whatsapp_business_manager_messaging_limit": "TIER_250"
    }))
    .unwrap();
    assert_eq!(new.messaging_limit(), Some("TIER_250"));
    assert_eq!(new.quality_rating, QualityRating::Na);
}

#[test]
fn the_business_use_case_usage_header_example_asks_for_no_wait_and_minutes_are_read_as_minutes() {
    let doc = openapi();
    let example = doc["components"]["headers"]["x-business-use-case-usage"]["schema"]["example"]
        .as_str()
        .unwrap();
    assert_eq!(business_use_case_wait(example), None);
    let throttled = r#"{"102290129340398":[{"type":"whatsapp","call_count":100,"total_cputime":1,
        "total_time":1,"estimated_time_to_regain_access":0},{"type":"whatsapp_business_management",
        "call_count":100,"estimated_time_to_regain_access":5}]}"#;
    assert_eq!(
        business_use_case_wait(throttled),
        Some(Duration::from_secs(300))
    );
    assert_eq!(business_use_case_wait("not json"), None);
}

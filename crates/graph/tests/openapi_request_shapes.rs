//! Every request body the client builds has the shape of the matching request example of
//! `sendMessage` in Meta's OpenAPI file (`shared/reference/meta-openapi/`), read from the file
//! itself rather than copied, so a change of the file shows up here.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use herald_graph::{
    ButtonSubType, Component, Components, DateTime, Language, MediaSource, MessageContent,
    MessageRequest, Parameter, TemplateMessage, TextMessage,
};
use serde_json::{Map, Value, json};
use support::{openapi, operation, request_examples, shape_differences};

const MESSAGES_PATH: &str = "/{Version}/{Phone-Number-ID}/messages";

/// Keys Herald always sends that some of Meta's examples leave out: the schema requires
/// `recipient_type`, and `type` defaults to `text` when absent.
const ALWAYS_SENT: &[&str] = &["recipient_type", "type"];

/// Meta's examples disagree on the button index (a string in most, a number in the catalog and
/// issue-resolution examples). The reference (§1) says Meta sends a string, so Herald does; the
/// examples are normalised to that before comparing.
fn normalise_example(mut example: Value) -> Value {
    if let Some(components) = example
        .pointer_mut("/template/components")
        .and_then(Value::as_array_mut)
    {
        for component in components {
            if let Some(index) = component.get("index").and_then(Value::as_u64) {
                component["index"] = Value::from(index.to_string());
            }
            if let Some(sub_type) = component.get("sub_type").and_then(Value::as_str) {
                component["sub_type"] = Value::from(sub_type.to_ascii_lowercase());
            }
        }
    }
    example
}

/// The template and text examples of `sendMessage`: the two kinds Herald sends.
fn template_and_text_examples() -> Vec<(String, Value)> {
    let doc = openapi();
    request_examples(operation(&doc, MESSAGES_PATH, "post"))
        .into_iter()
        .filter(|(_, example)| {
            matches!(example["type"].as_str(), Some("template" | "text"))
                || (example.get("type").is_none() && example.get("text").is_some())
        })
        .collect()
}

fn example(name: &str) -> Value {
    template_and_text_examples()
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no example {name:?}"))
        .1
}

/// Asserts that `built` serializes to exactly `example` (normalised), apart from the keys Herald
/// always sends.
fn assert_built_matches(name: &str, built: Value) {
    let mut expected = normalise_example(example(name));
    let differences = shape_differences(&expected, &built, ALWAYS_SENT);
    assert!(
        differences.is_empty(),
        "{name}: {differences:#?}\nbuilt: {built:#}"
    );
    // Beyond the shape, the values are the same once Herald's always-sent keys are added.
    let object = expected.as_object_mut().unwrap();
    object
        .entry("recipient_type")
        .or_insert(json!("individual"));
    if object.contains_key("text") {
        object.entry("type").or_insert(json!("text"));
    }
    assert_eq!(built, expected, "{name}");
}

fn full_date_time() -> DateTime {
    DateTime {
        calendar: Some("GREGORIAN".into()),
        year: Some(1977),
        month: Some(2),
        day_of_month: Some(25),
        day_of_week: Some(5),
        hour: Some(15),
        minute: Some(33),
        ..DateTime::new("February 25, 1977")
    }
}

fn text_currency_date_body() -> Component {
    Component::body(vec![
        Parameter::text("text-string"),
        Parameter::currency("$100.99", "USD", 100_990),
        herald_graph::ParameterValue::DateTime {
            date_time: full_date_time(),
        }
        .into(),
    ])
}

#[test]
fn the_openapi_file_has_the_template_and_text_examples_this_test_relies_on() {
    let mut names: Vec<String> = template_and_text_examples()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "Send Catalog Template Message",
            "Send Flow Template Message",
            "Send Message Template Interactive",
            "Send Message Template Media",
            "Send Message Template Text",
            "Send Reply to Text Message",
            "Send Sample Issue Resolution Template",
            "Send Sample Shipping Confirmation Template",
            "Send Sample Text Message",
            "Send Test Message",
            "Send Text Message",
            "Send Text Message with Preview URL",
        ]
    );
}

#[test]
fn every_template_and_text_example_round_trips_through_the_client_types_with_the_same_shape() {
    // One example puts JSON booleans where a text parameter's string belongs (`"text": true`).
    // Meta's schema says text is a string, so the typed components refuse it; the message still
    // parses, with its components kept raw and passed through unchanged.
    const NOT_VALID_AGAINST_META_SCHEMA: &str = "Send Sample Issue Resolution Template";
    let mut checked = 0;
    for (name, example) in template_and_text_examples() {
        let parsed: MessageRequest =
            serde_json::from_value(example.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        if let MessageContent::Template { template } = &parsed.content {
            let typed = matches!(template.components, Components::Typed(_));
            assert_eq!(
                typed,
                name != NOT_VALID_AGAINST_META_SCHEMA,
                "{name}: {parsed:?}"
            );
        }
        let rebuilt = serde_json::to_value(&parsed).unwrap();
        let expected = if name == NOT_VALID_AGAINST_META_SCHEMA {
            example // raw components are not normalised: they are sent as given
        } else {
            normalise_example(example)
        };
        let differences = shape_differences(&expected, &rebuilt, ALWAYS_SENT);
        assert!(differences.is_empty(), "{name}: {differences:#?}");
        checked += 1;
    }
    assert_eq!(checked, 12);
}

#[test]
fn template_and_text_examples_parse_into_the_senders_message_types() {
    for (name, example) in template_and_text_examples() {
        let is_template = example["type"] == "template";
        let (template, text) = (
            serde_json::from_value::<TemplateMessage>(example.clone()),
            serde_json::from_value::<TextMessage>(example),
        );
        assert_eq!(template.is_ok(), is_template, "{name}");
        assert_eq!(text.is_ok(), !is_template, "{name}");
    }
}

#[test]
fn a_text_parameter_template_built_with_the_client_types_matches_send_message_template_text() {
    let message = TemplateMessage {
        language: Language::new("language-and-locale-code"),
        ..TemplateMessage::new("{{Recipient-Phone-Number}}", "template-name", "")
    }
    .with_components(vec![text_currency_date_body()]);
    assert_built_matches(
        "Send Message Template Text",
        serde_json::to_value(&message).unwrap(),
    );
}

#[test]
fn an_image_header_template_built_with_the_client_types_matches_send_message_template_media() {
    let message = TemplateMessage::new(
        "{{Recipient-Phone-Number}}",
        "template-name",
        "language-and-locale-code",
    )
    .with_components(vec![
        Component::header(vec![Parameter::image(MediaSource::Link(
            "http(s)://the-image-url".into(),
        ))]),
        text_currency_date_body(),
    ]);
    assert_built_matches(
        "Send Message Template Media",
        serde_json::to_value(&message).unwrap(),
    );
}

#[test]
fn a_quick_reply_template_built_with_the_client_types_matches_send_message_template_interactive() {
    let message = TemplateMessage::new(
        "{{Recipient-Phone-Number}}",
        "template-name",
        "language-and-locale-code",
    )
    .with_components(vec![
        Component::header(vec![Parameter::image(MediaSource::Link(
            "http(s)://the-image-url".into(),
        ))]),
        text_currency_date_body(),
        Component::button(
            ButtonSubType::QuickReply,
            0,
            vec![Parameter::payload("aGlzIHRoaXMgaXMgY29v")],
        ),
        Component::button(
            ButtonSubType::QuickReply,
            1,
            vec![Parameter::payload("9rwnB8RbYmPF5t2Mn09x4h")],
        ),
    ]);
    assert_built_matches(
        "Send Message Template Interactive",
        serde_json::to_value(&message).unwrap(),
    );
}

#[test]
fn a_template_without_parameters_matches_send_test_message_and_leaves_out_components() {
    let message = TemplateMessage::new("{{Recipient-Phone-Number}}", "hello_world", "en_US");
    let body = serde_json::to_value(&message).unwrap();
    assert!(body["template"].get("components").is_none());
    assert_built_matches("Send Test Message", body);
}

#[test]
fn a_flow_button_template_built_with_the_client_types_matches_send_flow_template_message() {
    let mut action = Map::new();
    action.insert("flow_token".into(), json!("<FLOW_TOKEN>"));
    action.insert(
        "flow_action_data".into(),
        json!({"<CUSTOM_KEY>": "<CUSTOM_VALUE>"}),
    );
    let message = TemplateMessage::new("{{Recipient-Phone-Number}}", "<TEMPLATE_NAME>", "en_US")
        .with_components(vec![Component::button(
            ButtonSubType::Flow,
            0,
            vec![Parameter::action(action)],
        )]);
    assert_built_matches(
        "Send Flow Template Message",
        serde_json::to_value(&message).unwrap(),
    );
}

#[test]
fn a_catalog_button_template_built_with_the_client_types_matches_send_catalog_template_message() {
    let mut action = Map::new();
    action.insert("thumbnail_product_retailer_id".into(), json!("2lc20305pt"));
    let message = TemplateMessage::new("+16505551234", "intro_catalog_offer", "en_US")
        .with_components(vec![
            Component::body(vec![
                Parameter::text("100"),
                Parameter::text("400"),
                Parameter::text("3"),
            ]),
            Component::button(ButtonSubType::Catalog, 0, vec![Parameter::action(action)]),
        ]);
    assert_built_matches(
        "Send Catalog Template Message",
        serde_json::to_value(&message).unwrap(),
    );
}

#[test]
fn raw_json_components_bound_elsewhere_are_sent_exactly_as_given() {
    let components = example("Send Message Template Interactive")["template"]["components"]
        .as_array()
        .unwrap()
        .clone();
    let message = TemplateMessage::new(
        "{{Recipient-Phone-Number}}",
        "template-name",
        "language-and-locale-code",
    )
    .with_components(Components::Raw(components));
    assert_built_matches(
        "Send Message Template Interactive",
        serde_json::to_value(&message).unwrap(),
    );
}

#[test]
fn a_text_message_built_with_the_client_types_matches_send_text_message() {
    let message = TextMessage::new("{{Recipient-Phone-Number}}", "text-message-content");
    assert_built_matches("Send Text Message", serde_json::to_value(&message).unwrap());
}

#[test]
fn a_text_reply_built_with_the_client_types_matches_send_reply_to_text_message() {
    let message = TextMessage {
        reply_to: Some("<MSGID_OF_PREV_MSG>".into()),
        ..TextMessage::new("{{Recipient-Phone-Number}}", "<TEXT_MSG_CONTENT>")
    };
    assert_built_matches(
        "Send Reply to Text Message",
        serde_json::to_value(&message).unwrap(),
    );
}

#[test]
fn a_text_message_with_preview_matches_send_text_message_with_preview_url() {
    let message = TextMessage {
        preview_url: true,
        ..TextMessage::new(
            "{{Recipient-Phone-Number}}",
            "Please visit https://youtu.be/hpltvTEiRrY.",
        )
    };
    assert_built_matches(
        "Send Text Message with Preview URL",
        serde_json::to_value(&message).unwrap(),
    );
}

#[test]
fn the_reference_template_body_is_what_the_client_types_build_with_callback_data() {
    // §1 of the reference: header image by link, text/currency/date_time body, quick-reply and URL
    // buttons, biz_opaque_callback_data.
    let expected = support::reference_json_block("\"biz_opaque_callback_data\":\"camp42:c9\"");
    let message = TemplateMessage::new("+4915112345678", "order_update", "en_US")
        .with_callback_data("camp42:c9")
        .with_components(vec![
            Component::header(vec![Parameter::image(MediaSource::Link(
                "https://cdn.example/p.jpg".into(),
            ))]),
            Component::body(vec![
                Parameter::text("Ana"),
                Parameter::currency("$10.99", "USD", 10_990),
                Parameter::date_time("June 1, 2026"),
            ]),
            Component::button(
                ButtonSubType::QuickReply,
                0,
                vec![Parameter::payload("STOP")],
            ),
            Component::button(ButtonSubType::Url, 1, vec![Parameter::text("order/123")]),
        ]);
    assert_eq!(serde_json::to_value(&message).unwrap(), expected);
}

#[test]
fn named_parameters_carry_parameter_name_and_media_by_id_uses_id() {
    let message = TemplateMessage::new("+4915112345678", "welcome", "de")
        .with_components(vec![
            Component::header(vec![Parameter::document(MediaSource::Id("4490".into()))]),
            Component::body(vec![Parameter::text("Ana").named("first_name")]),
            Component::button(
                ButtonSubType::CopyCode,
                0,
                vec![Parameter::coupon_code("FALL25")],
            ),
        ])
        .in_reply_to("wamid.prev");
    let body = serde_json::to_value(&message).unwrap();
    assert_eq!(
        body["template"]["components"],
        json!([
            {"type": "header", "parameters": [{"type": "document", "document": {"id": "4490"}}]},
            {"type": "body", "parameters": [
                {"type": "text", "text": "Ana", "parameter_name": "first_name"}]},
            {"type": "button", "sub_type": "copy_code", "index": "0",
             "parameters": [{"type": "coupon_code", "coupon_code": "FALL25"}]},
        ])
    );
    assert_eq!(body["context"], json!({"message_id": "wamid.prev"}));
    // And it reads back into the same message, as the sandbox will read it.
    let back: TemplateMessage = serde_json::from_value(body).unwrap();
    assert_eq!(back, message);
}

#[test]
fn button_index_and_sub_type_are_accepted_in_pywa_form_too() {
    // pywa sends an integer index and an upper-case sub_type (reference §1: accept both).
    let component: Component = serde_json::from_value(json!(
        {"type": "button", "sub_type": "QUICK_REPLY", "index": 2,
         "parameters": [{"type": "payload", "payload": "STOP"}]}
    ))
    .unwrap();
    assert_eq!(
        component,
        Component::button(
            ButtonSubType::QuickReply,
            2,
            vec![Parameter::payload("STOP")]
        )
    );
}

//! The sandbox accepts every template and text request example of `sendMessage` in Meta's OpenAPI
//! file (`shared/reference/meta-openapi/`), read from the file itself, and answers with the
//! documented response shape.
//!
//! Each example names a template that must exist for the send to be valid; the table below seeds,
//! per example, the template the example was written for (same name and language, placeholders
//! matching its parameters), each in its own WABA because one example name (`template-name`) is
//! used with three different component sets. `{{Recipient-Phone-Number}}` is a Postman variable
//! and is replaced with a real number. Text examples are sent inside an open service window.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use support::{TestSandbox, reference_dir};

const MESSAGES_PATH: &str = "/{Version}/{Phone-Number-ID}/messages";

fn openapi() -> Value {
    let path = reference_dir().join("meta-openapi/business-messaging-api_v23.0.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_norway::from_str(&text).unwrap()
}

fn examples(doc: &Value, pointer: &str) -> Vec<(String, Value)> {
    doc.pointer(pointer)
        .and_then(Value::as_object)
        .unwrap()
        .iter()
        .map(|(name, example)| (name.clone(), example["value"].clone()))
        .collect()
}

/// The template each template example was written for: (category, components).
fn template_for(example: &str) -> (&'static str, Value) {
    let body3 = json!({"type":"BODY","text":"Hi {{1}}, you owe {{2}} since {{3}}."});
    let image = json!({"type":"HEADER","format":"IMAGE"});
    match example {
        "Send Catalog Template Message" => (
            "MARKETING",
            json!([body3, {"type":"BUTTONS","buttons":[{"type":"CATALOG","text":"View catalog"}]}]),
        ),
        "Send Flow Template Message" => (
            "MARKETING",
            json!([{"type":"BODY","text":"Check out this new offer"},
                   {"type":"BUTTONS","buttons":[{"type":"FLOW","text":"Open","flow_action":"navigate"}]}]),
        ),
        "Send Message Template Interactive" => (
            "MARKETING",
            json!([image, body3, {"type":"BUTTONS","buttons":[
                {"type":"QUICK_REPLY","text":"Yes"},{"type":"QUICK_REPLY","text":"No"}]}]),
        ),
        "Send Message Template Media" => ("UTILITY", json!([image, body3])),
        "Send Sample Issue Resolution Template" => (
            "UTILITY",
            json!([{"type":"BODY","text":"Hi {{1}}, was your issue resolved?"},
                   {"type":"BUTTONS","buttons":[
                       {"type":"QUICK_REPLY","text":"Yes"},{"type":"QUICK_REPLY","text":"No"}]}]),
        ),
        "Send Test Message" => (
            "UTILITY",
            json!([{"type":"HEADER","format":"TEXT","text":"Hello World"},
                   {"type":"BODY","text":"Welcome and congratulations!!"}]),
        ),
        // "Send Message Template Text", "Send Sample Text Message",
        // "Send Sample Shipping Confirmation Template".
        _ => ("UTILITY", json!([body3])),
    }
}

#[tokio::test]
async fn every_template_and_text_example_of_send_message_is_accepted() {
    let app = TestSandbox::start_with(|c| c.limits.pair_rate.enabled = false).await;
    let doc = openapi();
    let operation = format!(
        "/paths/{}/post",
        MESSAGES_PATH.replace('~', "~0").replace('/', "~1")
    );
    let requests = examples(
        &doc,
        &format!("{operation}/requestBody/content/application~1json/examples"),
    );
    let response_example = examples(
        &doc,
        &format!("{operation}/responses/200/content/application~1json/examples"),
    )
    .into_iter()
    .find(|(name, _)| name == "Example response")
    .unwrap()
    .1;

    let mut checked = Vec::new();
    for (i, (name, example)) in requests.into_iter().enumerate() {
        let kind = example["type"]
            .as_str()
            .unwrap_or(if example.get("text").is_some() {
                "text"
            } else {
                ""
            });
        if kind != "template" && kind != "text" {
            continue;
        }
        // A phone number and a WABA of its own for each example.
        let phone_number_id = format!("71000{i:02}");
        let waba_id = format!("72000{i:02}");
        app.admin_post(
            "/phone-numbers",
            json!({"id": phone_number_id, "waba_id": waba_id, "display_phone_number": "+1 650-555-0100"}),
        )
        .await;
        let recipient = "+16505551234";
        let raw = serde_json::to_string(&example)
            .unwrap()
            .replace("{{Recipient-Phone-Number}}", recipient);
        let body: Value = serde_json::from_str(&raw).unwrap();
        if kind == "template" {
            let (category, components) = template_for(&name);
            app.admin_post(
                "/templates",
                json!({"waba_id": waba_id, "name": body["template"]["name"],
                       "language": body["template"]["language"]["code"],
                       "category": category, "components": components}),
            )
            .await;
        } else {
            let to = body["to"].as_str().unwrap();
            app.admin_post(
                "/inbound",
                json!({"phone_number_id": phone_number_id, "from": to, "type": "text", "body": "hi"}),
            )
            .await;
        }

        let response = app
            .http
            .post(format!("{}/v23.0/{phone_number_id}/messages", app.base))
            .bearer_auth(support::TOKEN)
            .header("content-type", "application/json")
            .body(raw.clone())
            .send()
            .await
            .unwrap();
        let status = response.status();
        let answer: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "{name}: {answer}\nrequest: {raw}");
        // The documented response shape, plus `message_status` on templates.
        let missing = support::missing_keys(&response_example, &answer, "$");
        assert!(missing.is_empty(), "{name}: {missing:?} in {answer}");
        assert!(
            answer["messages"][0]["id"]
                .as_str()
                .unwrap()
                .starts_with("wamid.")
        );
        assert_eq!(answer["contacts"][0]["input"], body["to"]);
        assert_eq!(
            answer["messages"][0].get("message_status").is_some(),
            kind == "template",
            "{name}"
        );
        // The message is in the ledger under its phone number.
        let ledger = app
            .admin_get(&format!("/ledger?phone_number_id={phone_number_id}"))
            .await;
        assert_eq!(ledger["total"], 1, "{name}");
        checked.push(name);
    }
    checked.sort();
    assert_eq!(
        checked,
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

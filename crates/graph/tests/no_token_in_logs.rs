//! No access token in any log line: the client's tracing output, at TRACE level and including
//! reqwest's and hyper's, is captured while calls succeed and fail.
//!
//! This test has its own binary because it installs a global subscriber: a thread-local one can
//! miss events when other tests register the same callsites concurrently.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io;
use std::sync::{Arc, Mutex};

use herald_graph::{
    AccessToken, ButtonSubType, Component, GraphClient, GraphConfig, Parameter, TemplateMessage,
    Url,
};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PHONE_NUMBER_ID: &str = "106540352242922";
const TOKEN: &str = "EAAG-test-token-do-not-log";

fn token() -> AccessToken {
    AccessToken::new(TOKEN)
}

fn order_update() -> TemplateMessage {
    TemplateMessage::new("+4915112345678", "order_update", "en_US")
        .with_callback_data("herald-msg-42")
        .with_components(vec![Component::button(
            ButtonSubType::QuickReply,
            0,
            vec![Parameter::payload("STOP")],
        )])
}

/// A `MakeWriter` that keeps everything written to it.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn calls_are_traced_with_the_phone_number_id_and_never_with_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/v23.0/{PHONE_NUMBER_ID}/messages")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": "+4915112345678", "wa_id": "4915112345678"}],
            "messages": [{"id": "wamid.HBgLNDkxNTExMjM0NTY3OBUCABEYEjA"}]
        })))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v23.0/{PHONE_NUMBER_ID}/messages")))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": {
            "message": "Invalid OAuth access token", "type": "OAuthException", "code": 190
        }})))
        .mount(&server)
        .await;

    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let client = GraphClient::new(GraphConfig::with_base_url(
        Url::parse(&server.uri()).unwrap(),
    ))
    .unwrap();
    client
        .send_template(PHONE_NUMBER_ID, &token(), &order_update())
        .await
        .unwrap();
    client
        .send_template(PHONE_NUMBER_ID, &token(), &order_update())
        .await
        .unwrap_err();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains(PHONE_NUMBER_ID), "{logs}");
    assert!(logs.contains("graph.send_template"), "{logs}");
    assert!(logs.contains("graph call failed"), "{logs}");
    assert!(
        logs.contains("wamid.HBgLNDkxNTExMjM0NTY3OBUCABEYEjA"),
        "{logs}"
    );
    assert!(
        !logs.contains(TOKEN),
        "the token leaked into the logs:\n{logs}"
    );
}

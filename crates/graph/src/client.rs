//! The HTTP client: one pooled `reqwest::Client`, four calls, every failure turned into a
//! [`GraphError`].

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{RequestBuilder, Url};
use serde::de::DeserializeOwned;
use tracing::{Span, instrument};

use crate::config::{ConfigError, GraphConfig, api_major_version, is_valid_api_version};
use crate::error::{
    ErrorClass, GraphError, GraphErrorBody, TransportKind, business_use_case_wait, redact_in,
    retry_after_seconds,
};
use crate::message::{MessageResponse, SendAccepted, TemplateMessage, TextMessage};
use crate::phone::{PhoneNumberDetails, phone_number_fields};
use crate::templates::{TEMPLATE_FIELDS, TemplatePage, TemplateQuery};
use crate::token::AccessToken;

/// How much of an unreadable body is kept for the log.
const EXCERPT_LEN: usize = 512;

/// A Graph API client for one app. Cheap to clone: clones share the connection pool.
#[derive(Debug, Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    base_url: Url,
    api_version: String,
}

/// Whether a call sends a message: only then can a failure leave its outcome unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallKind {
    Send,
    Read,
}

impl GraphClient {
    /// Checks the configuration and builds the pooled HTTP client.
    pub fn new(config: GraphConfig) -> Result<Self, ConfigError> {
        if !is_valid_api_version(&config.api_version) {
            return Err(ConfigError::ApiVersion(config.api_version));
        }
        if !matches!(config.base_url.scheme(), "http" | "https")
            || config.base_url.cannot_be_a_base()
        {
            return Err(ConfigError::BaseUrl(config.base_url));
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .pool_max_idle_per_host(config.pool_max_idle_per_host)
            .pool_idle_timeout(config.pool_idle_timeout)
            .tcp_keepalive(Duration::from_secs(60))
            .user_agent(config.user_agent)
            // Graph does not redirect; following one could resend a POST or carry the token away.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(ConfigError::Http)?;
        Ok(Self {
            http,
            base_url: config.base_url,
            api_version: config.api_version,
        })
    }

    /// The pinned API version, e.g. `v23.0`.
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// The configured base URL.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// Sends a template message from `phone_number_id`.
    ///
    /// `Ok` means Meta *accepted* the message; delivery comes later by webhook. On `Err`, follow
    /// [`GraphError::action`], and never resend when [`GraphError::outcome_unknown`] is true
    /// without first ruling out that the message went out.
    #[instrument(
        name = "graph.send_template",
        skip_all,
        fields(
            phone_number_id = %phone_number_id,
            template = %message.name,
            language = %message.language.code,
            http.status = tracing::field::Empty,
            graph.code = tracing::field::Empty,
            wamid = tracing::field::Empty,
        )
    )]
    pub async fn send_template(
        &self,
        phone_number_id: &str,
        token: &AccessToken,
        message: &TemplateMessage,
    ) -> Result<SendAccepted, GraphError> {
        let request = self
            .http
            .post(self.url(&[phone_number_id, "messages"]))
            .json(message);
        self.send_message(request, token).await
    }

    /// Sends a text message from `phone_number_id` (only delivered inside an open 24 h window).
    #[instrument(
        name = "graph.send_text",
        skip_all,
        fields(
            phone_number_id = %phone_number_id,
            http.status = tracing::field::Empty,
            graph.code = tracing::field::Empty,
            wamid = tracing::field::Empty,
        )
    )]
    pub async fn send_text(
        &self,
        phone_number_id: &str,
        token: &AccessToken,
        message: &TextMessage,
    ) -> Result<SendAccepted, GraphError> {
        let request = self
            .http
            .post(self.url(&[phone_number_id, "messages"]))
            .json(message);
        self.send_message(request, token).await
    }

    /// Lists one page of the WABA's message templates. Fetch the next page with
    /// [`TemplateQuery::next_after`]; the client never follows Meta's `next` URL, which would
    /// bypass the configured base URL.
    #[instrument(
        name = "graph.list_templates",
        skip_all,
        fields(
            waba_id = %waba_id,
            limit = ?query.limit,
            http.status = tracing::field::Empty,
            graph.code = tracing::field::Empty,
            templates = tracing::field::Empty,
        )
    )]
    pub async fn list_templates(
        &self,
        waba_id: &str,
        token: &AccessToken,
        query: &TemplateQuery,
    ) -> Result<TemplatePage, GraphError> {
        let mut params: Vec<(&str, String)> = vec![("fields", TEMPLATE_FIELDS.to_owned())];
        if let Some(limit) = query.limit {
            params.push(("limit", limit.to_string()));
        }
        if let Some(after) = &query.after {
            params.push(("after", after.clone()));
        }
        if let Some(name) = &query.name {
            params.push(("name", name.clone()));
        }
        if let Some(status) = query.status {
            params.push(("status", status.as_str().to_owned()));
        }
        let mut url = self.url(&[waba_id, "message_templates"]);
        url.query_pairs_mut().extend_pairs(&params);
        let request = self.http.get(url);
        let page: TemplatePage = self.execute(request, token, CallKind::Read).await?;
        Span::current().record("templates", page.data.len());
        Ok(page)
    }

    /// Reads a phone number's details: quality rating, throughput level, messaging limit.
    #[instrument(
        name = "graph.phone_number",
        skip_all,
        fields(
            phone_number_id = %phone_number_id,
            http.status = tracing::field::Empty,
            graph.code = tracing::field::Empty,
        )
    )]
    pub async fn phone_number(
        &self,
        phone_number_id: &str,
        token: &AccessToken,
    ) -> Result<PhoneNumberDetails, GraphError> {
        let fields = phone_number_fields(api_major_version(&self.api_version));
        let mut url = self.url(&[phone_number_id]);
        url.query_pairs_mut().append_pair("fields", fields);
        let request = self.http.get(url);
        self.execute(request, token, CallKind::Read).await
    }

    /// `{base}/{version}/{segments…}`, each segment percent-encoded so that an id cannot change
    /// the path.
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base_url.clone();
        // `new` refused cannot-be-a-base URLs, so this branch always runs.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().push(&self.api_version).extend(segments);
        }
        url
    }

    async fn send_message(
        &self,
        request: RequestBuilder,
        token: &AccessToken,
    ) -> Result<SendAccepted, GraphError> {
        let response: MessageResponse = self.execute(request, token, CallKind::Send).await?;
        // Only an answer without a wamid is logged, so only then is it re-serialized.
        let excerpt = if response.messages.is_empty() {
            serde_json::to_string(&response).unwrap_or_default()
        } else {
            String::new()
        };
        match SendAccepted::from_response(response) {
            Some(accepted) => {
                Span::current().record("wamid", accepted.wamid.as_str());
                tracing::debug!(message_status = ?accepted.message_status, "message accepted");
                Ok(accepted)
            }
            None => {
                let error = GraphError::invalid_success_body(200, excerpt, true);
                tracing::warn!(error = %error, "send answered 200 without a wamid");
                Err(error)
            }
        }
    }

    /// Sends the request with the token and turns every outcome into `T` or a [`GraphError`].
    async fn execute<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
        token: &AccessToken,
        kind: CallKind,
    ) -> Result<T, GraphError> {
        let was_send = kind == CallKind::Send;
        let result = self.round_trip(request, token, was_send).await;
        if let Err(error) = &result {
            if let Some(code) = error.code() {
                Span::current().record("graph.code", code);
            }
            // Throttles and per-contact failures are routine at volume; halts and codes nobody
            // has classified need a human.
            match error.class() {
                ErrorClass::RetryLater => tracing::debug!(
                    error = %error, action = ?error.action(), "graph call failed"
                ),
                ErrorClass::FailRecipient => tracing::info!(
                    error = %error, action = ?error.action(), "graph call failed"
                ),
                ErrorClass::HaltCampaign | ErrorClass::HaltPhoneNumber | ErrorClass::Unknown => {
                    tracing::warn!(
                        error = %error, class = ?error.class(), action = ?error.action(),
                        "graph call failed"
                    )
                }
            }
        }
        result
    }

    async fn round_trip<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
        token: &AccessToken,
        was_send: bool,
    ) -> Result<T, GraphError> {
        let transport = |error: reqwest::Error| {
            let kind = if error.is_connect() {
                TransportKind::Connect
            } else if error.is_timeout() {
                TransportKind::Timeout
            } else {
                TransportKind::Other
            };
            GraphError::transport(kind, error, was_send)
        };

        // `bearer_auth` marks the header sensitive, so reqwest and hyper never print it.
        let response = request
            .bearer_auth(token.expose_secret())
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        Span::current().record("http.status", status.as_u16());
        let hint = wait_hint(response.headers());
        let bytes = response.bytes().await.map_err(transport)?;

        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|_| {
                GraphError::invalid_success_body(status.as_u16(), excerpt(&bytes, token), was_send)
            });
        }
        match serde_json::from_slice::<GraphErrorBody>(&bytes) {
            Ok(mut body) => {
                body.redact(token.expose_secret());
                Err(GraphError::api(status.as_u16(), body, hint))
            }
            Err(_) => Err(GraphError::unexpected_body(
                status.as_u16(),
                excerpt(&bytes, token),
                hint,
            )),
        }
    }
}

/// The longest wait any of Meta's headers asks for.
fn wait_hint(headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let retry_after = header(RETRY_AFTER.as_str()).and_then(retry_after_seconds);
    let regain = header("x-business-use-case-usage").and_then(business_use_case_wait);
    retry_after.max(regain)
}

/// The start of a body for the log, without the token.
fn excerpt(bytes: &[u8], token: &AccessToken) -> String {
    let mut text: String = String::from_utf8_lossy(bytes)
        .chars()
        .take(EXCERPT_LEN)
        .collect();
    redact_in(&mut text, token.expose_secret());
    text
}

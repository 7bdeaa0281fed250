//! Meta's error answers: `{"error":{"message":"(#code) title","type":…,"code":…,
//! "error_data":{"messaging_product":"whatsapp","details":…},"fbtrace_id":…}}` with the HTTP
//! statuses of reference §1 (400 for most request, throttle and template errors, 401 for tokens,
//! 404 for 132001, 503 for 2).

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use herald_graph::{ErrorData, GraphErrorBody, codes};

/// A Graph error answer.
#[derive(Debug, Clone)]
pub struct MetaError {
    pub status: StatusCode,
    /// Boxed: errors travel in `Result`s and should stay small.
    pub body: Box<GraphErrorBody>,
}

/// A random-looking `fbtrace_id`, as Graph puts on every error.
pub fn trace_id() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("A{}", &id[..22])
}

impl MetaError {
    /// An error with Meta's `(#code) title` message and optional `error_data.details`.
    pub fn new(status: StatusCode, code: i64, title: &str, details: Option<String>) -> Self {
        let mut body = GraphErrorBody::new(code, format!("(#{code}) {title}"));
        body.error.error_data = details.map(|details| ErrorData {
            messaging_product: Some("whatsapp".to_owned()),
            details: Some(details),
        });
        body.error.fbtrace_id = Some(trace_id());
        Self {
            status,
            body: Box::new(body),
        }
    }

    /// 104: no token at all (Meta's OpenAPI file: "An access token is required…").
    pub fn missing_token() -> Self {
        let mut error = Self::new(StatusCode::UNAUTHORIZED, 104, "", None);
        error.body.error.message =
            "An access token is required to request this resource.".to_owned();
        error
    }

    /// 190: a token that is not valid.
    pub fn invalid_token() -> Self {
        let mut error = Self::new(
            StatusCode::UNAUTHORIZED,
            codes::ACCESS_TOKEN_INVALID,
            "",
            None,
        );
        error.body.error.message =
            "Invalid OAuth access token - Cannot parse access token".to_owned();
        error
    }

    /// 100 for a node id that does not exist (Graph's generic answer).
    pub fn unknown_object(id: &str, method: &str) -> Self {
        let mut error = Self::new(StatusCode::BAD_REQUEST, codes::INVALID_PARAMETER, "", None);
        error.body.error.message = format!(
            "Unsupported {method} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
        );
        error.body.error.error_type = "GraphMethodException".to_owned();
        error.body.error.error_subcode = Some(33);
        error
    }

    /// 100 for a bad or missing parameter; `details` names it.
    pub fn invalid_parameter(details: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            codes::INVALID_PARAMETER,
            "Invalid parameter",
            Some(details.into()),
        )
    }

    /// 130429.
    pub fn throughput() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            codes::THROUGHPUT_EXCEEDED,
            "Rate limit hit",
            Some("Cloud API message throughput has been reached.".to_owned()),
        )
    }

    /// 131056.
    pub fn pair_rate() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            codes::PAIR_RATE_LIMIT,
            "(Business Account, Consumer Account) pair rate limit hit",
            Some(
                "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time."
                    .to_owned(),
            ),
        )
    }

    /// 2, transient.
    pub fn unavailable() -> Self {
        let mut error = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::SERVICE_UNAVAILABLE,
            "Service temporarily unavailable",
            None,
        );
        error.body.error.is_transient = Some(true);
        error
    }

    /// 132001: no such template in that language, or not approved.
    pub fn template_not_found(name: &str, language: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            codes::TEMPLATE_NOT_FOUND,
            "Template name does not exist in the translation",
            Some(format!(
                "template name ({name}) does not exist in {language}"
            )),
        )
    }

    /// 132000 / 132012 / 132005 from the parameter check.
    pub fn parameters(code: i64, details: String) -> Self {
        let title = match code {
            132_000 => "Number of parameters does not match the expected number of params",
            132_005 => "Translated text too long",
            _ => "Parameter format does not match format in the created template",
        };
        Self::new(StatusCode::BAD_REQUEST, code, title, Some(details))
    }

    /// Other template and request errors with a fixed title (400).
    pub fn bad_request(code: i64, title: &str, details: Option<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, title, details)
    }

    pub fn code(&self) -> i64 {
        self.body.error.code
    }
}

impl fmt::Display for MetaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.body.error.message)
    }
}

impl ResponseError for MetaError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let trace = self.body.error.fbtrace_id.clone().unwrap_or_else(trace_id);
        HttpResponse::build(self.status)
            .insert_header(("x-fb-trace-id", trace))
            .json(&self.body)
    }
}

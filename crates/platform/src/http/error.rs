//! The one error table of Herald's HTTP APIs, rendered as RFC 9457 `application/problem+json`.
//!
//! Every error a client can see has a stable snake_case `code` mapped to one HTTP status here,
//! and nowhere else. A 5xx body never says anything about internals: its cause goes to the log,
//! next to the request id the client also receives in `X-Request-Id`.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Stable error codes. Clients branch on these, so a code is never renamed or reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// No route has this path.
    RouteNotFound,
    /// The route exists but not for this HTTP method.
    MethodNotAllowed,
    /// The addressed resource does not exist.
    NotFound,
    /// The body is not well-formed (e.g. broken JSON).
    MalformedBody,
    /// The query string or path parameters are not what the route expects.
    InvalidRequest,
    /// The body is well-formed but its values break a rule.
    ValidationFailed,
    /// The body is not of a media type the route accepts.
    UnsupportedMediaType,
    /// The body is larger than the route accepts.
    PayloadTooLarge,
    /// No valid credentials.
    Unauthorized,
    /// Valid credentials without the right to do this.
    Forbidden,
    /// The request conflicts with the current state (duplicate, stale write, wrong status).
    Conflict,
    /// Too many requests; `Retry-After` says when to come back.
    TooManyRequests,
    /// A dependency is unavailable; retrying later may work.
    ServiceUnavailable,
    /// A fault on our side.
    Internal,
}

impl ErrorCode {
    /// Every code, for tests and documentation.
    pub const ALL: [ErrorCode; 14] = [
        ErrorCode::RouteNotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::NotFound,
        ErrorCode::MalformedBody,
        ErrorCode::InvalidRequest,
        ErrorCode::ValidationFailed,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::PayloadTooLarge,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::Conflict,
        ErrorCode::TooManyRequests,
        ErrorCode::ServiceUnavailable,
        ErrorCode::Internal,
    ];

    /// The table: code, HTTP status, title.
    const fn entry(self) -> (&'static str, StatusCode, &'static str) {
        match self {
            ErrorCode::RouteNotFound => {
                ("route_not_found", StatusCode::NOT_FOUND, "Route not found")
            }
            ErrorCode::MethodNotAllowed => (
                "method_not_allowed",
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
            ),
            ErrorCode::NotFound => ("not_found", StatusCode::NOT_FOUND, "Not found"),
            ErrorCode::MalformedBody => {
                ("malformed_body", StatusCode::BAD_REQUEST, "Malformed body")
            }
            ErrorCode::InvalidRequest => (
                "invalid_request",
                StatusCode::BAD_REQUEST,
                "Invalid request",
            ),
            ErrorCode::ValidationFailed => (
                "validation_failed",
                StatusCode::UNPROCESSABLE_ENTITY,
                "Validation failed",
            ),
            ErrorCode::UnsupportedMediaType => (
                "unsupported_media_type",
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported media type",
            ),
            ErrorCode::PayloadTooLarge => (
                "payload_too_large",
                StatusCode::PAYLOAD_TOO_LARGE,
                "Payload too large",
            ),
            ErrorCode::Unauthorized => ("unauthorized", StatusCode::UNAUTHORIZED, "Unauthorized"),
            ErrorCode::Forbidden => ("forbidden", StatusCode::FORBIDDEN, "Forbidden"),
            ErrorCode::Conflict => ("conflict", StatusCode::CONFLICT, "Conflict"),
            ErrorCode::TooManyRequests => (
                "too_many_requests",
                StatusCode::TOO_MANY_REQUESTS,
                "Too many requests",
            ),
            ErrorCode::ServiceUnavailable => (
                "service_unavailable",
                StatusCode::SERVICE_UNAVAILABLE,
                "Service unavailable",
            ),
            ErrorCode::Internal => (
                "internal_error",
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal server error",
            ),
        }
    }

    pub const fn as_str(self) -> &'static str {
        self.entry().0
    }

    pub const fn status(self) -> StatusCode {
        self.entry().1
    }

    pub const fn title(self) -> &'static str {
        self.entry().2
    }

    /// The code for a response that was produced without one (by actix itself, for example).
    pub fn from_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => ErrorCode::RouteNotFound,
            StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
            StatusCode::UNPROCESSABLE_ENTITY => ErrorCode::ValidationFailed,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
            StatusCode::UNAUTHORIZED => ErrorCode::Unauthorized,
            StatusCode::FORBIDDEN => ErrorCode::Forbidden,
            StatusCode::CONFLICT => ErrorCode::Conflict,
            StatusCode::TOO_MANY_REQUESTS => ErrorCode::TooManyRequests,
            StatusCode::SERVICE_UNAVAILABLE => ErrorCode::ServiceUnavailable,
            s if s.is_client_error() => ErrorCode::InvalidRequest,
            _ => ErrorCode::Internal,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One field that failed validation; listed under `errors` in the problem body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

/// The problem+json body (RFC 9457) with Herald's `code` extension.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    pub code: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

impl Problem {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            type_uri: format!("urn:herald:problem:{}", code.as_str()),
            title: code.title(),
            status: code.status().as_u16(),
            detail: detail.into(),
            code: code.as_str(),
            errors: Vec::new(),
        }
    }

    /// The response carrying this problem.
    pub fn to_response(&self) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        HttpResponse::build(status)
            .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)))
            .json(self)
    }
}

/// An error a handler returns. Build it with the constructors; `Unexpected` errors keep their
/// cause for the log and show the client only a generic detail.
pub struct ApiError {
    code: ErrorCode,
    detail: String,
    errors: Vec<FieldProblem>,
    retry_after_seconds: Option<u64>,
    source: Option<anyhow::Error>,
}

impl ApiError {
    /// A client-fixable error with a detail the client is meant to read.
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after_seconds: None,
            source: None,
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, detail)
    }

    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationFailed, detail)
    }

    /// A validation failure listing each bad field.
    pub fn invalid_fields(errors: Vec<FieldProblem>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            errors,
            ..Self::new(ErrorCode::ValidationFailed, detail)
        }
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, detail)
    }

    pub fn too_many_requests(retry_after_seconds: u64, detail: impl Into<String>) -> Self {
        Self {
            retry_after_seconds: Some(retry_after_seconds.max(1)),
            ..Self::new(ErrorCode::TooManyRequests, detail)
        }
    }

    /// A fault on our side: logged with its cause chain, shown to the client as a plain 500.
    pub fn unexpected(source: impl Into<anyhow::Error>) -> Self {
        Self {
            source: Some(source.into()),
            ..Self::new(ErrorCode::Internal, "")
        }
    }

    /// A dependency is down: logged with its cause, shown as a 503 the client may retry.
    pub fn unavailable(source: impl Into<anyhow::Error>) -> Self {
        Self {
            source: Some(source.into()),
            ..Self::new(ErrorCode::ServiceUnavailable, "")
        }
    }

    /// Adds per-field details, listed under `errors` in the body.
    pub fn with_field_problems(mut self, errors: Vec<FieldProblem>) -> Self {
        self.errors = errors;
        self
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The body to send; a 5xx one says nothing about the cause.
    pub(crate) fn problem(&self) -> Problem {
        // Hide what came from a cause (driver errors, paths, hosts); a detail we wrote for a
        // 503 on purpose, such as which dependency is down, stays.
        let detail = if self.source.is_some() || self.code == ErrorCode::Internal {
            // Internals stay in the log; the request id ties the two together.
            "The server could not complete the request; it has been logged with this request's id."
                .to_owned()
        } else {
            self.detail.clone()
        };
        Problem {
            errors: self.errors.clone(),
            ..Problem::new(self.code, detail)
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        Self::unexpected(e)
    }
}

impl fmt::Debug for ApiError {
    /// Prints the whole cause chain: this is what reaches the logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)?;
        if let Some(source) = &self.source {
            write!(f, ": {source:?}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(source) if self.detail.is_empty() => write!(f, "{}: {source}", self.code),
            _ => write!(f, "{}: {}", self.code, self.detail),
        }
    }
}

impl std::error::Error for ApiError {}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        if self.code.status().is_server_error() {
            tracing::error!(error = ?self, "request failed");
        }
        let mut response = self.problem().to_response();
        if let Some(seconds) = self.retry_after_seconds
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_code_is_unique_snake_case_and_maps_to_an_error_status() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(s.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{s}");
            assert!(code.status().is_client_error() || code.status().is_server_error());
        }
    }

    #[test]
    fn a_server_error_body_hides_its_cause() {
        let err = ApiError::unexpected(anyhow::anyhow!("password=hunter2 in connection string"));
        let problem = err.problem();
        assert_eq!(problem.status, 500);
        assert!(!problem.detail.contains("hunter2"));
        assert!(
            format!("{err:?}").contains("hunter2"),
            "the log keeps the cause"
        );
    }

    #[test]
    fn too_many_requests_carries_retry_after() {
        let response = ApiError::too_many_requests(30, "slow down").error_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "30");
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            PROBLEM_JSON
        );
    }
}

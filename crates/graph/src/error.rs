//! Every failure of a Graph call, classified once into what the caller should do.
//!
//! The classification follows the tables of `shared/reference/whatsapp-cloud-api.md` §2 and is
//! keyed on the Graph error `code` (plus `error_data.details` for the bad-parameter codes, as the
//! reference advises), never on message text, subcodes or the HTTP status, which Meta's current
//! table no longer specifies. The HTTP status is used only when there is no Graph error body to
//! read (a proxy's 502, an HTML page).
//!
//! Failures after the request may have reached Meta (timeouts, resets, a 5xx without Meta's body)
//! carry `outcome_unknown: true`: Meta has no idempotency key, so the message may have been
//! accepted and a blind resend can deliver it twice. Herald resolves such messages from the status
//! webhooks, which echo `biz_opaque_callback_data`.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Named codes the sender and the sandbox both need. The full mapping is [`classify`].
pub mod codes {
    /// The token is invalid or expired.
    pub const ACCESS_TOKEN_INVALID: i64 = 190;
    /// Invalid or missing parameter.
    pub const INVALID_PARAMETER: i64 = 100;
    /// App API-call rate limit.
    pub const APP_RATE_LIMIT: i64 = 4;
    /// WABA (business-use-case) rate limit.
    pub const WABA_RATE_LIMIT: i64 = 80007;
    /// Phone-number throughput exceeded.
    pub const THROUGHPUT_EXCEEDED: i64 = 130_429;
    /// Pair rate limit: the same recipient too often.
    pub const PAIR_RATE_LIMIT: i64 = 131_056;
    /// Unknown send failure.
    pub const SEND_FAILED: i64 = 131_000;
    /// Service temporarily unavailable.
    pub const SERVICE_UNAVAILABLE: i64 = 2;
    /// Account in maintenance (e.g. throughput upgrade).
    pub const ACCOUNT_IN_MAINTENANCE: i64 = 131_057;
    /// Recipient cannot receive the message.
    pub const UNDELIVERABLE: i64 = 131_026;
    /// Outside the 24 h window with a non-template message.
    pub const REENGAGEMENT_REQUIRED: i64 = 131_047;
    /// Per-user marketing cap.
    pub const MARKETING_CAP: i64 = 131_049;
    /// The user stopped marketing messages.
    pub const MARKETING_OPTED_OUT: i64 = 131_050;
    /// The user is in a Meta experiment group.
    pub const EXPERIMENT_GROUP: i64 = 130_472;
    /// Test number: recipient not in the allowed list.
    pub const RECIPIENT_NOT_ALLOWED: i64 = 131_030;
    /// Parameter count differs from the template's.
    pub const PARAMETER_COUNT_MISMATCH: i64 = 132_000;
    /// Template missing in that language, or not approved.
    pub const TEMPLATE_NOT_FOUND: i64 = 132_001;
    /// Template paused.
    pub const TEMPLATE_PAUSED: i64 = 132_015;
    /// Unsupported message type.
    pub const UNSUPPORTED_MESSAGE_TYPE: i64 = 131_051;
}

/// Meta's error body: `{"error": {...}}` (`GraphAPIError` in the OpenAPI file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphErrorBody {
    /// The error.
    pub error: GraphErrorDetail,
}

/// The `error` object. Only `code` is needed to classify; the rest is for logs and operators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphErrorDetail {
    /// `(#code) title`.
    #[serde(default)]
    pub message: String,
    /// e.g. `OAuthException`.
    #[serde(rename = "type", default)]
    pub error_type: String,
    /// The Graph error code, the key of the classification.
    pub code: i64,
    /// Deprecated since v16 but still seen; informational only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_subcode: Option<i64>,
    /// WhatsApp details; `details` says which parameter was wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_data: Option<ErrorData>,
    /// Quote it to Meta support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fbtrace_id: Option<String>,
    /// Graph's own transient hint; informational (the code decides).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_transient: Option<bool>,
    /// A title meant for end users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_user_title: Option<String>,
    /// A message meant for end users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_user_msg: Option<String>,
}

/// `error.error_data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorData {
    /// Always `whatsapp` for WhatsApp errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_product: Option<String>,
    /// Free text naming the problem, e.g. the bad parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

impl GraphErrorBody {
    /// A body with just a code and a message, as the sandbox answers.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            error: GraphErrorDetail {
                message: message.into(),
                error_type: "OAuthException".to_owned(),
                code,
                error_subcode: None,
                error_data: None,
                fbtrace_id: None,
                is_transient: None,
                error_user_title: None,
                error_user_msg: None,
            },
        }
    }

    /// `error.error_data.details`, when present.
    pub fn details(&self) -> Option<&str> {
        self.error.error_data.as_ref()?.details.as_deref()
    }

    /// Replaces `secret` wherever it appears in the text fields, so that the body can be logged
    /// even if Graph ever echoed the token back.
    pub(crate) fn redact(&mut self, secret: &str) {
        let error = &mut self.error;
        redact_in(&mut error.message, secret);
        for text in [&mut error.error_user_title, &mut error.error_user_msg]
            .into_iter()
            .flatten()
        {
            redact_in(text, secret);
        }
        if let Some(details) = error
            .error_data
            .as_mut()
            .and_then(|data| data.details.as_mut())
        {
            redact_in(details, secret);
        }
    }
}

pub(crate) fn redact_in(text: &mut String, secret: &str) {
    if !secret.is_empty() && text.contains(secret) {
        *text = text.replace(secret, "<redacted>");
    }
}

/// Which sends a retry-later applies to. The caller pauses exactly this much of its work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetryScope {
    /// Only this recipient (and so this message); keep sending to the others.
    Recipient,
    /// Every send from this business phone number.
    PhoneNumber,
    /// Every call for this WhatsApp Business Account.
    Waba,
    /// Every call this app makes.
    App,
}

/// How the wait grows with each further retry of the same message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backoff {
    /// Always `after`.
    Fixed,
    /// `after × factor^retry`: 2 for ordinary exponential backoff, 4 for the pair rate limit
    /// (Meta: retry after 4^X seconds).
    Exponential {
        /// The growth factor.
        factor: u32,
    },
}

/// The longest wait [`ErrorAction::delay_for_retry`] suggests.
pub const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);

/// What the caller should do about a failed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorAction {
    /// Try again later.
    RetryLater {
        /// The wait before the first retry (Meta's hint when it gave one).
        after: Duration,
        /// What to pause: one recipient, the phone number, the WABA or the whole app.
        scope: RetryScope,
        /// How the wait grows on later retries; see [`ErrorAction::delay_for_retry`].
        backoff: Backoff,
        /// After this many retries of the same message, give up and fail the recipient.
        /// `None`: keep retrying (rate limits clear by themselves).
        max_retries: Option<u32>,
        /// The request may have reached Meta and the message may have been accepted: do not
        /// resend blindly (Meta has no idempotency key); resolve it from status webhooks first.
        outcome_unknown: bool,
    },
    /// Permanent for this recipient in this campaign: mark the contact failed, no retry.
    FailRecipient,
    /// The template or payload is wrong for everyone: pause the campaign for an operator.
    HaltCampaign,
    /// The token, permissions or account are broken: stop every send from this number and alert.
    HaltPhoneNumber,
}

impl ErrorAction {
    /// The wait before retry number `retry` (0 for the first retry), capped at [`MAX_BACKOFF`] (or at
    /// `after` when Meta asked for longer);
    /// `None` when the action is not a retry or the retries are used up.
    pub fn delay_for_retry(&self, retry: u32) -> Option<Duration> {
        let ErrorAction::RetryLater {
            after,
            backoff,
            max_retries,
            ..
        } = *self
        else {
            return None;
        };
        if max_retries.is_some_and(|max| retry >= max) {
            return None;
        }
        let delay = match backoff {
            Backoff::Fixed => after,
            Backoff::Exponential { factor } => factor
                .checked_pow(retry)
                .and_then(|growth| after.checked_mul(growth))
                .unwrap_or(MAX_BACKOFF),
        };
        // Meta's own hint may exceed the cap; it wins.
        Some(delay.min(MAX_BACKOFF.max(after)))
    }
}

/// Which table of the reference a failure fell into; for metrics, logs and stats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Table A (throttling, transient) and network failures.
    RetryLater,
    /// Table B.
    FailRecipient,
    /// Table C.
    HaltCampaign,
    /// Table D.
    HaltPhoneNumber,
    /// A code in no table: retried a few times, then the recipient fails (see [`classify`]).
    Unknown,
}

/// A class and the action that goes with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Classification {
    /// Which table.
    pub class: ErrorClass,
    /// What to do.
    pub action: ErrorAction,
}

impl Classification {
    fn new(class: ErrorClass, action: ErrorAction) -> Self {
        Self { class, action }
    }

    fn retry(after: Duration, scope: RetryScope, backoff: Backoff, max: Option<u32>) -> Self {
        Self::new(
            ErrorClass::RetryLater,
            ErrorAction::RetryLater {
                after,
                scope,
                backoff,
                max_retries: max,
                outcome_unknown: false,
            },
        )
    }

    fn unknown_outcome(mut self) -> Self {
        if let ErrorAction::RetryLater {
            outcome_unknown, ..
        } = &mut self.action
        {
            *outcome_unknown = true;
        }
        self
    }
}

const EXPONENTIAL: Backoff = Backoff::Exponential { factor: 2 };
/// Wait for rate limits when Meta's headers give no time.
const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// Classifies a Graph error code.
///
/// `details` is `error.error_data.details`; it only matters for the bad-parameter codes (100,
/// 131008, 131009, 135000), where the reference says: halt if the problem is systemic, fail one
/// contact if only its value is bad. The only per-contact value Herald sends is the recipient
/// (`to`), so those codes fail the recipient when `details` names the recipient or the `to`
/// parameter, and halt the campaign otherwise: halting wrongly costs an operator a look, failing
/// wrongly would burn through every contact of a broken campaign.
///
/// `hint` is the wait Meta's headers asked for (`Retry-After`, or `estimated_time_to_regain_access`
/// of `x-business-use-case-usage`); it is used for the rate-limit codes 130429, 80007, 4 and 17.
///
/// Codes in no table (`ErrorClass::Unknown`) get the safe default: retry this recipient up to 3
/// times with exponential backoff from 5 s, then fail it. A transient glitch is survived, and an
/// unknown permanent error costs three calls per contact instead of halting everything.
pub fn classify(code: i64, details: Option<&str>, hint: Option<Duration>) -> Classification {
    use ErrorClass::{FailRecipient, HaltCampaign, HaltPhoneNumber};
    use RetryScope::{App, PhoneNumber, Recipient, Waba};
    let secs = Duration::from_secs;
    match code {
        // Table A: retry with backoff.
        130_429 => Classification::retry(
            hint.unwrap_or(secs(1)).max(secs(1)),
            PhoneNumber,
            EXPONENTIAL,
            None,
        ),
        131_056 => {
            Classification::retry(secs(1), Recipient, Backoff::Exponential { factor: 4 }, None)
        }
        80007 => Classification::retry(
            hint.unwrap_or(DEFAULT_RATE_LIMIT_WAIT),
            Waba,
            EXPONENTIAL,
            None,
        ),
        // 17 ("User request limit reached") is not in the reference's table but appears in Meta's
        // OpenAPI file next to 4 and 80007 as a transient rate limit; it is app-wide like 4.
        4 | 17 => Classification::retry(
            hint.unwrap_or(DEFAULT_RATE_LIMIT_WAIT),
            App,
            EXPONENTIAL,
            None,
        ),
        131_000 => Classification::retry(secs(2), Recipient, EXPONENTIAL, Some(3)),
        1 => Classification::retry(secs(1), Recipient, Backoff::Fixed, Some(1)),
        2 | 131_016 | 133_004 => Classification::retry(secs(2), PhoneNumber, EXPONENTIAL, None),
        131_057 => Classification::retry(secs(60), PhoneNumber, Backoff::Fixed, None),

        // Table B: permanent for one recipient.
        131_026 | 131_047 | 131_049 | 131_050 | 130_403 | 130_472 | 131_021 | 130_497 | 132_005
        | 131_030 => Classification::new(FailRecipient, ErrorAction::FailRecipient),

        // Table C: template or payload.
        132_000 | 132_001 | 132_007 | 132_008 | 132_012 | 132_015 | 132_016 | 131_063 | 131_051
        | 131_053 => Classification::new(HaltCampaign, ErrorAction::HaltCampaign),
        100 | 131_008 | 131_009 | 135_000 => {
            if details.is_some_and(names_the_recipient) {
                Classification::new(FailRecipient, ErrorAction::FailRecipient)
            } else {
                Classification::new(HaltCampaign, ErrorAction::HaltCampaign)
            }
        }

        // Table D: auth, account, quality. 104 ("An access token is required") is not in the
        // reference's table; Meta's OpenAPI file returns it for a missing token, which is the
        // same fault as 190.
        190
        | 0
        | 104
        | 10
        | 3
        | 200..=299
        | 131_005
        | 368
        | 131_031
        | 131_042
        | 131_045
        | 133_010
        | 131_048
        | 131_064 => Classification::new(HaltPhoneNumber, ErrorAction::HaltPhoneNumber),

        _ => unknown_code(),
    }
}

fn unknown_code() -> Classification {
    let mut classification = Classification::retry(
        Duration::from_secs(5),
        RetryScope::Recipient,
        EXPONENTIAL,
        Some(3),
    );
    classification.class = ErrorClass::Unknown;
    classification
}

/// Whether `details` says the bad parameter is the recipient. Deliberately narrow: anything
/// vaguer counts as systemic.
fn names_the_recipient(details: &str) -> bool {
    let details = details.to_ascii_lowercase();
    const MARKERS: [&str; 8] = [
        "recipient",
        "'to'",
        "\"to\"",
        "`to`",
        "parameter to ",
        "param to ",
        "to parameter",
        "to field",
    ];
    MARKERS.iter().any(|marker| details.contains(marker))
        || details.ends_with("parameter to")
        || details.ends_with("param to")
}

/// What went wrong, as observed.
#[derive(Debug)]
pub enum Failure {
    /// Meta answered with its error body.
    Api {
        /// HTTP status of the answer.
        status: u16,
        /// The parsed body (any token it contained is redacted).
        body: GraphErrorBody,
    },
    /// A non-success answer whose body is not Meta's error JSON (a proxy page, garbage).
    UnexpectedBody {
        /// HTTP status of the answer.
        status: u16,
        /// The start of the body, for the log.
        excerpt: String,
    },
    /// A success status whose body is not the documented answer.
    InvalidSuccessBody {
        /// HTTP status of the answer.
        status: u16,
        /// The start of the body, for the log.
        excerpt: String,
    },
    /// No usable answer: connect failure, timeout, reset, unreadable body.
    Transport {
        /// Which kind of transport failure.
        kind: TransportKind,
        /// The underlying error.
        source: Box<dyn StdError + Send + Sync>,
    },
}

/// Transport failures differ in whether the request can have reached Meta.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// No connection was made (refused, DNS, TLS, connect timeout): the request was never sent.
    Connect,
    /// The deadline passed after the request may have been sent.
    Timeout,
    /// Reset, broken body or anything else after the connection was made.
    Other,
}

/// The one error type of every call: what happened and what to do about it.
///
/// `Display` and `Debug` never contain the access token.
#[derive(Debug)]
pub struct GraphError {
    classification: Classification,
    failure: Failure,
}

impl GraphError {
    /// An error from Meta's error body; `hint` is the wait Meta's headers asked for.
    pub fn api(status: u16, body: GraphErrorBody, hint: Option<Duration>) -> Self {
        let classification = classify(body.error.code, body.details(), hint);
        Self {
            classification,
            failure: Failure::Api { status, body },
        }
    }

    /// An error answer without Meta's error body. 5xx is transient with an unknown outcome (a
    /// gateway may fail after Meta accepted), 429 is a throttle on the number, and any other
    /// status gets the unknown-code default.
    pub fn unexpected_body(status: u16, excerpt: String, hint: Option<Duration>) -> Self {
        let classification = match status {
            500..=599 => Classification::retry(
                hint.unwrap_or(Duration::from_secs(2)),
                RetryScope::PhoneNumber,
                EXPONENTIAL,
                Some(3),
            )
            .unknown_outcome(),
            429 => Classification::retry(
                hint.unwrap_or(Duration::from_secs(1)),
                RetryScope::PhoneNumber,
                EXPONENTIAL,
                None,
            ),
            _ => unknown_code(),
        };
        Self {
            classification,
            failure: Failure::UnexpectedBody { status, excerpt },
        }
    }

    /// A 2xx whose body could not be read. For a send Meta probably accepted the message, so the
    /// outcome is unknown.
    pub fn invalid_success_body(status: u16, excerpt: String, was_send: bool) -> Self {
        let mut classification = unknown_code();
        if was_send {
            classification = classification.unknown_outcome();
        }
        Self {
            classification,
            failure: Failure::InvalidSuccessBody { status, excerpt },
        }
    }

    /// A transport failure. Connect failures are retried app-wide (Meta is unreachable for every
    /// send) and cannot have delivered anything; other failures of a send have an unknown outcome.
    pub fn transport(
        kind: TransportKind,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
        was_send: bool,
    ) -> Self {
        let classification = match kind {
            TransportKind::Connect => {
                Classification::retry(Duration::from_secs(1), RetryScope::App, EXPONENTIAL, None)
            }
            TransportKind::Timeout | TransportKind::Other => {
                let classification = Classification::retry(
                    Duration::from_secs(2),
                    RetryScope::Recipient,
                    EXPONENTIAL,
                    Some(3),
                );
                if was_send {
                    classification.unknown_outcome()
                } else {
                    classification
                }
            }
        };
        Self {
            classification,
            failure: Failure::Transport {
                kind,
                source: source.into(),
            },
        }
    }

    /// The Graph error code, when Meta sent its error body.
    pub fn code(&self) -> Option<i64> {
        self.body().map(|body| body.error.code)
    }

    /// What to do.
    pub fn action(&self) -> ErrorAction {
        self.classification.action
    }

    /// Which table the error fell into.
    pub fn class(&self) -> ErrorClass {
        self.classification.class
    }

    /// True for [`ErrorAction::RetryLater`].
    pub fn is_retryable(&self) -> bool {
        matches!(self.action(), ErrorAction::RetryLater { .. })
    }

    /// The wait before the first retry, for retryable errors.
    pub fn retry_after(&self) -> Option<Duration> {
        match self.action() {
            ErrorAction::RetryLater { after, .. } => Some(after),
            _ => None,
        }
    }

    /// True when the message may have been accepted although the call failed.
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self.action(),
            ErrorAction::RetryLater {
                outcome_unknown: true,
                ..
            }
        )
    }

    /// Meta's error body, for logs (token-free).
    pub fn body(&self) -> Option<&GraphErrorBody> {
        match &self.failure {
            Failure::Api { body, .. } => Some(body),
            _ => None,
        }
    }

    /// The HTTP status, when there was an answer.
    pub fn http_status(&self) -> Option<u16> {
        match &self.failure {
            Failure::Api { status, .. }
            | Failure::UnexpectedBody { status, .. }
            | Failure::InvalidSuccessBody { status, .. } => Some(*status),
            Failure::Transport { .. } => None,
        }
    }

    /// What was observed.
    pub fn failure(&self) -> &Failure {
        &self.failure
    }
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.failure {
            Failure::Api { status, body } => {
                let error = &body.error;
                write!(
                    f,
                    "graph api error {} (HTTP {status}, {}): {}",
                    error.code, error.error_type, error.message
                )?;
                if let Some(details) = body.details() {
                    write!(f, "; details: {details}")?;
                }
                if let Some(trace) = &error.fbtrace_id {
                    write!(f, "; fbtrace_id {trace}")?;
                }
                Ok(())
            }
            Failure::UnexpectedBody { status, .. } => {
                write!(
                    f,
                    "graph api answered HTTP {status} without a graph error body"
                )
            }
            Failure::InvalidSuccessBody { status, .. } => {
                write!(
                    f,
                    "graph api answered HTTP {status} with an unreadable body"
                )
            }
            Failure::Transport { kind, .. } => match kind {
                TransportKind::Connect => f.write_str("could not connect to the graph api"),
                TransportKind::Timeout => f.write_str("graph api request timed out"),
                TransportKind::Other => f.write_str("graph api request failed in transit"),
            },
        }
    }
}

impl StdError for GraphError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &self.failure {
            Failure::Transport { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

/// The wait Meta asks for in `x-business-use-case-usage`: the largest
/// `estimated_time_to_regain_access` over all its entries, or `None` when it is absent or 0.
///
/// The header is `{"<business id>":[{"type":…,"call_count":…,"estimated_time_to_regain_access":N}]}`.
/// Meta's Graph rate-limiting documentation gives N in **minutes**; the WhatsApp reference marks
/// the unit UNCONFIRMED. Herald reads minutes: if the unit were seconds, waiting 60× too long on a
/// WABA-wide throttle is recoverable, while hammering a throttled WABA prolongs the block.
pub fn business_use_case_wait(header: &str) -> Option<Duration> {
    let usage: serde_json::Value = serde_json::from_str(header).ok()?;
    let minutes = usage
        .as_object()?
        .values()
        .filter_map(serde_json::Value::as_array)
        .flatten()
        .filter_map(|entry| entry.get("estimated_time_to_regain_access")?.as_f64())
        .filter(|minutes| minutes.is_finite() && *minutes > 0.0)
        .fold(0.0_f64, f64::max);
    (minutes > 0.0).then(|| Duration::from_secs_f64((minutes * 60.0).min(86_400.0)))
}

/// `Retry-After` in seconds (the HTTP-date form is not used by Graph and is ignored).
pub fn retry_after_seconds(header: &str) -> Option<Duration> {
    let seconds: u64 = header.trim().parse().ok()?;
    (seconds > 0).then(|| Duration::from_secs(seconds.min(86_400)))
}

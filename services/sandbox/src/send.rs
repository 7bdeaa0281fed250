//! `POST /{version}/{phone-number-id}/messages`: the checks Meta makes, in Meta's order, and what
//! an accepted message sets in motion (ledger entry, planned statuses).
//!
//! Order: token (104 missing / 190 invalid, HTTP 401) → phone number (100, "object does not
//! exist") → injected faults → throughput (130429) → body and recipient (100) → template exists
//! in that language and is APPROVED (132001 HTTP 404; 132015 paused; 132016 disabled) →
//! parameters (132000 / 132012) → pair rate (131056) → 24 h window for non-templates (131047,
//! asynchronous by default) → accepted. Per-recipient failures (131026, 131049, 131050, 130472)
//! arrive asynchronously as `failed` statuses, as Meta sends them.

use std::time::{Duration, Instant};

use herald_graph::{MessageContent, MessageRequest, TemplateStatus, codes};
use serde_json::{Value, json};

use crate::config::{OutsideWindow, RecipientBehaviour, SandboxConfig};
use crate::ledger::LedgerEntry;
use crate::limits::{PairRate, PairRule, Throughput};
use crate::meta_error::MetaError;
use crate::recipient::parse_recipient;
use crate::state::{SandboxState, SendFault, World};
use crate::webhooks::outbox::unix_now;
use crate::webhooks::payloads::{Pricing, StatusEvent, StatusKind};

/// Message types the Cloud API sends besides templates and text; accepted without a deeper
/// check (they need an open service window, like text).
const OTHER_TYPES: &[&str] = &[
    "audio",
    "contacts",
    "document",
    "image",
    "interactive",
    "location",
    "reaction",
    "sticker",
    "video",
];

/// How a send is answered.
pub(crate) enum Answer {
    Accepted(Accepted),
    Refused(MetaError),
    /// 502 with an HTML body (a proxy failing in front of Graph).
    BadGateway,
    /// Answer after `wait`; the message was accepted when `accepted` is set.
    Timeout {
        wait: Duration,
        accepted: Option<Accepted>,
    },
}

/// An accepted message.
pub(crate) struct Accepted {
    pub response: Value,
    pub statuses: Vec<(Instant, StatusEvent)>,
}

fn api_major(version: &str) -> u32 {
    version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|major| major.parse().ok())
        .unwrap_or(0)
}

impl SandboxState {
    /// Decides the answer to one send. Never awaits: the caller sleeps for timeouts and schedules
    /// the statuses.
    pub(crate) fn decide_send(
        &self,
        version: &str,
        phone_number_id: &str,
        token: Option<&str>,
        body: &[u8],
    ) -> Answer {
        let config = self.config();
        let now = Instant::now();
        let mut world = self.world();
        if !config.api_versions.is_empty() && !config.api_versions.iter().any(|v| v == version) {
            return Answer::Refused(MetaError::invalid_parameter(format!(
                "Unsupported API version {version}"
            )));
        }
        match token {
            None => return Answer::Refused(MetaError::missing_token()),
            Some(token) if !world.tokens.contains(token) => {
                return Answer::Refused(MetaError::invalid_token());
            }
            Some(_) => {}
        }
        let Some(number) = world.phone_numbers.get(phone_number_id).cloned() else {
            return Answer::Refused(MetaError::unknown_object(phone_number_id, "post"));
        };

        let mut timeout = false;
        match next_fault(&mut world, config) {
            Some(SendFault::ServerError) => return Answer::Refused(MetaError::unavailable()),
            Some(SendFault::InternalError) => {
                let mut error = MetaError::new(
                    actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
                    codes::SEND_FAILED,
                    "Something went wrong",
                    Some("Message failed to send because of an unknown error.".to_owned()),
                );
                error.body.error.is_transient = Some(true);
                return Answer::Refused(error);
            }
            Some(SendFault::BadGateway) => return Answer::BadGateway,
            Some(SendFault::Throttle) => return Answer::Refused(MetaError::throughput()),
            Some(SendFault::Timeout) => timeout = true,
            None => {}
        }
        let wait = Duration::from_millis(config.faults.timeout_ms);

        if config.limits.enforce_throughput {
            let mps = number
                .messages_per_second
                .unwrap_or(config.limits.messages_per_second);
            let bucket = world
                .throughput
                .entry(number.id.clone())
                .or_insert_with(|| Throughput::new(mps, now));
            if bucket.try_take(now).is_err() {
                return Answer::Refused(MetaError::throughput());
            }
        }

        let checked = match check_request(&world, config, &number, body) {
            Ok(checked) => checked,
            Err(error) => return Answer::Refused(error),
        };

        let pair = &config.limits.pair_rate;
        if pair.enabled {
            let rule = PairRule {
                interval: Duration::from_millis(pair.interval_ms),
                burst: pair.burst,
                burst_window: Duration::from_millis(pair.burst_window_ms),
            };
            let state = world
                .pairs
                .entry((number.id.clone(), checked.wa_id.clone()))
                .or_insert_with(|| PairRate::new(now));
            if state.try_send(rule, now).is_err() {
                return Answer::Refused(MetaError::pair_rate());
            }
        }

        let window = Duration::from_secs(config.messaging.service_window_hours * 3600);
        let in_window = world.in_window(&number.id, &checked.wa_id, window, now);
        if !checked.is_template
            && !in_window
            && config.messaging.text_outside_window == OutsideWindow::Reject
        {
            let (title, details) = crate::webhooks::payloads::failure_text(131_047);
            return Answer::Refused(MetaError::bad_request(
                codes::REENGAGEMENT_REQUIRED,
                title,
                Some(details.to_owned()),
            ));
        }
        if timeout && !config.faults.accept_on_timeout {
            return Answer::Timeout {
                wait,
                accepted: None,
            };
        }

        let accepted = accept(
            &mut world, config, &number, checked, in_window, version, now,
        );
        if timeout {
            Answer::Timeout {
                wait,
                accepted: Some(accepted),
            }
        } else {
            Answer::Accepted(accepted)
        }
    }
}

/// A queued fault first, then the configured random ones.
fn next_fault(world: &mut World, config: &SandboxConfig) -> Option<SendFault> {
    if let Some(fault) = world.faults.pop_front() {
        return Some(fault);
    }
    if world.throttle_burst_left > 0 {
        world.throttle_burst_left -= 1;
        return Some(SendFault::Throttle);
    }
    let faults = &config.faults;
    if faults.server_error_share + faults.timeout_share + faults.throttle_burst_share <= 0.0 {
        return None;
    }
    let roll = world.rng.f64();
    if roll < faults.server_error_share {
        Some(SendFault::ServerError)
    } else if roll < faults.server_error_share + faults.timeout_share {
        Some(SendFault::Timeout)
    } else if roll < faults.server_error_share + faults.timeout_share + faults.throttle_burst_share
    {
        world.throttle_burst_left = faults.throttle_burst_length.saturating_sub(1);
        Some(SendFault::Throttle)
    } else {
        None
    }
}

/// What the request checks established.
struct Checked {
    to: String,
    wa_id: String,
    valid_number: bool,
    is_template: bool,
    message_type: String,
    template: Option<(String, String, String, bool)>,
    callback_data: Option<String>,
}

fn check_request(
    world: &World,
    config: &SandboxConfig,
    number: &crate::state::PhoneNumberRecord,
    body: &[u8],
) -> Result<Checked, MetaError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        MetaError::invalid_parameter(format!("The request body is not valid JSON: {e}"))
    })?;
    if value.get("messaging_product").and_then(Value::as_str) != Some("whatsapp") {
        return Err(MetaError::invalid_parameter(
            "The parameter messaging_product is required and must be 'whatsapp'.",
        ));
    }
    if let Some(kind) = value.get("recipient_type")
        && !matches!(kind.as_str(), Some("individual" | "group"))
    {
        return Err(MetaError::invalid_parameter(
            "recipient_type must be 'individual' or 'group'.",
        ));
    }
    let to = value
        .get("to")
        .and_then(Value::as_str)
        .ok_or_else(|| MetaError::invalid_parameter("The parameter to is required."))?;
    let recipient = parse_recipient(
        to,
        number.country_code,
        config.recipients.mexico_legacy_wa_id,
    )
    .map_err(MetaError::invalid_parameter)?;
    if recipient.digits == number.display_digits() {
        return Err(MetaError::bad_request(
            131_021,
            "Recipient cannot be sender",
            Some("Sender and recipient phone number is the same.".to_owned()),
        ));
    }
    let callback_data = match value.get("biz_opaque_callback_data") {
        None | Some(Value::Null) => None,
        Some(Value::String(data)) if data.chars().count() <= 512 => Some(data.clone()),
        Some(_) => {
            return Err(MetaError::invalid_parameter(
                "biz_opaque_callback_data must be a string of at most 512 characters.",
            ));
        }
    };
    let message_type = match value.get("type") {
        Some(Value::String(kind)) => kind.clone(),
        None if value.get("text").is_some() => "text".to_owned(),
        _ => {
            return Err(MetaError::invalid_parameter(
                "The parameter type is required.",
            ));
        }
    };

    let mut checked = Checked {
        to: recipient.input,
        wa_id: recipient.wa_id,
        valid_number: recipient.valid_number,
        is_template: message_type == "template",
        message_type: message_type.clone(),
        template: None,
        callback_data,
    };
    match message_type.as_str() {
        "template" | "text" => {
            let request: MessageRequest = serde_json::from_value(value).map_err(|e| {
                MetaError::invalid_parameter(format!("Invalid {message_type} message: {e}"))
            })?;
            match request.content {
                MessageContent::Template { template } => {
                    let record = world
                        .find_template(&number.waba_id, &template.name, &template.language.code)
                        .ok_or_else(|| {
                            MetaError::template_not_found(&template.name, &template.language.code)
                        })?;
                    match record.status {
                        TemplateStatus::Approved => {}
                        TemplateStatus::Paused => {
                            return Err(MetaError::bad_request(
                                codes::TEMPLATE_PAUSED,
                                "Template is Paused",
                                Some(format!("Template {} is paused.", record.name)),
                            ));
                        }
                        TemplateStatus::Disabled => {
                            return Err(MetaError::bad_request(
                                132_016,
                                "Template is disabled",
                                Some(format!("Template {} is disabled.", record.name)),
                            ));
                        }
                        _ => {
                            return Err(MetaError::template_not_found(
                                &template.name,
                                &template.language.code,
                            ));
                        }
                    }
                    let components = match serde_json::to_value(&template.components) {
                        Ok(Value::Array(components)) => components,
                        _ => Vec::new(),
                    };
                    record
                        .check_parameters(&components)
                        .map_err(|e| MetaError::parameters(e.code, e.details))?;
                    checked.template = Some((
                        record.name.clone(),
                        record.language.clone(),
                        record.category.to_ascii_lowercase(),
                        record.is_marketing(),
                    ));
                }
                MessageContent::Text { text } => {
                    if text.body.is_empty() || text.body.chars().count() > 4096 {
                        return Err(MetaError::invalid_parameter(
                            "text.body must hold 1 to 4096 characters.",
                        ));
                    }
                }
            }
        }
        other if OTHER_TYPES.contains(&other) => {
            if !value.get(other).is_some_and(Value::is_object) {
                return Err(MetaError::invalid_parameter(format!(
                    "The parameter {other} is required."
                )));
            }
        }
        other => {
            return Err(MetaError::bad_request(
                codes::UNSUPPORTED_MESSAGE_TYPE,
                "Unsupported message type",
                Some(format!("Message type '{other}' is not supported.")),
            ));
        }
    }
    Ok(checked)
}

fn accept(
    world: &mut World,
    config: &SandboxConfig,
    number: &crate::state::PhoneNumberRecord,
    checked: Checked,
    in_window: bool,
    version: &str,
    now: Instant,
) -> Accepted {
    let wamid = world.new_wamid(&checked.wa_id);
    let marketing = checked.template.as_ref().is_some_and(|t| t.3);
    let failure = if !checked.is_template && !in_window {
        Some(codes::REENGAGEMENT_REQUIRED)
    } else {
        match world.behaviour(config, &checked.wa_id) {
            RecipientBehaviour::Undeliverable => Some(codes::UNDELIVERABLE),
            RecipientBehaviour::Experiment => Some(codes::EXPERIMENT_GROUP),
            RecipientBehaviour::OptedOut if marketing => Some(codes::MARKETING_OPTED_OUT),
            RecipientBehaviour::MarketingLimited if marketing => Some(codes::MARKETING_CAP),
            _ if marketing && world.marketing_stopped.contains(&checked.wa_id) => {
                Some(codes::MARKETING_OPTED_OUT)
            }
            _ if !checked.valid_number && config.recipients.invalid_numbers_undeliverable => {
                Some(codes::UNDELIVERABLE)
            }
            _ => None,
        }
    };
    let outcomes = &config.webhooks.outcomes;
    let plan: Vec<StatusKind> = match failure {
        Some(code) => vec![StatusKind::Failed(code)],
        None => {
            let roll = world.rng.f64();
            if roll < outcomes.failed && !outcomes.failure_codes.is_empty() {
                let code = outcomes.failure_codes[world.rng.usize(..outcomes.failure_codes.len())];
                vec![StatusKind::Failed(code)]
            } else if roll < outcomes.failed + outcomes.delivered {
                vec![StatusKind::Sent, StatusKind::Delivered]
            } else if world.rng.f64() < outcomes.skip_delivered {
                vec![StatusKind::Sent, StatusKind::Read]
            } else {
                vec![StatusKind::Sent, StatusKind::Delivered, StatusKind::Read]
            }
        }
    };
    let outcome = match plan.last() {
        Some(StatusKind::Failed(code)) => format!("failed:{code}"),
        Some(kind) => kind.as_str().to_owned(),
        None => String::new(),
    };

    world.ledger.record(LedgerEntry {
        seq: 0,
        wamid: wamid.clone(),
        phone_number_id: number.id.clone(),
        waba_id: number.waba_id.clone(),
        to: checked.to.clone(),
        wa_id: checked.wa_id.clone(),
        message_type: checked.message_type.clone(),
        template_name: checked.template.as_ref().map(|t| t.0.clone()),
        template_language: checked.template.as_ref().map(|t| t.1.clone()),
        biz_opaque_callback_data: checked.callback_data.clone(),
        accepted_at: unix_now(),
        outcome,
    });

    let pricing = match &checked.template {
        Some((_, _, category, _)) if category == "utility" && in_window => Pricing {
            billable: false,
            pricing_type: "free_customer_service",
            category: category.clone(),
        },
        Some((_, _, category, _)) => Pricing {
            billable: true,
            pricing_type: "regular",
            category: category.clone(),
        },
        None => Pricing {
            billable: false,
            pricing_type: "free_customer_service",
            category: "service".to_owned(),
        },
    };
    // Meta dropped `conversation` from status webhooks in v24.
    let conversation_id =
        (api_major(version) < 24).then(|| uuid::Uuid::new_v4().simple().to_string());
    let delays = &config.webhooks.delays;
    let mut jitter = || {
        if delays.jitter_ms == 0 {
            0
        } else {
            world.rng.u64(..=delays.jitter_ms)
        }
    };
    let mut last = now;
    let mut statuses: Vec<(Instant, StatusEvent)> = Vec::with_capacity(plan.len() * 2);
    let mut priced = false;
    for kind in &plan {
        let delay_ms = match kind {
            StatusKind::Sent | StatusKind::Failed(_) => delays.sent_ms,
            StatusKind::Delivered => delays.delivered_ms,
            StatusKind::Read => delays.read_ms,
        };
        let due = (now + Duration::from_millis(delay_ms + jitter())).max(last);
        last = due;
        let failed = matches!(kind, StatusKind::Failed(_));
        // Pricing on `sent` and on the first of delivered/read.
        let with_pricing = !failed && (*kind == StatusKind::Sent || !priced);
        if with_pricing && *kind != StatusKind::Sent {
            priced = true;
        }
        statuses.push((
            due,
            StatusEvent {
                route: number.route(),
                wamid: wamid.clone(),
                kind: *kind,
                recipient_id: checked.wa_id.clone(),
                biz_opaque_callback_data: checked.callback_data.clone(),
                pricing: with_pricing.then(|| pricing.clone()),
                conversation_id: if failed {
                    None
                } else {
                    conversation_id.clone()
                },
                conversation_expires: (*kind == StatusKind::Sent && conversation_id.is_some())
                    .then(|| unix_now() + 24 * 3600),
            },
        ));
    }
    if world.rng.f64() < config.webhooks.reorder_share {
        let dues: Vec<Instant> = statuses.iter().map(|(due, _)| *due).collect();
        statuses.reverse();
        for ((due, _), original) in statuses.iter_mut().zip(dues) {
            *due = original;
        }
    }
    if config.webhooks.duplicate_share > 0.0 {
        let mut with_duplicates = Vec::with_capacity(statuses.len() * 2);
        for status in statuses {
            let twice = world.rng.f64() < config.webhooks.duplicate_share;
            if twice {
                with_duplicates.push(status.clone());
            }
            with_duplicates.push(status);
        }
        statuses = with_duplicates;
    }

    let mut message = json!({"id": wamid});
    if checked.is_template {
        message["message_status"] = json!("accepted");
    }
    Accepted {
        response: json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": checked.to, "wa_id": checked.wa_id}],
            "messages": [message],
        }),
        statuses,
    }
}

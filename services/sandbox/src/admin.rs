//! The admin API: seed the world, change template statuses, make recipients fail, inject inbound
//! messages and stop/resume events, queue faults, read the ledger and the webhook deliveries,
//! reset. Errors are problem+json (`herald_platform::http::ApiError`).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::AUTHORIZATION;
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use herald_platform::http::ApiError;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::{RecipientBehaviour, SeedPhoneNumber, SeedTemplate, is_graph_id};
use crate::recipient::digits_of;
use crate::state::{InboundMessage, SandboxState, SendFault};
use crate::templates::parse_status;
use crate::webhooks::outbox::DeliveryState;

/// Registers the admin routes (relative: the caller chooses the prefix).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/state").get(state_summary))
        .service(web::resource("/reset").post(reset))
        .service(
            web::resource("/phone-numbers")
                .get(list_phone_numbers)
                .post(seed_phone_number),
        )
        .service(
            web::resource("/templates")
                .get(list_templates)
                .post(seed_template),
        )
        .service(web::resource("/templates/{id}/status").post(set_template_status))
        .service(web::resource("/recipients").get(list_recipients))
        .service(web::resource("/recipients/{number}").put(set_recipient))
        .service(web::resource("/inbound").post(inject_inbound))
        .service(web::resource("/user-preferences").post(user_preferences))
        .service(web::resource("/ledger").get(ledger))
        .service(web::resource("/ledger/summary").get(ledger_summary))
        .service(web::resource("/webhooks/deliveries").get(deliveries))
        .service(web::resource("/webhooks/callback").put(set_callback))
        .service(web::resource("/webhooks/verify").post(verify_callback))
        .service(
            web::resource("/faults/sends")
                .post(queue_faults)
                .delete(clear_faults),
        )
        .service(web::resource("/tokens").post(add_token))
        .service(web::resource("/tokens/revoke").post(revoke_token));
}

/// Requires `Authorization: Bearer <admin_token>` when one is configured.
pub async fn require_admin_token(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> std::result::Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let expected = req
        .app_data::<web::Data<SandboxState>>()
        .and_then(|state| state.config().admin_token.clone());
    if let Some(expected) = expected {
        let given = req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let matches =
            given.is_some_and(|given| ring_like_eq(given.as_bytes(), expected.as_bytes()));
        if !matches {
            return Err(
                ApiError::unauthorized("the admin API needs the sandbox's admin token").into(),
            );
        }
    }
    next.call(req).await
}

/// Constant-time comparison of two secrets.
fn ring_like_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

type Result<T> = std::result::Result<T, ApiError>;

async fn state_summary(state: web::Data<SandboxState>) -> HttpResponse {
    let world = {
        let world = state.world();
        json!({
            "phone_numbers": world.phone_numbers.len(),
            "templates": world.templates.len(),
            "ledger": world.ledger.len(),
            "queued_faults": world.faults,
        })
    };
    HttpResponse::Ok().json(json!({
        "world": world,
        "callback_url": state.callback_url().map(|u| u.to_string()),
        "webhooks": state.inner.outbox.stats(),
    }))
}

async fn reset(state: web::Data<SandboxState>) -> HttpResponse {
    state.reset();
    HttpResponse::NoContent().finish()
}

async fn list_phone_numbers(state: web::Data<SandboxState>) -> HttpResponse {
    let world = state.world();
    let numbers: Vec<_> = world.phone_numbers.values().cloned().collect();
    HttpResponse::Ok().json(json!({ "data": numbers }))
}

async fn seed_phone_number(
    state: web::Data<SandboxState>,
    body: web::Json<SeedPhoneNumber>,
) -> Result<HttpResponse> {
    let seed = body.into_inner();
    if !is_graph_id(&seed.id) || !is_graph_id(&seed.waba_id) {
        return Err(ApiError::invalid("id and waba_id must be digits"));
    }
    if seed.messages_per_second == Some(0) {
        return Err(ApiError::invalid("messages_per_second must be at least 1"));
    }
    let record = state.world().upsert_phone_number(&seed);
    Ok(HttpResponse::Created().json(record))
}

async fn list_templates(state: web::Data<SandboxState>) -> HttpResponse {
    let world = state.world();
    let templates: Vec<Value> = world
        .templates
        .values()
        .map(|t| {
            let mut json = t.to_json();
            json["waba_id"] = json!(t.waba_id);
            json
        })
        .collect();
    HttpResponse::Ok().json(json!({ "data": templates }))
}

/// Adds a template, or replaces the one with the same WABA, name and language (keeping its id).
async fn seed_template(
    state: web::Data<SandboxState>,
    body: web::Json<SeedTemplate>,
) -> Result<HttpResponse> {
    let record = state
        .world()
        .upsert_template(&body.into_inner())
        .map_err(ApiError::invalid)?;
    Ok(HttpResponse::Created().json(record.to_json()))
}

#[derive(Deserialize)]
struct StatusChange {
    status: String,
    /// The webhook's `event` when it differs from the status (FLAGGED, REINSTATED…).
    #[serde(default)]
    event: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

async fn set_template_status(
    state: web::Data<SandboxState>,
    path: web::Path<String>,
    body: web::Json<StatusChange>,
) -> Result<HttpResponse> {
    let change = body.into_inner();
    let status = parse_status(&change.status).ok_or_else(|| {
        ApiError::invalid(format!("'{}' is not a template status", change.status))
    })?;
    let id = path.into_inner();
    let (template, delivery) = state
        .set_template_status(
            &id,
            status,
            change.event.as_deref(),
            change.reason.as_deref(),
        )
        .ok_or_else(|| ApiError::not_found(format!("no template with id {id}")))?;
    Ok(HttpResponse::Ok().json(json!({"template": template, "delivery_id": delivery})))
}

async fn list_recipients(state: web::Data<SandboxState>) -> HttpResponse {
    let world = state.world();
    HttpResponse::Ok().json(json!({
        "behaviours": world.recipients,
        "marketing_stopped": world.marketing_stopped,
    }))
}

#[derive(Deserialize)]
struct BehaviourChange {
    behaviour: RecipientBehaviour,
}

async fn set_recipient(
    state: web::Data<SandboxState>,
    path: web::Path<String>,
    body: web::Json<BehaviourChange>,
) -> Result<HttpResponse> {
    let wa_id = digits_of(&path.into_inner());
    if !(5..=15).contains(&wa_id.len()) {
        return Err(ApiError::invalid("the recipient must be a phone number"));
    }
    let behaviour = body.into_inner().behaviour;
    let mut world = state.world();
    if behaviour == RecipientBehaviour::Normal {
        world.recipients.remove(&wa_id);
    } else {
        world.recipients.insert(wa_id.clone(), behaviour);
    }
    Ok(HttpResponse::Ok().json(json!({"wa_id": wa_id, "behaviour": behaviour})))
}

async fn inject_inbound(
    state: web::Data<SandboxState>,
    body: web::Json<InboundMessage>,
) -> Result<HttpResponse> {
    let outcome = state
        .inject_inbound(&body.into_inner())
        .map_err(ApiError::invalid)?;
    Ok(HttpResponse::Created().json(outcome))
}

#[derive(Deserialize)]
struct PreferenceChange {
    phone_number_id: String,
    from: String,
    /// `stop` or `resume`.
    value: String,
    #[serde(default)]
    profile_name: Option<String>,
}

async fn user_preferences(
    state: web::Data<SandboxState>,
    body: web::Json<PreferenceChange>,
) -> Result<HttpResponse> {
    let change = body.into_inner();
    let stop = match change.value.as_str() {
        "stop" => true,
        "resume" => false,
        other => {
            return Err(ApiError::invalid(format!(
                "value '{other}' must be stop or resume"
            )));
        }
    };
    let (body, delivery) = state
        .user_preferences(
            &change.phone_number_id,
            &change.from,
            stop,
            change.profile_name.as_deref(),
        )
        .map_err(ApiError::invalid)?;
    Ok(HttpResponse::Created().json(json!({"delivery_id": delivery, "body": body})))
}

#[derive(Deserialize)]
struct LedgerQuery {
    /// `+49…` or digits; matched against `wa_id` and the digits of `to`.
    recipient: Option<String>,
    callback_data: Option<String>,
    phone_number_id: Option<String>,
    #[serde(default)]
    offset: usize,
    limit: Option<usize>,
}

async fn ledger(state: web::Data<SandboxState>, query: web::Query<LedgerQuery>) -> HttpResponse {
    let query = query.into_inner();
    let world = state.world();
    let entries: Vec<_> = match (&query.recipient, &query.callback_data) {
        (Some(recipient), _) => {
            let digits = digits_of(recipient);
            let mut found = world.ledger.for_recipient(&digits);
            if found.is_empty() {
                found = world
                    .ledger
                    .all()
                    .filter(|e| digits_of(&e.to) == digits)
                    .collect();
            }
            found
        }
        (None, Some(data)) => world.ledger.for_callback_data(data),
        (None, None) => world.ledger.all().collect(),
    };
    let filtered: Vec<_> = entries
        .into_iter()
        .filter(|e| {
            query
                .callback_data
                .as_ref()
                .is_none_or(|d| e.biz_opaque_callback_data.as_ref() == Some(d))
        })
        .filter(|e| {
            query
                .phone_number_id
                .as_ref()
                .is_none_or(|id| &e.phone_number_id == id)
        })
        .collect();
    let total = filtered.len();
    let page: Vec<_> = filtered
        .into_iter()
        .skip(query.offset)
        .take(query.limit.unwrap_or(1000).min(10_000))
        .collect();
    HttpResponse::Ok().json(json!({"total": total, "data": page}))
}

async fn ledger_summary(state: web::Data<SandboxState>) -> HttpResponse {
    HttpResponse::Ok().json(state.world().ledger.summary())
}

#[derive(Deserialize)]
struct DeliveriesQuery {
    state: Option<DeliveryState>,
    field: Option<String>,
}

async fn deliveries(
    state: web::Data<SandboxState>,
    query: web::Query<DeliveriesQuery>,
) -> HttpResponse {
    let query = query.into_inner();
    let data: Vec<_> = state
        .inner
        .outbox
        .deliveries()
        .into_iter()
        .filter(|d| query.state.is_none_or(|s| d.state == s))
        .filter(|d| query.field.as_ref().is_none_or(|f| &d.field == f))
        .collect();
    HttpResponse::Ok().json(json!({"stats": state.inner.outbox.stats(), "data": data}))
}

#[derive(Deserialize)]
struct CallbackChange {
    url: Option<String>,
}

async fn set_callback(
    state: web::Data<SandboxState>,
    body: web::Json<CallbackChange>,
) -> Result<HttpResponse> {
    let url = match body.into_inner().url {
        Some(url) => {
            let parsed = reqwest::Url::parse(&url)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .ok_or_else(|| ApiError::invalid(format!("'{url}' is not an http(s) URL")))?;
            Some(parsed)
        }
        None => None,
    };
    state.set_callback_url(url.clone());
    state.wake();
    Ok(HttpResponse::Ok().json(json!({"url": url.map(|u| u.to_string())})))
}

/// Meta's verification handshake: `GET <callback>?hub.mode=subscribe&hub.challenge=…&
/// hub.verify_token=…`; the endpoint passes when it answers 200 with the challenge.
async fn verify_callback(state: web::Data<SandboxState>) -> Result<HttpResponse> {
    let url = state
        .callback_url()
        .ok_or_else(|| ApiError::conflict("no callback URL is configured"))?;
    let challenge = uuid::Uuid::new_v4().simple().to_string();
    let mut request_url = url.clone();
    request_url
        .query_pairs_mut()
        .append_pair("hub.mode", "subscribe")
        .append_pair("hub.challenge", &challenge)
        .append_pair("hub.verify_token", &state.config().webhooks.verify_token);
    let outcome = state.inner.http.get(request_url).send().await;
    let (status, body) = match outcome {
        Ok(response) => {
            let status = response.status().as_u16();
            (Some(status), response.text().await.unwrap_or_default())
        }
        Err(error) => (None, error.to_string()),
    };
    let verified = status == Some(200) && body.trim() == challenge;
    Ok(HttpResponse::Ok().json(json!({
        "verified": verified,
        "status": status,
        "challenge": challenge,
        "answer": body.chars().take(200).collect::<String>(),
    })))
}

#[derive(Deserialize)]
struct FaultQueue {
    faults: Vec<SendFault>,
}

async fn queue_faults(state: web::Data<SandboxState>, body: web::Json<FaultQueue>) -> HttpResponse {
    let mut world = state.world();
    world.faults.extend(body.into_inner().faults);
    HttpResponse::Ok().json(json!({"queued": world.faults}))
}

async fn clear_faults(state: web::Data<SandboxState>) -> HttpResponse {
    let mut world = state.world();
    world.faults.clear();
    world.throttle_burst_left = 0;
    HttpResponse::NoContent().finish()
}

#[derive(Deserialize)]
struct TokenChange {
    token: String,
}

async fn add_token(
    state: web::Data<SandboxState>,
    body: web::Json<TokenChange>,
) -> Result<HttpResponse> {
    let token = body.into_inner().token;
    if token.trim().is_empty() {
        return Err(ApiError::invalid("token must not be empty"));
    }
    state.world().tokens.insert(token);
    Ok(HttpResponse::NoContent().finish())
}

/// Makes a token invalid (190 from then on), e.g. to test halting a phone number mid-campaign.
async fn revoke_token(
    state: web::Data<SandboxState>,
    body: web::Json<TokenChange>,
) -> Result<HttpResponse> {
    let removed = state.world().tokens.remove(&body.into_inner().token);
    if removed {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found("no such token"))
    }
}

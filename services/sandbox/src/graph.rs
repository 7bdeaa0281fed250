//! The Graph API routes: sends, template management with cursor paging, and phone-number details.
//! Every error is Meta's error body (see [`crate::meta_error`]), never problem+json.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::http::header::{AUTHORIZATION, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use herald_graph::TemplateStatus;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::{SeedTemplate, is_graph_id};
use crate::meta_error::{MetaError, trace_id};
use crate::send::Answer;
use crate::state::SandboxState;
use crate::templates::{parse_status, project_fields};

/// The version segment: `v` digits `.` digits, so that the routes cannot swallow other paths when
/// mounted without a prefix.
const VERSION: &str = r"{version:v\d+\.\d+}";

/// Registers the Graph routes (relative: the caller chooses the prefix).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource(format!("/{VERSION}/{{node}}/messages")).post(send))
        .service(
            web::resource(format!("/{VERSION}/{{node}}/message_templates"))
                .get(list_templates)
                .post(create_template)
                .delete(delete_template),
        )
        .service(web::resource(format!("/{VERSION}/{{node}}")).get(phone_number));
}

/// The bearer token, or the `access_token` query parameter Graph also accepts.
fn token(req: &HttpRequest) -> Option<String> {
    if let Some(value) = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let value = value.trim();
        return value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .or_else(|| value.strip_prefix("OAuth "))
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty());
    }
    web::Query::<BTreeMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.get("access_token").cloned())
        .filter(|t| !t.is_empty())
}

fn check_token(state: &SandboxState, req: &HttpRequest) -> Result<(), MetaError> {
    match token(req) {
        None => Err(MetaError::missing_token()),
        Some(token) if !state.world().tokens.contains(&token) => Err(MetaError::invalid_token()),
        Some(_) => Ok(()),
    }
}

fn ok_json(status: StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("x-fb-trace-id", trace_id()))
        .json(body)
}

async fn send(
    state: web::Data<SandboxState>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let (version, node) = path.into_inner();
    let answer = state.decide_send(&version, &node, token(&req).as_deref(), &body);
    let sends = &state.inner.metrics.sends;
    match answer {
        Answer::Accepted(accepted) => {
            sends.with_label_values(&["accepted"]).inc();
            schedule(&state, accepted.statuses);
            ok_json(StatusCode::OK, &accepted.response)
        }
        Answer::Refused(error) => {
            sends
                .with_label_values(&[error.code().to_string().as_str()])
                .inc();
            actix_web::ResponseError::error_response(&error)
        }
        Answer::BadGateway => {
            sends.with_label_values(&["bad_gateway"]).inc();
            HttpResponse::BadGateway()
                .insert_header((CONTENT_TYPE, "text/html"))
                .body("<html><body><h1>502 Bad Gateway</h1></body></html>")
        }
        Answer::Timeout { wait, accepted } => {
            sends.with_label_values(&["timeout"]).inc();
            let response = match accepted {
                Some(accepted) => {
                    schedule(&state, accepted.statuses);
                    ok_json(StatusCode::OK, &accepted.response)
                }
                None => actix_web::ResponseError::error_response(&MetaError::unavailable()),
            };
            tokio::time::sleep(wait).await;
            response
        }
    }
}

fn schedule(
    state: &SandboxState,
    statuses: Vec<(std::time::Instant, crate::webhooks::payloads::StatusEvent)>,
) {
    if statuses.is_empty() || state.callback_url().is_none() {
        return;
    }
    state
        .inner
        .metrics
        .statuses_scheduled
        .inc_by(statuses.len() as u64);
    state.inner.outbox.schedule_statuses(statuses);
    state.wake();
}

/// `GET message_templates` query.
#[derive(Debug, Deserialize)]
struct TemplateListQuery {
    fields: Option<String>,
    limit: Option<usize>,
    after: Option<String>,
    before: Option<String>,
    name: Option<String>,
    status: Option<String>,
    category: Option<String>,
    language: Option<String>,
}

fn cursor(seq: u64) -> String {
    URL_SAFE_NO_PAD.encode(seq.to_string())
}

fn decode_cursor(cursor: &str) -> Result<u64, MetaError> {
    URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| MetaError::invalid_parameter(format!("Invalid cursor '{cursor}'")))
}

fn waba_exists(state: &SandboxState, waba_id: &str) -> bool {
    let world = state.world();
    world.phone_numbers.values().any(|n| n.waba_id == waba_id)
        || world.templates.values().any(|t| t.waba_id == waba_id)
}

/// The URL of another page: this request's URL with `after`/`before` replaced.
fn page_url(req: &HttpRequest, key: &str, value: &str) -> String {
    let info = req.connection_info();
    let mut pairs: Vec<(String, String)> =
        web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .map(|q| q.into_inner())
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| k != "after" && k != "before" && k != "access_token")
            .collect();
    pairs.push((key.to_owned(), value.to_owned()));
    let query = serde_urlencode(&pairs);
    format!("{}://{}{}?{query}", info.scheme(), info.host(), req.path())
}

fn serde_urlencode(pairs: &[(String, String)]) -> String {
    let mut url = reqwest::Url::parse("http://x/").unwrap_or_else(|_| unreachable!());
    url.query_pairs_mut().extend_pairs(pairs);
    url.query().unwrap_or_default().to_owned()
}

async fn list_templates(
    state: web::Data<SandboxState>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, MetaError> {
    check_token(&state, &req)?;
    let (_, waba_id) = path.into_inner();
    if !waba_exists(&state, &waba_id) {
        return Err(MetaError::unknown_object(&waba_id, "get"));
    }
    let query = web::Query::<TemplateListQuery>::from_query(req.query_string())
        .map_err(|e| MetaError::invalid_parameter(e.to_string()))?
        .into_inner();
    let status =
        match &query.status {
            Some(status) => Some(parse_status(status).ok_or_else(|| {
                MetaError::invalid_parameter(format!("Invalid status '{status}'"))
            })?),
            None => None,
        };
    let limit = query.limit.unwrap_or(25).clamp(1, 1000);
    let after = query.after.as_deref().map(decode_cursor).transpose()?;
    let before = query.before.as_deref().map(decode_cursor).transpose()?;

    let matching: Vec<(u64, Value)> = {
        let world = state.world();
        world
            .templates
            .values()
            .filter(|t| t.waba_id == waba_id)
            .filter(|t| query.name.as_ref().is_none_or(|name| &t.name == name))
            .filter(|t| status.is_none_or(|status| t.status == status))
            .filter(|t| {
                query
                    .category
                    .as_ref()
                    .is_none_or(|c| t.category.eq_ignore_ascii_case(c))
            })
            .filter(|t| query.language.as_ref().is_none_or(|l| &t.language == l))
            .map(|t| (t.seq, t.to_json()))
            .collect()
    };
    let window: Vec<&(u64, Value)> = match (after, before) {
        (Some(after), _) => matching
            .iter()
            .filter(|(seq, _)| *seq > after)
            .take(limit)
            .collect(),
        (None, Some(before)) => {
            let earlier: Vec<&(u64, Value)> =
                matching.iter().filter(|(seq, _)| *seq < before).collect();
            let skip = earlier.len().saturating_sub(limit);
            earlier.into_iter().skip(skip).collect()
        }
        (None, None) => matching.iter().take(limit).collect(),
    };
    let data: Vec<Value> = window
        .iter()
        .map(|(_, t)| project_fields(t.clone(), query.fields.as_deref()))
        .collect();
    let mut body = json!({"data": data});
    if let (Some((first, _)), Some((last, _))) = (window.first(), window.last()) {
        let mut paging = json!({"cursors": {"before": cursor(*first), "after": cursor(*last)}});
        if matching.iter().any(|(seq, _)| seq > last) {
            paging["next"] = json!(page_url(&req, "after", &cursor(*last)));
        }
        if matching.iter().any(|(seq, _)| seq < first) {
            paging["previous"] = json!(page_url(&req, "before", &cursor(*first)));
        }
        body["paging"] = paging;
    }
    Ok(ok_json(StatusCode::OK, &body))
}

/// `POST message_templates` body.
#[derive(Debug, Deserialize)]
struct CreateTemplate {
    name: String,
    language: String,
    category: String,
    #[serde(default)]
    parameter_format: Option<String>,
    #[serde(default)]
    components: Value,
}

async fn create_template(
    state: web::Data<SandboxState>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, MetaError> {
    check_token(&state, &req)?;
    let (_, waba_id) = path.into_inner();
    if !is_graph_id(&waba_id) || !waba_exists(&state, &waba_id) {
        return Err(MetaError::unknown_object(&waba_id, "post"));
    }
    let create: CreateTemplate = serde_json::from_slice(&body)
        .map_err(|e| MetaError::invalid_parameter(format!("Invalid template: {e}")))?;
    if create.name.is_empty()
        || create.name.len() > 512
        || !create
            .name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(MetaError::invalid_parameter(
            "Template name may only contain lowercase letters, digits and underscores (at most 512).",
        ));
    }
    let seed = SeedTemplate {
        waba_id: waba_id.clone(),
        id: None,
        name: create.name,
        language: create.language,
        category: create.category,
        status: "PENDING".to_owned(),
        parameter_format: create.parameter_format,
        components: create.components,
    };
    let record = {
        let mut world = state.world();
        if world
            .find_template(&waba_id, &seed.name, &seed.language)
            .is_some()
        {
            let mut error = MetaError::invalid_parameter(format!(
                "Content in this language already exists for template {}",
                seed.name
            ));
            error.body.error.error_subcode = Some(2_388_024);
            error.body.error.error_user_title =
                Some("Content in This Language Already Exists".into());
            return Err(error);
        }
        world
            .upsert_template(&seed)
            .map_err(MetaError::invalid_parameter)?
    };
    state.schedule_review(record.id.clone());
    Ok(ok_json(
        StatusCode::OK,
        &json!({"id": record.id, "status": TemplateStatus::Pending.as_str(), "category": record.category}),
    ))
}

#[derive(Debug, Deserialize)]
struct DeleteTemplate {
    name: Option<String>,
    hsm_id: Option<String>,
}

async fn delete_template(
    state: web::Data<SandboxState>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, MetaError> {
    check_token(&state, &req)?;
    let (_, waba_id) = path.into_inner();
    let query = web::Query::<DeleteTemplate>::from_query(req.query_string())
        .map_err(|e| MetaError::invalid_parameter(e.to_string()))?
        .into_inner();
    let Some(name) = query.name else {
        return Err(MetaError::invalid_parameter(
            "The parameter name is required.",
        ));
    };
    let mut world = state.world();
    let doomed: Vec<u64> = world
        .templates
        .values()
        .filter(|t| t.waba_id == waba_id && t.name == name)
        .filter(|t| query.hsm_id.as_ref().is_none_or(|id| &t.id == id))
        .map(|t| t.seq)
        .collect();
    if doomed.is_empty() {
        return Err(MetaError::invalid_parameter(format!(
            "Message template \"{name}\" not found"
        )));
    }
    for seq in doomed {
        world.remove_template(seq);
    }
    Ok(ok_json(StatusCode::OK, &json!({"success": true})))
}

#[derive(Debug, Deserialize)]
struct FieldsQuery {
    fields: Option<String>,
}

async fn phone_number(
    state: web::Data<SandboxState>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, MetaError> {
    check_token(&state, &req)?;
    let (_, node) = path.into_inner();
    let Some(number) = state.world().phone_numbers.get(&node).cloned() else {
        return Err(MetaError::unknown_object(&node, "get"));
    };
    let fields = web::Query::<FieldsQuery>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.into_inner().fields)
        .unwrap_or_else(|| "id,display_phone_number,verified_name,quality_rating".to_owned());
    let mps = number
        .messages_per_second
        .unwrap_or(state.config().limits.messages_per_second);
    let mut body = serde_json::Map::new();
    for field in fields.split(',').map(str::trim) {
        let value = match field {
            "id" => json!(number.id),
            "display_phone_number" => json!(number.display_phone_number),
            "verified_name" => json!(number.verified_name),
            "quality_rating" => json!(number.quality_rating),
            "throughput" => json!({"level": if mps >= 1000 { "HIGH" } else { "STANDARD" }}),
            "messaging_limit_tier" | "whatsapp_business_manager_messaging_limit" => {
                json!(number.messaging_limit)
            }
            "code_verification_status" => json!("VERIFIED"),
            "name_status" => json!("APPROVED"),
            "platform_type" => json!("CLOUD_API"),
            other => {
                return Err(MetaError::invalid_parameter(format!(
                    "Tried accessing nonexisting field ({other}) on node type (WhatsAppBusinessPhoneNumber)"
                )));
            }
        };
        body.insert(field.to_owned(), value);
    }
    body.insert("id".to_owned(), json!(number.id));
    Ok(ok_json(StatusCode::OK, &Value::Object(body)))
}

//! The actix-web kit every Herald service is built on.
//!
//! [`app`] returns an `App` that already has what every service needs: the request-context
//! middleware (request id, tracing span with the caller's trace context, request metrics, one
//! log line per request), problem+json rendering for *every* error response including the ones
//! actix produces itself (unknown route, wrong method, oversized body), body-size limits,
//! `/healthz`, `/readyz` and `/metrics`. A service adds its routes with `.configure(...)`.
//!
//! Register routes as `web::resource(path).get(...).post(...)`, not `App::route`: a resource
//! answers a method it lacks with 405, while `App::route` makes it an unknown route (404).

mod error;
mod request;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers, from_fn};
use actix_web::{App, HttpRequest, web};

pub use error::{ApiError, ErrorCode, FieldProblem, PROBLEM_JSON, Problem};
pub use request::RequestId;

use crate::health::{self, Readiness};
use crate::metrics::{self, Metrics};

/// What [`app`] needs: shared, cheap to clone, one per server.
#[derive(Clone)]
pub struct HttpKit {
    pub metrics: web::Data<Metrics>,
    pub readiness: web::Data<Readiness>,
    /// The largest body any route accepts, in bytes.
    pub max_body_bytes: usize,
}

/// The base application: middleware, limits, health and metrics routes, problem+json errors.
pub fn app(
    kit: HttpKit,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(kit.metrics)
        .app_data(kit.readiness)
        .app_data(json_config(kit.max_body_bytes))
        .app_data(web::PayloadConfig::new(kit.max_body_bytes))
        .app_data(web::QueryConfig::default().error_handler(query_error))
        .app_data(web::PathConfig::default().error_handler(path_error))
        // Registered first, so it runs inside the request context and its rewrite is what the
        // metrics and the log line see.
        .wrap(ErrorHandlers::new().default_handler(render_as_problem))
        .wrap(from_fn(request::request_context))
        .service(web::resource("/healthz").get(health::healthz))
        .service(web::resource("/readyz").get(health::readyz))
        .service(web::resource("/metrics").get(metrics::render))
        .default_service(web::to(route_not_found))
}

/// The JSON extractor's limits and error mapping: broken JSON is 400 `malformed_body`, valid JSON
/// with wrong fields 422 `validation_failed`, wrong media type 415, too large 413.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req| json_error(err).into())
}

fn json_error(err: JsonPayloadError) -> ApiError {
    match err {
        JsonPayloadError::OverflowKnownLength { length, limit } => ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("the body is {length} bytes; at most {limit} are accepted"),
        ),
        JsonPayloadError::Overflow { limit } => ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("the body is larger than the {limit} bytes accepted"),
        ),
        JsonPayloadError::ContentType => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "the body must be sent as application/json",
        ),
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            ApiError::new(ErrorCode::ValidationFailed, e.to_string())
        }
        JsonPayloadError::Deserialize(e) => ApiError::new(
            ErrorCode::MalformedBody,
            format!("the body is not valid JSON: {e}"),
        ),
        other => ApiError::new(ErrorCode::MalformedBody, other.to_string()),
    }
}

fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::new(
        ErrorCode::InvalidRequest,
        format!("bad query string: {err}"),
    )
    .into()
}

fn path_error(err: PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::new(
        ErrorCode::InvalidRequest,
        format!("bad path parameter: {err}"),
    )
    .into()
}

async fn route_not_found(req: HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::new(
        ErrorCode::RouteNotFound,
        format!("no route for {} {}", req.method(), req.path()),
    ))
}

/// Rewrites the error responses actix writes itself — an empty 405, the plain-text errors of
/// extractors we did not configure — as problem+json, so clients see one error format
/// everywhere. A response a handler wrote on purpose with its own media type (problem+json, or
/// the sandbox's Meta-shaped JSON errors) is left as it is.
fn render_as_problem<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let written_by_actix = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|v| v.as_bytes().starts_with(b"text/plain"));
    if !written_by_actix {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let code = ErrorCode::from_status(status);
    let detail = match (res.response().error(), code) {
        (_, ErrorCode::MethodNotAllowed) => {
            format!(
                "{} is not allowed on {}",
                res.request().method(),
                res.request().path()
            )
        }
        (Some(err), _) if status.is_client_error() => err.to_string(),
        _ => String::new(),
    };
    if status.is_server_error() {
        tracing::error!(%status, error = ?res.response().error(), "request failed");
    }
    let problem = Problem {
        // The status actix chose stays, even where the code is the nearest generic one.
        status: status.as_u16(),
        ..ApiError::new(code, detail).problem()
    };
    let mut response = problem.to_response();
    // Keep headers such as `Allow` on a 405 that actix set.
    for (name, value) in res.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            response.headers_mut().insert(name.clone(), value.clone());
        }
    }
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    let (req, _) = res.into_parts();
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, response).map_into_right_body(),
    ))
}

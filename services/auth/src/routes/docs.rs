//! The JWKS, the OpenAPI document, and the shapes both share with the other handlers.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use herald_domain::{Email, Role, User, UserId};
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::service::AuthState;

/// A user as the API shows it: never the password hash.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = User)]
pub(crate) struct UserView {
    #[schema(value_type = String, example = "65f1a2b3c4d5e6f708192a3b")]
    id: UserId,
    name: String,
    #[schema(value_type = String, format = "email")]
    email: Email,
    #[schema(value_type = RoleDoc)]
    role: Role,
    disabled: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            name: u.name,
            email: u.email,
            role: u.role,
            disabled: u.disabled,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// What a user may do: `admin` ⊇ `manager` ⊇ `agent`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = Role)]
#[allow(
    dead_code,
    reason = "documentation only: the API uses herald_domain::Role"
)]
pub(crate) enum RoleDoc {
    Admin,
    Manager,
    Agent,
}

/// An RFC 9457 problem, as every error is answered (`application/problem+json`).
#[derive(Serialize, ToSchema)]
#[schema(as = Problem)]
#[allow(
    dead_code,
    reason = "documentation only: herald_platform::http::Problem is sent"
)]
pub(crate) struct ProblemDoc {
    #[serde(rename = "type")]
    #[schema(example = "urn:herald:problem:unauthorized")]
    type_uri: String,
    title: String,
    status: u16,
    detail: String,
    /// Stable snake_case code to branch on.
    #[schema(example = "unauthorized")]
    code: String,
    errors: Option<Vec<FieldProblemDoc>>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = FieldProblem)]
#[allow(dead_code, reason = "documentation only")]
pub(crate) struct FieldProblemDoc {
    field: String,
    message: String,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The auth service's OpenAPI document, generated from the handlers and types.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Herald auth API",
        description = "Users, roles, login and tokens. Access tokens are EdDSA JWTs whose keys are published at /.well-known/jwks.json."
    ),
    paths(
        super::session::login,
        super::session::refresh,
        super::session::logout,
        super::session::me,
        super::session::change_password,
        jwks,
        openapi,
        super::users::list,
        super::users::create,
        super::users::get,
        super::users::update,
        super::users::disable,
        super::users::enable,
        super::users::reset_password,
    ),
    components(schemas(UserView, RoleDoc, ProblemDoc, FieldProblemDoc)),
    modifiers(&BearerAuth),
    tags(
        (name = "session", description = "Logging in and out, tokens, one's own account"),
        (name = "users", description = "User management (admins only)"),
        (name = "keys", description = "Public keys and this document"),
    )
)]
pub struct ApiDoc;

/// The public keys access tokens are signed with.
#[utoipa::path(
    get, path = "/.well-known/jwks.json", tag = "keys",
    responses((status = 200, description = "A JWK set of Ed25519 (OKP) keys", content_type = "application/json"))
)]
pub(crate) async fn jwks(state: web::Data<AuthState>) -> HttpResponse {
    HttpResponse::Ok()
        // Verifiers cache it anyway; a short public cache takes load off during rotation.
        .insert_header(("cache-control", "public, max-age=300"))
        .json(&state.jwks)
}

/// This document.
#[utoipa::path(
    get, path = "/api/v1/auth/openapi.json", tag = "keys",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json"))
)]
pub(crate) async fn openapi() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

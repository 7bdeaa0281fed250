//! Login, refresh, logout, the current user, and changing one's own password.

use actix_web::{HttpRequest, HttpResponse, web};
use herald_domain::Email;
use herald_platform::auth::Authenticated;
use herald_platform::http::ApiError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::client_address;
use super::docs::{ProblemDoc, UserView};
use crate::password::Password;
use crate::service::{AuthState, Session};

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct LoginRequest {
    /// Case does not matter.
    #[schema(value_type = String, format = "email", example = "admin@example.com")]
    email: Email,
    #[schema(value_type = String, format = Password)]
    password: Password,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct RefreshRequest {
    /// The refresh token of the last login or refresh; it can be used once.
    refresh_token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ChangePasswordRequest {
    #[schema(value_type = String, format = Password)]
    current_password: Password,
    #[schema(value_type = String, format = Password)]
    new_password: Password,
}

/// A session: send `accessToken` as `Authorization: Bearer …`; when it expires, trade
/// `refreshToken` for a new pair at `/api/v1/auth/refresh`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TokenResponse {
    access_token: String,
    /// Always `Bearer`.
    token_type: &'static str,
    /// Seconds until the access token expires.
    expires_in: i64,
    /// Opaque; single use.
    refresh_token: String,
    /// Seconds until the refresh token expires.
    refresh_expires_in: i64,
    user: UserView,
}

impl From<Session> for TokenResponse {
    fn from(s: Session) -> Self {
        Self {
            access_token: s.access_token,
            token_type: "Bearer",
            expires_in: s.expires_in,
            refresh_token: s.refresh_token,
            refresh_expires_in: s.refresh_expires_in,
            user: s.user.into(),
        }
    }
}

/// The response carrying tokens must not be cached anywhere.
fn tokens(session: Session) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(TokenResponse::from(session))
}

/// Log in with email and password.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "session",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 401, description = "Wrong email or password", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "The account is disabled", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Not an email address", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 429, description = "Too many failures for this account or address; see Retry-After", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn login(
    state: web::Data<AuthState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest { email, password } = body.into_inner();
    let client = client_address(&req, state.settings.trust_forwarded_for);
    Ok(tokens(state.login(&email, password, client).await?))
}

/// Trade a refresh token for a new access token and a new refresh token.
#[utoipa::path(
    post, path = "/api/v1/auth/refresh", tag = "session",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens; the presented refresh token is used up", body = TokenResponse),
        (status = 401, description = "Unknown, expired, revoked or already used (which revokes the whole session)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn refresh(
    state: web::Data<AuthState>,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    Ok(tokens(state.refresh(&body.refresh_token).await?))
}

/// End the session the refresh token belongs to.
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "session",
    request_body = RefreshRequest,
    responses((status = 204, description = "The session's refresh tokens are revoked"))
)]
pub(crate) async fn logout(
    state: web::Data<AuthState>,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    state.logout(&body.refresh_token).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user.
#[utoipa::path(
    get, path = "/api/v1/auth/me", tag = "session",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user the access token belongs to", body = UserView),
        (status = 401, description = "No valid access token", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn me(
    state: web::Data<AuthState>,
    user: Authenticated,
) -> Result<web::Json<UserView>, ApiError> {
    Ok(web::Json(state.current_user(*user.user_id()).await?.into()))
}

/// Change one's own password. Ends every session of the user.
#[utoipa::path(
    post, path = "/api/v1/auth/password", tag = "session",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed; log in again with the new password"),
        (status = 401, description = "No valid access token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "The current password is wrong or the new one breaks the length rule", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong passwords", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn change_password(
    state: web::Data<AuthState>,
    user: Authenticated,
    body: web::Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let ChangePasswordRequest {
        current_password,
        new_password,
    } = body.into_inner();
    state
        .change_password(*user.user_id(), current_password, new_password)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

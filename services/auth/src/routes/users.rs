//! User management: admins only (the route table says so).

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use herald_domain::{Email, Role, UserId};
use herald_platform::auth::Authenticated;
use herald_platform::http::ApiError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::docs::{ProblemDoc, RoleDoc, UserView};
use crate::password::Password;
use crate::service::{AuthState, NewUser, UserChanges};

/// The page size when the client names none, and the largest it may ask for.
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 200;

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct CreateUserRequest {
    #[schema(example = "Ana Lima")]
    name: String,
    /// Unique, case-insensitive.
    #[schema(value_type = String, format = "email", example = "ana@example.com")]
    email: Email,
    #[schema(value_type = String, format = Password)]
    password: Password,
    /// `agent` when omitted.
    #[serde(default)]
    #[schema(value_type = Option<RoleDoc>)]
    role: Role,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct UpdateUserRequest {
    name: Option<String>,
    #[schema(value_type = Option<RoleDoc>)]
    role: Option<Role>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ResetPasswordRequest {
    #[schema(value_type = String, format = Password)]
    password: Password,
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Page size, 1 to 200 (default 50).
    limit: Option<usize>,
    /// The `next` of the previous page.
    after: Option<String>,
}

/// One page of users, oldest first.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserPage {
    items: Vec<UserView>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
}

/// Create a user.
#[utoipa::path(
    post, path = "/api/v1/auth/users", tag = "users",
    security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Created", body = UserView),
        (status = 409, description = "The email is taken", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn create(
    state: web::Data<AuthState>,
    body: web::Json<CreateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let CreateUserRequest {
        name,
        email,
        password,
        role,
    } = body.into_inner();
    let user = state
        .create_user(NewUser {
            name,
            email,
            password,
            role,
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/auth/users/{}", user.id)))
        .json(UserView::from(user)))
}

/// List users, a page at a time.
#[utoipa::path(
    get, path = "/api/v1/auth/users", tag = "users",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of users", body = UserPage),
        (status = 400, description = "A bad cursor or limit", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list(
    state: web::Data<AuthState>,
    query: web::Query<ListQuery>,
) -> Result<web::Json<UserPage>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::new(
            herald_platform::http::ErrorCode::InvalidRequest,
            format!("limit must be between 1 and {MAX_LIMIT}"),
        ));
    }
    let page = state.list_users(limit, query.after.as_deref()).await?;
    Ok(web::Json(UserPage {
        items: page.items.into_iter().map(UserView::from).collect(),
        next: page.next.map(|c| c.to_string()),
    }))
}

/// One user.
#[utoipa::path(
    get, path = "/api/v1/auth/users/{id}", tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The user id (24 hex characters)")),
    responses(
        (status = 200, description = "The user", body = UserView),
        (status = 404, description = "No such user", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get(
    state: web::Data<AuthState>,
    id: web::Path<UserId>,
) -> Result<web::Json<UserView>, ApiError> {
    Ok(web::Json(state.get_user(*id).await?.into()))
}

/// Rename a user or change their role.
#[utoipa::path(
    patch, path = "/api/v1/auth/users/{id}", tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The user id")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "The updated user", body = UserView),
        (status = 404, description = "No such user", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "Admins cannot change their own role", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn update(
    state: web::Data<AuthState>,
    admin: Authenticated,
    id: web::Path<UserId>,
    body: web::Json<UpdateUserRequest>,
) -> Result<web::Json<UserView>, ApiError> {
    let UpdateUserRequest { name, role } = body.into_inner();
    let user = state
        .update_user(*admin.user_id(), *id, UserChanges { name, role })
        .await?;
    Ok(web::Json(user.into()))
}

/// Disable a user: they cannot log in or refresh; their access tokens run out within minutes.
#[utoipa::path(
    post, path = "/api/v1/auth/users/{id}/disable", tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The user id")),
    responses(
        (status = 200, description = "The disabled user", body = UserView),
        (status = 404, description = "No such user", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "Admins cannot disable themselves", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn disable(
    state: web::Data<AuthState>,
    admin: Authenticated,
    id: web::Path<UserId>,
) -> Result<web::Json<UserView>, ApiError> {
    Ok(web::Json(
        state.disable_user(*admin.user_id(), *id).await?.into(),
    ))
}

/// Enable a disabled user again.
#[utoipa::path(
    post, path = "/api/v1/auth/users/{id}/enable", tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The user id")),
    responses(
        (status = 200, description = "The enabled user", body = UserView),
        (status = 404, description = "No such user", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn enable(
    state: web::Data<AuthState>,
    id: web::Path<UserId>,
) -> Result<web::Json<UserView>, ApiError> {
    Ok(web::Json(state.enable_user(*id).await?.into()))
}

/// Set a user's password (an admin's reset). Ends every session of the user.
#[utoipa::path(
    post, path = "/api/v1/auth/users/{id}/password", tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The user id")),
    request_body = ResetPasswordRequest,
    responses(
        (status = 204, description = "The password is set"),
        (status = 404, description = "No such user", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "The password breaks the length rule", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn reset_password(
    state: web::Data<AuthState>,
    id: web::Path<UserId>,
    body: web::Json<ResetPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    state
        .reset_password(*id, body.into_inner().password)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

//! The actix side: the [`Authenticated`] extractor, role checks, and the [`guard`] middleware.

use std::future::ready;
use std::marker::PhantomData;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use futures_util::future::LocalBoxFuture;
use herald_domain::{Role, UserId};

use super::{Claims, TokenError, TokenVerifier};
use crate::http::ApiError;

/// A request whose bearer token was verified. Use it as a handler argument; the token is
/// checked once per request (the result is kept in the request's extensions).
#[derive(Debug, Clone)]
pub struct Authenticated {
    claims: Claims,
}

impl Authenticated {
    /// Wraps claims that were already verified (tests of handlers, in-process callers).
    pub fn from_verified_claims(claims: Claims) -> Self {
        Self { claims }
    }

    pub fn user_id(&self) -> &UserId {
        &self.claims.sub
    }

    pub fn role(&self) -> Role {
        self.claims.role
    }

    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    /// `Ok` when the caller's role includes `required`, else a 403 to return with `?`.
    pub fn require(&self, required: Role) -> Result<(), ApiError> {
        if self.claims.role.includes(required) {
            Ok(())
        } else {
            Err(AuthError::Forbidden {
                required,
                actual: self.claims.role,
            }
            .into())
        }
    }
}

/// Why a request was refused: 401 (with `WWW-Authenticate: Bearer`) for any token problem,
/// 403 for a missing role, 503 when the keys cannot be fetched.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    Token(#[from] TokenError),
    #[error("this needs the {required} role; the token's role is {actual}")]
    Forbidden { required: Role, actual: Role },
    /// The application was assembled without a `web::Data<TokenVerifier>`: a bug, logged as
    /// a 500.
    #[error("no token verifier is configured for this application")]
    NotConfigured,
}

impl AuthError {
    fn api_error(&self) -> ApiError {
        match self {
            AuthError::Token(TokenError::KeysUnavailable(reason)) => {
                ApiError::unavailable(anyhow::anyhow!("token keys unavailable: {reason}"))
            }
            AuthError::Token(e) => ApiError::unauthorized(e.to_string()),
            AuthError::Forbidden { .. } => ApiError::forbidden(self.to_string()),
            AuthError::NotConfigured => ApiError::unexpected(anyhow::anyhow!(self.to_string())),
        }
    }

    /// The RFC 6750 challenge for a 401.
    fn challenge(&self) -> Option<String> {
        match self {
            AuthError::Token(TokenError::Missing | TokenError::NotBearer) => {
                Some("Bearer realm=\"herald\"".to_owned())
            }
            AuthError::Token(TokenError::KeysUnavailable(_)) => None,
            AuthError::Token(e) => Some(format!(
                "Bearer realm=\"herald\", error=\"invalid_token\", error_description=\"{e}\""
            )),
            _ => None,
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        e.api_error()
    }
}

impl ResponseError for AuthError {
    fn status_code(&self) -> StatusCode {
        self.api_error().code().status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = self.api_error().error_response();
        if let Some(challenge) = self.challenge()
            && let Ok(value) = HeaderValue::from_str(&challenge.replace('\'', ""))
        {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// The token of `Authorization: Bearer <token>`; the scheme is case-insensitive (RFC 7235).
fn bearer_token(headers: &HeaderMap) -> Result<String, TokenError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(TokenError::Missing)?
        .to_str()
        .map_err(|_| TokenError::Malformed)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(TokenError::NotBearer)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(TokenError::NotBearer);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(TokenError::Missing);
    }
    Ok(token.to_owned())
}

impl FromRequest for Authenticated {
    type Error = AuthError;
    type Future = LocalBoxFuture<'static, Result<Self, AuthError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if let Some(done) = req.extensions().get::<Authenticated>().cloned() {
            return Box::pin(ready(Ok(done)));
        }
        let verifier = req.app_data::<web::Data<TokenVerifier>>().cloned();
        let token = bearer_token(req.headers());
        let req = req.clone();
        Box::pin(async move {
            let verifier = verifier.ok_or(AuthError::NotConfigured)?;
            let claims = verifier.verify(&token?).await.inspect_err(|e| {
                tracing::debug!(reason = %e, "bearer token refused");
            })?;
            let auth = Authenticated { claims };
            req.extensions_mut().insert(auth.clone());
            Ok(auth)
        })
    }
}

/// A role a [`RequireRole`] extractor demands.
pub trait RoleRequirement {
    const ROLE: Role;
}

/// Marker for [`RequireRole`]: at least an admin.
#[derive(Debug, Clone, Copy)]
pub struct Admin;
/// Marker for [`RequireRole`]: at least a manager.
#[derive(Debug, Clone, Copy)]
pub struct Manager;
/// Marker for [`RequireRole`]: any signed-in user.
#[derive(Debug, Clone, Copy)]
pub struct Agent;

impl RoleRequirement for Admin {
    const ROLE: Role = Role::Admin;
}
impl RoleRequirement for Manager {
    const ROLE: Role = Role::Manager;
}
impl RoleRequirement for Agent {
    const ROLE: Role = Role::Agent;
}

/// An [`Authenticated`] request whose role includes `R::ROLE`: `async fn h(user:
/// RequireRole<Manager>)` answers 401 without a valid token and 403 without the role.
#[derive(Debug, Clone)]
pub struct RequireRole<R> {
    pub user: Authenticated,
    _role: PhantomData<R>,
}

impl<R: RoleRequirement + 'static> FromRequest for RequireRole<R> {
    type Error = AuthError;
    type Future = LocalBoxFuture<'static, Result<Self, AuthError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let auth = Authenticated::from_request(req, payload);
        Box::pin(async move {
            let user = auth.await?;
            if user.role().includes(R::ROLE) {
                Ok(Self {
                    user,
                    _role: PhantomData,
                })
            } else {
                Err(AuthError::Forbidden {
                    required: R::ROLE,
                    actual: user.role(),
                })
            }
        })
    }
}

/// Who may call an endpoint. Services keep one `(method, path, Access)` table, build their
/// routes from it with [`guard`], and test every row with every role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without a token (login, refresh, the JWKS, the OpenAPI document).
    Public,
    /// Any user with a valid token.
    SignedIn,
    /// A user whose role includes this one.
    Role(Role),
}

impl Access {
    /// Whether a caller with `role` passes (`None`: no valid token).
    pub fn allows(self, role: Option<Role>) -> bool {
        match (self, role) {
            (Access::Public, _) => true,
            (Access::SignedIn, role) => role.is_some(),
            (Access::Role(required), Some(role)) => role.includes(required),
            (Access::Role(_), None) => false,
        }
    }

    fn check(self, user: &Authenticated) -> Result<(), AuthError> {
        match self {
            Access::Role(required) if !user.role().includes(required) => {
                Err(AuthError::Forbidden {
                    required,
                    actual: user.role(),
                })
            }
            _ => Ok(()),
        }
    }
}

type GuardResult<B> = Result<ServiceResponse<EitherBody<B, BoxBody>>, actix_web::Error>;

/// Middleware enforcing `access` on a resource:
/// `web::resource(path).wrap(from_fn(guard(Access::Role(Role::Admin)))).get(handler)`.
/// The verified [`Authenticated`] is kept, so the handler's own extractor does not verify again.
pub fn guard<B: MessageBody + 'static>(
    access: Access,
) -> impl Fn(ServiceRequest, Next<B>) -> LocalBoxFuture<'static, GuardResult<B>> + 'static {
    move |mut req: ServiceRequest, next: Next<B>| {
        Box::pin(async move {
            if access != Access::Public {
                let outcome = match req.extract::<Authenticated>().await {
                    Ok(user) => access.check(&user),
                    Err(e) => Err(e),
                };
                if let Err(e) = outcome {
                    let response = e.error_response();
                    return Ok(req.into_response(response).map_into_right_body());
                }
            }
            next.call(req)
                .await
                .map(ServiceResponse::map_into_left_body)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn the_bearer_token_is_read_whatever_the_scheme_case() {
        assert_eq!(
            bearer_token(&headers("Bearer abc.def.ghi")).unwrap(),
            "abc.def.ghi"
        );
        assert_eq!(bearer_token(&headers("bearer  abc")).unwrap(), "abc");
    }

    #[test]
    fn a_missing_or_foreign_authorization_is_refused() {
        assert_eq!(bearer_token(&HeaderMap::new()), Err(TokenError::Missing));
        assert_eq!(
            bearer_token(&headers("Basic dXNlcjpwYXNz")),
            Err(TokenError::NotBearer)
        );
        assert_eq!(
            bearer_token(&headers("Bearer ")),
            Err(TokenError::NotBearer)
        );
        assert_eq!(bearer_token(&headers("Bearer")), Err(TokenError::NotBearer));
    }

    #[test]
    fn access_rules_follow_the_role_order() {
        assert!(Access::Public.allows(None));
        assert!(!Access::SignedIn.allows(None));
        assert!(Access::SignedIn.allows(Some(Role::Agent)));
        assert!(Access::Role(Role::Manager).allows(Some(Role::Admin)));
        assert!(!Access::Role(Role::Manager).allows(Some(Role::Agent)));
        assert!(!Access::Role(Role::Agent).allows(None));
    }

    #[test]
    fn a_token_problem_is_a_401_with_a_bearer_challenge_and_a_missing_role_a_403() {
        let response = AuthError::Token(TokenError::Expired).error_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let challenge = response.headers().get(header::WWW_AUTHENTICATE).unwrap();
        assert!(challenge.to_str().unwrap().starts_with("Bearer "));
        let response = AuthError::Forbidden {
            required: Role::Admin,
            actual: Role::Agent,
        }
        .error_response();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(response.headers().get(header::WWW_AUTHENTICATE).is_none());
    }
}

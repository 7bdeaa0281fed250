//! Authentication and authorisation for every Herald service (ARCHITECTURE §9).
//!
//! The auth service signs short-lived **access tokens**: EdDSA (Ed25519) JWTs carrying `sub` (the
//! user id), `role`, `iat`, `exp`, `iss`, `aud` and `jti` ([`Claims`]). Every other service checks
//! them locally, without calling the auth service per request:
//!
//! - [`TokenVerifier`] verifies a token against public keys it was given ([`PublicKey`], from
//!   configuration or from the auth service in the same process) and/or a JWKS it fetches over
//!   HTTP and caches, refetching when a token names a key id it does not know (at most once per
//!   `jwks_min_refresh_seconds`, so garbage key ids cannot make it hammer the auth service) and
//!   when the cache is older than `jwks_max_age_seconds`. The algorithm is pinned to EdDSA: a
//!   token saying `alg: none`, `HS256` or anything else is refused before any key is looked at.
//!   Issuer and audience must match; `exp` is checked with a small leeway for clock skew.
//! - [`Authenticated`] is the actix extractor: it reads `Authorization: Bearer …`, verifies the
//!   token with the `web::Data<TokenVerifier>` found in the app data, and answers 401
//!   problem+json with `WWW-Authenticate: Bearer` when anything is wrong.
//! - Roles: [`Authenticated::require`] (`auth.require(Role::Manager)?` in a handler returning
//!   `ApiError`), the [`RequireRole`] extractor (`RequireRole<Manager>`), or [`guard`], a
//!   middleware that enforces an [`Access`] rule on a whole resource so that a service can build
//!   its routes from one table of `(method, path, access)` and test that table. A valid token
//!   without the role is a 403.
//! - [`SigningKey`] (the auth service's side): an Ed25519 key from PKCS#8, with its key id, that
//!   signs claims and publishes its public half as a JWK ([`jwks`]).
//!
//! A disabled user's access token stays valid until it expires (minutes); their refresh tokens
//! are revoked at once, so they cannot get another.

mod claims;
mod extract;
mod keys;
mod verifier;

pub use claims::Claims;
pub use extract::{
    Access, Admin, Agent, AuthError, Authenticated, Manager, RequireRole, RoleRequirement, guard,
};
pub use keys::{KeyError, PublicKey, SigningKey, jwks};
pub use verifier::{TokenError, TokenVerifier, VerifierSettings};

//! The claims of a Herald access token.

use herald_domain::{Role, UserId};
use serde::{Deserialize, Serialize};

/// What an access token says. Times are seconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user the token was issued to.
    pub sub: UserId,
    /// The user's role when the token was issued.
    pub role: Role,
    /// Issued at.
    pub iat: i64,
    /// Expires at.
    pub exp: i64,
    /// Who issued it (the auth service's configured issuer).
    pub iss: String,
    /// Who it is for (the API's configured audience).
    pub aud: String,
    /// A unique id for this token.
    pub jti: String,
}

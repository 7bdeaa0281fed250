//! `User`: someone who logs in to Herald (collection `users`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::email::Email;
use crate::ids::UserId;
use crate::role::Role;
use crate::secret::PasswordHash;

/// A Herald user. Serialized with the seed's camelCase names.
///
/// `password_hash` is read from the seed's `password` field but never serialized, so a `User`
/// returned by an API cannot leak it; the store writes it through [`PasswordHash::expose_phc`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: UserId,
    pub name: String,
    /// Unique, stored lower-cased.
    pub email: Email,
    #[serde(rename = "password", skip_serializing)]
    pub password_hash: PasswordHash,
    #[serde(default)]
    pub role: Role,
    /// A disabled user cannot log in and their refresh tokens are refused.
    #[serde(default)]
    pub disabled: bool,
    /// Failed logins since the last success, for throttling.
    #[serde(default)]
    pub failed_logins: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failed_login_at: Option<DateTime<Utc>>,
    /// Logins are refused until then, whatever the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl User {
    /// A new enabled user with no failed logins.
    pub fn new(
        name: String,
        email: Email,
        password_hash: PasswordHash,
        role: Role,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: UserId::new(),
            name,
            email,
            password_hash,
            role,
            disabled: false,
            failed_logins: 0,
            last_failed_login_at: None,
            locked_until: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// Whether a login attempt may be checked at all at `now` (not disabled, not locked out).
    pub fn may_attempt_login(&self, now: DateTime<Utc>) -> bool {
        !self.disabled && self.locked_until.is_none_or(|until| until <= now)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn user() -> User {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        User::new(
            "Ana".into(),
            Email::parse("ana@example.com").unwrap(),
            PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA").unwrap(),
            Role::Manager,
            now,
        )
    }

    #[test]
    fn a_serialized_user_never_contains_the_password_hash() {
        let json = serde_json::to_value(user()).unwrap();
        assert!(json.get("password").is_none() && json.get("passwordHash").is_none());
        assert!(!json.to_string().contains("argon2"));
        assert_eq!(json["role"], "manager");
        assert_eq!(json["createdAt"], "2026-01-01T00:00:00Z");
    }

    #[test]
    fn a_user_debug_print_redacts_the_password_hash() {
        let printed = format!("{:?}", user());
        assert!(printed.contains("[redacted]") && !printed.contains("argon2"));
    }

    #[test]
    fn a_stored_user_deserializes_from_the_seed_field_names_with_defaults() {
        let user: User = serde_json::from_value(serde_json::json!({
            "id": "65f1a2b3c4d5e6f708192a3b", "name": "Ana", "email": "Ana@Example.com",
            "password": "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
            "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z"
        }))
        .unwrap();
        assert_eq!(user.role, Role::Agent);
        assert_eq!(user.email.as_str(), "ana@example.com");
        assert!(!user.disabled);
    }

    #[test]
    fn a_locked_or_disabled_user_may_not_attempt_a_login() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap();
        let mut u = user();
        assert!(u.may_attempt_login(now));
        u.locked_until = Some(now + chrono::TimeDelta::minutes(5));
        assert!(!u.may_attempt_login(now));
        assert!(u.may_attempt_login(now + chrono::TimeDelta::minutes(5)));
        u.locked_until = None;
        u.disabled = true;
        assert!(!u.may_attempt_login(now));
    }
}

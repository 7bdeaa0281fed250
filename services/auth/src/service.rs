//! The service's state and its operations, independent of HTTP: what the handlers, the
//! `herald admin` commands and the tests call.

use std::net::IpAddr;
use std::time::Instant;

use chrono::{DateTime, TimeDelta, Utc};
use herald_domain::{Email, Role, User, UserId};
use herald_platform::auth::{TokenVerifier, jwks};
use herald_platform::http::{ApiError, FieldProblem};
use herald_store::{Cursor, Page, PageRequest, RefreshToken, Store, StoreError};
use jsonwebtoken::jwk::JwkSet;

use crate::config::AuthSettings;
use crate::keys::KeyRing;
use crate::password::{Hasher, Password};
use crate::throttle::{Throttle, ThrottleKey};
use crate::tokens::{self, AccessTokens};

/// The longest display name accepted.
pub const MAX_NAME_CHARS: usize = 200;

/// Everything the handlers share. One per service, behind `web::Data`.
pub struct AuthState {
    pub(crate) store: Store,
    pub(crate) settings: AuthSettings,
    pub(crate) hasher: Hasher,
    pub(crate) throttle: Throttle,
    pub(crate) access: AccessTokens,
    pub(crate) jwks: JwkSet,
    pub(crate) verifier: TokenVerifier,
}

/// A freshly issued pair of tokens.
pub struct Session {
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: String,
    pub refresh_expires_in: i64,
    pub user: User,
}

/// What a new user is made of.
pub struct NewUser {
    pub name: String,
    pub email: Email,
    pub password: Password,
    pub role: Role,
}

/// The changes an admin may make to a user.
#[derive(Default)]
pub struct UserChanges {
    pub name: Option<String>,
    pub role: Option<Role>,
}

/// A store failure as the client sees it.
pub(crate) fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict { .. } | StoreError::StaleWrite { .. } => {
            ApiError::conflict(e.to_string())
        }
        StoreError::NotFound { .. } => ApiError::not_found(e.to_string()),
        StoreError::Invalid(detail) => {
            ApiError::new(herald_platform::http::ErrorCode::InvalidRequest, detail)
        }
        StoreError::Transition(t) => ApiError::conflict(t.to_string()),
        StoreError::Unavailable(cause) => ApiError::unavailable(cause),
    }
}

fn invalid_field(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid_fields(vec![FieldProblem {
        field: field.to_owned(),
        message: message.into(),
    }])
}

/// A display name: trimmed, 1 to [`MAX_NAME_CHARS`] characters, no control characters.
pub(crate) fn check_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(invalid_field("name", "must not be empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(invalid_field(
            "name",
            format!("must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid_field("name", "must not contain control characters"));
    }
    Ok(name.to_owned())
}

fn seconds_until(later: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (later - now).num_seconds().max(0)
}

impl AuthState {
    pub(crate) fn new(store: Store, settings: AuthSettings, keys: KeyRing) -> anyhow::Result<Self> {
        let hasher = Hasher::new(&settings.password)?;
        let throttle = Throttle::new(&settings.throttle);
        let verifier = TokenVerifier::with_keys(&settings.verifier_settings(), keys.public_keys());
        let jwks = jwks(keys.public_keys().iter());
        let access = AccessTokens::new(keys, &settings);
        Ok(Self {
            store,
            settings,
            hasher,
            throttle,
            access,
            jwks,
            verifier,
        })
    }

    fn refresh_ttl(&self) -> TimeDelta {
        TimeDelta::seconds(i64::try_from(self.settings.refresh_token_ttl_seconds).unwrap_or(0))
    }

    /// Issues an access token and a refresh token in `family` (a new family for a login).
    async fn open_session(
        &self,
        user: User,
        family_id: String,
        now: DateTime<Utc>,
    ) -> Result<Session, ApiError> {
        let access_token = self.access.issue(&user, now)?;
        let refresh_token = tokens::new_refresh_token()?;
        let record = RefreshToken {
            token_hash: tokens::refresh_token_hash(&refresh_token),
            family_id,
            user_id: user.id,
            issued_at: now,
            expires_at: now + self.refresh_ttl(),
            used_at: None,
            revoked_at: None,
        };
        self.store
            .refresh_tokens()
            .insert(&record)
            .await
            .map_err(store_error)?;
        Ok(Session {
            access_token,
            expires_in: self.access.ttl_seconds(),
            refresh_token,
            refresh_expires_in: seconds_until(record.expires_at, now),
            user,
        })
    }

    /// Email and password → a session. Throttled per account and per client address; an
    /// unknown email costs the same argon2 work as a known one.
    #[tracing::instrument(skip_all, fields(client = ?client))]
    pub async fn login(
        &self,
        email: &Email,
        password: Password,
        client: Option<IpAddr>,
    ) -> Result<Session, ApiError> {
        let mut keys = vec![ThrottleKey::Account(email.as_str().to_owned())];
        keys.extend(client.map(ThrottleKey::Address));
        if let Err(wait) = self.throttle.check(&keys, Instant::now()) {
            tracing::warn!("login throttled after repeated failures");
            return Err(ApiError::too_many_requests(
                wait.as_secs() + 1,
                "too many failed logins; wait before trying again",
            ));
        }
        let user = self
            .store
            .users()
            .find_by_email(email)
            .await
            .map_err(store_error)?;
        let matches = self
            .hasher
            .verify(password, user.as_ref().map(|u| u.password_hash.clone()))
            .await?;
        match user {
            Some(user) if matches && !user.disabled => {
                self.throttle.clear(&keys[0]);
                tracing::info!(user_id = %user.id, "login succeeded");
                self.open_session(user, tokens::random_id()?, herald_store::now())
                    .await
            }
            Some(user) if matches => {
                tracing::info!(user_id = %user.id, "login refused: the account is disabled");
                Err(ApiError::forbidden("this account is disabled"))
            }
            _ => {
                self.throttle.record_failure(&keys, Instant::now());
                tracing::info!("login failed: wrong email or password");
                Err(ApiError::unauthorized("the email or the password is wrong"))
            }
        }
    }

    /// Rotates a refresh token: the presented one is used up and a new one (same family) is
    /// returned with a new access token. Presenting a used-up token again means it was copied:
    /// the whole family is revoked, so the thief and the owner both have to log in again.
    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, refresh_token: &str) -> Result<Session, ApiError> {
        let invalid = || ApiError::unauthorized("the refresh token is not valid");
        let now = herald_store::now();
        let hash = tokens::refresh_token_hash(refresh_token);
        let tokens = self.store.refresh_tokens();
        let Some(record) = tokens.find(&hash).await.map_err(store_error)? else {
            return Err(invalid());
        };
        if record.revoked_at.is_some() {
            return Err(invalid());
        }
        if record.used_at.is_some() || !tokens.consume(&hash, now).await.map_err(store_error)? {
            tracing::warn!(
                user_id = %record.user_id,
                family = %record.family_id,
                "a used refresh token was presented again; revoking its family"
            );
            tokens
                .revoke_family(&record.family_id, now)
                .await
                .map_err(store_error)?;
            return Err(invalid());
        }
        if record.expires_at <= now {
            return Err(ApiError::unauthorized("the refresh token has expired"));
        }
        let user = self
            .store
            .users()
            .get(record.user_id)
            .await
            .map_err(store_error)?;
        match user {
            Some(user) if !user.disabled => self.open_session(user, record.family_id, now).await,
            _ => {
                tokens
                    .revoke_family(&record.family_id, now)
                    .await
                    .map_err(store_error)?;
                Err(invalid())
            }
        }
    }

    /// Revokes the session (the refresh-token family) `refresh_token` belongs to. Unknown
    /// tokens are ignored: logging out twice is not an error.
    #[tracing::instrument(skip_all)]
    pub async fn logout(&self, refresh_token: &str) -> Result<(), ApiError> {
        let hash = tokens::refresh_token_hash(refresh_token);
        let tokens = self.store.refresh_tokens();
        if let Some(record) = tokens.find(&hash).await.map_err(store_error)? {
            tokens
                .revoke_family(&record.family_id, herald_store::now())
                .await
                .map_err(store_error)?;
            tracing::info!(user_id = %record.user_id, "logged out");
        }
        Ok(())
    }

    /// The user behind a verified token; 401 when they no longer exist or are disabled.
    pub async fn current_user(&self, id: UserId) -> Result<User, ApiError> {
        match self.store.users().get(id).await.map_err(store_error)? {
            Some(user) if !user.disabled => Ok(user),
            _ => Err(ApiError::unauthorized(
                "this account no longer exists or is disabled",
            )),
        }
    }

    async fn user(&self, id: UserId) -> Result<User, ApiError> {
        self.store
            .users()
            .get(id)
            .await
            .map_err(store_error)?
            .ok_or_else(|| ApiError::not_found(format!("no user has the id {id}")))
    }

    fn check_password(&self, field: &str, password: &Password) -> Result<(), ApiError> {
        password
            .check_length(&self.settings.password)
            .map_err(|message| invalid_field(field, message))
    }

    /// Creates a user; 409 when the email is taken.
    #[tracing::instrument(skip_all, fields(role = %new.role))]
    pub async fn create_user(&self, new: NewUser) -> Result<User, ApiError> {
        let name = check_name(&new.name)?;
        self.check_password("password", &new.password)?;
        let hash = self.hasher.hash(new.password).await?;
        let user = User::new(name, new.email, hash, new.role, herald_store::now());
        self.store
            .users()
            .create(&user)
            .await
            .map_err(store_error)?;
        tracing::info!(user_id = %user.id, "user created");
        Ok(user)
    }

    pub async fn list_users(
        &self,
        limit: usize,
        after: Option<&str>,
    ) -> Result<Page<User>, ApiError> {
        let after = after.map(Cursor::parse).transpose().map_err(store_error)?;
        let request = PageRequest {
            after,
            ..PageRequest::first(limit)
        };
        self.store.users().list(&request).await.map_err(store_error)
    }

    pub async fn get_user(&self, id: UserId) -> Result<User, ApiError> {
        self.user(id).await
    }

    /// Renames a user or changes their role. An admin cannot change their own role, so the
    /// last admin cannot demote themselves by mistake.
    #[tracing::instrument(skip_all, fields(user_id = %id))]
    pub async fn update_user(
        &self,
        actor: UserId,
        id: UserId,
        changes: UserChanges,
    ) -> Result<User, ApiError> {
        let mut user = self.user(id).await?;
        if let Some(name) = changes.name {
            user.name = check_name(&name)?;
        }
        if let Some(role) = changes.role
            && role != user.role
        {
            if actor == id {
                return Err(ApiError::conflict("you cannot change your own role"));
            }
            user.role = role;
        }
        user.updated_at = herald_store::now();
        self.store
            .users()
            .update(&user)
            .await
            .map_err(store_error)?;
        tracing::info!("user updated");
        Ok(user)
    }

    /// Disables a user and revokes their refresh tokens. Their access tokens expire within
    /// the access-token lifetime.
    #[tracing::instrument(skip_all, fields(user_id = %id))]
    pub async fn disable_user(&self, actor: UserId, id: UserId) -> Result<User, ApiError> {
        if actor == id {
            return Err(ApiError::conflict("you cannot disable your own account"));
        }
        let now = herald_store::now();
        self.store
            .users()
            .disable(id, now)
            .await
            .map_err(store_error)?;
        self.store
            .refresh_tokens()
            .revoke_all_for_user(id, now)
            .await
            .map_err(store_error)?;
        tracing::info!("user disabled");
        self.user(id).await
    }

    /// Lets a disabled user log in again.
    #[tracing::instrument(skip_all, fields(user_id = %id))]
    pub async fn enable_user(&self, id: UserId) -> Result<User, ApiError> {
        let mut user = self.user(id).await?;
        if user.disabled {
            user.disabled = false;
            user.updated_at = herald_store::now();
            self.store
                .users()
                .update(&user)
                .await
                .map_err(store_error)?;
            tracing::info!("user enabled");
        }
        Ok(user)
    }

    /// Sets a new password (an admin's reset) and ends every session of the user.
    #[tracing::instrument(skip_all, fields(user_id = %id))]
    pub async fn reset_password(&self, id: UserId, password: Password) -> Result<(), ApiError> {
        self.check_password("password", &password)?;
        let mut user = self.user(id).await?;
        self.set_password(&mut user, password).await?;
        tracing::info!("password reset");
        Ok(())
    }

    /// A user changes their own password, proving the current one. Every session of the user
    /// ends (they log in again with the new password). Wrong current passwords count towards
    /// the account's login throttle.
    #[tracing::instrument(skip_all, fields(user_id = %id))]
    pub async fn change_password(
        &self,
        id: UserId,
        current: Password,
        new: Password,
    ) -> Result<(), ApiError> {
        let mut user = self.current_user(id).await?;
        let key = [ThrottleKey::Account(user.email.as_str().to_owned())];
        if let Err(wait) = self.throttle.check(&key, Instant::now()) {
            return Err(ApiError::too_many_requests(
                wait.as_secs() + 1,
                "too many wrong passwords; wait before trying again",
            ));
        }
        if !self
            .hasher
            .verify(current, Some(user.password_hash.clone()))
            .await?
        {
            self.throttle.record_failure(&key, Instant::now());
            return Err(invalid_field(
                "currentPassword",
                "is not the current password",
            ));
        }
        self.check_password("newPassword", &new)?;
        self.set_password(&mut user, new).await?;
        tracing::info!("password changed");
        Ok(())
    }

    async fn set_password(&self, user: &mut User, password: Password) -> Result<(), ApiError> {
        user.password_hash = self.hasher.hash(password).await?;
        let now = herald_store::now();
        user.updated_at = now;
        self.store.users().update(user).await.map_err(store_error)?;
        self.store
            .refresh_tokens()
            .revoke_all_for_user(user.id, now)
            .await
            .map_err(store_error)?;
        Ok(())
    }
}

//! The first admin: `herald admin create --email … --password-stdin` and the start-up check on
//! an empty store. Passwords are never printed or logged.

use std::io::BufRead;

use anyhow::Context as _;
use herald_domain::{Email, Role, User};
use herald_store::Store;

use crate::config::AuthSettings;
use crate::keys::KeyRing;
use crate::password::Password;
use crate::service::{AuthState, NewUser};

/// What the start-up check found or did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirstAdmin {
    /// The store already has users: nothing to do.
    UsersExist,
    /// The store was empty; this admin was created from `auth.bootstrap_admin_*`.
    Created(Email),
    /// The store is empty and nothing is configured: tell the operator how to create one.
    Missing,
}

/// How to create the first admin, for `herald serve` to print on an empty store.
pub fn first_admin_instructions(program: &str) -> String {
    format!(
        "No user exists yet. Create the first admin with:\n  \
         printf '%s' 'a-long-password' | {program} admin create --email you@example.com --password-stdin\n\
         or start with HERALD__AUTH__BOOTSTRAP_ADMIN_EMAIL and HERALD__AUTH__BOOTSTRAP_ADMIN_PASSWORD set."
    )
}

/// Reads a password from `input` (standard input for `--password-stdin`): the first line,
/// without its line ending. Nothing else is trimmed: spaces may be part of a password.
pub fn read_password(mut input: impl BufRead) -> anyhow::Result<Password> {
    let mut line = String::new();
    input
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    anyhow::ensure!(!password.is_empty(), "no password on standard input");
    Ok(Password::new(password))
}

/// Why `herald admin create` failed, in words for the operator.
#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("{0}")]
    Rejected(String),
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// Creates a user directly in the store (for `herald admin create`; `role` is usually
/// [`Role::Admin`]). Applies the same rules as the API: name, password length, unique email.
pub async fn create_user(
    store: &Store,
    settings: &AuthSettings,
    name: &str,
    email: Email,
    password: Password,
    role: Role,
) -> Result<User, CreateUserError> {
    // No token is issued here, so a throwaway key avoids touching the key file.
    let keys = KeyRing::from_keys(
        herald_platform::auth::SigningKey::generate("cli").map_err(anyhow::Error::from)?,
        [],
    );
    let state = AuthState::new(store.clone(), settings.clone(), keys)?;
    state
        .create_user(NewUser {
            name: name.to_owned(),
            email,
            password,
            role,
        })
        .await
        .map_err(|e| {
            if e.code().status().is_client_error() {
                CreateUserError::Rejected(e.detail().to_owned())
            } else {
                CreateUserError::Failed(anyhow::anyhow!("{e:?}"))
            }
        })
}

pub(crate) async fn ensure_first_admin(state: &AuthState) -> anyhow::Result<FirstAdmin> {
    if state.store.users().count().await? > 0 {
        return Ok(FirstAdmin::UsersExist);
    }
    let (Some(email), Some(password)) = (
        &state.settings.bootstrap_admin_email,
        &state.settings.bootstrap_admin_password,
    ) else {
        return Ok(FirstAdmin::Missing);
    };
    let email = Email::parse(email).context("auth.bootstrap_admin_email")?;
    let created = state
        .create_user(NewUser {
            name: "Administrator".to_owned(),
            email: email.clone(),
            password: Password::new(password.expose()),
            role: Role::Admin,
        })
        .await;
    match created {
        Ok(user) => {
            tracing::info!(user_id = %user.id, email = %email.as_str(), "created the first admin from auth.bootstrap_admin_email");
            Ok(FirstAdmin::Created(email))
        }
        // Another replica created it first.
        Err(e) if e.code() == herald_platform::http::ErrorCode::Conflict => {
            Ok(FirstAdmin::UsersExist)
        }
        Err(e) => Err(anyhow::anyhow!("cannot create the first admin: {e:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_from_stdin_loses_only_its_line_ending() {
        let p = read_password(&b" spaced pass \r\nignored"[..]).unwrap();
        assert_eq!(p.expose(), " spaced pass ");
        assert!(read_password(&b"\n"[..]).is_err());
    }
}

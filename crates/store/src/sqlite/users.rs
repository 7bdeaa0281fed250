//! `UserStore` on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_sqlite::rusqlite::{Row, params};
use herald_domain::{Email, PasswordHash, User, UserId};

use super::SqliteStore;
use super::codec::{Filter, conflict_or, ms, opt_ms, opt_time, parse, query_opt, text, time};
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use crate::ports::UserStore;
use crate::rules::millis;

const SELECT: &str = "SELECT id, name, email, password, role, disabled, failed_logins, \
     last_failed_login_at, locked_until, created_at, updated_at FROM users";

fn read(row: &Row<'_>) -> StoreResult<User> {
    let password: String = row.get("password")?;
    Ok(User {
        id: parse(&row.get::<_, String>("id")?)?,
        name: row.get("name")?,
        email: parse(&row.get::<_, String>("email")?)?,
        password_hash: PasswordHash::new(password).map_err(StoreError::corrupt)?,
        role: parse(&row.get::<_, String>("role")?)?,
        disabled: row.get("disabled")?,
        failed_logins: row.get("failed_logins")?,
        last_failed_login_at: opt_time(row.get("last_failed_login_at")?)?,
        locked_until: opt_time(row.get("locked_until")?)?,
        created_at: time(row.get("created_at")?)?,
        updated_at: time(row.get("updated_at")?)?,
    })
}

fn email_taken(email: &Email) -> impl FnOnce() -> String {
    let email = email.clone();
    move || format!("a user with email {email}")
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn create(&self, user: &User) -> StoreResult<()> {
        let u = user.clone();
        self.call(move |c| {
            c.execute(
                "INSERT INTO users (id, name, email, password, role, disabled, failed_logins, \
                 last_failed_login_at, locked_until, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    u.id.to_hex(),
                    u.name,
                    u.email.as_str(),
                    u.password_hash.expose_phc(),
                    u.role.as_str(),
                    u.disabled,
                    u.failed_logins,
                    opt_ms(u.last_failed_login_at),
                    opt_ms(u.locked_until),
                    ms(u.created_at),
                    ms(u.updated_at),
                ],
            )
            .map_err(|e| conflict_or(e, email_taken(&u.email)))?;
            Ok(())
        })
        .await
    }

    async fn get(&self, id: UserId) -> StoreResult<Option<User>> {
        self.call(move |c| {
            query_opt(
                c,
                &format!("{SELECT} WHERE id = ?"),
                &[text(id.to_hex())],
                read,
            )
        })
        .await
    }

    async fn find_by_email(&self, email: &Email) -> StoreResult<Option<User>> {
        let email = email.as_str().to_owned();
        self.call(move |c| {
            query_opt(
                c,
                &format!("{SELECT} WHERE email = ?"),
                &[text(email)],
                read,
            )
        })
        .await
    }

    async fn list(&self, page: &PageRequest) -> StoreResult<Page<User>> {
        let page = page.clone();
        self.call(move |c| {
            Filter::default().page(c, SELECT, &page, read, |u: &User| u.id.object_id())
        })
        .await
    }

    async fn count(&self) -> StoreResult<u64> {
        self.call(|c| {
            let n: i64 = c.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))?;
            Ok(n.unsigned_abs())
        })
        .await
    }

    async fn update(&self, user: &User) -> StoreResult<()> {
        let u = user.clone();
        self.call(move |c| {
            let changed = c
                .execute(
                    "UPDATE users SET name = ?2, email = ?3, password = ?4, role = ?5, \
                     disabled = ?6, failed_logins = ?7, last_failed_login_at = ?8, \
                     locked_until = ?9, updated_at = ?10 WHERE id = ?1",
                    params![
                        u.id.to_hex(),
                        u.name,
                        u.email.as_str(),
                        u.password_hash.expose_phc(),
                        u.role.as_str(),
                        u.disabled,
                        u.failed_logins,
                        opt_ms(u.last_failed_login_at),
                        opt_ms(u.locked_until),
                        ms(u.updated_at),
                    ],
                )
                .map_err(|e| conflict_or(e, email_taken(&u.email)))?;
            if changed == 0 {
                return Err(StoreError::not_found(format!("user {}", u.id)));
            }
            Ok(())
        })
        .await
    }

    async fn disable(&self, id: UserId, now: DateTime<Utc>) -> StoreResult<()> {
        let now = ms(millis(now));
        self.call(move |c| {
            let changed = c.execute(
                "UPDATE users SET disabled = 1, updated_at = ?2 WHERE id = ?1",
                params![id.to_hex(), now],
            )?;
            if changed == 0 {
                return Err(StoreError::not_found(format!("user {id}")));
            }
            Ok(())
        })
        .await
    }
}

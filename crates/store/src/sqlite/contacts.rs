//! `ContactStore` on SQLite. Tags and groups are JSON arrays matched with `json_each`; the
//! audience walk reads the primary key in order from the cursor, so a whole walk reads each
//! contact once whatever the selection.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_sqlite::rusqlite::types::Value;
use deadpool_sqlite::rusqlite::{Connection, Row, TransactionBehavior, params};
use herald_domain::{Contact, ContactId, OptOut, PhoneNumber, WhatsAppMatchKey};

use super::SqliteStore;
use super::codec::{
    Filter, conflict_or, enum_from_text, enum_text, from_json, like_pattern, ms, opt_time, parse,
    query_all, query_opt, text, time, to_json,
};
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use crate::ports::{AudienceQuery, ContactFilter, ContactStore, UpsertSummary};
use crate::rules::millis;

const SELECT: &str = "SELECT id, name, phone, tags, groups, variables, opt_out_at, \
     opt_out_reason, created_at, updated_at FROM contacts";

fn read(row: &Row<'_>) -> StoreResult<Contact> {
    let opt_out_at = opt_time(row.get("opt_out_at")?)?;
    let reason: Option<String> = row.get("opt_out_reason")?;
    let opt_out = match (opt_out_at, reason) {
        (Some(at), Some(reason)) => Some(OptOut {
            at,
            reason: enum_from_text(reason)?,
        }),
        _ => None,
    };
    Ok(Contact {
        id: parse(&row.get::<_, String>("id")?)?,
        name: row.get("name")?,
        phone: parse(&row.get::<_, String>("phone")?)?,
        tags: from_json(&row.get::<_, String>("tags")?)?,
        groups: from_json(&row.get::<_, String>("groups")?)?,
        variables: from_json(&row.get::<_, String>("variables")?)?,
        opt_out,
        created_at: time(row.get("created_at")?)?,
        updated_at: time(row.get("updated_at")?)?,
    })
}

/// The columns of a contact, in the order of the `INSERT` statements below.
fn values(c: &Contact) -> StoreResult<[Value; 11]> {
    let (opt_out_at, opt_out_reason) = match &c.opt_out {
        Some(o) => (Value::Integer(ms(o.at)), Value::Text(enum_text(&o.reason)?)),
        None => (Value::Null, Value::Null),
    };
    Ok([
        text(c.id.to_hex()),
        text(c.name.clone()),
        text(c.phone.as_e164()),
        text(c.phone.whatsapp_match_key().as_str()),
        text(to_json(&c.tags)?),
        text(to_json(&c.groups)?),
        text(to_json(&c.variables)?),
        opt_out_at,
        opt_out_reason,
        Value::Integer(ms(c.created_at)),
        Value::Integer(ms(c.updated_at)),
    ])
}

const INSERT: &str = "INSERT INTO contacts (id, name, phone, match_key, tags, groups, variables, \
     opt_out_at, opt_out_reason, created_at, updated_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

fn phone_taken(c: &Contact) -> impl FnOnce() -> String {
    let phone = c.phone.clone();
    move || format!("a contact with phone {phone}")
}

fn filter(f: &ContactFilter) -> Filter {
    let mut out = Filter::default();
    if let Some(tag) = &f.tag {
        out.and(
            "EXISTS (SELECT 1 FROM json_each(contacts.tags) WHERE value = ?)",
            [text(tag.clone())],
        );
    }
    if let Some(group) = &f.group {
        out.and(
            "EXISTS (SELECT 1 FROM json_each(contacts.groups) WHERE value = ?)",
            [text(group.clone())],
        );
    }
    match f.opted_out {
        Some(true) => out.and("opt_out_at IS NOT NULL", []),
        Some(false) => out.and("opt_out_at IS NULL", []),
        None => {}
    }
    if let Some(search) = f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let pattern = like_pattern(search);
        out.and(
            r"(name LIKE ? ESCAPE '\' OR phone LIKE ? ESCAPE '\')",
            [text(pattern.clone()), text(pattern)],
        );
    }
    out
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

fn set_opt_out(c: &Connection, key: &str, at: i64, reason: &str) -> StoreResult<bool> {
    c.execute(
        "UPDATE contacts SET opt_out_at = ?2, opt_out_reason = ?3, updated_at = ?2 \
         WHERE match_key = ?1 AND opt_out_at IS NULL",
        params![key, at, reason],
    )?;
    exists(c, key)
}

fn exists(c: &Connection, key: &str) -> StoreResult<bool> {
    Ok(c.query_row(
        "SELECT EXISTS (SELECT 1 FROM contacts WHERE match_key = ?1)",
        [key],
        |r| r.get(0),
    )?)
}

#[async_trait]
impl ContactStore for SqliteStore {
    async fn create(&self, contact: &Contact) -> StoreResult<()> {
        let contact = contact.clone();
        self.call(move |c| {
            let values = values(&contact)?;
            c.execute(INSERT, deadpool_sqlite::rusqlite::params_from_iter(values))
                .map_err(|e| conflict_or(e, phone_taken(&contact)))?;
            Ok(())
        })
        .await
    }

    async fn upsert_many(&self, contacts: &[Contact]) -> StoreResult<UpsertSummary> {
        let contacts = contacts.to_vec();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut summary = UpsertSummary::default();
            {
                // An existing opt-out survives; an incoming one applies only where none exists.
                let mut stmt = tx.prepare_cached(&format!(
                    "{INSERT} ON CONFLICT (phone) DO UPDATE SET name = excluded.name, \
                     match_key = excluded.match_key, tags = excluded.tags, \
                     groups = excluded.groups, variables = excluded.variables, \
                     opt_out_reason = CASE WHEN contacts.opt_out_at IS NULL \
                        THEN excluded.opt_out_reason ELSE contacts.opt_out_reason END, \
                     opt_out_at = COALESCE(contacts.opt_out_at, excluded.opt_out_at), \
                     updated_at = excluded.updated_at \
                     RETURNING id"
                ))?;
                for contact in &contacts {
                    let id: String = stmt
                        .query_row(
                            deadpool_sqlite::rusqlite::params_from_iter(values(contact)?),
                            |r| r.get(0),
                        )
                        .map_err(|e| conflict_or(e, phone_taken(contact)))?;
                    if id == contact.id.to_hex() {
                        summary.created += 1;
                    } else {
                        summary.updated += 1;
                    }
                }
            }
            tx.commit()?;
            Ok(summary)
        })
        .await
    }

    async fn get(&self, id: ContactId) -> StoreResult<Option<Contact>> {
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

    async fn find_by_phone(&self, phone: &PhoneNumber) -> StoreResult<Option<Contact>> {
        let phone = phone.as_e164().to_owned();
        self.call(move |c| {
            query_opt(
                c,
                &format!("{SELECT} WHERE phone = ?"),
                &[text(phone)],
                read,
            )
        })
        .await
    }

    async fn find_by_match_key(&self, key: &WhatsAppMatchKey) -> StoreResult<Option<Contact>> {
        let key = key.as_str().to_owned();
        self.call(move |c| {
            query_opt(
                c,
                &format!("{SELECT} WHERE match_key = ? ORDER BY id LIMIT 1"),
                &[text(key)],
                read,
            )
        })
        .await
    }

    async fn update(&self, contact: &Contact) -> StoreResult<()> {
        let contact = contact.clone();
        self.call(move |c| {
            let v = values(&contact)?;
            let [
                id,
                name,
                phone,
                key,
                tags,
                groups,
                vars,
                at,
                reason,
                _,
                updated,
            ] = v;
            let changed = c
                .execute(
                    "UPDATE contacts SET name = ?2, phone = ?3, match_key = ?4, tags = ?5, \
                     groups = ?6, variables = ?7, opt_out_at = ?8, opt_out_reason = ?9, \
                     updated_at = ?10 WHERE id = ?1",
                    params![
                        id, name, phone, key, tags, groups, vars, at, reason, updated
                    ],
                )
                .map_err(|e| conflict_or(e, phone_taken(&contact)))?;
            if changed == 0 {
                return Err(StoreError::not_found(format!("contact {}", contact.id)));
            }
            Ok(())
        })
        .await
    }

    async fn delete(&self, id: ContactId) -> StoreResult<()> {
        self.call(move |c| {
            if c.execute("DELETE FROM contacts WHERE id = ?1", [id.to_hex()])? == 0 {
                return Err(StoreError::not_found(format!("contact {id}")));
            }
            Ok(())
        })
        .await
    }

    async fn list(
        &self,
        filter_by: &ContactFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Contact>> {
        let (f, page) = (filter(filter_by), page.clone());
        self.call(move |c| f.page(c, SELECT, &page, read, |x: &Contact| x.id.object_id()))
            .await
    }

    async fn count(&self, filter_by: &ContactFilter) -> StoreResult<u64> {
        let f = filter(filter_by);
        self.call(move |c| {
            let sql = format!("SELECT COUNT(*) FROM contacts{}", f.sql());
            let n: i64 = c.query_row(
                &sql,
                deadpool_sqlite::rusqlite::params_from_iter(f.params.iter()),
                |r| r.get(0),
            )?;
            Ok(n.unsigned_abs())
        })
        .await
    }

    async fn set_opt_out(&self, key: &WhatsAppMatchKey, opt_out: &OptOut) -> StoreResult<bool> {
        let key = key.as_str().to_owned();
        let at = ms(millis(opt_out.at));
        let reason = enum_text(&opt_out.reason)?;
        self.call(move |c| set_opt_out(c, &key, at, &reason)).await
    }

    async fn clear_opt_out(&self, key: &WhatsAppMatchKey, now: DateTime<Utc>) -> StoreResult<bool> {
        let key = key.as_str().to_owned();
        let now = ms(millis(now));
        self.call(move |c| {
            c.execute(
                "UPDATE contacts SET opt_out_at = NULL, opt_out_reason = NULL, updated_at = ?2 \
                 WHERE match_key = ?1 AND opt_out_at IS NOT NULL",
                params![key, now],
            )?;
            exists(c, &key)
        })
        .await
    }

    async fn audience_page(&self, query: AudienceQuery<'_>) -> StoreResult<Vec<Contact>> {
        let mut selectors = Vec::new();
        let mut params: Vec<Value> = Vec::new();
        if !query.ids.is_empty() {
            selectors.push(format!("id IN ({})", placeholders(query.ids.len())));
            params.extend(query.ids.iter().map(|id| text(id.to_hex())));
        }
        for (column, values) in [("tags", query.tags), ("groups", query.groups)] {
            if !values.is_empty() {
                selectors.push(format!(
                    "EXISTS (SELECT 1 FROM json_each(contacts.{column}) WHERE value IN ({}))",
                    placeholders(values.len())
                ));
                params.extend(values.iter().map(|v| text(v.clone())));
            }
        }
        if selectors.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = format!(
            "{SELECT} WHERE opt_out_at IS NULL AND ({})",
            selectors.join(" OR ")
        );
        if let Some(after) = query.after {
            sql.push_str(" AND id > ?");
            params.push(text(after.to_hex()));
        }
        sql.push_str(&format!(" ORDER BY id LIMIT {}", query.limit));
        self.call(move |c| query_all(c, &sql, &params, read)).await
    }
}

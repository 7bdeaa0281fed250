//! Conversions between rows and domain values, and the small query-building kit the repository
//! files share.

use std::fmt::Display;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use deadpool_sqlite::rusqlite::types::Value;
use deadpool_sqlite::rusqlite::{self, Connection, ErrorCode, Row, params_from_iter};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{StoreError, StoreResult};
use crate::page::{Order, Page, PageRequest};

pub(crate) fn ms(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub(crate) fn opt_ms(at: Option<DateTime<Utc>>) -> Option<i64> {
    at.map(ms)
}

pub(crate) fn time(ms: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StoreError::corrupt(format!("timestamp {ms} is out of range")))
}

pub(crate) fn opt_time(ms: Option<i64>) -> StoreResult<Option<DateTime<Utc>>> {
    ms.map(time).transpose()
}

/// Parses a stored value (an id, a phone, an email…) back into its domain type.
pub(crate) fn parse<T>(text: &str) -> StoreResult<T>
where
    T: FromStr,
    T::Err: Display,
{
    text.parse().map_err(StoreError::corrupt)
}

pub(crate) fn opt_parse<T>(text: Option<String>) -> StoreResult<Option<T>>
where
    T: FromStr,
    T::Err: Display,
{
    text.as_deref().map(parse).transpose()
}

pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Unavailable(e.into()))
}

pub(crate) fn from_json<T: DeserializeOwned>(text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(StoreError::corrupt)
}

/// A serde enum (`"draft"`, `"APPROVED"`…) as the bare string stored in a column.
pub(crate) fn enum_text<T: Serialize>(value: &T) -> StoreResult<String> {
    match serde_json::to_value(value).map_err(|e| StoreError::Unavailable(e.into()))? {
        serde_json::Value::String(s) => Ok(s),
        other => Ok(other.to_string()),
    }
}

pub(crate) fn enum_from_text<T: DeserializeOwned>(text: String) -> StoreResult<T> {
    serde_json::from_value(serde_json::Value::String(text)).map_err(StoreError::corrupt)
}

/// A unique index refused the write.
pub(crate) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::ConstraintViolation)
}

/// Maps a unique violation to `Conflict { what }`, anything else to `Unavailable`.
pub(crate) fn conflict_or(e: rusqlite::Error, what: impl FnOnce() -> String) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::conflict(what())
    } else {
        e.into()
    }
}

/// Runs a query and converts every row.
pub(crate) fn query_all<T>(
    conn: &Connection,
    sql: &str,
    params: &[Value],
    read: impl Fn(&Row<'_>) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params_from_iter(params.iter()))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(read(row)?);
    }
    Ok(out)
}

/// Runs a query expected to match at most one row.
pub(crate) fn query_opt<T>(
    conn: &Connection,
    sql: &str,
    params: &[Value],
    read: impl Fn(&Row<'_>) -> StoreResult<T>,
) -> StoreResult<Option<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params_from_iter(params.iter()))?;
    rows.next()?.map(read).transpose()
}

/// A `WHERE` clause built from optional filters.
#[derive(Default)]
pub(crate) struct Filter {
    clauses: Vec<String>,
    pub(crate) params: Vec<Value>,
}

impl Filter {
    /// Adds `clause` (with `?` placeholders) and its parameters.
    pub(crate) fn and(&mut self, clause: &str, params: impl IntoIterator<Item = Value>) {
        self.clauses.push(clause.to_owned());
        self.params.extend(params);
    }

    pub(crate) fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }

    /// Runs `SELECT {columns} FROM {table}` with this filter as one page of `page`, in id order.
    pub(crate) fn page<T>(
        mut self,
        conn: &Connection,
        select: &str,
        page: &PageRequest,
        read: impl Fn(&Row<'_>) -> StoreResult<T>,
        id_of: impl Fn(&T) -> bson::oid::ObjectId,
    ) -> StoreResult<Page<T>> {
        let limit = page.effective_limit();
        let (cmp, dir) = match page.order {
            Order::OldestFirst => (">", "ASC"),
            Order::NewestFirst => ("<", "DESC"),
        };
        if let Some(after) = &page.after {
            self.and(
                &format!("id {cmp} ?"),
                [Value::Text(after.position().to_hex())],
            );
        }
        let sql = format!(
            "{select}{} ORDER BY id {dir} LIMIT {}",
            self.sql(),
            limit + 1
        );
        let rows = query_all(conn, &sql, &self.params, read)?;
        Ok(Page::from_rows(rows, limit, id_of))
    }
}

pub(crate) fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

/// `LIKE` pattern matching `needle` anywhere, with `%`, `_` and the escape character escaped.
pub(crate) fn like_pattern(needle: &str) -> String {
    let mut out = String::from("%");
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

//! Cursor pagination shared by every `list`: opaque cursors over a stable order by id.
//!
//! Every list is ordered by the record's id. Ids are ObjectIds, unique and (within a process)
//! increasing with creation time, so the order is total and never changes. A page ends at its
//! last id; the next page starts strictly after it (keyset pagination). So a listing neither
//! skips nor repeats a record that existed when it started, whatever is inserted meanwhile,
//! unlike offset pagination, which shifts under inserts. The cursor is that id, base64url
//! encoded so that clients treat it as opaque.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bson::oid::ObjectId;
use serde::{Deserialize, Serialize};

use crate::error::StoreError;

/// The largest page a `list` returns; larger requests are cut to it.
pub const MAX_PAGE_SIZE: usize = 1_000;

/// Where a page starts: opaque to callers, who only pass back [`Page::next`].
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cursor(ObjectId);

impl Cursor {
    /// Parses a cursor a client sent back; anything not made by Herald is `Invalid`.
    pub fn parse(input: &str) -> Result<Self, StoreError> {
        let invalid = || StoreError::Invalid(format!("'{input}' is not a valid page cursor"));
        let bytes = URL_SAFE_NO_PAD
            .decode(input.trim())
            .map_err(|_| invalid())?;
        let bytes: [u8; 12] = bytes.try_into().map_err(|_| invalid())?;
        Ok(Self(ObjectId::from_bytes(bytes)))
    }

    pub(crate) fn at(id: ObjectId) -> Self {
        Self(id)
    }

    /// The id the next page starts after.
    pub(crate) fn position(&self) -> ObjectId {
        self.0
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&URL_SAFE_NO_PAD.encode(self.0.bytes()))
    }
}

impl fmt::Debug for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cursor({self})")
    }
}

impl TryFrom<String> for Cursor {
    type Error = StoreError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Cursor> for String {
    fn from(c: Cursor) -> String {
        c.to_string()
    }
}

/// Which end of the id order a listing starts from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// Ascending ids: creation order.
    #[default]
    OldestFirst,
    /// Descending ids: an inbox or a log, newest on top.
    NewestFirst,
}

/// Which page to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// `None` for the first page, else the `next` of the previous page.
    pub after: Option<Cursor>,
    /// At most this many items (1..=[`MAX_PAGE_SIZE`]; out-of-range values are clamped).
    pub limit: usize,
    pub order: Order,
}

impl PageRequest {
    /// The first page, oldest first.
    pub fn first(limit: usize) -> Self {
        Self {
            after: None,
            limit,
            order: Order::OldestFirst,
        }
    }

    /// The page after `cursor`, in the same order as before.
    pub fn after(cursor: Cursor, limit: usize) -> Self {
        Self {
            after: Some(cursor),
            limit,
            order: Order::OldestFirst,
        }
    }

    /// The same request in the given order.
    pub fn ordered(self, order: Order) -> Self {
        Self { order, ..self }
    }

    /// The limit actually applied.
    pub fn effective_limit(&self) -> usize {
        self.limit.clamp(1, MAX_PAGE_SIZE)
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Where the next page starts; `None` when this page is the last.
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows read in order: the extra row only proves that
    /// another page exists, so clients never fetch an empty last page.
    pub(crate) fn from_rows(mut rows: Vec<T>, limit: usize, id: impl Fn(&T) -> ObjectId) -> Self {
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = if more {
            rows.last().map(|last| Cursor::at(id(last)))
        } else {
            None
        };
        Self { items: rows, next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_through_its_opaque_text() {
        let cursor = Cursor::at(ObjectId::new());
        assert_eq!(Cursor::parse(&cursor.to_string()).unwrap(), cursor);
        assert_eq!(cursor.to_string().len(), 16);
    }

    #[test]
    fn a_foreign_cursor_is_invalid_input() {
        for bad in ["", "abc", "!!!!", "AAAAAAAAAAAAAAAAAAAAAAAA"] {
            assert!(
                matches!(Cursor::parse(bad), Err(StoreError::Invalid(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_page_knows_whether_another_follows() {
        let ids: Vec<ObjectId> = (0..3).map(|_| ObjectId::new()).collect();
        let page = Page::from_rows(ids.clone(), 2, |id| *id);
        assert_eq!(page.items, ids[..2]);
        assert_eq!(page.next, Some(Cursor::at(ids[1])));
        let last = Page::from_rows(ids[..2].to_vec(), 2, |id| *id);
        assert_eq!(last.next, None);
    }

    #[test]
    fn a_page_size_is_clamped_to_the_allowed_range() {
        assert_eq!(PageRequest::first(0).effective_limit(), 1);
        assert_eq!(PageRequest::first(5_000).effective_limit(), MAX_PAGE_SIZE);
    }
}

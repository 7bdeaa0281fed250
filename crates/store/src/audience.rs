//! Walking a campaign's audience one page at a time, never holding more than one page.
//!
//! The audience is the union of explicit contact ids, tags and groups, minus opted-out contacts
//! (ARCHITECTURE §4). [`AudiencePages`] walks it in contact-id order with a keyset cursor, so a
//! million-contact audience costs one page of memory and one indexed query per page.
//!
//! Explicit ids (up to [`crate::MAX_EXPLICIT_CONTACTS`]) are not sent whole with every query:
//! each page offers the database only the next `limit` explicit ids after the cursor. That makes
//! the page valid only up to the last offered id (a later explicit id was not asked about), so
//! rows beyond it are dropped and the cursor moves to it: pages may come out shorter than the
//! limit, never longer, and nothing is skipped or repeated.

use std::sync::Arc;

use futures_util::Stream;
use herald_domain::{Audience, Contact, ContactId};

use crate::error::StoreResult;
use crate::ports::{AudienceQuery, ContactStore};

/// The largest audience page; larger requests are cut to it.
pub const MAX_AUDIENCE_PAGE: usize = 10_000;

/// A cursor over a campaign's audience. Holds the campaign's own selection and one contact id,
/// never the contacts of a previous page.
pub struct AudiencePages {
    contacts: Arc<dyn ContactStore>,
    /// The explicit ids, sorted and without duplicates.
    ids: Vec<ContactId>,
    tags: Vec<String>,
    groups: Vec<String>,
    after: Option<ContactId>,
    limit: usize,
    done: bool,
}

impl AudiencePages {
    /// Starts a walk over `audience` in pages of at most `page_size` contacts (clamped to
    /// 1..=[`MAX_AUDIENCE_PAGE`]).
    pub fn new(contacts: Arc<dyn ContactStore>, audience: &Audience, page_size: usize) -> Self {
        let mut ids = audience.contact_ids.clone();
        ids.sort_unstable();
        ids.dedup();
        Self {
            contacts,
            ids,
            tags: audience.tags.clone(),
            groups: audience.groups.clone(),
            after: None,
            limit: page_size.clamp(1, MAX_AUDIENCE_PAGE),
            done: false,
        }
    }

    /// The page size in force.
    pub fn page_size(&self) -> usize {
        self.limit
    }

    /// The next page of reachable contacts in id order (never empty, never longer than the page
    /// size), or `None` when the walk is over.
    pub async fn next_page(&mut self) -> StoreResult<Option<Vec<Contact>>> {
        while !self.done {
            let start = match self.after {
                Some(after) => self.ids.partition_point(|id| *id <= after),
                None => 0,
            };
            let end = (start + self.limit).min(self.ids.len());
            let candidates = &self.ids[start..end];
            // Explicit ids after `end` were not offered: the page is only valid up to here.
            let bound = (end < self.ids.len())
                .then(|| candidates.last().copied())
                .flatten();
            if candidates.is_empty() && self.tags.is_empty() && self.groups.is_empty() {
                self.done = true;
                break;
            }
            let mut rows = self
                .contacts
                .audience_page(AudienceQuery {
                    ids: candidates,
                    tags: &self.tags,
                    groups: &self.groups,
                    after: self.after,
                    limit: self.limit,
                })
                .await?;
            rows.truncate(self.limit);
            if let Some(bound) = bound {
                rows.retain(|c| c.id <= bound);
            }
            if rows.len() == self.limit {
                self.after = rows.last().map(|c| c.id);
                return Ok(Some(rows));
            }
            match bound {
                // Everything matching up to the bound is in `rows`; carry on after it.
                Some(bound) => self.after = Some(bound),
                // A short page with nothing held back: the walk is over.
                None => self.done = true,
            }
            if !rows.is_empty() {
                return Ok(Some(rows));
            }
        }
        Ok(None)
    }

    /// The walk as a stream of pages, for `while let Some(page) = stream.try_next().await?`.
    pub fn into_stream(self) -> impl Stream<Item = StoreResult<Vec<Contact>>> + Send {
        futures_util::stream::try_unfold(self, |mut pages| async move {
            Ok(pages.next_page().await?.map(|page| (page, pages)))
        })
    }
}

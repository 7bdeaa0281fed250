//! `ContactStore` on MongoDB.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use bson::{Document, doc};
use chrono::{DateTime, Utc};
use futures_util::{StreamExt, TryStreamExt};
use herald_domain::{Contact, ContactId, OptOut, PhoneNumber, WhatsAppMatchKey};
use mongodb::Collection;

use super::docs::{ContactDoc, OptOutDoc, set_fields};
use super::{MongoStore, bdt, conflict_or, duplicates_of, find_all, page, regex_escape};
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use crate::ports::{AudienceQuery, ContactFilter, ContactStore, UpsertSummary};
use crate::rules::millis;

/// How many updates of an import run at once.
const CONCURRENT_UPDATES: usize = 16;

impl MongoStore {
    fn contacts_docs(&self) -> Collection<ContactDoc> {
        self.collection("contacts")
    }

    /// Overwrites an existing contact by phone, keeping its id, `createdAt` and opt-out; an
    /// incoming opt-out is applied only where there is none.
    async fn overwrite_by_phone(&self, doc: &ContactDoc) -> StoreResult<()> {
        let fields = set_fields(doc, &["_id", "createdAt", "optOut"])?;
        self.contacts_docs()
            .update_one(doc! { "phone": &doc.phone }, doc! { "$set": fields })
            .await?;
        if let Some(opt_out) = &doc.opt_out {
            self.contacts_docs()
                .update_one(
                    doc! { "phone": &doc.phone, "optOut": null },
                    doc! { "$set": { "optOut": bson::to_bson(opt_out)? } },
                )
                .await?;
        }
        Ok(())
    }
}

fn filter(f: &ContactFilter) -> Document {
    let mut query = doc! {};
    if let Some(tag) = &f.tag {
        query.insert("tags", tag);
    }
    if let Some(group) = &f.group {
        query.insert("groups", group);
    }
    match f.opted_out {
        Some(true) => {
            query.insert("optOut", doc! { "$ne": null });
        }
        Some(false) => {
            query.insert("optOut", null_value());
        }
        None => {}
    }
    if let Some(search) = f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let pattern = regex_escape(search);
        query.insert(
            "$or",
            vec![
                doc! { "name": { "$regex": &pattern, "$options": "i" } },
                doc! { "phone": { "$regex": &pattern, "$options": "i" } },
            ],
        );
    }
    query
}

fn null_value() -> bson::Bson {
    bson::Bson::Null
}

#[async_trait]
impl ContactStore for MongoStore {
    async fn create(&self, contact: &Contact) -> StoreResult<()> {
        self.contacts_docs()
            .insert_one(ContactDoc::from(contact))
            .await
            .map_err(|e| conflict_or(e, || format!("a contact with phone {}", contact.phone)))?;
        Ok(())
    }

    async fn upsert_many(&self, contacts: &[Contact]) -> StoreResult<UpsertSummary> {
        // Entries for one phone fold as if applied one after the other (as SQLite does): the last
        // entry's fields win, the first one's id and `createdAt` stay, and an opt-out carried by
        // an earlier entry is kept. An earlier entry counts as updated by the later one.
        let mut latest: HashMap<&str, Contact> = HashMap::new();
        for c in contacts {
            match latest.entry(c.phone.as_e164()) {
                Entry::Occupied(mut seen) => {
                    let first = seen.get();
                    let merged = Contact {
                        id: first.id,
                        created_at: first.created_at,
                        opt_out: first.opt_out.clone().or_else(|| c.opt_out.clone()),
                        ..c.clone()
                    };
                    seen.insert(merged);
                }
                Entry::Vacant(slot) => {
                    slot.insert(c.clone());
                }
            }
        }
        let phones: Vec<&str> = latest.keys().copied().collect();
        let mut existing: HashSet<String> = HashSet::new();
        for chunk in phones.chunks(1_000) {
            let mut found = self
                .contacts_docs()
                .clone_with_type::<Document>()
                .find(doc! { "phone": { "$in": chunk.to_vec() } })
                .projection(doc! { "phone": 1, "_id": 0 })
                .await?;
            while let Some(d) = found.try_next().await? {
                if let Ok(phone) = d.get_str("phone") {
                    existing.insert(phone.to_owned());
                }
            }
        }
        let (old, new): (Vec<&Contact>, Vec<&Contact>) = latest
            .values()
            .partition(|c| existing.contains(c.phone.as_e164()));
        let mut to_overwrite: Vec<ContactDoc> = old.into_iter().map(ContactDoc::from).collect();
        let mut created = 0;
        if !new.is_empty() {
            let docs: Vec<ContactDoc> = new.iter().map(|c| ContactDoc::from(*c)).collect();
            let result = self
                .contacts_docs()
                .insert_many(&docs)
                .ordered(false)
                .await
                .map(|_| ());
            let duplicates = duplicates_of(result)?;
            created = docs.len() as u64 - duplicates;
            if duplicates > 0 {
                // A concurrent import inserted some of these phones first: overwrite them.
                let mut ids = HashSet::new();
                let mut cursor = self
                    .contacts_docs()
                    .find(doc! { "_id": { "$in": docs.iter().map(|d| d.id).collect::<Vec<_>>() } })
                    .await?;
                while let Some(d) = cursor.try_next().await? {
                    ids.insert(d.id);
                }
                to_overwrite.extend(docs.into_iter().filter(|d| !ids.contains(&d.id)));
            }
        }
        // Collected first so that no closure over borrowed documents lives across the awaits.
        let updates: Vec<_> = to_overwrite
            .iter()
            .map(|d| self.overwrite_by_phone(d))
            .collect();
        futures_util::stream::iter(updates)
            .buffer_unordered(CONCURRENT_UPDATES)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(UpsertSummary {
            created,
            updated: contacts.len() as u64 - created,
        })
    }

    async fn get(&self, id: ContactId) -> StoreResult<Option<Contact>> {
        let found = self
            .contacts_docs()
            .find_one(doc! { "_id": id.object_id() })
            .await?;
        found.map(Contact::try_from).transpose()
    }

    async fn find_by_phone(&self, phone: &PhoneNumber) -> StoreResult<Option<Contact>> {
        let found = self
            .contacts_docs()
            .find_one(doc! { "phone": phone.as_e164() })
            .await?;
        found.map(Contact::try_from).transpose()
    }

    async fn find_by_match_key(&self, key: &WhatsAppMatchKey) -> StoreResult<Option<Contact>> {
        let found = self
            .contacts_docs()
            .find_one(doc! { "matchKey": key.as_str() })
            .sort(doc! { "_id": 1 })
            .await?;
        found.map(Contact::try_from).transpose()
    }

    async fn update(&self, contact: &Contact) -> StoreResult<()> {
        let fields = set_fields(&ContactDoc::from(contact), &["_id", "createdAt"])?;
        let result = self
            .contacts_docs()
            .update_one(
                doc! { "_id": contact.id.object_id() },
                doc! { "$set": fields },
            )
            .await
            .map_err(|e| conflict_or(e, || format!("a contact with phone {}", contact.phone)))?;
        if result.matched_count == 0 {
            return Err(StoreError::not_found(format!("contact {}", contact.id)));
        }
        Ok(())
    }

    async fn delete(&self, id: ContactId) -> StoreResult<()> {
        let result = self
            .contacts_docs()
            .delete_one(doc! { "_id": id.object_id() })
            .await?;
        if result.deleted_count == 0 {
            return Err(StoreError::not_found(format!("contact {id}")));
        }
        Ok(())
    }

    async fn list(
        &self,
        filter_by: &ContactFilter,
        request: &PageRequest,
    ) -> StoreResult<Page<Contact>> {
        page(
            &self.contacts_docs(),
            filter(filter_by),
            request,
            Contact::try_from,
            |c| c.id.object_id(),
        )
        .await
    }

    async fn count(&self, filter_by: &ContactFilter) -> StoreResult<u64> {
        Ok(self
            .contacts_docs()
            .count_documents(filter(filter_by))
            .await?)
    }

    async fn set_opt_out(&self, key: &WhatsAppMatchKey, opt_out: &OptOut) -> StoreResult<bool> {
        let stored = OptOutDoc {
            at: bdt(millis(opt_out.at)),
            reason: opt_out.reason,
        };
        self.contacts_docs()
            .update_many(
                doc! { "matchKey": key.as_str(), "optOut": null },
                doc! { "$set": { "optOut": bson::to_bson(&stored)?, "updatedAt": stored.at } },
            )
            .await?;
        let known = self
            .contacts_docs()
            .count_documents(doc! { "matchKey": key.as_str() })
            .limit(1)
            .await?;
        Ok(known > 0)
    }

    async fn clear_opt_out(&self, key: &WhatsAppMatchKey, now: DateTime<Utc>) -> StoreResult<bool> {
        self.contacts_docs()
            .update_many(
                doc! { "matchKey": key.as_str(), "optOut": { "$ne": null } },
                doc! { "$set": { "optOut": null, "updatedAt": bdt(millis(now)) } },
            )
            .await?;
        let known = self
            .contacts_docs()
            .count_documents(doc! { "matchKey": key.as_str() })
            .limit(1)
            .await?;
        Ok(known > 0)
    }

    async fn audience_page(&self, query: AudienceQuery<'_>) -> StoreResult<Vec<Contact>> {
        let mut selectors = Vec::new();
        if !query.ids.is_empty() {
            let ids: Vec<_> = query.ids.iter().map(|id| id.object_id()).collect();
            selectors.push(doc! { "_id": { "$in": ids } });
        }
        if !query.tags.is_empty() {
            selectors.push(doc! { "tags": { "$in": query.tags.to_vec() } });
        }
        if !query.groups.is_empty() {
            selectors.push(doc! { "groups": { "$in": query.groups.to_vec() } });
        }
        if selectors.is_empty() {
            return Ok(Vec::new());
        }
        let mut filter = doc! { "optOut": null, "$or": selectors };
        if let Some(after) = query.after {
            filter.insert("_id", doc! { "$gt": after.object_id() });
        }
        find_all(
            &self.contacts_docs(),
            filter,
            doc! { "_id": 1 },
            Some(query.limit),
            Contact::try_from,
        )
        .await
    }
}

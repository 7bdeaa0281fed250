//! `TemplateStore` on MongoDB.

use async_trait::async_trait;
use bson::doc;
use chrono::{DateTime, Utc};
use herald_domain::{LanguageCode, Template, TemplateId, TemplateName, TemplateStatus};
use mongodb::Collection;
use mongodb::options::ReturnDocument;

use super::docs::{TemplateDoc, set_fields};
use super::{MongoStore, bdt, is_duplicate_key, page};
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use crate::ports::{TemplateFilter, TemplateStore};
use crate::rules::millis;

impl MongoStore {
    fn templates_docs(&self) -> Collection<TemplateDoc> {
        self.collection("templates")
    }
}

#[async_trait]
impl TemplateStore for MongoStore {
    async fn upsert(&self, template: &Template) -> StoreResult<Template> {
        let doc = TemplateDoc::from(template);
        let on_insert = doc! { "_id": doc.id, "createdAt": doc.created_at };
        let fields = set_fields(&doc, &["_id", "createdAt"])?;
        let key = doc! { "name": &doc.name, "language": &doc.language };
        // Two first-time upserts of one template can both try to insert; the loser retries and
        // finds the winner's document.
        for attempt in 0..2 {
            let result = self
                .templates_docs()
                .find_one_and_update(
                    key.clone(),
                    doc! { "$set": fields.clone(), "$setOnInsert": on_insert.clone() },
                )
                .upsert(true)
                .return_document(ReturnDocument::After)
                .await;
            match result {
                Ok(Some(stored)) => return Template::try_from(stored),
                Ok(None) => break,
                Err(e) if attempt == 0 && is_duplicate_key(&e) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::not_found(format!(
            "template {} ({})",
            template.name, template.language
        )))
    }

    async fn get(&self, id: TemplateId) -> StoreResult<Option<Template>> {
        let found = self
            .templates_docs()
            .find_one(doc! { "_id": id.object_id() })
            .await?;
        found.map(Template::try_from).transpose()
    }

    async fn find(
        &self,
        name: &TemplateName,
        language: &LanguageCode,
    ) -> StoreResult<Option<Template>> {
        let found = self
            .templates_docs()
            .find_one(doc! { "name": name.as_str(), "language": language.as_str() })
            .await?;
        found.map(Template::try_from).transpose()
    }

    async fn list(
        &self,
        filter: &TemplateFilter,
        request: &PageRequest,
    ) -> StoreResult<Page<Template>> {
        let mut query = doc! {};
        if let Some(status) = &filter.status {
            query.insert("status", status.as_str());
        }
        if let Some(name) = &filter.name {
            query.insert("name", name.as_str());
        }
        page(
            &self.templates_docs(),
            query,
            request,
            Template::try_from,
            |t| t.id.object_id(),
        )
        .await
    }

    async fn set_status(
        &self,
        name: &TemplateName,
        language: &LanguageCode,
        status: &TemplateStatus,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let result = self
            .templates_docs()
            .update_one(
                doc! { "name": name.as_str(), "language": language.as_str() },
                doc! { "$set": { "status": status.as_str(), "updatedAt": bdt(millis(now)) } },
            )
            .await?;
        if result.matched_count == 0 {
            return Err(StoreError::not_found(format!(
                "template {name} ({language})"
            )));
        }
        Ok(())
    }
}

//! `TemplateStore`: message templates synchronised from Meta (collection `templates`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_domain::{LanguageCode, Template, TemplateId, TemplateName, TemplateStatus};

use crate::error::StoreResult;
use crate::page::{Page, PageRequest};

/// What to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateFilter {
    pub status: Option<TemplateStatus>,
    pub name: Option<TemplateName>,
}

/// Templates, identified by (name, language) as at Meta.
#[async_trait]
pub trait TemplateStore: Send + Sync {
    /// Inserts the template, or refreshes the one with the same (name, language) from Meta's
    /// copy. An existing template keeps its Herald `id` and `created_at`, so campaigns that point
    /// at it stay valid. Returns the stored template.
    async fn upsert(&self, template: &Template) -> StoreResult<Template>;

    async fn get(&self, id: TemplateId) -> StoreResult<Option<Template>>;

    async fn find(
        &self,
        name: &TemplateName,
        language: &LanguageCode,
    ) -> StoreResult<Option<Template>>;

    async fn list(
        &self,
        filter: &TemplateFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Template>>;

    /// Records Meta's new review status (a template webhook). `NotFound` when Herald does not
    /// know the template yet (the caller syncs it).
    async fn set_status(
        &self,
        name: &TemplateName,
        language: &LanguageCode,
        status: &TemplateStatus,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
}

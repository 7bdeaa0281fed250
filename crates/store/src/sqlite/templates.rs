//! `TemplateStore` on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_sqlite::rusqlite::{Row, params};
use herald_domain::{LanguageCode, Template, TemplateId, TemplateName, TemplateStatus};

use super::SqliteStore;
use super::codec::{
    Filter, enum_from_text, enum_text, from_json, ms, parse, query_opt, text, time, to_json,
};
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use crate::ports::{TemplateFilter, TemplateStore};
use crate::rules::millis;

const SELECT: &str = "SELECT id, template_id, name, language, category, components, status, \
     parameter_format, created_at, updated_at FROM templates";

fn read(row: &Row<'_>) -> StoreResult<Template> {
    Ok(Template {
        id: parse(&row.get::<_, String>("id")?)?,
        template_id: row.get("template_id")?,
        name: parse(&row.get::<_, String>("name")?)?,
        language: parse(&row.get::<_, String>("language")?)?,
        category: enum_from_text(row.get("category")?)?,
        components: from_json(&row.get::<_, String>("components")?)?,
        status: enum_from_text(row.get("status")?)?,
        parameter_format: enum_from_text(row.get("parameter_format")?)?,
        created_at: time(row.get("created_at")?)?,
        updated_at: time(row.get("updated_at")?)?,
    })
}

#[async_trait]
impl TemplateStore for SqliteStore {
    async fn upsert(&self, template: &Template) -> StoreResult<Template> {
        let t = template.clone();
        self.call(move |c| {
            c.query_row(
                "INSERT INTO templates (id, template_id, name, language, category, components, \
                 status, parameter_format, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                 ON CONFLICT (name, language) DO UPDATE SET template_id = excluded.template_id, \
                 category = excluded.category, components = excluded.components, \
                 status = excluded.status, parameter_format = excluded.parameter_format, \
                 updated_at = excluded.updated_at \
                 RETURNING id, template_id, name, language, category, components, status, \
                 parameter_format, created_at, updated_at",
                params![
                    t.id.to_hex(),
                    t.template_id,
                    t.name.as_str(),
                    t.language.as_str(),
                    enum_text(&t.category)?,
                    to_json(&t.components)?,
                    enum_text(&t.status)?,
                    enum_text(&t.parameter_format)?,
                    ms(t.created_at),
                    ms(t.updated_at),
                ],
                |row| Ok(read(row)),
            )?
        })
        .await
    }

    async fn get(&self, id: TemplateId) -> StoreResult<Option<Template>> {
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

    async fn find(
        &self,
        name: &TemplateName,
        language: &LanguageCode,
    ) -> StoreResult<Option<Template>> {
        let (name, language) = (name.as_str().to_owned(), language.as_str().to_owned());
        self.call(move |c| {
            query_opt(
                c,
                &format!("{SELECT} WHERE name = ? AND language = ?"),
                &[text(name), text(language)],
                read,
            )
        })
        .await
    }

    async fn list(
        &self,
        filter: &TemplateFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Template>> {
        let mut f = Filter::default();
        if let Some(status) = &filter.status {
            f.and("status = ?", [text(enum_text(status)?)]);
        }
        if let Some(name) = &filter.name {
            f.and("name = ?", [text(name.as_str())]);
        }
        let page = page.clone();
        self.call(move |c| f.page(c, SELECT, &page, read, |t: &Template| t.id.object_id()))
            .await
    }

    async fn set_status(
        &self,
        name: &TemplateName,
        language: &LanguageCode,
        status: &TemplateStatus,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (name, language) = (name.as_str().to_owned(), language.as_str().to_owned());
        let status = enum_text(status)?;
        let now = ms(millis(now));
        self.call(move |c| {
            let changed = c.execute(
                "UPDATE templates SET status = ?3, updated_at = ?4 \
                 WHERE name = ?1 AND language = ?2",
                params![name, language, status, now],
            )?;
            if changed == 0 {
                return Err(StoreError::not_found(format!(
                    "template {name} ({language})"
                )));
            }
            Ok(())
        })
        .await
    }
}

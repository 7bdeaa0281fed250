//! Message templates as listed by `GET /{version}/{waba-id}/message_templates`, with cursor paging.
//!
//! Components are kept as raw JSON: Herald's template crate interprets them (variables, header
//! format, buttons), and keeping them raw means a component kind Meta adds later is not lost.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The fields Herald asks for; `id` is not returned unless requested.
pub(crate) const TEMPLATE_FIELDS: &str =
    "id,name,language,status,category,components,parameter_format";

/// Query for one page of templates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateQuery {
    /// Page size; Meta's default applies when `None`.
    pub limit: Option<u32>,
    /// The `paging.cursors.after` of the previous page; `None` for the first page.
    pub after: Option<String>,
    /// Only templates with this exact name.
    pub name: Option<String>,
    /// Only templates in this status (e.g. `APPROVED`).
    pub status: Option<TemplateStatus>,
}

impl TemplateQuery {
    /// The first page with `limit` templates.
    pub fn first_page(limit: u32) -> Self {
        Self {
            limit: Some(limit),
            ..Self::default()
        }
    }

    /// The same query, for the page after `page` (`None` when `page` was the last).
    pub fn next_after(&self, page: &TemplatePage) -> Option<Self> {
        page.next_cursor().map(|after| Self {
            after: Some(after.to_owned()),
            ..self.clone()
        })
    }
}

/// One page of templates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplatePage {
    /// The templates on this page.
    #[serde(default)]
    pub data: Vec<MessageTemplate>,
    /// Cursors; absent when the result is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paging: Option<Paging>,
}

impl TemplatePage {
    /// The cursor of the next page, or `None` on the last page. Meta leaves out `next` on the last
    /// page (while still returning cursors), so both must be present.
    pub fn next_cursor(&self) -> Option<&str> {
        let paging = self.paging.as_ref()?;
        paging.next.as_ref()?;
        paging.cursors.as_ref()?.after.as_deref()
    }
}

/// `paging` of a list answer.
///
/// `Debug` hides `next` and `previous`: Graph puts the caller's `access_token` into those URLs.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paging {
    /// The cursors around this page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursors: Option<Cursors>,
    /// URL of the next page; absent on the last page. May contain the access token: the client
    /// never follows it, it re-queries with the `after` cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// URL of the previous page; may contain the access token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
}

impl fmt::Debug for Paging {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |url: &Option<String>| url.as_ref().map(|_| "<redacted url>");
        f.debug_struct("Paging")
            .field("cursors", &self.cursors)
            .field("next", &redacted(&self.next))
            .field("previous", &redacted(&self.previous))
            .finish()
    }
}

/// `paging.cursors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursors {
    /// Cursor before the first item of this page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// Cursor after the last item of this page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// One message template (one name in one language).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageTemplate {
    /// Meta's template id.
    #[serde(default)]
    pub id: String,
    /// `[a-z0-9_]`, not unique across languages.
    pub name: String,
    /// e.g. `en_US`.
    pub language: String,
    /// Only `APPROVED` templates can be sent.
    pub status: TemplateStatus,
    /// MARKETING, UTILITY or AUTHENTICATION.
    pub category: TemplateCategory,
    /// HEADER/BODY/FOOTER/BUTTONS… as Meta returns them.
    #[serde(default)]
    pub components: Vec<Value>,
    /// `POSITIONAL` (`{{1}}`) or `NAMED` (`{{first_name}}`); Meta leaves it out for older
    /// templates, which are positional.
    #[serde(default)]
    pub parameter_format: ParameterFormat,
}

/// A template's review status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum TemplateStatus {
    Approved,
    Pending,
    Rejected,
    Paused,
    Disabled,
    InAppeal,
    PendingDeletion,
    Deleted,
    LimitExceeded,
    Archived,
    Locked,
    /// A status this crate does not know; never sendable.
    #[serde(other)]
    Unknown,
}

impl TemplateStatus {
    /// Meta's wire name, for query strings.
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateStatus::Approved => "APPROVED",
            TemplateStatus::Pending => "PENDING",
            TemplateStatus::Rejected => "REJECTED",
            TemplateStatus::Paused => "PAUSED",
            TemplateStatus::Disabled => "DISABLED",
            TemplateStatus::InAppeal => "IN_APPEAL",
            TemplateStatus::PendingDeletion => "PENDING_DELETION",
            TemplateStatus::Deleted => "DELETED",
            TemplateStatus::LimitExceeded => "LIMIT_EXCEEDED",
            TemplateStatus::Archived => "ARCHIVED",
            TemplateStatus::Locked => "LOCKED",
            TemplateStatus::Unknown => "UNKNOWN",
        }
    }
}

/// A template's category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum TemplateCategory {
    Marketing,
    Utility,
    Authentication,
    /// A category this crate does not know.
    #[serde(other)]
    Unknown,
}

/// How a template's variables are written and sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ParameterFormat {
    /// `{{1}}, {{2}}…`, values sent in order.
    #[default]
    Positional,
    /// `{{first_name}}`, values sent with `parameter_name`.
    Named,
}

//! `Template`: a WhatsApp message template synchronised from Meta (collection `templates`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::TemplateId;
use crate::names::{LanguageCode, TemplateName};
use crate::template_params::{TemplateParamError, TemplateParameters, extract_parameters};
use crate::util::open_enum;

open_enum! {
    /// Meta's review status of a template. Only `APPROVED` can be sent.
    pub enum TemplateStatus {
        Approved => "APPROVED",
        Pending => "PENDING",
        Rejected => "REJECTED",
        /// Paused by Meta for low quality; sends fail with 132015 until it is unpaused.
        Paused => "PAUSED",
        Disabled => "DISABLED",
        InAppeal => "IN_APPEAL",
        PendingDeletion => "PENDING_DELETION",
        Deleted => "DELETED",
        LimitExceeded => "LIMIT_EXCEEDED",
        Archived => "ARCHIVED",
        Locked => "LOCKED",
    }
}

open_enum! {
    /// Meta's category of a template; it decides pricing and pacing.
    pub enum TemplateCategory {
        Marketing => "MARKETING",
        Utility => "UTILITY",
        Authentication => "AUTHENTICATION",
    }
}

/// How a template's placeholders are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ParameterFormat {
    /// `{{1}}`, `{{2}}`: values sent in order.
    #[default]
    Positional,
    /// `{{first_name}}`: values sent with their `parameter_name`.
    Named,
}

/// A template as Herald keeps it: Meta's fields plus Herald's id. Identified at Meta by
/// (name, language).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Template {
    pub id: TemplateId,
    /// Meta's id (`message_templates[].id`), a decimal string.
    pub template_id: String,
    pub name: TemplateName,
    pub language: LanguageCode,
    pub category: TemplateCategory,
    /// Meta's `components` array, exactly as `message_templates` returned it.
    pub components: Value,
    pub status: TemplateStatus,
    #[serde(default)]
    pub parameter_format: ParameterFormat,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Template {
    /// Meta accepts sends of this template now.
    pub fn is_sendable(&self) -> bool {
        self.status == TemplateStatus::Approved
    }

    /// The values a send of this template needs; see [`crate::template_params`].
    pub fn parameters(&self) -> Result<TemplateParameters, TemplateParamError> {
        extract_parameters(&self.components)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_as_meta_lists_it_deserializes_and_only_approved_is_sendable() {
        let template: Template = serde_json::from_value(serde_json::json!({
            "id": "65f1a2b3c4d5e6f708192a3b", "templateId": "1387372356726668",
            "name": "order_update", "language": "en_US", "category": "UTILITY", "status": "APPROVED",
            "parameterFormat": "POSITIONAL",
            "components": [{"type": "BODY", "text": "Order {{1}} ships {{2}}."}],
            "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z"
        }))
        .unwrap();
        assert!(template.is_sendable());
        assert_eq!(template.parameters().unwrap().body.len(), 2);
        let paused = Template {
            status: TemplateStatus::Paused,
            ..template
        };
        assert!(!paused.is_sendable());
    }

    #[test]
    fn an_unknown_template_status_is_kept_as_received() {
        let status: TemplateStatus = serde_json::from_str("\"UNDER_REVIEW_V2\"").unwrap();
        assert_eq!(status, TemplateStatus::Other("UNDER_REVIEW_V2".into()));
        assert_eq!(
            serde_json::to_string(&status).unwrap(),
            "\"UNDER_REVIEW_V2\""
        );
        assert_eq!(TemplateStatus::from("PAUSED"), TemplateStatus::Paused);
    }

    #[test]
    fn the_parameter_format_defaults_to_positional_and_reads_meta_s_spelling() {
        assert_eq!(ParameterFormat::default(), ParameterFormat::Positional);
        assert_eq!(
            serde_json::from_str::<ParameterFormat>("\"NAMED\"").unwrap(),
            ParameterFormat::Named
        );
    }
}

//! `Campaign` (collection `campaigns`) and `Run`, one occurrence of a campaign.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::campaign_status::{
    CampaignAction, CampaignStatus, PauseReason, TransitionError, transition,
};
use crate::ids::{CampaignId, ContactId, RunId, SettingsId, TemplateId, UserId};
use crate::schedule::Schedule;
use crate::template_params::ParameterMapping;

/// A campaign: one template sent to an audience from one phone number, on a schedule.
///
/// The audience is flattened into the campaign so the seed's `contacts` field keeps its name;
/// `tags` and `groups` select more contacts (ARCHITECTURE §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Campaign {
    pub id: CampaignId,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Change it only through [`Campaign::apply`] (or [`transition`]).
    pub status: CampaignStatus,
    /// Herald's id of the template.
    pub template_id: TemplateId,
    /// The phone number that sends it.
    pub settings_id: SettingsId,
    #[serde(flatten)]
    pub audience: Audience,
    /// Where each template parameter comes from.
    #[serde(default)]
    pub parameters: ParameterMapping,
    pub schedule: Schedule,
    /// When the scheduler should start the next run; `None` when none is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_run_at: Option<DateTime<Utc>>,
    /// Why it is paused, while it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_reason: Option<PauseReason>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Who receives a campaign: the union of explicit contacts and contacts with any of the tags or
/// groups. Opted-out contacts are skipped at send time, not removed here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Audience {
    /// The seed's `contacts`. Keep it short: a campaign document is at most 16 MB, so large
    /// audiences select by tag or group.
    #[serde(rename = "contacts", default)]
    pub contact_ids: Vec<ContactId>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub groups: Vec<String>,
}

impl Audience {
    /// Selects nobody; such a campaign cannot be scheduled.
    pub fn is_empty(&self) -> bool {
        self.contact_ids.is_empty() && self.tags.is_empty() && self.groups.is_empty()
    }
}

impl Campaign {
    /// Applies `action` through [`transition`]: sets the status, records or clears the pause
    /// reason, and stamps `updated_at`. On refusal nothing changes.
    pub fn apply(
        &mut self,
        action: &CampaignAction,
        now: DateTime<Utc>,
    ) -> Result<(), TransitionError> {
        self.status = transition(self.status, action)?;
        match action {
            CampaignAction::Pause { reason } => self.pause_reason = Some(reason.clone()),
            _ if self.status != CampaignStatus::Paused => self.pause_reason = None,
            _ => {}
        }
        if self.status.is_terminal() {
            self.next_run_at = None;
        }
        self.updated_at = now;
        Ok(())
    }
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Claimed by a scheduler; its messages are being created and sent.
    Running,
    /// Every message was dispatched and has an outcome or was skipped.
    Completed,
    /// The campaign was stopped during the run.
    Stopped,
    /// It was due while Herald was down and older than the expiry: not started, reported
    /// (ARCHITECTURE §8).
    Skipped,
}

/// One occurrence of a campaign. (campaign_id, scheduled_for) is unique: it is the run key that
/// makes a run start exactly once, whatever the number of schedulers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    pub id: RunId,
    pub campaign_id: CampaignId,
    /// The occurrence this run is for (the campaign's `next_run_at` when it was claimed).
    pub scheduled_for: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    pub status: RunStatus,
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;
    use crate::template_params::{ParamKey, ParameterSlot, ValueSource};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
    }

    fn campaign_json() -> serde_json::Value {
        json!({
            "id": "65f1a2b3c4d5e6f708192a3b", "name": "Spring sale", "description": "", "status": "draft",
            "templateId": "65f1a2b3c4d5e6f708192a3c", "settingsId": "65f1a2b3c4d5e6f708192a3d",
            "contacts": ["65f1a2b3c4d5e6f708192a3e"], "tags": ["vip"], "groups": [],
            "parameters": {"body.1": {"source": "contact_name"}},
            "schedule": {"type": "immediate", "recurrence": "none", "timezone": "UTC"},
            "createdBy": "65f1a2b3c4d5e6f708192a3f",
            "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z"
        })
    }

    #[test]
    fn a_campaign_keeps_the_seed_contacts_field_and_round_trips() {
        let campaign: Campaign = serde_json::from_value(campaign_json()).unwrap();
        assert_eq!(campaign.audience.contact_ids.len(), 1);
        assert_eq!(campaign.audience.tags, ["vip"]);
        assert_eq!(
            campaign
                .parameters
                .get(&ParameterSlot::Body(ParamKey::Positional(1))),
            Some(&ValueSource::ContactName)
        );
        assert_eq!(serde_json::to_value(&campaign).unwrap(), campaign_json());
    }

    #[test]
    fn applying_a_pause_records_the_reason_and_resuming_clears_it() {
        let mut campaign: Campaign = serde_json::from_value(campaign_json()).unwrap();
        campaign.status = CampaignStatus::Running;
        let reason = PauseReason::Halted {
            code: Some(132001),
            detail: "template missing".into(),
        };
        campaign
            .apply(
                &CampaignAction::Pause {
                    reason: reason.clone(),
                },
                now(),
            )
            .unwrap();
        assert_eq!(
            (campaign.status, campaign.pause_reason.clone()),
            (CampaignStatus::Paused, Some(reason))
        );
        campaign
            .apply(
                &CampaignAction::Resume {
                    run_in_progress: true,
                },
                now(),
            )
            .unwrap();
        assert_eq!(
            (campaign.status, campaign.pause_reason.clone()),
            (CampaignStatus::Running, None)
        );
    }

    #[test]
    fn a_refused_action_changes_nothing() {
        let mut campaign: Campaign = serde_json::from_value(campaign_json()).unwrap();
        let before = campaign.clone();
        assert!(campaign.apply(&CampaignAction::Start, now()).is_err());
        assert_eq!(campaign, before);
    }

    #[test]
    fn an_audience_without_contacts_tags_or_groups_is_empty() {
        assert!(Audience::default().is_empty());
        assert!(
            !Audience {
                tags: vec!["vip".into()],
                ..Audience::default()
            }
            .is_empty()
        );
    }
}

//! The MongoDB documents, one struct per collection, separate from the domain types: field names
//! are the seed schema's (camelCase, `_id`), ids are ObjectIds, times are BSON dates, and secrets
//! are stored as the strings the domain exposes on purpose (`expose_phc`, `ciphertext`).
//!
//! Absent optional values are stored as `null` rather than omitted, so that a `$set` of a whole
//! document clears them.

use bson::oid::ObjectId;
use bson::{DateTime as BsonDateTime, Document};
use herald_domain::{
    Audience, Campaign, CampaignStatus, Contact, DeliveryState, EncryptedSecret, Message,
    MessageError, MessageStatus, OptOut, OptOutReason, ParameterFormat, ParameterMapping,
    PasswordHash, PauseReason, Reply, ReplyType, Run, RunStatus, Schedule, Template,
    TemplateCategory, TemplateStatus, User, WhatsAppSettings,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{bdt, opt_bdt};
use crate::error::{StoreError, StoreResult};

fn parse<T>(text: &str) -> StoreResult<T>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    text.parse().map_err(StoreError::corrupt)
}

fn opt_parse<T>(text: Option<String>) -> StoreResult<Option<T>>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    text.as_deref().map(parse).transpose()
}

/// The fields of a document for a `$set`, without those a write must never change.
pub(crate) fn set_fields<T: Serialize>(doc: &T, keep: &[&str]) -> StoreResult<Document> {
    let mut fields = bson::to_document(doc)?;
    for key in keep {
        fields.remove(key);
    }
    Ok(fields)
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub name: String,
    pub email: String,
    pub password: String,
    pub role: String,
    pub disabled: bool,
    pub failed_logins: u32,
    pub last_failed_login_at: Option<BsonDateTime>,
    pub locked_until: Option<BsonDateTime>,
    pub created_at: BsonDateTime,
    pub updated_at: BsonDateTime,
}

impl From<&User> for UserDoc {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.object_id(),
            name: u.name.clone(),
            email: u.email.as_str().to_owned(),
            password: u.password_hash.expose_phc().to_owned(),
            role: u.role.as_str().to_owned(),
            disabled: u.disabled,
            failed_logins: u.failed_logins,
            last_failed_login_at: opt_bdt(u.last_failed_login_at),
            locked_until: opt_bdt(u.locked_until),
            created_at: bdt(u.created_at),
            updated_at: bdt(u.updated_at),
        }
    }
}

impl TryFrom<UserDoc> for User {
    type Error = StoreError;
    fn try_from(d: UserDoc) -> StoreResult<Self> {
        Ok(User {
            id: d.id.into(),
            name: d.name,
            email: parse(&d.email)?,
            password_hash: PasswordHash::new(d.password).map_err(StoreError::corrupt)?,
            role: parse(&d.role)?,
            disabled: d.disabled,
            failed_logins: d.failed_logins,
            last_failed_login_at: d.last_failed_login_at.map(BsonDateTime::to_chrono),
            locked_until: d.locked_until.map(BsonDateTime::to_chrono),
            created_at: d.created_at.to_chrono(),
            updated_at: d.updated_at.to_chrono(),
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SettingsDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub phone_number_id: String,
    pub waba_id: String,
    /// AES-256-GCM ciphertext with its key id, as produced by the platform's secrets module.
    pub access_token: String,
    pub label: String,
    pub display_number: Option<String>,
    pub messages_per_second: u32,
    pub created_by: ObjectId,
    pub created_at: BsonDateTime,
    pub updated_at: BsonDateTime,
}

impl From<&WhatsAppSettings> for SettingsDoc {
    fn from(s: &WhatsAppSettings) -> Self {
        Self {
            id: s.id.object_id(),
            phone_number_id: s.phone_number_id.clone(),
            waba_id: s.waba_id.clone(),
            access_token: s.access_token.ciphertext().to_owned(),
            label: s.label.clone(),
            display_number: s.display_number.clone(),
            messages_per_second: s.messages_per_second,
            created_by: s.created_by.object_id(),
            created_at: bdt(s.created_at),
            updated_at: bdt(s.updated_at),
        }
    }
}

impl TryFrom<SettingsDoc> for WhatsAppSettings {
    type Error = StoreError;
    fn try_from(d: SettingsDoc) -> StoreResult<Self> {
        Ok(WhatsAppSettings {
            id: d.id.into(),
            phone_number_id: d.phone_number_id,
            waba_id: d.waba_id,
            access_token: EncryptedSecret::new(d.access_token).map_err(StoreError::corrupt)?,
            label: d.label,
            display_number: d.display_number,
            messages_per_second: d.messages_per_second,
            created_by: d.created_by.into(),
            created_at: d.created_at.to_chrono(),
            updated_at: d.updated_at.to_chrono(),
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OptOutDoc {
    pub at: BsonDateTime,
    pub reason: OptOutReason,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ContactDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub name: String,
    /// E.164, unique.
    pub phone: String,
    /// What an inbound `wa_id` is matched on (see `herald_domain::WhatsAppMatchKey`).
    pub match_key: String,
    pub tags: Vec<String>,
    pub groups: Vec<String>,
    pub variables: Map<String, Value>,
    pub opt_out: Option<OptOutDoc>,
    pub created_at: BsonDateTime,
    pub updated_at: BsonDateTime,
}

impl From<&OptOut> for OptOutDoc {
    fn from(o: &OptOut) -> Self {
        Self {
            at: bdt(o.at),
            reason: o.reason,
        }
    }
}

impl From<&Contact> for ContactDoc {
    fn from(c: &Contact) -> Self {
        Self {
            id: c.id.object_id(),
            name: c.name.clone(),
            phone: c.phone.as_e164().to_owned(),
            match_key: c.phone.whatsapp_match_key().as_str().to_owned(),
            tags: c.tags.clone(),
            groups: c.groups.clone(),
            variables: c.variables.clone(),
            opt_out: c.opt_out.as_ref().map(OptOutDoc::from),
            created_at: bdt(c.created_at),
            updated_at: bdt(c.updated_at),
        }
    }
}

impl TryFrom<ContactDoc> for Contact {
    type Error = StoreError;
    fn try_from(d: ContactDoc) -> StoreResult<Self> {
        Ok(Contact {
            id: d.id.into(),
            name: d.name,
            phone: parse(&d.phone)?,
            tags: d.tags,
            groups: d.groups,
            variables: d.variables,
            opt_out: d.opt_out.map(|o| OptOut {
                at: o.at.to_chrono(),
                reason: o.reason,
            }),
            created_at: d.created_at.to_chrono(),
            updated_at: d.updated_at.to_chrono(),
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TemplateDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub template_id: String,
    pub name: String,
    pub language: String,
    pub category: TemplateCategory,
    pub components: Value,
    pub status: TemplateStatus,
    pub parameter_format: ParameterFormat,
    pub created_at: BsonDateTime,
    pub updated_at: BsonDateTime,
}

impl From<&Template> for TemplateDoc {
    fn from(t: &Template) -> Self {
        Self {
            id: t.id.object_id(),
            template_id: t.template_id.clone(),
            name: t.name.as_str().to_owned(),
            language: t.language.as_str().to_owned(),
            category: t.category.clone(),
            components: t.components.clone(),
            status: t.status.clone(),
            parameter_format: t.parameter_format,
            created_at: bdt(t.created_at),
            updated_at: bdt(t.updated_at),
        }
    }
}

impl TryFrom<TemplateDoc> for Template {
    type Error = StoreError;
    fn try_from(d: TemplateDoc) -> StoreResult<Self> {
        Ok(Template {
            id: d.id.into(),
            template_id: d.template_id,
            name: parse(&d.name)?,
            language: parse(&d.language)?,
            category: d.category,
            components: d.components,
            status: d.status,
            parameter_format: d.parameter_format,
            created_at: d.created_at.to_chrono(),
            updated_at: d.updated_at.to_chrono(),
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CampaignDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub name: String,
    pub description: String,
    pub status: CampaignStatus,
    pub template_id: ObjectId,
    pub settings_id: ObjectId,
    /// The seed's `contacts`: explicit ids, at most `MAX_EXPLICIT_CONTACTS`.
    pub contacts: Vec<ObjectId>,
    pub tags: Vec<String>,
    pub groups: Vec<String>,
    pub parameters: ParameterMapping,
    pub schedule: Schedule,
    pub next_run_at: Option<BsonDateTime>,
    pub pause_reason: Option<PauseReason>,
    pub created_by: ObjectId,
    pub created_at: BsonDateTime,
    /// Also the document's version: every write is conditional on it and moves it forward.
    pub updated_at: BsonDateTime,
}

impl From<&Campaign> for CampaignDoc {
    fn from(c: &Campaign) -> Self {
        Self {
            id: c.id.object_id(),
            name: c.name.clone(),
            description: c.description.clone(),
            status: c.status,
            template_id: c.template_id.object_id(),
            settings_id: c.settings_id.object_id(),
            contacts: c
                .audience
                .contact_ids
                .iter()
                .map(|id| id.object_id())
                .collect(),
            tags: c.audience.tags.clone(),
            groups: c.audience.groups.clone(),
            parameters: c.parameters.clone(),
            schedule: c.schedule.clone(),
            next_run_at: opt_bdt(c.next_run_at),
            pause_reason: c.pause_reason.clone(),
            created_by: c.created_by.object_id(),
            created_at: bdt(c.created_at),
            updated_at: bdt(c.updated_at),
        }
    }
}

impl TryFrom<CampaignDoc> for Campaign {
    type Error = StoreError;
    fn try_from(d: CampaignDoc) -> StoreResult<Self> {
        Ok(Campaign {
            id: d.id.into(),
            name: d.name,
            description: d.description,
            status: d.status,
            template_id: d.template_id.into(),
            settings_id: d.settings_id.into(),
            audience: Audience {
                contact_ids: d.contacts.into_iter().map(Into::into).collect(),
                tags: d.tags,
                groups: d.groups,
            },
            parameters: d.parameters,
            schedule: d.schedule,
            next_run_at: d.next_run_at.map(BsonDateTime::to_chrono),
            pause_reason: d.pause_reason,
            created_by: d.created_by.into(),
            created_at: d.created_at.to_chrono(),
            updated_at: d.updated_at.to_chrono(),
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RunDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub campaign_id: ObjectId,
    pub scheduled_for: BsonDateTime,
    pub started_at: Option<BsonDateTime>,
    pub finished_at: Option<BsonDateTime>,
    pub status: RunStatus,
}

impl From<&Run> for RunDoc {
    fn from(r: &Run) -> Self {
        Self {
            id: r.id.object_id(),
            campaign_id: r.campaign_id.object_id(),
            scheduled_for: bdt(r.scheduled_for),
            started_at: opt_bdt(r.started_at),
            finished_at: opt_bdt(r.finished_at),
            status: r.status,
        }
    }
}

impl From<RunDoc> for Run {
    fn from(d: RunDoc) -> Self {
        Run {
            id: d.id.into(),
            campaign_id: d.campaign_id.into(),
            scheduled_for: d.scheduled_for.to_chrono(),
            started_at: d.started_at.map(BsonDateTime::to_chrono),
            finished_at: d.finished_at.map(BsonDateTime::to_chrono),
            status: d.status,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MessageDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub campaign_id: ObjectId,
    pub run_id: ObjectId,
    pub contact_id: ObjectId,
    pub template_id: ObjectId,
    pub status: MessageStatus,
    /// `MessageStatus::rank` next to the status, for queries on precedence.
    pub status_rank: i32,
    pub sent_at: Option<BsonDateTime>,
    pub delivered_at: Option<BsonDateTime>,
    pub read_at: Option<BsonDateTime>,
    pub failed_at: Option<BsonDateTime>,
    pub error: Option<MessageError>,
    /// Absent until known; unique where present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wamid: Option<String>,
    pub attempts: u32,
    pub claimed_at: Option<BsonDateTime>,
    pub claimed_by: Option<String>,
    /// Why the worker could not tell whether Meta accepted the send (`SendOutcome::Unknown`).
    pub unknown_outcome: Option<String>,
    pub created_at: BsonDateTime,
    /// Version for compare-and-set writes of the delivery fields; every write increments it.
    pub v: i64,
}

impl MessageDoc {
    pub(crate) fn new(m: &Message, unknown_outcome: Option<String>, v: i64) -> Self {
        let d = &m.delivery;
        Self {
            id: m.id.object_id(),
            campaign_id: m.campaign_id.object_id(),
            run_id: m.run_id.object_id(),
            contact_id: m.contact_id.object_id(),
            template_id: m.template_id.object_id(),
            status: d.status,
            status_rank: i32::from(d.status.rank()),
            sent_at: opt_bdt(d.sent_at),
            delivered_at: opt_bdt(d.delivered_at),
            read_at: opt_bdt(d.read_at),
            failed_at: opt_bdt(d.failed_at),
            error: d.error.clone(),
            wamid: m.wamid.as_ref().map(|w| w.as_str().to_owned()),
            attempts: m.attempts,
            claimed_at: opt_bdt(m.claimed_at),
            claimed_by: m.claimed_by.clone(),
            unknown_outcome,
            created_at: bdt(m.created_at),
            v,
        }
    }

    pub(crate) fn message(&self) -> StoreResult<Message> {
        Ok(Message {
            id: self.id.into(),
            campaign_id: self.campaign_id.into(),
            run_id: self.run_id.into(),
            contact_id: self.contact_id.into(),
            template_id: self.template_id.into(),
            delivery: DeliveryState {
                status: self.status,
                sent_at: self.sent_at.map(BsonDateTime::to_chrono),
                delivered_at: self.delivered_at.map(BsonDateTime::to_chrono),
                read_at: self.read_at.map(BsonDateTime::to_chrono),
                failed_at: self.failed_at.map(BsonDateTime::to_chrono),
                error: self.error.clone(),
            },
            wamid: opt_parse(self.wamid.clone())?,
            attempts: self.attempts,
            claimed_at: self.claimed_at.map(BsonDateTime::to_chrono),
            claimed_by: self.claimed_by.clone(),
            created_at: self.created_at.to_chrono(),
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReplyDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub contact_id: Option<ObjectId>,
    pub from: String,
    pub phone_number_id: String,
    /// The inbound wamid, unique.
    pub message_id: String,
    #[serde(rename = "type")]
    pub kind: ReplyType,
    pub text: Option<String>,
    pub media_id: Option<String>,
    pub media_url: Option<String>,
    pub context_wamid: Option<String>,
    pub button_payload: Option<String>,
    pub campaign_id: Option<ObjectId>,
    pub received_at: BsonDateTime,
    pub created_at: BsonDateTime,
}

impl From<&Reply> for ReplyDoc {
    fn from(r: &Reply) -> Self {
        Self {
            id: r.id.object_id(),
            contact_id: r.contact_id.map(|id| id.object_id()),
            from: r.from.as_str().to_owned(),
            phone_number_id: r.phone_number_id.clone(),
            message_id: r.message_id.as_str().to_owned(),
            kind: r.kind.clone(),
            text: r.text.clone(),
            media_id: r.media_id.clone(),
            media_url: r.media_url.clone(),
            context_wamid: r.context_wamid.as_ref().map(|w| w.as_str().to_owned()),
            button_payload: r.button_payload.clone(),
            campaign_id: r.campaign_id.map(|id| id.object_id()),
            received_at: bdt(r.received_at),
            created_at: bdt(r.created_at),
        }
    }
}

impl TryFrom<ReplyDoc> for Reply {
    type Error = StoreError;
    fn try_from(d: ReplyDoc) -> StoreResult<Self> {
        Ok(Reply {
            id: d.id.into(),
            contact_id: d.contact_id.map(Into::into),
            from: parse(&d.from)?,
            phone_number_id: d.phone_number_id,
            message_id: parse(&d.message_id)?,
            kind: d.kind,
            text: d.text,
            media_id: d.media_id,
            media_url: d.media_url,
            context_wamid: opt_parse(d.context_wamid)?,
            button_payload: d.button_payload,
            campaign_id: d.campaign_id.map(Into::into),
            received_at: d.received_at.to_chrono(),
            created_at: d.created_at.to_chrono(),
        })
    }
}

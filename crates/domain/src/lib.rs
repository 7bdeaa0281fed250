//! Herald's domain: the entities, value types, rules and bus events every service shares.
//!
//! Pure by design: no I/O, no async, no framework types, so every rule here is tested in
//! microseconds and services cannot disagree about it. Where to look:
//!
//! - **Values that cannot hold bad data**: [`email`], [`phone`] (E.164 and WhatsApp's `wa_id`
//!   quirks), [`role`], [`names`] (template name, language code), [`timezone`], [`ids`], [`secret`].
//! - **Entities** of the seven collections: [`user`], [`settings`], [`contact`], [`template`],
//!   [`campaign`] (and its runs), [`message`], [`reply`]. Serialized with the seed schema's
//!   camelCase names; storage documents are the store's own structs, converted at its edge.
//! - **Rules**, each in one place: [`campaign_status::transition`] (campaign state machine),
//!   [`delivery::DeliveryState::merge`] (message status precedence), [`schedule::Schedule`] (run
//!   times in an IANA zone), [`template_params`] (placeholders and the Cloud API `components`).
//! - **Bus events**: [`events`], versioned JSON payloads ([`events::Event`]).

mod util;

pub mod campaign;
pub mod campaign_status;
pub mod contact;
pub mod delivery;
pub mod email;
pub mod events;
pub mod ids;
pub mod message;
pub mod names;
pub mod phone;
pub mod reply;
pub mod role;
pub mod schedule;
pub mod secret;
pub mod settings;
pub mod template;
pub mod template_params;
pub mod timezone;
pub mod user;

pub use campaign::{Audience, Campaign, Run, RunStatus};
pub use campaign_status::{
    CampaignAction, CampaignStatus, PauseReason, TransitionError, transition,
};
pub use contact::{Contact, OptOut, OptOutReason};
pub use delivery::{
    DeliveryState, MessageError, MessageStatus, ReportedStatus, StatusUpdate, merge_status,
    status_rank,
};
pub use email::{Email, EmailError};
pub use events::{
    CampaignControl, ControlAction, Event, InboundMessage, OptInEvent, OptOutEvent, SendJob,
    StatusEvent, TemplateEvent,
};
pub use ids::{
    CampaignId, ContactId, IdError, MessageId, ReplyId, RunId, SettingsId, TemplateId, UserId,
    Wamid, WamidError,
};
pub use message::{Message, message_id_from_callback_data};
pub use names::{LanguageCode, LanguageCodeError, TemplateName, TemplateNameError};
pub use phone::{
    DefaultRegion, PhoneNumber, PhoneNumberError, RegionError, WaId, WhatsAppMatchKey,
};
pub use reply::{Reply, ReplyType};
pub use role::{Role, RoleError};
pub use schedule::{Recurrence, Schedule, ScheduleError, ScheduleKind};
pub use secret::{EncryptedSecret, PasswordHash, SecretError};
pub use settings::{DEFAULT_MESSAGES_PER_SECOND, WhatsAppSettings};
pub use template::{ParameterFormat, Template, TemplateCategory, TemplateStatus};
pub use template_params::{
    BindError, MappingError, ParameterMapping, ParameterSlot, TemplateParameters, ValueSource,
    bind_components, extract_parameters,
};
pub use timezone::{Timezone, TimezoneError};
pub use user::User;

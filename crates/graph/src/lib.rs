//! Herald's client for the WhatsApp Cloud API (Meta's Graph API), and the one place where Graph
//! errors are classified.
//!
//! - [`GraphClient`] sends template and text messages, lists message templates and reads a phone
//!   number's details, against a configurable base URL (the sandbox in development, Meta in
//!   production) and a pinned API version.
//! - The request and response types serialize to and from exactly Meta's JSON, so the sandbox
//!   can parse what the client sends with the same types.
//! - Every failure is a [`GraphError`] whose [`ErrorAction`] says what the sender does: retry
//!   later (with the wait and its scope), fail the recipient, halt the campaign, or halt the phone
//!   number. See [`classify`] for the table.
//!
//! The access token is passed per call as an [`AccessToken`] and never appears in a log line, a
//! `Debug` output or an error message.

mod client;
mod config;
mod error;
mod message;
mod phone;
mod templates;
mod token;

pub use client::GraphClient;
pub use config::{ConfigError, DEFAULT_API_VERSION, DEFAULT_BASE_URL, GraphConfig};
pub use error::{
    Backoff, Classification, ErrorAction, ErrorClass, ErrorData, Failure, GraphError,
    GraphErrorBody, GraphErrorDetail, MAX_BACKOFF, RetryScope, TransportKind,
    business_use_case_wait, classify, codes, retry_after_seconds,
};
pub use message::{
    ButtonSubType, Component, Components, Currency, DateTime, Language, Media, MediaSource,
    MessageContent, MessageRequest, MessageResponse, MessageStatus, Parameter, ParameterValue,
    ReplyContext, ResponseContact, ResponseMessage, SendAccepted, TemplateBody, TemplateMessage,
    TextBody, TextMessage,
};
pub use phone::{PhoneNumberDetails, QualityRating, Throughput};
pub use reqwest::Url;
pub use templates::{
    Cursors, MessageTemplate, Paging, ParameterFormat, TemplateCategory, TemplatePage,
    TemplateQuery, TemplateStatus,
};
pub use token::AccessToken;

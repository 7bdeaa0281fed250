//! Outgoing messages (`POST /{version}/{phone-number-id}/messages`) and the answer to them.
//!
//! The Rust types here serialize to exactly the JSON Meta documents (reference §1 and the request
//! examples of `sendMessage` in Meta's OpenAPI file), and deserialize from it too, so that the
//! sandbox can parse what Herald sends with the same types. Deserialization is lenient where Meta's
//! own examples disagree with each other: a button `index` may be a string or a number and a
//! `sub_type` may be upper case.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// A template message to one recipient.
///
/// Serializes to Meta's full request body (`messaging_product`, `recipient_type`, `type`…).
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateMessage {
    /// The recipient, `+` and country code first (without `+` Meta prepends the *business*
    /// number's country code).
    pub to: String,
    /// The template's name.
    pub name: String,
    /// The template's language and the optional matching policy.
    pub language: Language,
    /// Parameters for the header, body and buttons; empty for a template without variables.
    pub components: Components,
    /// Echoed on every status webhook for this message. Herald puts its own message id here so
    /// that a status can be matched even when the wamid was never recorded.
    pub biz_opaque_callback_data: Option<String>,
    /// Makes the message a reply to this earlier wamid.
    pub reply_to: Option<String>,
}

impl TemplateMessage {
    /// A template message without parameters, callback data or reply context.
    pub fn new(
        to: impl Into<String>,
        name: impl Into<String>,
        language: impl Into<String>,
    ) -> Self {
        Self {
            to: to.into(),
            name: name.into(),
            language: Language::new(language),
            components: Components::default(),
            biz_opaque_callback_data: None,
            reply_to: None,
        }
    }

    /// Sets the components.
    #[must_use]
    pub fn with_components(mut self, components: impl Into<Components>) -> Self {
        self.components = components.into();
        self
    }

    /// Sets `biz_opaque_callback_data` (Herald's message id).
    #[must_use]
    pub fn with_callback_data(mut self, data: impl Into<String>) -> Self {
        self.biz_opaque_callback_data = Some(data.into());
        self
    }

    /// Makes this message a reply to `wamid`.
    #[must_use]
    pub fn in_reply_to(mut self, wamid: impl Into<String>) -> Self {
        self.reply_to = Some(wamid.into());
        self
    }
}

/// A free-form text message; Meta only delivers it inside an open 24 h service window (else
/// 131047).
#[derive(Debug, Clone, PartialEq)]
pub struct TextMessage {
    /// The recipient, `+` and country code first.
    pub to: String,
    /// At most 4096 characters.
    pub body: String,
    /// Whether WhatsApp renders a preview of the first URL in `body`.
    pub preview_url: bool,
    /// Echoed on every status webhook for this message.
    pub biz_opaque_callback_data: Option<String>,
    /// Makes the message a reply to this earlier wamid.
    pub reply_to: Option<String>,
}

impl TextMessage {
    /// A text message without preview, callback data or reply context.
    pub fn new(to: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            to: to.into(),
            body: body.into(),
            preview_url: false,
            biz_opaque_callback_data: None,
            reply_to: None,
        }
    }
}

/// `template.language`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Language {
    /// A language-and-locale code such as `en_US`; a template is one (name, language) pair.
    pub code: String,
    /// `deterministic` is the only policy Meta documents; optional in its examples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

impl Language {
    /// A language without a policy.
    pub fn new(code: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            policy: None,
        }
    }
}

/// The parameters of a template message.
///
/// `Typed` is built in Rust; `Raw` carries a components array that another crate already bound
/// into Meta's JSON, sent exactly as given (so kinds this crate does not model, e.g. carousel
/// cards or limited-time offers, still go through). Both serialize to a JSON array.
///
/// Deserializing (and [`Components::from_json`]) yields `Typed` when every component fits the
/// typed model and `Raw` otherwise, so the sandbox can accept what Meta accepts and still inspect
/// the common case with types.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Components {
    /// Components built with this crate's types.
    Typed(Vec<Component>),
    /// Components in Meta's JSON shape, one value per component.
    Raw(Vec<Value>),
}

impl Components {
    /// Components from a JSON array in Meta's shape; an error when `value` is not an array.
    pub fn from_json(value: Value) -> Result<Self, serde_json::Error> {
        serde_json::from_value(value)
    }

    /// True when there is no component (the `components` key is then left out of the body).
    pub fn is_empty(&self) -> bool {
        match self {
            Components::Typed(components) => components.is_empty(),
            Components::Raw(components) => components.is_empty(),
        }
    }
}

impl Default for Components {
    fn default() -> Self {
        Components::Typed(Vec::new())
    }
}

impl From<Vec<Component>> for Components {
    fn from(components: Vec<Component>) -> Self {
        Components::Typed(components)
    }
}

/// One component of a template message: the values for the header, the body or one button.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Component {
    /// Header variables: one text parameter, or one media parameter.
    Header {
        /// The header's parameters.
        #[serde(default)]
        parameters: Vec<Parameter>,
    },
    /// Body variables, in order for positional templates, each named for named templates.
    Body {
        /// The body's parameters.
        #[serde(default)]
        parameters: Vec<Parameter>,
    },
    /// The value for one button (quick-reply payload, URL suffix, coupon code, flow action…).
    Button {
        /// The kind of button.
        sub_type: ButtonSubType,
        /// 0-based position of the button in the template. Sent as a string, as Meta does;
        /// accepted as a string or a number.
        #[serde(
            serialize_with = "index_as_string",
            deserialize_with = "index_from_any"
        )]
        index: u32,
        /// The button's parameters.
        #[serde(default)]
        parameters: Vec<Parameter>,
    },
}

impl Component {
    /// A header with the given parameters.
    pub fn header(parameters: Vec<Parameter>) -> Self {
        Component::Header { parameters }
    }

    /// A body with the given parameters.
    pub fn body(parameters: Vec<Parameter>) -> Self {
        Component::Body { parameters }
    }

    /// A button at `index` with the given parameters.
    pub fn button(sub_type: ButtonSubType, index: u32, parameters: Vec<Parameter>) -> Self {
        Component::Button {
            sub_type,
            index,
            parameters,
        }
    }
}

fn index_as_string<S: Serializer>(index: &u32, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(index)
}

fn index_from_any<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Index {
        Number(u32),
        Text(String),
    }
    match Index::deserialize(deserializer)? {
        Index::Number(index) => Ok(index),
        Index::Text(text) => text.trim().parse().map_err(serde::de::Error::custom),
    }
}

/// `sub_type` of a button component. Serialized in lower case as Meta's send examples do;
/// upper case (as in Meta's catalog example and pywa) is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ButtonSubType {
    /// A quick-reply button; its parameter is a `payload`.
    #[serde(alias = "QUICK_REPLY")]
    QuickReply,
    /// A URL button; its parameter is the `text` appended to the template's URL.
    #[serde(alias = "URL")]
    Url,
    /// A copy-code button; its parameter is a `coupon_code`.
    #[serde(alias = "COPY_CODE")]
    CopyCode,
    /// A flow button; its parameter is an `action` with `flow_token`.
    #[serde(alias = "FLOW")]
    Flow,
    /// A catalog button; its parameter is an `action` with `thumbnail_product_retailer_id`.
    #[serde(alias = "CATALOG")]
    Catalog,
}

/// One template parameter: its value, and its name in a named-parameter template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parameter {
    /// The value and its kind (`type` on the wire).
    #[serde(flatten)]
    pub value: ParameterValue,
    /// Set for templates whose `parameter_format` is `NAMED` (order is then free); left out for
    /// positional templates, whose values must come in `{{1}}, {{2}}…` order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_name: Option<String>,
}

impl Parameter {
    /// A text parameter (a body or header variable, or a URL button's suffix).
    pub fn text(text: impl Into<String>) -> Self {
        ParameterValue::Text { text: text.into() }.into()
    }

    /// A currency parameter; `amount_1000` is the amount times 1000.
    pub fn currency(
        fallback_value: impl Into<String>,
        code: impl Into<String>,
        amount_1000: i64,
    ) -> Self {
        ParameterValue::Currency {
            currency: Currency {
                fallback_value: fallback_value.into(),
                code: code.into(),
                amount_1000,
            },
        }
        .into()
    }

    /// A date-time parameter; the Cloud API always shows the fallback value.
    pub fn date_time(fallback_value: impl Into<String>) -> Self {
        ParameterValue::DateTime {
            date_time: DateTime::new(fallback_value),
        }
        .into()
    }

    /// An image header parameter.
    pub fn image(media: MediaSource) -> Self {
        ParameterValue::Image {
            image: Media::from(media),
        }
        .into()
    }

    /// A video header parameter.
    pub fn video(media: MediaSource) -> Self {
        ParameterValue::Video {
            video: Media::from(media),
        }
        .into()
    }

    /// A document header parameter (template documents must be PDF).
    pub fn document(media: MediaSource) -> Self {
        ParameterValue::Document {
            document: Media::from(media),
        }
        .into()
    }

    /// A quick-reply button's payload, returned in the inbound `button.payload` on a tap.
    pub fn payload(payload: impl Into<String>) -> Self {
        ParameterValue::Payload {
            payload: payload.into(),
        }
        .into()
    }

    /// A copy-code button's code.
    pub fn coupon_code(code: impl Into<String>) -> Self {
        ParameterValue::CouponCode {
            coupon_code: code.into(),
        }
        .into()
    }

    /// A flow or catalog button's action object.
    pub fn action(action: Map<String, Value>) -> Self {
        ParameterValue::Action { action }.into()
    }

    /// Names this parameter, for templates whose `parameter_format` is `NAMED`.
    #[must_use]
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.parameter_name = Some(name.into());
        self
    }
}

impl From<ParameterValue> for Parameter {
    fn from(value: ParameterValue) -> Self {
        Self {
            value,
            parameter_name: None,
        }
    }
}

/// The kinds of template parameter Meta documents, tagged by `type` on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ParameterValue {
    /// Text (schema maximum 32768 characters).
    Text {
        /// The text.
        text: String,
    },
    /// An amount of money.
    Currency {
        /// The amount.
        currency: Currency,
    },
    /// A date and time.
    DateTime {
        /// The date.
        date_time: DateTime,
    },
    /// Header image.
    Image {
        /// The image.
        image: Media,
    },
    /// Header video.
    Video {
        /// The video.
        video: Media,
    },
    /// Header document.
    Document {
        /// The document.
        document: Media,
    },
    /// Quick-reply payload.
    Payload {
        /// The payload.
        payload: String,
    },
    /// Copy-code button value.
    CouponCode {
        /// The code.
        coupon_code: String,
    },
    /// Flow or catalog button action (`flow_token`, `flow_action_data`,
    /// `thumbnail_product_retailer_id`…), passed through as given.
    Action {
        /// The action object.
        action: Map<String, Value>,
    },
}

/// `currency` parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Currency {
    /// Shown where the amount cannot be localised.
    pub fallback_value: String,
    /// ISO 4217 code.
    pub code: String,
    /// The amount times 1000 (10.99 → 10990).
    pub amount_1000: i64,
}

/// `date_time` parameter. The Cloud API always displays `fallback_value`; the component fields
/// are kept because Meta's examples carry them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateTime {
    /// The text shown.
    pub fallback_value: String,
    /// e.g. `GREGORIAN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<String>,
    /// Year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// Month, 1–12.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<u32>,
    /// Day of month, 1–31.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_of_month: Option<u32>,
    /// Day of week, 1 (Monday) – 7.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_of_week: Option<u32>,
    /// Hour, 0–23.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hour: Option<u32>,
    /// Minute, 0–59.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minute: Option<u32>,
}

impl DateTime {
    /// A date-time with only its fallback text, which is all the Cloud API displays.
    pub fn new(fallback_value: impl Into<String>) -> Self {
        Self {
            fallback_value: fallback_value.into(),
            calendar: None,
            year: None,
            month: None,
            day_of_month: None,
            day_of_week: None,
            hour: None,
            minute: None,
        }
    }
}

/// A header media object: by uploaded id or by link, optionally with a document file name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    /// Where the media comes from.
    #[serde(flatten)]
    pub source: MediaSource,
    /// The file name shown for a document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

impl From<MediaSource> for Media {
    fn from(source: MediaSource) -> Self {
        Self {
            source,
            filename: None,
        }
    }
}

/// `{"id": …}` or `{"link": …}`. Prefer ids at high throughput: Meta fetches a link itself (and
/// caches it only 10 minutes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaSource {
    /// A media id from `POST /{pnid}/media` (valid 30 days).
    Id(String),
    /// An https URL Meta downloads.
    Link(String),
}

/// `context` of a reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyContext {
    /// The wamid replied to.
    pub message_id: String,
}

/// `text` of a text message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextBody {
    /// The text.
    pub body: String,
    /// Whether a link preview is rendered.
    #[serde(default)]
    pub preview_url: bool,
}

/// `template` of a template message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateBody {
    /// Template name.
    pub name: String,
    /// Template language.
    pub language: Language,
    /// Left out when empty, as in Meta's `hello_world` example.
    #[serde(default, skip_serializing_if = "Components::is_empty")]
    pub components: Components,
}

/// The request body of `POST /{version}/{phone-number-id}/messages`, as Meta defines it, for the
/// two kinds Herald sends. [`TemplateMessage`] and [`TextMessage`] serialize through it; the
/// sandbox can deserialize incoming requests into it (a body with `text` and no `type` is a text
/// message, as in Meta's "Send Text Message with Preview URL" example).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageRequest {
    /// Always `whatsapp`.
    pub messaging_product: String,
    /// Always `individual` when Herald sends; optional in Meta's examples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_type: Option<String>,
    /// The recipient.
    pub to: String,
    /// Present on replies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<ReplyContext>,
    /// Echoed on status webhooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biz_opaque_callback_data: Option<String>,
    /// The message itself, tagged by `type`.
    #[serde(flatten)]
    pub content: MessageContent,
}

/// The `type` and its payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MessageContent {
    /// `"type":"template"` with `template`.
    Template {
        /// The template and its parameters.
        template: TemplateBody,
    },
    /// `"type":"text"` with `text`.
    Text {
        /// The text.
        text: TextBody,
    },
}

impl<'de> Deserialize<'de> for MessageRequest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// The same fields, derived; the outer impl only fills in a missing `type`.
        #[derive(Deserialize)]
        struct Wire {
            messaging_product: String,
            #[serde(default)]
            recipient_type: Option<String>,
            to: String,
            #[serde(default)]
            context: Option<ReplyContext>,
            #[serde(default)]
            biz_opaque_callback_data: Option<String>,
            #[serde(flatten)]
            content: MessageContent,
        }

        let mut fields = Map::<String, Value>::deserialize(deserializer)?;
        if !fields.contains_key("type") && fields.contains_key("text") {
            fields.insert("type".to_owned(), Value::from("text"));
        }
        let wire = Wire::deserialize(Value::Object(fields)).map_err(serde::de::Error::custom)?;
        Ok(Self {
            messaging_product: wire.messaging_product,
            recipient_type: wire.recipient_type,
            to: wire.to,
            context: wire.context,
            biz_opaque_callback_data: wire.biz_opaque_callback_data,
            content: wire.content,
        })
    }
}

const MESSAGING_PRODUCT: &str = "whatsapp";
const RECIPIENT_TYPE: &str = "individual";

impl From<&TemplateMessage> for MessageRequest {
    fn from(message: &TemplateMessage) -> Self {
        Self {
            messaging_product: MESSAGING_PRODUCT.to_owned(),
            recipient_type: Some(RECIPIENT_TYPE.to_owned()),
            to: message.to.clone(),
            context: message
                .reply_to
                .clone()
                .map(|message_id| ReplyContext { message_id }),
            biz_opaque_callback_data: message.biz_opaque_callback_data.clone(),
            content: MessageContent::Template {
                template: TemplateBody {
                    name: message.name.clone(),
                    language: message.language.clone(),
                    components: message.components.clone(),
                },
            },
        }
    }
}

impl From<&TextMessage> for MessageRequest {
    fn from(message: &TextMessage) -> Self {
        Self {
            messaging_product: MESSAGING_PRODUCT.to_owned(),
            recipient_type: Some(RECIPIENT_TYPE.to_owned()),
            to: message.to.clone(),
            context: message
                .reply_to
                .clone()
                .map(|message_id| ReplyContext { message_id }),
            biz_opaque_callback_data: message.biz_opaque_callback_data.clone(),
            content: MessageContent::Text {
                text: TextBody {
                    body: message.body.clone(),
                    preview_url: message.preview_url,
                },
            },
        }
    }
}

impl Serialize for TemplateMessage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        MessageRequest::from(self).serialize(serializer)
    }
}

impl Serialize for TextMessage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        MessageRequest::from(self).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for TemplateMessage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let request = MessageRequest::deserialize(deserializer)?;
        match request.content {
            MessageContent::Template { template } => Ok(Self {
                to: request.to,
                name: template.name,
                language: template.language,
                components: template.components,
                biz_opaque_callback_data: request.biz_opaque_callback_data,
                reply_to: request.context.map(|context| context.message_id),
            }),
            MessageContent::Text { .. } => Err(serde::de::Error::custom(
                "expected a template message, found type text",
            )),
        }
    }
}

impl<'de> Deserialize<'de> for TextMessage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let request = MessageRequest::deserialize(deserializer)?;
        match request.content {
            MessageContent::Text { text } => Ok(Self {
                to: request.to,
                body: text.body,
                preview_url: text.preview_url,
                biz_opaque_callback_data: request.biz_opaque_callback_data,
                reply_to: request.context.map(|context| context.message_id),
            }),
            MessageContent::Template { .. } => Err(serde::de::Error::custom(
                "expected a text message, found type template",
            )),
        }
    }
}

/// The body of a 200 answer to a send (`MessageResponsePayload` in Meta's OpenAPI file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageResponse {
    /// Always `whatsapp`.
    #[serde(default)]
    pub messaging_product: String,
    /// One entry: the recipient as sent and as normalised.
    #[serde(default)]
    pub contacts: Vec<ResponseContact>,
    /// One entry: the new wamid.
    #[serde(default)]
    pub messages: Vec<ResponseMessage>,
}

/// `contacts[]` of a send answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseContact {
    /// The `to` of the request, echoed.
    #[serde(default)]
    pub input: String,
    /// The normalised WhatsApp id; may differ from `input`.
    #[serde(default)]
    pub wa_id: String,
    /// Business-scoped user id (newer API versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// `messages[]` of a send answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseMessage {
    /// The wamid (`wamid.…`).
    pub id: String,
    /// Only on templates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_status: Option<MessageStatus>,
    /// Group messages only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
}

/// `message_status` of an accepted template message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Accepted for delivery.
    Accepted,
    /// Held by template pacing; it is sent or fails with 132015 later.
    HeldForQualityAssessment,
    /// The template is paused; the message is held.
    Paused,
    /// A value this crate does not know yet (serialized as `unknown`).
    #[serde(other)]
    Unknown,
}

/// What Herald records after a 200: Meta *accepted* the message; delivery is reported later by
/// status webhooks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendAccepted {
    /// The message id Meta assigned.
    pub wamid: String,
    /// Templates only; `None` when Meta left it out.
    pub message_status: Option<MessageStatus>,
    /// The recipient's normalised WhatsApp id, when Meta returned it.
    pub wa_id: Option<String>,
    /// The `to` Meta echoed, when it did.
    pub input: Option<String>,
}

impl SendAccepted {
    /// Takes the first message and contact of a response; `None` when there is no wamid.
    pub fn from_response(response: MessageResponse) -> Option<Self> {
        let message = response.messages.into_iter().next()?;
        let contact = response.contacts.into_iter().next();
        Some(Self {
            wamid: message.id,
            message_status: message.message_status,
            wa_id: contact
                .as_ref()
                .map(|contact| contact.wa_id.clone())
                .filter(|wa_id| !wa_id.is_empty()),
            input: contact
                .map(|contact| contact.input)
                .filter(|input| !input.is_empty()),
        })
    }
}

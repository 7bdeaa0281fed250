//! Template parameters: which values a template needs, where a campaign takes them from, and the
//! exact `components` array the Cloud API expects for one contact (reference §1).
//!
//! Three steps, each usable alone:
//!
//! 1. [`extract_parameters`] reads a template's components as Meta returns them
//!    (`message_templates`) and lists its [`ParameterSlot`]s: `{{1}}` or `{{first_name}}` in the
//!    header text and the body, a media header (IMAGE, VIDEO, DOCUMENT), a URL button with a
//!    variable suffix, a COPY_CODE button.
//! 2. A campaign's [`ParameterMapping`] says where each slot's value comes from ([`ValueSource`]);
//!    [`ParameterMapping::validate`] checks it covers every slot and nothing else, so a campaign
//!    is refused before its first send rather than failing a million times.
//! 3. [`bind_components`] resolves the mapping for one contact into the send body's
//!    `template.components`. A contact lacking a variable is an error naming the placeholder and
//!    the contact.
//!
//! Mapping keys are short strings: `header.1`, `header.first_name`, `header.media`, `body.2`,
//! `body.order_id`, `button.1` (the button's 0-based position in the template; URL buttons have
//! one variable and copy-code buttons one code, so the index says it all).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::contact::Contact;
use crate::ids::ContactId;
use crate::util::excerpt;

/// One placeholder inside a text: `{{1}}` or `{{first_name}}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ParamKey {
    /// `{{1}}`, `{{2}}`…: values are sent in this order.
    Positional(u32),
    /// `{{first_name}}`: values are sent with `parameter_name`, in any order.
    Named(String),
}

impl ParamKey {
    /// Parses the text between the braces.
    fn parse(inner: &str) -> Option<Self> {
        if !inner.is_empty() && inner.chars().all(|c| c.is_ascii_digit()) {
            return inner
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .map(ParamKey::Positional);
        }
        let mut chars = inner.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
        let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        (first_ok && rest_ok).then(|| ParamKey::Named(inner.to_owned()))
    }

    fn as_key(&self) -> String {
        match self {
            ParamKey::Positional(n) => n.to_string(),
            ParamKey::Named(name) => name.clone(),
        }
    }
}

impl fmt::Display for ParamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{{{}}}}}", self.as_key())
    }
}

/// A value a template needs at send time. Displayed (and used as mapping key) as `body.1`,
/// `header.media`, `button.0`…; [`ParameterSlot::describe`] gives the human form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ParameterSlot {
    HeaderText(ParamKey),
    HeaderMedia,
    Body(ParamKey),
    /// A URL button's variable suffix or a copy-code button's code, by the button's position.
    Button(u32),
}

impl ParameterSlot {
    /// "{{2}} in the body", "the header media", "button 1".
    pub fn describe(&self) -> String {
        match self {
            ParameterSlot::HeaderText(key) => format!("{key} in the header"),
            ParameterSlot::HeaderMedia => "the header media".to_owned(),
            ParameterSlot::Body(key) => format!("{key} in the body"),
            ParameterSlot::Button(index) => format!("button {index}"),
        }
    }

    /// Whether the slot takes a media link or id rather than text.
    pub fn is_media(&self) -> bool {
        *self == ParameterSlot::HeaderMedia
    }
}

impl fmt::Display for ParameterSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParameterSlot::HeaderText(key) => write!(f, "header.{}", key.as_key()),
            ParameterSlot::HeaderMedia => f.write_str("header.media"),
            ParameterSlot::Body(key) => write!(f, "body.{}", key.as_key()),
            ParameterSlot::Button(index) => write!(f, "button.{index}"),
        }
    }
}

/// A mapping key that names no slot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{input}' is not a template parameter: expected header.1, header.<name>, header.media, \
     body.1, body.<name> or button.<index>"
)]
pub struct SlotError {
    input: String,
}

impl FromStr for ParameterSlot {
    type Err = SlotError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || SlotError { input: excerpt(s) };
        let (part, rest) = s.split_once('.').ok_or_else(bad)?;
        match part {
            "header" if rest == "media" => Ok(ParameterSlot::HeaderMedia),
            "header" => ParamKey::parse(rest)
                .map(ParameterSlot::HeaderText)
                .ok_or_else(bad),
            "body" => ParamKey::parse(rest)
                .map(ParameterSlot::Body)
                .ok_or_else(bad),
            "button" if !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit()) => {
                rest.parse().map(ParameterSlot::Button).map_err(|_| bad())
            }
            _ => Err(bad()),
        }
    }
}

impl TryFrom<String> for ParameterSlot {
    type Error = SlotError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<ParameterSlot> for String {
    fn from(slot: ParameterSlot) -> String {
        slot.to_string()
    }
}

/// The kind of media a media header carries; also its parameter `type` in the send body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Image,
    Video,
    /// Template documents must be PDF (Meta's rule).
    Document,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
            MediaKind::Document => "document",
        }
    }
}

/// What a template's header needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderParameters {
    Text(Vec<ParamKey>),
    Media(MediaKind),
}

/// The buttons that take a value at send time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ButtonKind {
    /// A URL button whose `url` ends with a variable: the value is the URL suffix.
    Url,
    /// A copy-code button: the value is the coupon code.
    CopyCode,
}

/// Every value a template needs, in send order: [`extract_parameters`]'s result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateParameters {
    pub header: Option<HeaderParameters>,
    /// Distinct keys, positional ones in ascending order.
    pub body: Vec<ParamKey>,
    /// (position among the template's buttons, kind), in position order.
    pub buttons: Vec<(u32, ButtonKind)>,
}

impl TemplateParameters {
    /// Every slot a mapping must cover.
    pub fn slots(&self) -> Vec<ParameterSlot> {
        let header = match &self.header {
            None => Vec::new(),
            Some(HeaderParameters::Media(_)) => vec![ParameterSlot::HeaderMedia],
            Some(HeaderParameters::Text(keys)) => keys
                .iter()
                .cloned()
                .map(ParameterSlot::HeaderText)
                .collect(),
        };
        let body = self.body.iter().cloned().map(ParameterSlot::Body);
        let buttons = self
            .buttons
            .iter()
            .map(|(index, _)| ParameterSlot::Button(*index));
        header.into_iter().chain(body).chain(buttons).collect()
    }

    /// The template sends as is, with no `components`.
    pub fn is_empty(&self) -> bool {
        self.slots().is_empty()
    }
}

/// A template whose components Herald cannot send with parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateParamError {
    #[error("template components must be a JSON array of objects")]
    NotAnArray,
    #[error(
        "the {location} has a malformed placeholder '{text}': use {{{{1}}}} or \
         {{{{lower_case_name}}}}"
    )]
    MalformedPlaceholder { location: String, text: String },
    #[error("header format {format} is not supported for campaigns")]
    UnsupportedHeader { format: String },
    #[error("button {index} of type {kind} needs a parameter Herald cannot provide")]
    UnsupportedButton { index: usize, kind: String },
    #[error("component type {kind} is not supported for campaigns")]
    UnsupportedComponent { kind: String },
}

/// Lists the values `components` (Meta's template JSON) needs. Type names are matched
/// case-insensitively (Meta returns `BODY`, some SDKs `body`). Quick-reply, phone-number and flow
/// buttons, footers and URL buttons without a variable need nothing.
pub fn extract_parameters(components: &Value) -> Result<TemplateParameters, TemplateParamError> {
    let components = components
        .as_array()
        .ok_or(TemplateParamError::NotAnArray)?;
    let mut params = TemplateParameters::default();
    for component in components {
        let component = component
            .as_object()
            .ok_or(TemplateParamError::NotAnArray)?;
        match upper(component.get("type")).as_str() {
            "HEADER" => params.header = header_parameters(component)?,
            "BODY" => params.body = placeholders(text_of(component, "text"), "body")?,
            "FOOTER" => {}
            "BUTTONS" => params.buttons = button_parameters(component)?,
            other => {
                return Err(TemplateParamError::UnsupportedComponent {
                    kind: other.to_owned(),
                });
            }
        }
    }
    Ok(params)
}

fn upper(value: Option<&Value>) -> String {
    value
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_ascii_uppercase()
}

fn text_of<'a>(object: &'a Map<String, Value>, field: &str) -> &'a str {
    object
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn header_parameters(
    header: &Map<String, Value>,
) -> Result<Option<HeaderParameters>, TemplateParamError> {
    let format = upper(header.get("format"));
    let parameters = match format.as_str() {
        // A header without a format is a text header in Meta's older payloads.
        "TEXT" | "" => {
            let keys = placeholders(text_of(header, "text"), "header")?;
            (!keys.is_empty()).then_some(HeaderParameters::Text(keys))
        }
        "IMAGE" => Some(HeaderParameters::Media(MediaKind::Image)),
        "VIDEO" => Some(HeaderParameters::Media(MediaKind::Video)),
        "DOCUMENT" => Some(HeaderParameters::Media(MediaKind::Document)),
        _ => return Err(TemplateParamError::UnsupportedHeader { format }),
    };
    Ok(parameters)
}

fn button_parameters(
    buttons: &Map<String, Value>,
) -> Result<Vec<(u32, ButtonKind)>, TemplateParamError> {
    let list = buttons
        .get("buttons")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut out = Vec::new();
    for (index, button) in list.iter().enumerate() {
        let kind = upper(button.get("type"));
        let needs = match kind.as_str() {
            "URL" => {
                let url = button
                    .get("url")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let location = format!("URL of button {index}");
                (!placeholders(url, &location)?.is_empty()).then_some(ButtonKind::Url)
            }
            "COPY_CODE" => Some(ButtonKind::CopyCode),
            // One-time-password buttons carry a per-recipient code: not a campaign's business.
            "OTP" => return Err(TemplateParamError::UnsupportedButton { index, kind }),
            _ => None,
        };
        if let Some(needs) = needs {
            // More than 2^32 buttons is not a template Meta would return.
            let index =
                u32::try_from(index).map_err(|_| TemplateParamError::UnsupportedButton {
                    index,
                    kind: kind.clone(),
                })?;
            out.push((index, needs));
        }
    }
    Ok(out)
}

/// The distinct placeholders of `text`, positional ones in ascending order, then named ones
/// alphabetically (named parameters carry their name, so their order does not matter).
fn placeholders(text: &str, location: &str) -> Result<Vec<ParamKey>, TemplateParamError> {
    let mut keys = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after_open = &rest[open + 2..];
        let malformed = |inner: &str| TemplateParamError::MalformedPlaceholder {
            location: location.to_owned(),
            text: excerpt(&format!("{{{{{inner}")),
        };
        let close = after_open.find("}}").ok_or_else(|| malformed(after_open))?;
        let inner = &after_open[..close];
        let key = ParamKey::parse(inner).ok_or_else(|| malformed(&format!("{inner}}}}}")))?;
        keys.push(key);
        rest = &after_open[close + 2..];
    }
    keys.sort();
    keys.dedup();
    Ok(keys)
}

/// Where one slot's value comes from, for every contact of a campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum ValueSource {
    /// The contact's name.
    ContactName,
    /// The contact's phone in E.164.
    ContactPhone,
    /// A value of the contact's `variables`; `path` may be dotted (`address.city`). A key that
    /// itself contains dots is found first.
    Variable { path: String },
    /// The same text for every contact.
    Constant { value: String },
    /// A media header from a public HTTPS link.
    MediaLink { link: String },
    /// A media header from a media id uploaded to Meta.
    MediaId { id: String },
}

impl ValueSource {
    fn is_media(&self) -> bool {
        matches!(
            self,
            ValueSource::MediaLink { .. } | ValueSource::MediaId { .. }
        )
    }
}

/// A campaign's mapping from template slots to value sources. Serialized as a JSON object keyed
/// by slot: `{"body.1": {"source": "contact_name"}}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ParameterMapping(BTreeMap<ParameterSlot, ValueSource>);

/// A mapping that does not fit its template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("{} has no mapping (key '{slot}')", .slot.describe())]
    Unmapped { slot: ParameterSlot },
    #[error("the mapping names '{slot}', which the template does not have")]
    UnknownSlot { slot: ParameterSlot },
    #[error("{} needs {expected} (key '{slot}')", .slot.describe())]
    WrongSource {
        slot: ParameterSlot,
        expected: &'static str,
    },
}

impl ParameterMapping {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a slot's source; returns `self` so mappings can be built in one expression.
    pub fn with(mut self, slot: ParameterSlot, source: ValueSource) -> Self {
        self.0.insert(slot, source);
        self
    }

    pub fn get(&self, slot: &ParameterSlot) -> Option<&ValueSource> {
        self.0.get(slot)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&ParameterSlot, &ValueSource)> {
        self.0.iter()
    }

    /// Checks that the mapping covers every slot of `params` with a source of the right kind
    /// (media for the media header, text elsewhere) and names no slot the template lacks. The
    /// first problem found is returned, slots in send order.
    pub fn validate(&self, params: &TemplateParameters) -> Result<(), MappingError> {
        let slots = params.slots();
        for slot in &slots {
            let source = self
                .0
                .get(slot)
                .ok_or_else(|| MappingError::Unmapped { slot: slot.clone() })?;
            match (slot.is_media(), source.is_media()) {
                (true, false) => {
                    let expected = "a media link or media id";
                    return Err(MappingError::WrongSource {
                        slot: slot.clone(),
                        expected,
                    });
                }
                (false, true) => {
                    let expected = "text (contact name, phone, variable or constant)";
                    return Err(MappingError::WrongSource {
                        slot: slot.clone(),
                        expected,
                    });
                }
                _ => {}
            }
        }
        match self.0.keys().find(|slot| !slots.contains(slot)) {
            Some(extra) => Err(MappingError::UnknownSlot {
                slot: extra.clone(),
            }),
            None => Ok(()),
        }
    }
}

/// Why one contact's parameters cannot be bound.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindError {
    #[error(transparent)]
    Mapping(#[from] MappingError),
    #[error("contact {contact} has no variable '{path}' for {}", .slot.describe())]
    MissingVariable {
        slot: ParameterSlot,
        path: String,
        contact: ContactId,
    },
    #[error("variable '{path}' of contact {contact} is not text, so it cannot fill {}", .slot.describe())]
    NotText {
        slot: ParameterSlot,
        path: String,
        contact: ContactId,
    },
    #[error("{} would be empty for contact {contact}, and Meta refuses empty parameters", .slot.describe())]
    Empty {
        slot: ParameterSlot,
        contact: ContactId,
    },
}

/// The Cloud API `template.components` array for `contact`: header, then body, then buttons;
/// components without parameters are left out, so a template without any gives `[]`.
///
/// Text parameters are `{"type":"text","text":…}`, plus `"parameter_name"` for a named
/// placeholder; a media header is `{"type":"image","image":{"link":…}}` (or `{"id":…}`); a URL
/// button is `{"type":"button","sub_type":"url","index":"1","parameters":[{"type":"text",…}]}`
/// and a copy-code button takes `{"type":"coupon_code","coupon_code":…}`.
pub fn bind_components(
    params: &TemplateParameters,
    mapping: &ParameterMapping,
    contact: &Contact,
) -> Result<Value, BindError> {
    mapping.validate(params)?;
    let binder = Binder { mapping, contact };
    let mut components = Vec::new();

    match &params.header {
        Some(HeaderParameters::Text(keys)) => {
            let parameters = binder.text_parameters(keys, ParameterSlot::HeaderText)?;
            components.push(json!({"type": "header", "parameters": parameters}));
        }
        Some(HeaderParameters::Media(kind)) => {
            let media = match mapping.get(&ParameterSlot::HeaderMedia) {
                Some(ValueSource::MediaLink { link }) => json!({"link": link}),
                Some(ValueSource::MediaId { id }) => json!({"id": id}),
                // validate() proved the slot is mapped to a media source.
                _ => {
                    return Err(MappingError::Unmapped {
                        slot: ParameterSlot::HeaderMedia,
                    }
                    .into());
                }
            };
            let kind = kind.as_str();
            components.push(json!({"type": "header", "parameters": [{"type": kind, kind: media}]}));
        }
        None => {}
    }

    if !params.body.is_empty() {
        let parameters = binder.text_parameters(&params.body, ParameterSlot::Body)?;
        components.push(json!({"type": "body", "parameters": parameters}));
    }

    for (index, kind) in &params.buttons {
        let value = binder.text(&ParameterSlot::Button(*index))?;
        let (sub_type, parameter) = match kind {
            ButtonKind::Url => ("url", json!({"type": "text", "text": value})),
            ButtonKind::CopyCode => (
                "copy_code",
                json!({"type": "coupon_code", "coupon_code": value}),
            ),
        };
        components.push(json!({
            "type": "button", "sub_type": sub_type, "index": index.to_string(),
            "parameters": [parameter]
        }));
    }
    Ok(Value::Array(components))
}

struct Binder<'a> {
    mapping: &'a ParameterMapping,
    contact: &'a Contact,
}

impl Binder<'_> {
    fn text_parameters(
        &self,
        keys: &[ParamKey],
        slot_of: fn(ParamKey) -> ParameterSlot,
    ) -> Result<Vec<Value>, BindError> {
        keys.iter()
            .map(|key| {
                let text = self.text(&slot_of(key.clone()))?;
                Ok(match key {
                    ParamKey::Positional(_) => json!({"type": "text", "text": text}),
                    ParamKey::Named(name) => {
                        json!({"type": "text", "parameter_name": name, "text": text})
                    }
                })
            })
            .collect()
    }

    fn text(&self, slot: &ParameterSlot) -> Result<String, BindError> {
        let contact = self.contact.id;
        let source = self
            .mapping
            .get(slot)
            .ok_or_else(|| MappingError::Unmapped { slot: slot.clone() })?;
        let text = match source {
            ValueSource::ContactName => self.contact.name.clone(),
            ValueSource::ContactPhone => self.contact.phone.as_e164().to_owned(),
            ValueSource::Constant { value } => value.clone(),
            ValueSource::Variable { path } => {
                let missing = || BindError::MissingVariable {
                    slot: slot.clone(),
                    path: path.clone(),
                    contact,
                };
                match self.contact.variable(path) {
                    None | Some(Value::Null) => return Err(missing()),
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    Some(Value::Bool(b)) => b.to_string(),
                    Some(Value::Array(_) | Value::Object(_)) => {
                        return Err(BindError::NotText {
                            slot: slot.clone(),
                            path: path.clone(),
                            contact,
                        });
                    }
                }
            }
            ValueSource::MediaLink { .. } | ValueSource::MediaId { .. } => {
                let expected = "text (contact name, phone, variable or constant)";
                return Err(MappingError::WrongSource {
                    slot: slot.clone(),
                    expected,
                }
                .into());
            }
        };
        if text.trim().is_empty() {
            return Err(BindError::Empty {
                slot: slot.clone(),
                contact,
            });
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    use super::*;
    use crate::phone::PhoneNumber;

    /// The `order_update` template of reference §5, as `message_templates` returns it.
    fn order_update() -> Value {
        json!([
            {"type": "HEADER", "format": "TEXT", "text": "Hi {{1}}", "example": {"header_text": ["Ana"]}},
            {"type": "BODY", "text": "Order {{1}} ships {{2}}.", "example": {"body_text": [["A-17", "today"]]}},
            {"type": "FOOTER", "text": "Reply STOP to opt out"},
            {"type": "BUTTONS", "buttons": [
                {"type": "QUICK_REPLY", "text": "Stop promotions"},
                {"type": "URL", "text": "Track", "url": "https://ex.com/t/{{1}}", "example": ["A-17"]},
                {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "+15550001111"}
            ]}
        ])
    }

    /// A NAMED marketing template with an image header and a copy-code button.
    fn named_promo() -> Value {
        json!([
            {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::aW1n"]}},
            {"type": "BODY", "text": "Hi {{first_name}}, use {{promo_code}} before {{expiry}}. {{first_name}}, don't miss it!",
             "example": {"body_text_named_params": [
                {"param_name": "first_name", "example": "Ana"},
                {"param_name": "promo_code", "example": "SPRING"},
                {"param_name": "expiry", "example": "Friday"}]}},
            {"type": "BUTTONS", "buttons": [
                {"type": "COPY_CODE", "example": "SPRING"},
                {"type": "URL", "text": "Shop", "url": "https://shop.example/"}
            ]}
        ])
    }

    fn contact() -> Contact {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut c = Contact::new(
            "Ana".into(),
            PhoneNumber::parse("+923001234567", None).unwrap(),
            now,
        );
        c.variables =
            json!({"order": {"id": "A-17", "eta": "today"}, "promo": "SPRING", "points": 120})
                .as_object()
                .unwrap()
                .clone();
        c
    }

    fn body(n: u32) -> ParameterSlot {
        ParameterSlot::Body(ParamKey::Positional(n))
    }

    fn named(name: &str) -> ParameterSlot {
        ParameterSlot::Body(ParamKey::Named(name.into()))
    }

    fn variable(path: &str) -> ValueSource {
        ValueSource::Variable { path: path.into() }
    }

    fn order_update_mapping() -> ParameterMapping {
        ParameterMapping::new()
            .with(
                ParameterSlot::HeaderText(ParamKey::Positional(1)),
                ValueSource::ContactName,
            )
            .with(body(1), variable("order.id"))
            .with(body(2), variable("order.eta"))
            .with(ParameterSlot::Button(1), variable("order.id"))
    }

    #[test]
    fn placeholders_are_found_in_the_header_body_and_url_button() {
        let params = extract_parameters(&order_update()).unwrap();
        let slots: Vec<String> = params.slots().iter().map(ToString::to_string).collect();
        assert_eq!(slots, ["header.1", "body.1", "body.2", "button.1"]);
        assert_eq!(params.buttons, [(1, ButtonKind::Url)]);
    }

    #[test]
    fn named_placeholders_are_distinct_and_a_media_header_and_copy_code_need_values() {
        let params = extract_parameters(&named_promo()).unwrap();
        assert_eq!(
            params.header,
            Some(HeaderParameters::Media(MediaKind::Image))
        );
        let slots: Vec<String> = params.slots().iter().map(ToString::to_string).collect();
        assert_eq!(
            slots,
            [
                "header.media",
                "body.expiry",
                "body.first_name",
                "body.promo_code",
                "button.0"
            ]
        );
    }

    #[test]
    fn positional_placeholders_are_ordered_by_number_not_by_position_in_the_text() {
        let params =
            extract_parameters(&json!([{"type": "BODY", "text": "{{2}} then {{1}} then {{10}}"}]))
                .unwrap();
        assert_eq!(
            params.body,
            [
                ParamKey::Positional(1),
                ParamKey::Positional(2),
                ParamKey::Positional(10)
            ]
        );
    }

    #[test]
    fn a_template_without_placeholders_needs_no_components() {
        let params = extract_parameters(&json!([{"type": "BODY", "text": "Hello!"}])).unwrap();
        assert!(params.is_empty());
        let bound = bind_components(&params, &ParameterMapping::new(), &contact()).unwrap();
        assert_eq!(bound, json!([]));
    }

    #[test]
    fn a_malformed_placeholder_is_reported_with_its_location() {
        let err = extract_parameters(&json!([{"type": "BODY", "text": "Hi {{First Name}}"}]))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the body has a malformed placeholder '{{First Name}}': use {{1}} or {{lower_case_name}}"
        );
        let unclosed =
            extract_parameters(&json!([{"type": "BODY", "text": "Hi {{1"}])).unwrap_err();
        assert!(matches!(
            unclosed,
            TemplateParamError::MalformedPlaceholder { .. }
        ));
    }

    #[test]
    fn unsupported_headers_buttons_and_components_are_refused() {
        let location = json!([{"type": "HEADER", "format": "LOCATION"}]);
        assert_eq!(
            extract_parameters(&location).unwrap_err().to_string(),
            "header format LOCATION is not supported for campaigns"
        );
        let otp =
            json!([{"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]}]);
        assert!(matches!(
            extract_parameters(&otp),
            Err(TemplateParamError::UnsupportedButton { index: 0, .. })
        ));
        let carousel = json!([{"type": "CAROUSEL", "cards": []}]);
        assert!(matches!(
            extract_parameters(&carousel),
            Err(TemplateParamError::UnsupportedComponent { .. })
        ));
        assert_eq!(
            extract_parameters(&json!({})).unwrap_err(),
            TemplateParamError::NotAnArray
        );
    }

    #[test]
    fn a_positional_template_binds_into_the_cloud_api_components() {
        let params = extract_parameters(&order_update()).unwrap();
        let bound = bind_components(&params, &order_update_mapping(), &contact()).unwrap();
        assert_eq!(
            bound,
            json!([
                {"type": "header", "parameters": [{"type": "text", "text": "Ana"}]},
                {"type": "body", "parameters": [{"type": "text", "text": "A-17"}, {"type": "text", "text": "today"}]},
                {"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "A-17"}]}
            ])
        );
    }

    #[test]
    fn a_named_template_binds_with_parameter_names_a_media_link_and_a_coupon_code() {
        let params = extract_parameters(&named_promo()).unwrap();
        let mapping = ParameterMapping::new()
            .with(
                ParameterSlot::HeaderMedia,
                ValueSource::MediaLink {
                    link: "https://cdn.example/p.jpg".into(),
                },
            )
            .with(named("first_name"), ValueSource::ContactName)
            .with(named("promo_code"), variable("promo"))
            .with(
                named("expiry"),
                ValueSource::Constant {
                    value: "Friday".into(),
                },
            )
            .with(ParameterSlot::Button(0), variable("promo"));
        let bound = bind_components(&params, &mapping, &contact()).unwrap();
        assert_eq!(
            bound,
            json!([
                {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://cdn.example/p.jpg"}}]},
                {"type": "body", "parameters": [
                    {"type": "text", "parameter_name": "expiry", "text": "Friday"},
                    {"type": "text", "parameter_name": "first_name", "text": "Ana"},
                    {"type": "text", "parameter_name": "promo_code", "text": "SPRING"}
                ]},
                {"type": "button", "sub_type": "copy_code", "index": "0",
                 "parameters": [{"type": "coupon_code", "coupon_code": "SPRING"}]}
            ])
        );
    }

    #[test]
    fn a_media_header_can_use_an_uploaded_media_id_and_a_variable_can_be_a_number_or_the_phone() {
        let components = json!([
            {"type": "HEADER", "format": "DOCUMENT"},
            {"type": "BODY", "text": "You have {{1}} points on {{2}}"}
        ]);
        let params = extract_parameters(&components).unwrap();
        let mapping = ParameterMapping::new()
            .with(
                ParameterSlot::HeaderMedia,
                ValueSource::MediaId {
                    id: "1013859600285441".into(),
                },
            )
            .with(body(1), variable("points"))
            .with(body(2), ValueSource::ContactPhone);
        let bound = bind_components(&params, &mapping, &contact()).unwrap();
        assert_eq!(
            bound[0]["parameters"][0],
            json!({"type": "document", "document": {"id": "1013859600285441"}})
        );
        assert_eq!(bound[1]["parameters"][0]["text"], "120");
        assert_eq!(bound[1]["parameters"][1]["text"], "+923001234567");
    }

    #[test]
    fn a_missing_variable_names_the_placeholder_and_the_contact() {
        let params = extract_parameters(&order_update()).unwrap();
        let mapping = order_update_mapping().with(body(2), variable("order.city"));
        let c = contact();
        let err = bind_components(&params, &mapping, &c).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "contact {} has no variable 'order.city' for {{{{2}}}} in the body",
                c.id
            )
        );
    }

    #[test]
    fn a_variable_that_is_an_object_or_empty_cannot_fill_a_placeholder() {
        let params = extract_parameters(&order_update()).unwrap();
        let object = order_update_mapping().with(body(2), variable("order"));
        assert!(matches!(
            bind_components(&params, &object, &contact()),
            Err(BindError::NotText { .. })
        ));
        let blank =
            order_update_mapping().with(body(2), ValueSource::Constant { value: " ".into() });
        assert!(matches!(
            bind_components(&params, &blank, &contact()),
            Err(BindError::Empty { .. })
        ));
    }

    #[test]
    fn a_mapping_that_misses_a_placeholder_is_refused_before_any_send() {
        let params = extract_parameters(&order_update()).unwrap();
        let incomplete = ParameterMapping::new()
            .with(
                ParameterSlot::HeaderText(ParamKey::Positional(1)),
                ValueSource::ContactName,
            )
            .with(body(1), variable("order.id"));
        assert_eq!(
            incomplete.validate(&params).unwrap_err().to_string(),
            "{{2}} in the body has no mapping (key 'body.2')"
        );
    }

    #[test]
    fn a_mapping_for_a_placeholder_the_template_lacks_is_refused() {
        let params = extract_parameters(&order_update()).unwrap();
        let extra = order_update_mapping().with(body(3), ValueSource::ContactName);
        assert_eq!(
            extra.validate(&params).unwrap_err().to_string(),
            "the mapping names 'body.3', which the template does not have"
        );
    }

    #[test]
    fn a_media_header_needs_a_media_source_and_text_needs_text() {
        let params = extract_parameters(&named_promo()).unwrap();
        let mapping =
            ParameterMapping::new().with(ParameterSlot::HeaderMedia, ValueSource::ContactName);
        assert!(matches!(
            mapping.validate(&params),
            Err(MappingError::WrongSource {
                slot: ParameterSlot::HeaderMedia,
                ..
            })
        ));
        let text_params = extract_parameters(&order_update()).unwrap();
        let media_in_body =
            order_update_mapping().with(body(1), ValueSource::MediaId { id: "1".into() });
        assert!(matches!(
            media_in_body.validate(&text_params),
            Err(MappingError::WrongSource { .. })
        ));
    }

    #[test]
    fn a_mapping_serializes_as_an_object_keyed_by_slot() {
        let json = json!({
            "header.media": {"source": "media_link", "link": "https://cdn.example/p.jpg"},
            "body.first_name": {"source": "contact_name"},
            "body.2": {"source": "variable", "path": "order.eta"},
            "button.1": {"source": "constant", "value": "A-17"}
        });
        let mapping: ParameterMapping = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(
            mapping.get(&named("first_name")),
            Some(&ValueSource::ContactName)
        );
        assert_eq!(serde_json::to_value(&mapping).unwrap(), json);
    }

    #[test]
    fn a_mapping_key_that_names_no_slot_is_rejected() {
        for bad in [
            "footer.1",
            "body.",
            "body.First",
            "button.x",
            "header",
            "body.0",
        ] {
            assert!(bad.parse::<ParameterSlot>().is_err(), "{bad}");
        }
        let err = serde_json::from_value::<ParameterMapping>(
            json!({"footer.1": {"source": "contact_name"}}),
        );
        assert!(
            err.unwrap_err()
                .to_string()
                .contains("'footer.1' is not a template parameter")
        );
    }
}

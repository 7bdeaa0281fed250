//! Message templates as the sandbox keeps them, and the check of a send's parameters against the
//! template's placeholders (132000 for a count mismatch, 132012 for a kind mismatch).
//!
//! What a template needs is read from its components as Meta returns them (reference §5):
//! `{{1}}`/`{{first_name}}` in a TEXT header and in the body, a media or location header, and per
//! button: a URL with a variable needs its suffix, a COPY_CODE button its code, an OTP button the
//! code (sent as a `url` button), quick replies take an optional payload, flow and catalog
//! buttons an optional action. Authentication templates have an implicit `{{1}}` body.

use herald_graph::{ParameterFormat, TemplateStatus};
use serde_json::{Map, Value, json};

use crate::config::SeedTemplate;

/// One template: a (name, language) pair in one WABA.
#[derive(Debug, Clone)]
pub struct TemplateRecord {
    /// Meta's template id (digits).
    pub id: String,
    /// Position in creation order, the key of cursor paging.
    pub seq: u64,
    pub waba_id: String,
    pub name: String,
    pub language: String,
    pub status: TemplateStatus,
    /// MARKETING, UTILITY or AUTHENTICATION.
    pub category: String,
    pub parameter_format: ParameterFormat,
    /// Components as Meta returns them.
    pub components: Vec<Value>,
    spec: TemplateSpec,
}

/// A template status name (`APPROVED`…) as Meta spells it; `None` for an unknown name.
pub fn parse_status(name: &str) -> Option<TemplateStatus> {
    let status: TemplateStatus =
        serde_json::from_value(Value::String(name.trim().to_ascii_uppercase())).ok()?;
    (status != TemplateStatus::Unknown).then_some(status)
}

impl TemplateRecord {
    /// A template from its seed or admin description. `seq` orders it for paging; the id is
    /// derived from it when the seed has none.
    pub fn from_seed(seed: &SeedTemplate, seq: u64) -> Result<Self, String> {
        if seed.name.trim().is_empty() || seed.name.len() > 512 {
            return Err("name must be 1 to 512 characters".to_owned());
        }
        if seed.language.trim().is_empty() || seed.language.len() > 64 {
            return Err("language must be 1 to 64 characters".to_owned());
        }
        if !crate::config::is_graph_id(&seed.waba_id) {
            return Err("waba_id must be digits".to_owned());
        }
        if let Some(id) = &seed.id
            && !crate::config::is_graph_id(id)
        {
            return Err("id must be digits".to_owned());
        }
        let category = seed.category.trim().to_ascii_uppercase();
        if !matches!(
            category.as_str(),
            "MARKETING" | "UTILITY" | "AUTHENTICATION"
        ) {
            return Err(format!(
                "category '{}' must be MARKETING, UTILITY or AUTHENTICATION",
                seed.category
            ));
        }
        let status = parse_status(&seed.status)
            .ok_or_else(|| format!("status '{}' is not a template status", seed.status))?;
        let parameter_format = match seed
            .parameter_format
            .as_deref()
            .map(|f| f.trim().to_ascii_uppercase())
            .as_deref()
        {
            None | Some("POSITIONAL") => ParameterFormat::Positional,
            Some("NAMED") => ParameterFormat::Named,
            Some(other) => {
                return Err(format!(
                    "parameter_format '{other}' must be POSITIONAL or NAMED"
                ));
            }
        };
        let components = match &seed.components {
            Value::Null => Vec::new(),
            Value::Array(components) => components.clone(),
            _ => return Err("components must be an array".to_owned()),
        };
        let spec = TemplateSpec::read(&components, &category, parameter_format)?;
        Ok(Self {
            id: seed
                .id
                .clone()
                .unwrap_or_else(|| (1_000_000_000_000_000 + seq).to_string()),
            seq,
            waba_id: seed.waba_id.clone(),
            name: seed.name.clone(),
            language: seed.language.clone(),
            status,
            category,
            parameter_format,
            components,
            spec,
        })
    }

    /// True for marketing templates: the ones opt-outs (131050) and the per-user marketing limit
    /// (131049) apply to.
    pub fn is_marketing(&self) -> bool {
        self.category == "MARKETING"
    }

    /// The template as `GET message_templates` lists it.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "language": self.language,
            "status": self.status.as_str(),
            "category": self.category,
            "parameter_format": match self.parameter_format {
                ParameterFormat::Positional => "POSITIONAL",
                ParameterFormat::Named => "NAMED",
            },
            "components": self.components,
        })
    }

    /// Checks a send's `template.components` against this template.
    pub fn check_parameters(&self, components: &[Value]) -> Result<(), ParamError> {
        self.spec.check(components)
    }
}

/// Why a send's parameters do not fit its template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    /// 132000 (count), 132012 (kind) or 132005 (text too long).
    pub code: i64,
    /// `error_data.details`.
    pub details: String,
}

impl ParamError {
    fn count(details: impl Into<String>) -> Self {
        Self {
            code: herald_graph::codes::PARAMETER_COUNT_MISMATCH,
            details: details.into(),
        }
    }

    fn format(details: impl Into<String>) -> Self {
        Self {
            code: 132_012,
            details: details.into(),
        }
    }
}

/// The variables of a header text or a body.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Vars {
    Positional(usize),
    Named(Vec<String>),
}

impl Vars {
    fn is_empty(&self) -> bool {
        match self {
            Vars::Positional(n) => *n == 0,
            Vars::Named(names) => names.is_empty(),
        }
    }

    fn len(&self) -> usize {
        match self {
            Vars::Positional(n) => *n,
            Vars::Named(names) => names.len(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HeaderSpec {
    None,
    Text(Vars),
    Media(&'static str),
    Location,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ButtonSpec {
    QuickReply,
    Url { has_variable: bool },
    CopyCode,
    Otp,
    Flow,
    Catalog,
    Mpm,
    PhoneNumber,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct TemplateSpec {
    header: HeaderSpec,
    body: Vars,
    buttons: Vec<ButtonSpec>,
}

/// The placeholders of a text, in order of first appearance.
fn placeholders(text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let name = after[..end].trim().to_owned();
        if !name.is_empty() && !found.contains(&name) {
            found.push(name);
        }
        rest = &after[end + 2..];
    }
    found
}

fn vars_of(text: &str, format: ParameterFormat) -> Result<Vars, String> {
    let names = placeholders(text);
    match format {
        ParameterFormat::Positional => {
            let mut numbers = Vec::with_capacity(names.len());
            for name in &names {
                let number: usize = name.parse().map_err(|_| {
                    format!("a POSITIONAL template has {{{{{name}}}}}; use {{{{1}}}}..{{{{n}}}} or NAMED")
                })?;
                numbers.push(number);
            }
            numbers.sort_unstable();
            if numbers.iter().copied().ne(1..=names.len()) {
                return Err("positional placeholders must be {{1}}..{{n}} without gaps".to_owned());
            }
            Ok(Vars::Positional(names.len()))
        }
        ParameterFormat::Named => Ok(Vars::Named(names)),
    }
}

fn upper(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_ascii_uppercase()
}

impl TemplateSpec {
    fn read(components: &[Value], category: &str, format: ParameterFormat) -> Result<Self, String> {
        let mut spec = TemplateSpec {
            header: HeaderSpec::None,
            body: Vars::Positional(0),
            buttons: Vec::new(),
        };
        for component in components {
            let text = component.get("text").and_then(Value::as_str);
            match upper(component, "type").as_str() {
                "HEADER" => {
                    spec.header = match upper(component, "format").as_str() {
                        "" | "TEXT" => HeaderSpec::Text(vars_of(text.unwrap_or_default(), format)?),
                        "IMAGE" => HeaderSpec::Media("image"),
                        "VIDEO" | "GIF" => HeaderSpec::Media("video"),
                        "DOCUMENT" => HeaderSpec::Media("document"),
                        "LOCATION" => HeaderSpec::Location,
                        other => return Err(format!("header format '{other}' is not supported")),
                    }
                }
                "BODY" => {
                    spec.body = match text {
                        Some(text) => vars_of(text, format)?,
                        // Authentication bodies are Meta's fixed text with the code as {{1}}.
                        None if category == "AUTHENTICATION" => Vars::Positional(1),
                        None => Vars::Positional(0),
                    }
                }
                "BUTTONS" => {
                    let buttons = component
                        .get("buttons")
                        .and_then(Value::as_array)
                        .ok_or("a BUTTONS component needs a buttons array")?;
                    for button in buttons {
                        spec.buttons.push(match upper(button, "type").as_str() {
                            "QUICK_REPLY" => ButtonSpec::QuickReply,
                            "URL" => ButtonSpec::Url {
                                has_variable: button
                                    .get("url")
                                    .and_then(Value::as_str)
                                    .is_some_and(|url| !placeholders(url).is_empty()),
                            },
                            "COPY_CODE" => ButtonSpec::CopyCode,
                            "OTP" => ButtonSpec::Otp,
                            "FLOW" => ButtonSpec::Flow,
                            "CATALOG" => ButtonSpec::Catalog,
                            "MPM" => ButtonSpec::Mpm,
                            "PHONE_NUMBER" => ButtonSpec::PhoneNumber,
                            _ => ButtonSpec::Other,
                        });
                    }
                }
                // FOOTER and anything newer carry no send-time parameters.
                _ => {}
            }
        }
        Ok(spec)
    }

    fn check(&self, components: &[Value]) -> Result<(), ParamError> {
        let mut header_seen = false;
        let mut body_seen = false;
        let mut buttons_seen = vec![false; self.buttons.len()];
        for component in components {
            let params = component
                .get("parameters")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            match component
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_ascii_lowercase()
                .as_str()
            {
                "header" => {
                    header_seen = true;
                    self.check_header(params)?;
                }
                "body" => {
                    body_seen = true;
                    check_vars(
                        "body",
                        &self.body,
                        params,
                        &["text", "currency", "date_time"],
                    )?;
                }
                "button" => {
                    let index = button_index(component).ok_or_else(|| {
                        ParamError::format("button: index must be a number or a numeric string")
                    })?;
                    let Some(spec) = self.buttons.get(index) else {
                        return Err(ParamError::count(format!(
                            "button at index {index}: the template has {} buttons",
                            self.buttons.len()
                        )));
                    };
                    buttons_seen[index] = true;
                    let sub_type = component
                        .get("sub_type")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_ascii_lowercase();
                    check_button(index, *spec, &sub_type, params)?;
                }
                // Carousel cards, limited-time offers…: not modelled, passed through.
                _ => {}
            }
        }
        let header_needed = match &self.header {
            HeaderSpec::None => false,
            HeaderSpec::Text(vars) => !vars.is_empty(),
            HeaderSpec::Media(_) | HeaderSpec::Location => true,
        };
        if header_needed && !header_seen {
            return Err(ParamError::count(
                "header: the template's header needs a parameter and none was given",
            ));
        }
        if !self.body.is_empty() && !body_seen {
            return Err(ParamError::count(format!(
                "body: number of localizable_params (0) does not match the expected number of params ({})",
                self.body.len()
            )));
        }
        for (index, (spec, seen)) in self.buttons.iter().zip(&buttons_seen).enumerate() {
            let needed = matches!(
                spec,
                ButtonSpec::Url { has_variable: true } | ButtonSpec::CopyCode | ButtonSpec::Otp
            );
            if needed && !seen {
                return Err(ParamError::count(format!(
                    "button at index {index} needs a parameter and none was given"
                )));
            }
        }
        Ok(())
    }

    fn check_header(&self, params: &[Value]) -> Result<(), ParamError> {
        match &self.header {
            HeaderSpec::None => {
                if params.is_empty() {
                    Ok(())
                } else {
                    Err(ParamError::count(format!(
                        "header: number of localizable_params ({}) does not match the expected number of params (0)",
                        params.len()
                    )))
                }
            }
            HeaderSpec::Text(vars) => check_vars("header", vars, params, &["text"]),
            HeaderSpec::Media(kind) => check_single("header", params, &[kind]),
            HeaderSpec::Location => check_single("header", params, &["location"]),
        }
    }
}

fn button_index(component: &Value) -> Option<usize> {
    match component.get("index")? {
        Value::Number(n) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn param_type(param: &Value) -> &str {
    param
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The value of a parameter of a kind that has a payload object or string, checked for shape.
fn check_value(place: &str, param: &Value) -> Result<(), ParamError> {
    let kind = param_type(param);
    let value = param.get(kind);
    let ok = match kind {
        "text" => match value.and_then(Value::as_str) {
            Some(text) if text.chars().count() > 32_768 => {
                return Err(ParamError {
                    code: 132_005,
                    details: format!("{place}: a text parameter is longer than 32768 characters"),
                });
            }
            Some(_) => true,
            None => false,
        },
        "currency" => value.is_some_and(|c| {
            c.get("fallback_value").is_some_and(Value::is_string)
                && c.get("code").is_some_and(Value::is_string)
                && c.get("amount_1000").is_some_and(Value::is_number)
        }),
        "date_time" => value.is_some_and(|d| d.get("fallback_value").is_some_and(Value::is_string)),
        "image" | "video" | "document" => value.is_some_and(|m| {
            m.get("id").is_some_and(Value::is_string) || m.get("link").is_some_and(Value::is_string)
        }),
        "location" => value.is_some_and(|l| {
            l.get("latitude")
                .is_some_and(|v| v.is_number() || v.is_string())
                && l.get("longitude")
                    .is_some_and(|v| v.is_number() || v.is_string())
        }),
        "payload" | "coupon_code" => value.is_some_and(Value::is_string),
        "action" => value.is_some_and(Value::is_object),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ParamError::format(format!(
            "{place}: a '{kind}' parameter must carry a valid '{kind}' value"
        )))
    }
}

fn check_kind(place: &str, param: &Value, allowed: &[&str]) -> Result<(), ParamError> {
    let kind = param_type(param);
    if !allowed.contains(&kind) {
        return Err(ParamError::format(format!(
            "{place}: parameter of type '{kind}' where the template expects {}",
            allowed.join(" or ")
        )));
    }
    check_value(place, param)
}

fn check_vars(
    place: &str,
    vars: &Vars,
    params: &[Value],
    allowed: &[&str],
) -> Result<(), ParamError> {
    if params.len() != vars.len() {
        return Err(ParamError::count(format!(
            "{place}: number of localizable_params ({}) does not match the expected number of params ({})",
            params.len(),
            vars.len()
        )));
    }
    if let Vars::Named(names) = vars {
        let mut given: Vec<&str> = Vec::new();
        for param in params {
            let name = param
                .get("parameter_name")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    ParamError::count(format!(
                        "{place}: every parameter of a NAMED template needs a parameter_name"
                    ))
                })?;
            if !names.iter().any(|n| n == name) || given.contains(&name) {
                return Err(ParamError::count(format!(
                    "{place}: parameter_name '{name}' is not a placeholder of the template or is repeated"
                )));
            }
            given.push(name);
        }
    }
    for param in params {
        check_kind(place, param, allowed)?;
    }
    Ok(())
}

fn check_single(place: &str, params: &[Value], allowed: &[&str]) -> Result<(), ParamError> {
    match params {
        [param] => check_kind(place, param, allowed),
        _ => Err(ParamError::count(format!(
            "{place}: number of params ({}) does not match the expected number of params (1)",
            params.len()
        ))),
    }
}

fn check_button(
    index: usize,
    spec: ButtonSpec,
    sub_type: &str,
    params: &[Value],
) -> Result<(), ParamError> {
    let place = format!("button at index {index}");
    let expected: &[&str] = match spec {
        ButtonSpec::QuickReply => &["quick_reply"],
        ButtonSpec::Url { .. } => &["url"],
        ButtonSpec::CopyCode => &["copy_code"],
        ButtonSpec::Otp => &["url", "copy_code"],
        ButtonSpec::Flow => &["flow"],
        ButtonSpec::Catalog => &["catalog"],
        ButtonSpec::Mpm => &["mpm"],
        ButtonSpec::PhoneNumber => {
            return Err(ParamError::count(format!(
                "{place}: a phone-number button takes no parameters"
            )));
        }
        ButtonSpec::Other => return Ok(()),
    };
    if !expected.contains(&sub_type) {
        return Err(ParamError::format(format!(
            "{place}: sub_type '{sub_type}' does not match the template's button ({})",
            expected.join(" or ")
        )));
    }
    let too_many = |max: usize| {
        ParamError::count(format!(
            "{place}: number of params ({}) does not match the expected number of params ({max})",
            params.len()
        ))
    };
    match spec {
        // Meta's own examples send quick-reply parameters as `payload`, and once as `text`
        // holding a boolean: both are accepted, the payload is optional.
        ButtonSpec::QuickReply => match params {
            [] => Ok(()),
            [param] => match param_type(param) {
                "payload" => check_value(&place, param),
                "text"
                    if param
                        .get("text")
                        .is_some_and(|t| !t.is_object() && !t.is_array()) =>
                {
                    Ok(())
                }
                other => Err(ParamError::format(format!(
                    "{place}: a quick reply takes a payload, not '{other}'"
                ))),
            },
            _ => Err(too_many(1)),
        },
        ButtonSpec::Url { has_variable } => {
            if has_variable {
                check_single(&place, params, &["text"])
            } else if params.is_empty() {
                Ok(())
            } else {
                Err(too_many(0))
            }
        }
        ButtonSpec::Otp => check_single(&place, params, &["text", "coupon_code"]),
        ButtonSpec::CopyCode => check_single(&place, params, &["coupon_code"]),
        ButtonSpec::Flow | ButtonSpec::Catalog | ButtonSpec::Mpm => match params {
            [] if spec != ButtonSpec::Mpm => Ok(()),
            [param] => check_kind(&place, param, &["action"]),
            _ => Err(too_many(1)),
        },
        ButtonSpec::PhoneNumber | ButtonSpec::Other => Ok(()),
    }
}

/// Keeps only the requested fields of a listed template (`id` always stays, as in Graph).
pub fn project_fields(template: Value, fields: Option<&str>) -> Value {
    let (Some(fields), Value::Object(object)) = (fields, &template) else {
        return template;
    };
    let wanted: Vec<&str> = fields.split(',').map(str::trim).collect();
    let projected: Map<String, Value> = object
        .iter()
        .filter(|(key, _)| key.as_str() == "id" || wanted.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    Value::Object(projected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(category: &str, format: Option<&str>, components: Value) -> TemplateRecord {
        TemplateRecord::from_seed(
            &SeedTemplate {
                waba_id: "1".into(),
                id: None,
                name: "t".into(),
                language: "en_US".into(),
                category: category.into(),
                status: "APPROVED".into(),
                parameter_format: format.map(str::to_owned),
                components,
            },
            1,
        )
        .unwrap()
    }

    fn order_update() -> TemplateRecord {
        template(
            "UTILITY",
            None,
            json!([
                {"type":"HEADER","format":"TEXT","text":"Hi {{1}}"},
                {"type":"BODY","text":"Order {{1}} ships {{2}}."},
                {"type":"FOOTER","text":"Reply STOP to opt out"},
                {"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"Stop promotions"},
                    {"type":"URL","text":"Track","url":"https://ex.com/t/{{1}}"},
                    {"type":"PHONE_NUMBER","text":"Call","phone_number":"+15550001111"}]}
            ]),
        )
    }

    fn text(value: &str) -> Value {
        json!({"type":"text","text":value})
    }

    fn good_order_update() -> Vec<Value> {
        vec![
            json!({"type":"header","parameters":[text("Ana")]}),
            json!({"type":"body","parameters":[text("A-17"), text("today")]}),
            json!({"type":"button","sub_type":"url","index":"1","parameters":[text("A-17")]}),
        ]
    }

    #[test]
    fn placeholders_are_found_once_each_in_order() {
        assert_eq!(placeholders("Hi {{1}}, {{2}} and {{1}}"), ["1", "2"]);
        assert_eq!(
            placeholders("{{first_name}} {{ order }}"),
            ["first_name", "order"]
        );
        assert!(placeholders("no vars {{").is_empty());
    }

    #[test]
    fn a_send_with_every_required_parameter_passes() {
        assert_eq!(
            order_update().check_parameters(&good_order_update()),
            Ok(())
        );
    }

    #[test]
    fn a_quick_reply_payload_is_optional_and_accepted() {
        let mut components = good_order_update();
        components.push(json!({"type":"button","sub_type":"QUICK_REPLY","index":0,
            "parameters":[{"type":"payload","payload":"STOP"}]}));
        assert_eq!(order_update().check_parameters(&components), Ok(()));
    }

    #[test]
    fn a_missing_or_extra_body_parameter_is_132000() {
        let mut components = good_order_update();
        components[1] = json!({"type":"body","parameters":[text("A-17")]});
        assert_eq!(
            order_update()
                .check_parameters(&components)
                .unwrap_err()
                .code,
            132_000
        );
        components[1] = json!({"type":"body","parameters":[text("a"), text("b"), text("c")]});
        assert_eq!(
            order_update()
                .check_parameters(&components)
                .unwrap_err()
                .code,
            132_000
        );
        components.remove(1);
        assert_eq!(
            order_update()
                .check_parameters(&components)
                .unwrap_err()
                .code,
            132_000
        );
    }

    #[test]
    fn a_missing_url_suffix_or_unknown_button_is_132000() {
        let mut components = good_order_update();
        components.pop();
        assert_eq!(
            order_update()
                .check_parameters(&components)
                .unwrap_err()
                .code,
            132_000
        );
        let mut components = good_order_update();
        components
            .push(json!({"type":"button","sub_type":"url","index":"7","parameters":[text("x")]}));
        assert_eq!(
            order_update()
                .check_parameters(&components)
                .unwrap_err()
                .code,
            132_000
        );
    }

    #[test]
    fn a_parameter_of_the_wrong_kind_is_132012() {
        let mut components = good_order_update();
        components[0] = json!({"type":"header","parameters":[
            {"type":"image","image":{"link":"https://x/y.jpg"}}]});
        assert_eq!(
            order_update()
                .check_parameters(&components)
                .unwrap_err()
                .code,
            132_012
        );
        let mut components = good_order_update();
        components[2] =
            json!({"type":"button","sub_type":"quick_reply","index":"1","parameters":[text("x")]});
        assert_eq!(
            order_update()
                .check_parameters(&components)
                .unwrap_err()
                .code,
            132_012
        );
        let mut components = good_order_update();
        components[1] =
            json!({"type":"body","parameters":[text("a"), {"type":"currency","currency":{}}]});
        assert_eq!(
            order_update()
                .check_parameters(&components)
                .unwrap_err()
                .code,
            132_012
        );
    }

    #[test]
    fn a_media_header_needs_its_media() {
        let t = template(
            "MARKETING",
            None,
            json!([{"type":"HEADER","format":"IMAGE"},{"type":"BODY","text":"Hello"}]),
        );
        assert_eq!(t.check_parameters(&[]).unwrap_err().code, 132_000);
        let image = json!({"type":"header","parameters":[{"type":"image","image":{"id":"123"}}]});
        assert_eq!(t.check_parameters(&[image]), Ok(()));
    }

    #[test]
    fn named_templates_need_each_name_once() {
        let t = template(
            "MARKETING",
            Some("NAMED"),
            json!([{"type":"BODY","text":"Hi {{first_name}}, code {{code}}"}]),
        );
        let named = |a: &str, b: &str| {
            vec![json!({"type":"body","parameters":[
                {"type":"text","text":"Ana","parameter_name":a},
                {"type":"text","text":"X1","parameter_name":b}]})]
        };
        assert_eq!(t.check_parameters(&named("code", "first_name")), Ok(()));
        assert_eq!(
            t.check_parameters(&named("first_name", "first_name"))
                .unwrap_err()
                .code,
            132_000
        );
        assert_eq!(
            t.check_parameters(&named("first_name", "other"))
                .unwrap_err()
                .code,
            132_000
        );
        let unnamed = vec![json!({"type":"body","parameters":[text("Ana"), text("X1")]})];
        assert_eq!(t.check_parameters(&unnamed).unwrap_err().code, 132_000);
    }

    #[test]
    fn authentication_templates_take_the_code_in_the_body_and_the_otp_button() {
        let t = template(
            "AUTHENTICATION",
            None,
            json!([{"type":"BODY","add_security_recommendation":true},
                   {"type":"BUTTONS","buttons":[{"type":"OTP","otp_type":"COPY_CODE","text":"Copy"}]}]),
        );
        let components = vec![
            json!({"type":"body","parameters":[text("123456")]}),
            json!({"type":"button","sub_type":"url","index":"0","parameters":[text("123456")]}),
        ];
        assert_eq!(t.check_parameters(&components), Ok(()));
        assert_eq!(
            t.check_parameters(&components[..1]).unwrap_err().code,
            132_000
        );
    }

    #[test]
    fn seeds_with_unknown_status_or_category_are_refused() {
        let mut seed = SeedTemplate {
            waba_id: "1".into(),
            id: None,
            name: "t".into(),
            language: "en".into(),
            category: "UTILITY".into(),
            status: "SHINY".into(),
            parameter_format: None,
            components: json!([]),
        };
        assert!(TemplateRecord::from_seed(&seed, 0).is_err());
        seed.status = "paused".into();
        assert_eq!(
            TemplateRecord::from_seed(&seed, 0).unwrap().status,
            TemplateStatus::Paused
        );
        seed.category = "PROMO".into();
        assert!(TemplateRecord::from_seed(&seed, 0).is_err());
    }

    #[test]
    fn fields_projection_keeps_the_id() {
        let projected = project_fields(order_update().to_json(), Some("name,status"));
        let keys: Vec<&String> = projected.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 3, "{projected}");
    }
}

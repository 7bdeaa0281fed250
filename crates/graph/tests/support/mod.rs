//! Helpers shared by the integration tests: where the reference files are, and how to read them.
//!
//! The reference lives in `shared/` beside the repository (`../shared` from the repo root, both
//! here and in CI), so from this crate it is `$CARGO_MANIFEST_DIR/../../../shared/reference`.

#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::Value;

/// `shared/reference`.
pub fn reference_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference")
}

/// The WhatsApp reference (markdown).
pub fn reference_markdown() -> String {
    let path = reference_dir().join("whatsapp-cloud-api.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Meta's OpenAPI file, as JSON.
pub fn openapi() -> Value {
    let path = reference_dir().join("meta-openapi/business-messaging-api_v23.0.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

/// `paths[path][method]` of the OpenAPI document.
pub fn operation<'a>(doc: &'a Value, path: &str, method: &str) -> &'a Value {
    let operation = &doc["paths"][path][method];
    assert!(
        operation.is_object(),
        "no {method} {path} in the OpenAPI file"
    );
    operation
}

/// The named examples of a request body: (name, value).
pub fn request_examples(operation: &Value) -> Vec<(String, Value)> {
    named_examples(&operation["requestBody"]["content"]["application/json"]["examples"])
}

/// The named examples of one response status: (name, value).
pub fn response_examples(operation: &Value, status: &str) -> Vec<(String, Value)> {
    named_examples(&operation["responses"][status]["content"]["application/json"]["examples"])
}

fn named_examples(examples: &Value) -> Vec<(String, Value)> {
    let examples = examples.as_object().expect("examples is a map");
    examples
        .iter()
        .map(|(name, example)| (name.clone(), example["value"].clone()))
        .collect()
}

/// A JSON text from a fenced ```json block of the reference that contains `marker`.
pub fn reference_json_block(marker: &str) -> Value {
    let markdown = reference_markdown();
    let block = markdown
        .split("```json")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .find(|block| block.contains(marker))
        .unwrap_or_else(|| panic!("no json block with {marker:?} in the reference"));
    serde_json::from_str(block).unwrap_or_else(|e| panic!("block with {marker:?}: {e}\n{block}"))
}

/// Differences between two JSON documents' shapes: the same keys, the same value types, arrays of
/// the same length. Values themselves are not compared. Keys in `extra_allowed` may appear in
/// `actual` at the top level only.
pub fn shape_differences(expected: &Value, actual: &Value, extra_allowed: &[&str]) -> Vec<String> {
    let mut differences = Vec::new();
    compare(expected, actual, "$", extra_allowed, &mut differences);
    differences
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn compare(expected: &Value, actual: &Value, path: &str, extra: &[&str], out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (key, value) in e {
                match a.get(key) {
                    Some(other) => compare(value, other, &format!("{path}.{key}"), &[], out),
                    None => out.push(format!("{path}.{key} missing")),
                }
            }
            for key in a.keys() {
                if !e.contains_key(key) && !extra.contains(&key.as_str()) {
                    out.push(format!("{path}.{key} not in the example"));
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                out.push(format!(
                    "{path}: {} items, example has {}",
                    a.len(),
                    e.len()
                ));
            }
            for (i, (e, a)) in e.iter().zip(a).enumerate() {
                compare(e, a, &format!("{path}[{i}]"), &[], out);
            }
        }
        (e, a) if kind(e) != kind(a) => out.push(format!(
            "{path}: {} where the example has {}",
            kind(a),
            kind(e)
        )),
        _ => {}
    }
}

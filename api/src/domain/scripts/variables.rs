//! Run variables as they are stored: secret values sealed under the master key, opened only for
//! the run itself, masked in every answer.

use super::SEALED;
use crate::error::ApiResult;
use crate::state::AppState;
use serde_json::Value;
use shared::scripts::{self as rules, VariableKind, VariableSpec};
use std::collections::BTreeMap;

pub fn seal_secrets(
    state: &AppState,
    schema: &[VariableSpec],
    values: BTreeMap<String, Value>,
) -> ApiResult<Value> {
    let mut stored = serde_json::Map::new();
    for (name, value) in values {
        let secret = schema
            .iter()
            .any(|s| s.name == name && s.kind == VariableKind::Secret);
        let value = if secret {
            let plain = value.as_str().unwrap_or_default();
            serde_json::json!({ SEALED: crate::crypto::seal(&state.keys.master_key, plain)? })
        } else {
            value
        };
        stored.insert(name, value);
    }
    Ok(Value::Object(stored))
}

/// The stored variables with secrets opened (for the run) — never for an answer.
pub fn open_variables(state: &AppState, stored: &Value) -> Result<BTreeMap<String, Value>, String> {
    let mut values = BTreeMap::new();
    for (name, value) in stored.as_object().into_iter().flatten() {
        let value = match value.get(SEALED).and_then(Value::as_str) {
            Some(sealed) => Value::String(
                state
                    .keys
                    .open(sealed)
                    .map_err(|e| format!("a secret variable cannot be opened: {e}"))?,
            ),
            None => value.clone(),
        };
        values.insert(name.clone(), value);
    }
    Ok(values)
}

/// The plain values of the secret variables in `stored`, for log redaction.
pub fn secret_values(state: &AppState, stored: &Value) -> Vec<String> {
    stored
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(_, v)| v.get(SEALED)?.as_str())
        .filter_map(|sealed| state.keys.open(sealed).ok())
        .collect()
}

/// Stored variables as every answer shows them: sealed secrets masked.
pub fn masked(stored: &Value) -> BTreeMap<String, Value> {
    stored
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let shown = if v.get(SEALED).is_some() {
                Value::String(rules::SECRET_MASK.into())
            } else {
                v.clone()
            };
            (k.clone(), shown)
        })
        .collect()
}

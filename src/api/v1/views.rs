//! Rendering helpers shared by resource views: timestamps, JSON columns and
//! secret masking, all as Ironic renders them.

use chrono::NaiveDateTime;
use serde_json::{Map, Value};

/// Substrings of keys whose values are never shown (oslo's mask_dict_password).
const SECRET_KEY_PARTS: &[&str] = &[
    "password",
    "pass",
    "secret",
    "token",
    "private_key",
    "key_passphrase",
    "passphrase",
    "configdrive",
    "encryption_key",
    "fernetkey",
    "sslkey",
    "pswd",
];

pub fn timestamp(t: Option<NaiveDateTime>) -> Value {
    match t {
        Some(t) => Value::String(t.and_utc().format("%Y-%m-%dT%H:%M:%S%:z").to_string()),
        None => Value::Null,
    }
}

/// A JSON column as an object (`{}` when empty, as Ironic does).
pub fn json_object(raw: &Option<String>) -> Value {
    raw.as_deref()
        .and_then(|s| serde_json::from_str::<Value>(s).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| Value::Object(Map::new()))
}

/// A JSON-object column as stored: `{}` and null are stored as NULL (both
/// render as `{}`), anything but an object is the caller's schema error.
pub fn object_column(
    resource: &str,
    field: &str,
    v: &Value,
) -> crate::error::Result<Option<String>> {
    match v {
        Value::Null => Ok(None),
        Value::Object(m) if m.is_empty() => Ok(None),
        Value::Object(_) => Ok(Some(v.to_string())),
        _ => Err(crate::error::Error::InvalidParameter(format!(
            "Schema error for {resource}: {field} must be an object"
        ))),
    }
}

/// Replaces every secret-looking value with `******`, recursively.
pub fn mask_secrets(mut v: Value) -> Value {
    mask_in_place(&mut v);
    v
}

fn mask_in_place(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                let lower = k.to_ascii_lowercase();
                if SECRET_KEY_PARTS.iter().any(|p| lower.contains(p)) && !val.is_null() {
                    *val = Value::String("******".into());
                } else {
                    mask_in_place(val);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_in_place),
        _ => {}
    }
}

/// Ironic's 400 for query arguments a handler does not take, named in
/// sorted order.
pub fn only_arguments(
    q: &std::collections::HashMap<String, String>,
    allowed: &[&str],
) -> crate::error::Result<()> {
    let mut unexpected: Vec<&str> = q
        .keys()
        .map(String::as_str)
        .filter(|k| !allowed.contains(k))
        .collect();
    if unexpected.is_empty() {
        return Ok(());
    }
    unexpected.sort_unstable();
    Err(crate::error::Error::InvalidParameter(format!(
        "Unexpected arguments: {}",
        unexpected.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_nested_secrets_only() {
        let v = mask_secrets(json!({"ipmi_address": "1.2.3.4", "ipmi_password": "x",
                                    "nested": {"auth_token": "t"}, "list": [{"secret": 1}]}));
        assert_eq!(v["ipmi_address"], "1.2.3.4");
        assert_eq!(v["ipmi_password"], "******");
        assert_eq!(v["nested"]["auth_token"], "******");
        assert_eq!(v["list"][0]["secret"], "******");
    }

    #[test]
    fn timestamps_carry_the_utc_offset() {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 1, 2)
            .unwrap()
            .and_hms_opt(3, 4, 5)
            .unwrap();
        assert_eq!(timestamp(Some(t)), json!("2026-01-02T03:04:05+00:00"));
    }
}

//! Python's `str.format` as inspection rules use it: `"{inventory[cpu][count]}"`,
//! `"{node.driver_info[ipmi_address]}"`, `"{item}"`. Values render as
//! Python's `str()` would, and every failure Python would raise is a typed
//! error so the engine can fall back as Ironic does.

use serde_json::{Map, Value};

use crate::api::patch::python_repr;

/// The exception class Python would raise while formatting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormatError {
    Key(String),
    Attribute(String),
    Index(String),
    Type(String),
    Value(String),
}

/// The names a format string can start with; `node` is the only one whose
/// members are reached as attributes (`.name`).
pub struct Context<'a> {
    pub node: &'a Map<String, Value>,
    pub inventory: &'a Value,
    pub plugin_data: &'a Value,
    pub item: Option<&'a Value>,
}

/// Python's `str(value)` of a JSON value.
pub fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => python_repr(other),
    }
}

enum Current<'a> {
    Node,
    Value(&'a Value),
    Owned(Value),
}

fn lookup<'a>(ctx: &'a Context<'a>, field: &str) -> Result<Current<'a>, FormatError> {
    // The argument name runs up to the first `.` or `[`.
    let end = field.find(['.', '[']).unwrap_or(field.len());
    let (name, mut rest) = field.split_at(end);
    if name.is_empty() || name.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FormatError::Index(
            "Replacement index out of range for positional args tuple".into(),
        ));
    }
    let mut cur = match name {
        "node" => Current::Node,
        "inventory" => Current::Value(ctx.inventory),
        "plugin_data" => Current::Value(ctx.plugin_data),
        "item" => match ctx.item {
            Some(v) => Current::Value(v),
            None => return Err(FormatError::Key(format!("'{name}'"))),
        },
        _ => return Err(FormatError::Key(format!("'{name}'"))),
    };
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            let (attr, tail) = after.split_at(end);
            if attr.is_empty() {
                return Err(FormatError::Value(
                    "Empty attribute in format string".into(),
                ));
            }
            cur = match cur {
                Current::Node => match ctx.node.get(attr) {
                    Some(v) => Current::Value(v),
                    None => {
                        return Err(FormatError::Attribute(format!(
                            "'Node' object has no attribute '{attr}'"
                        )))
                    }
                },
                Current::Value(v) => return Err(no_attribute(v, attr)),
                Current::Owned(v) => return Err(no_attribute(&v, attr)),
            };
            rest = tail;
        } else if let Some(after) = rest.strip_prefix('[') {
            let Some(close) = after.find(']') else {
                return Err(FormatError::Value("Missing ']' in format string".into()));
            };
            let key = &after[..close];
            if key.is_empty() {
                return Err(FormatError::Value(
                    "Empty attribute in format string".into(),
                ));
            }
            let next = match &cur {
                Current::Node => {
                    return Err(FormatError::Type(
                        "'Node' object is not subscriptable".into(),
                    ))
                }
                Current::Value(v) => subscript(v, key)?,
                Current::Owned(v) => subscript(v, key)?,
            };
            cur = Current::Owned(next);
            rest = &after[close + 1..];
        } else {
            return Err(FormatError::Value(
                "Only '.' or '[' may follow ']' in format field specifier".into(),
            ));
        }
    }
    Ok(cur)
}

fn no_attribute(v: &Value, attr: &str) -> FormatError {
    FormatError::Attribute(format!(
        "'{}' object has no attribute '{attr}'",
        type_name(v)
    ))
}

/// `v[key]`; Python turns an all-digit key into an int, which a JSON object
/// (string keys only) never has.
fn subscript(v: &Value, key: &str) -> Result<Value, FormatError> {
    let index = key
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| key.parse::<usize>().unwrap_or(usize::MAX));
    match (v, index) {
        (Value::Object(_), Some(_)) => Err(FormatError::Key(key.to_string())),
        (Value::Object(m), None) => m
            .get(key)
            .cloned()
            .ok_or_else(|| FormatError::Key(format!("'{key}'"))),
        (Value::Array(items), Some(i)) => items
            .get(i)
            .cloned()
            .ok_or_else(|| FormatError::Index("list index out of range".into())),
        (Value::String(s), Some(i)) => s
            .chars()
            .nth(i)
            .map(|c| Value::String(c.to_string()))
            .ok_or_else(|| FormatError::Index("string index out of range".into())),
        (Value::Array(_) | Value::String(_), None) => Err(FormatError::Type(format!(
            "{} indices must be integers or slices, not str",
            type_name(v)
        ))),
        (other, _) => Err(FormatError::Type(format!(
            "'{}' object is not subscriptable",
            type_name(other)
        ))),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

fn render(ctx: &Context<'_>, spec: &str) -> Result<String, FormatError> {
    // field[!conversion][:format_spec]; only empty specs are supported, as
    // nothing in Ironic's rules needs more.
    let (field_conv, format_spec) = match spec.find(':') {
        Some(i) => (&spec[..i], Some(&spec[i + 1..])),
        None => (spec, None),
    };
    let (field, conversion) = match field_conv.find('!') {
        Some(i) => (&field_conv[..i], Some(&field_conv[i + 1..])),
        None => (field_conv, None),
    };
    let value = match lookup(ctx, field)? {
        Current::Node => Value::String(format!(
            "Node(uuid={})",
            ctx.node.get("uuid").map(py_str).unwrap_or_default()
        )),
        Current::Value(v) => v.clone(),
        Current::Owned(v) => v,
    };
    let text = match conversion {
        None | Some("s") => py_str(&value),
        Some("r") | Some("a") => python_repr(&value),
        Some(other) => {
            return Err(FormatError::Value(format!(
                "Unknown conversion specifier {other}"
            )))
        }
    };
    match format_spec {
        None | Some("") => Ok(text),
        Some(other) => Err(FormatError::Value(format!(
            "Unsupported format specifier '{other}'"
        ))),
    }
}

/// `template.format(node=…, inventory=…, plugin_data=…[, item=…])`.
pub fn format(template: &str, ctx: &Context<'_>) -> Result<String, FormatError> {
    let mut out = String::new();
    let mut chars = template.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' if chars.peek().map(|(_, c)| *c) == Some('{') => {
                chars.next();
                out.push('{');
            }
            '{' => {
                // The field ends at the matching '}' (brackets may hold '}').
                let mut depth = 0usize;
                let mut end = None;
                for (j, d) in template[i + 1..].char_indices() {
                    match d {
                        '[' => depth += 1,
                        ']' => depth = depth.saturating_sub(1),
                        '}' if depth == 0 => {
                            end = Some(i + 1 + j);
                            break;
                        }
                        '{' if depth == 0 => {
                            return Err(FormatError::Value("unexpected '{' in field name".into()))
                        }
                        _ => {}
                    }
                }
                let Some(end) = end else {
                    return Err(FormatError::Value(
                        "expected '}' before end of string".into(),
                    ));
                };
                out.push_str(&render(ctx, &template[i + 1..end])?);
                while chars.peek().is_some_and(|(k, _)| *k <= end) {
                    chars.next();
                }
            }
            '}' if chars.peek().map(|(_, c)| *c) == Some('}') => {
                chars.next();
                out.push('}');
            }
            '}' => {
                return Err(FormatError::Value(
                    "Single '}' encountered in format string".into(),
                ))
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx_with<'a>(
        node: &'a Map<String, Value>,
        inv: &'a Value,
        pd: &'a Value,
        item: Option<&'a Value>,
    ) -> Context<'a> {
        Context {
            node,
            inventory: inv,
            plugin_data: pd,
            item,
        }
    }

    #[test]
    fn formats_like_python() {
        let node = json!({"uuid": "u1", "driver_info": {"ipmi_address": "198.18.0.1"}});
        let node = node.as_object().unwrap();
        let inv = json!({"cpu": {"count": 4, "flags": ["a", "b"]}, "disks": [{"size": 10}],
                         "memory": {"physical_mb": 1024.5}, "ok": true, "none": null});
        let pd = json!({});
        let item = json!({"path": "x"});
        let ctx = ctx_with(node, &inv, &pd, Some(&item));
        let f = |s: &str| format(s, &ctx);
        assert_eq!(f("{inventory[cpu][count]}").unwrap(), "4");
        assert_eq!(f("n={inventory[disks][0][size]}").unwrap(), "n=10");
        assert_eq!(f("{inventory[cpu][flags]}").unwrap(), "['a', 'b']");
        assert_eq!(f("{inventory[memory][physical_mb]}").unwrap(), "1024.5");
        assert_eq!(f("{inventory[ok]}/{inventory[none]}").unwrap(), "True/None");
        assert_eq!(f("{node.uuid}").unwrap(), "u1");
        assert_eq!(
            f("https://{node.driver_info[ipmi_address]}").unwrap(),
            "https://198.18.0.1"
        );
        assert_eq!(f("{item[path]}").unwrap(), "x");
        assert_eq!(f("{{literal}}").unwrap(), "{literal}");
        assert_eq!(f("{inventory[cpu][count]!r}").unwrap(), "4");
        assert!(matches!(f("{inventory[nope]}"), Err(FormatError::Key(_))));
        assert!(matches!(f("{nope}"), Err(FormatError::Key(_))));
        assert!(matches!(f("{node.bogus}"), Err(FormatError::Attribute(_))));
        assert!(matches!(
            f("{inventory[cpu].count}"),
            Err(FormatError::Attribute(_))
        ));
        assert!(matches!(
            f("{inventory[disks][5]}"),
            Err(FormatError::Index(_))
        ));
        assert!(matches!(f("{inventory[cpu][0]}"), Err(FormatError::Key(_))));
        assert!(matches!(
            f("{inventory[cpu][count][x]}"),
            Err(FormatError::Type(_))
        ));
        assert!(matches!(f("{}"), Err(FormatError::Index(_))));
        assert!(matches!(f("{inventory"), Err(FormatError::Value(_))));
        assert!(matches!(f("a}b"), Err(FormatError::Value(_))));
    }
}

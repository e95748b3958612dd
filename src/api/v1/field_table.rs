//! Per-version field tables: which attribute of a resource appears from
//! which microversion, how `fields=` and `sort_key` treat one that is newer
//! than the request, and Ironic's strict boolean coercion of arguments.

use serde_json::{Map, Value};

use crate::api::microversion::Version;
use crate::error::{Error, Result};

/// What naming a field newer than the request (in `fields=` or `sort_key`)
/// does. Ironic refuses most such fields with 406 but silently drops a few
/// it never listed in its checks (a port's `internal_info`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    Refuse,
    Hide,
}

/// One attribute of a view: its name, the version that introduced it and
/// how to read it from `T` (the second argument is the links base URL).
pub struct FieldSpec<T> {
    pub name: &'static str,
    pub since: Version,
    pub gate: Gate,
    pub get: fn(&T, &str) -> Value,
}

impl<T> FieldSpec<T> {
    /// A field that `fields=` and `sort_key` refuse below `since` (the
    /// common case).
    pub const fn new(name: &'static str, since: Version, get: fn(&T, &str) -> Value) -> Self {
        Self {
            name,
            since,
            gate: Gate::Refuse,
            get,
        }
    }

    /// A field that is silently dropped below `since`.
    pub const fn hidden(name: &'static str, since: Version, get: fn(&T, &str) -> Value) -> Self {
        Self {
            name,
            since,
            gate: Gate::Hide,
            get,
        }
    }
}

/// The version that introduced `name`, if the table knows it.
pub fn since<T>(table: &[FieldSpec<T>], name: &str) -> Option<Version> {
    table.iter().find(|f| f.name == name).map(|f| f.since)
}

/// The attributes of `item` visible at `v`, restricted to `only` (plus
/// `links`, which Ironic always keeps) when given.
pub fn render<T>(
    table: &[FieldSpec<T>],
    item: &T,
    base: &str,
    v: Version,
    only: Option<&[String]>,
) -> Value {
    let mut m = Map::new();
    for f in table {
        let wanted = match only {
            Some(names) => f.name == "links" || names.iter().any(|n| n == f.name),
            None => true,
        };
        if wanted && v.at_least(f.since) {
            m.insert(f.name.into(), (f.get)(item, base));
        }
    }
    Value::Object(m)
}

/// Ironic's checks of requested names: one newer than `v` that the table
/// refuses is a 406; names the resource does not have are a 400.
pub fn check_requested<T>(table: &[FieldSpec<T>], names: &[String], v: Version) -> Result<()> {
    refuse_newer(table, names.iter().map(String::as_str), v)?;
    let unknown: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| since(table, n).is_none())
        .collect();
    if !unknown.is_empty() {
        return Err(Error::InvalidParameter(format!(
            "Field(s) \"{}\" are not valid",
            unknown.join(", ")
        )));
    }
    Ok(())
}

/// 406 when any of `names` is a refused field newer than `v`.
pub fn refuse_newer<'a, T>(
    table: &[FieldSpec<T>],
    names: impl IntoIterator<Item = &'a str>,
    v: Version,
) -> Result<()> {
    for name in names {
        if let Some(f) = table.iter().find(|f| f.name == name) {
            if f.gate == Gate::Refuse && !v.at_least(f.since) {
                return Err(Error::NotAcceptable("Request not acceptable.".into()));
            }
        }
    }
    Ok(())
}

/// oslo's `bool_from_string(strict=True)` as Ironic's `args.boolean` words
/// its refusal.
pub fn strict_bool(name: &str, raw: &str) -> Result<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "t" | "true" | "on" | "y" | "yes" => Ok(true),
        "0" | "f" | "false" | "off" | "n" | "no" => Ok(false),
        _ => Err(Error::InvalidParameter(format!(
            "Invalid {name}: Unrecognized value '{raw}', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'"
        ))),
    }
}

/// A JSON boolean, or a string `strict_bool` accepts; `None` for null.
pub fn bool_value(resource: &str, name: &str, v: &Value) -> Result<Option<bool>> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        Value::String(s) => strict_bool(name, s).map(Some),
        other => Err(Error::InvalidParameter(format!(
            "Schema error for {resource}: {} is not of type 'string', 'boolean', 'null'",
            crate::api::patch::python_repr(other)
        ))),
    }
}

/// An optional string no longer than `max` characters.
pub fn short_string(resource: &str, v: &Value, max: Option<usize>) -> Result<Option<String>> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => match max {
            Some(max) if s.chars().count() > max => Err(Error::InvalidParameter(format!(
                "Schema error for {resource}: {} is too long",
                crate::api::patch::python_repr(v)
            ))),
            _ => Ok(Some(s.clone())),
        },
        other => Err(Error::InvalidParameter(format!(
            "Schema error for {resource}: {} is not of type 'string', 'null'",
            crate::api::patch::python_repr(other)
        ))),
    }
}

/// Ironic's logical names: RFC 3986 unreserved characters, at most 255.
pub fn is_logical_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c))
}

/// `?detail=` on a plain list, with Ironic's refusals.
pub fn detail_flag(raw: Option<&str>, v: Version, fields_given: bool) -> Result<bool> {
    let Some(raw) = raw else { return Ok(false) };
    let detail = strict_bool("detail", raw)?;
    if !v.at_least(super::chassis::DETAIL_QUERY) {
        return Err(Error::InvalidParameter(format!(
            "Invalid query parameter ?detail={} received.",
            if detail { "True" } else { "False" }
        )));
    }
    if detail && fields_given {
        return Err(Error::InvalidParameter(
            "Can not specify ?detail=True and fields in the same request.".into(),
        ));
    }
    Ok(detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table() -> Vec<FieldSpec<i32>> {
        vec![
            FieldSpec {
                name: "uuid",
                since: Version::new(1, 1),
                gate: Gate::Refuse,
                get: |n, _| json!(n),
            },
            FieldSpec {
                name: "links",
                since: Version::new(1, 1),
                gate: Gate::Refuse,
                get: |_, b| json!(b),
            },
            FieldSpec {
                name: "internal",
                since: Version::new(1, 18),
                gate: Gate::Hide,
                get: |_, _| json!({}),
            },
            FieldSpec {
                name: "newer",
                since: Version::new(1, 24),
                gate: Gate::Refuse,
                get: |_, _| json!(null),
            },
        ]
    }

    #[test]
    fn fields_appear_at_their_version_and_links_stay() {
        let t = table();
        let v = render(&t, &7, "b", Version::new(1, 18), None);
        assert_eq!(v, json!({"uuid": 7, "links": "b", "internal": {}}));
        let only = ["uuid".to_string(), "newer".to_string()];
        let v = render(&t, &7, "b", Version::new(1, 24), Some(&only));
        assert_eq!(v, json!({"uuid": 7, "links": "b", "newer": null}));
    }

    #[test]
    fn newer_fields_are_refused_or_hidden() {
        let t = table();
        let at = Version::new(1, 17);
        assert!(check_requested(&t, &["internal".to_string()], at).is_ok());
        assert!(matches!(
            check_requested(&t, &["newer".to_string()], at),
            Err(Error::NotAcceptable(_))
        ));
        assert!(matches!(
            check_requested(&t, &["bogus".to_string()], at),
            Err(Error::InvalidParameter(_))
        ));
    }

    #[test]
    fn booleans_and_names_follow_ironic() {
        assert!(strict_bool("x", "Yes").unwrap());
        assert!(!strict_bool("x", "off").unwrap());
        assert!(strict_bool("x", "maybe").is_err());
        assert!(is_logical_name("pg-1.a_b~c"));
        assert!(!is_logical_name("bad name"));
        assert!(!is_logical_name(""));
    }
}

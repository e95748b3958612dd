//! Choosing the disk to deploy onto: Ironic's root device hints
//! (`device_hints.match_root_device_hints` with oslo's `specs_matcher`
//! operators), or IPA's default when there are none (the smallest disk of
//! at least 4 GiB, ties broken by name).

use serde_json::{Map, Value};

use crate::agent::inventory::disks::Disk;

const GIB: u64 = 1 << 30;
/// IPA's `guess_root_disk` minimum.
pub const MIN_ROOT_DISK: u64 = 4 * GIB;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HintType {
    Str,
    Int,
    Bool,
}

fn hint_type(name: &str) -> Option<HintType> {
    Some(match name {
        "size" => HintType::Int,
        "rotational" => HintType::Bool,
        "model"
        | "wwn"
        | "serial"
        | "vendor"
        | "wwn_with_extension"
        | "wwn_vendor_extension"
        | "name"
        | "hctl"
        | "by_path"
        | "tran" => HintType::Str,
        _ => return None,
    })
}

/// specs_matcher's operators, in its grammar's order (`==` before `=`,
/// `<=` before `<`, …).
const UNARY_OPS: &[&str] = &[
    "==", "=", "!=", "<in>", ">=", "<=", ">", "<", "s==", "s!=", "s<=", "s<", "s>=", "s>",
];
const NARY_OPS: &[&str] = &["<or>", "<all-in>", "<range-in>"];

/// The operator an expression starts with, if any.
fn leading_op(expr: &str) -> Option<&'static str> {
    NARY_OPS
        .iter()
        .chain(UNARY_OPS)
        .find(|op| expr.starts_with(**op))
        .copied()
}

/// `{op, values}` of a hint expression, lower-cased (device_hints'
/// `_extract_hint_operator_and_values`).
fn op_and_values(expr: &str, name: &str) -> Result<(String, Vec<String>), String> {
    let expr = expr.trim().to_lowercase();
    if expr.is_empty() {
        return Err(format!("Root device hint {name} expression is empty"));
    }
    match leading_op(&expr) {
        None => Ok((String::new(), vec![expr])),
        Some(op) => {
            let values: Vec<String> = expr
                .split(op)
                .filter(|v| !v.is_empty())
                .map(|v| v.trim().to_string())
                .collect();
            if values.iter().all(|v| v.is_empty()) {
                return Err(format!("Root device hint {name} has no value: {expr}"));
            }
            Ok((op.to_string(), values))
        }
    }
}

/// Python's `urllib.parse.quote` (safe characters: letters, digits, `_.-~/`).
fn quote(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"_.-~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A parsed hint: an operator and its (normalized) operands.
#[derive(Clone, Debug, PartialEq)]
enum Hint {
    Bool(bool),
    Spec { op: String, values: Vec<String> },
}

/// oslo's `bool_from_string(strict=True)`.
fn parse_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        Value::String(s) => match s.trim().to_lowercase().as_str() {
            "1" | "t" | "true" | "on" | "y" | "yes" => Some(true),
            "0" | "f" | "false" | "off" | "n" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn python_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        other => other.to_string(),
    }
}

/// A string value normalized as device_hints does: operator kept, each
/// value url-quoted.
fn normalize(expr: &str, name: &str) -> Result<(String, Vec<String>), String> {
    let (op, values) = op_and_values(expr, name)?;
    Ok((op, values.iter().map(|v| quote(v)).collect()))
}

/// `parse_root_device_hints`: validated, normalized, with `s==`/`==` added
/// where no operator was given.
fn parse(hints: &Map<String, Value>) -> Result<Vec<(String, Hint)>, String> {
    let invalid: Vec<&str> = hints
        .keys()
        .map(String::as_str)
        .filter(|k| hint_type(k).is_none())
        .collect();
    if !invalid.is_empty() {
        return Err(format!(
            "The hints \"{}\" are invalid. Valid hints are: \"size, model, wwn, serial, vendor, \
             wwn_with_extension, wwn_vendor_extension, name, rotational, hctl, by_path, tran\"",
            invalid.join(", ")
        ));
    }
    let mut parsed = Vec::new();
    for (name, expr) in hints {
        let hint = match hint_type(name) {
            Some(HintType::Str) => {
                let Value::String(s) = expr else {
                    return Err(format!(
                        "Root device hint \"{name}\" is not a string value. Hint expression: {}",
                        python_str(expr)
                    ));
                };
                let (op, values) = normalize(s, name)?;
                Hint::Spec {
                    op: if op.is_empty() { "s==".into() } else { op },
                    values,
                }
            }
            Some(HintType::Int) => {
                let text = python_str(expr);
                let (op, values) = op_and_values(&text, name)?;
                for v in &values {
                    match v.parse::<i64>() {
                        Ok(n) if n > 0 => {}
                        Ok(_) => {
                            return Err(format!(
                                "Root device hint \"{name}\" should be a positive integer. Current value: {text}"
                            ))
                        }
                        Err(_) => {
                            return Err(format!(
                                "Root device hint \"{name}\" is not an integer value. Current value: {text}"
                            ))
                        }
                    }
                }
                Hint::Spec {
                    op: if op.is_empty() { "==".into() } else { op },
                    values,
                }
            }
            Some(HintType::Bool) | None => match parse_bool(expr) {
                Some(b) => Hint::Bool(b),
                None => {
                    return Err(format!(
                        "Root device hint \"{name}\" is not a Boolean value. Current value: {}",
                        python_str(expr)
                    ))
                }
            },
        };
        parsed.push((name.clone(), hint));
    }
    Ok(parsed)
}

fn float(s: &str) -> Result<f64, String> {
    s.trim()
        .parse::<f64>()
        .map_err(|_| format!("could not convert string to float: '{s}'"))
}

/// specs_matcher.match for one device value.
fn spec_match(value: &str, op: &str, values: &[String]) -> Result<bool, String> {
    let first = values.first().map(String::as_str).unwrap_or_default();
    Ok(match op {
        "<or>" => values.iter().any(|v| v == value),
        "<in>" => value.contains(first),
        "s==" => value == first,
        "s!=" => value != first,
        "s<" => value < first,
        "s<=" => value <= first,
        "s>" => value > first,
        "s>=" => value >= first,
        // "=" is ">=" in specs_matcher, for historical reasons.
        "=" | ">=" => float(value)? >= float(first)?,
        "==" => float(value)? == float(first)?,
        "!=" => float(value)? != float(first)?,
        "<" => float(value)? < float(first)?,
        "<=" => float(value)? <= float(first)?,
        ">" => float(value)? > float(first)?,
        other => {
            return Err(format!(
                "operator {other} is not supported in root device hints"
            ))
        }
    })
}

/// The disk's attribute as device_hints sees it (`None` becomes "None").
fn attribute(disk: &Disk, name: &str) -> Value {
    let s = |v: &Option<String>| v.clone().map_or(Value::Null, Value::String);
    match name {
        "name" => Value::String(disk.name.clone()),
        "size" => Value::from(disk.size),
        "rotational" => Value::Bool(disk.rotational),
        "model" => s(&disk.model),
        "wwn" => s(&disk.wwn),
        "serial" => s(&disk.serial),
        "vendor" => s(&disk.vendor),
        "wwn_with_extension" => s(&disk.wwn_with_extension),
        "wwn_vendor_extension" => s(&disk.wwn_vendor_extension),
        "hctl" => s(&disk.hctl),
        "by_path" => s(&disk.by_path),
        _ => Value::Null,
    }
}

fn matches(disk: &Disk, hints: &[(String, Hint)]) -> Result<bool, String> {
    for (name, hint) in hints {
        let value = attribute(disk, name);
        let ok = match hint {
            Hint::Bool(want) => parse_bool(&value) == Some(*want),
            Hint::Spec { op, values } => {
                let text = if name == "size" {
                    // Bytes against GiB, as a float ("20.0").
                    format!("{}", disk.size as f64 / GIB as f64)
                } else {
                    match normalize(&python_str(&value), name) {
                        Ok((_, v)) => v.join(" "),
                        // An empty attribute never matches.
                        Err(_) => return Ok(false),
                    }
                };
                spec_match(&text, op, values)?
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The first disk matching every hint. `Err` is for hints that do not
/// validate, `Ok(None)` when no disk matches.
pub fn match_hints<'a>(
    disks: &'a [Disk],
    hints: &Map<String, Value>,
) -> Result<Option<&'a Disk>, String> {
    let parsed = parse(hints)?;
    for disk in disks {
        if matches(disk, &parsed)? {
            return Ok(Some(disk));
        }
    }
    Ok(None)
}

/// IPA's `guess_root_disk`: by size then name, the first of at least 4 GiB.
pub fn guess(disks: &[Disk]) -> Option<&Disk> {
    let mut sorted: Vec<&Disk> = disks.iter().collect();
    sorted.sort_by(|a, b| (a.size, &a.name).cmp(&(b.size, &b.name)));
    sorted.into_iter().find(|d| d.size >= MIN_ROOT_DISK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn disks() -> Vec<Disk> {
        vec![
            Disk {
                name: "/dev/sda".into(),
                size: 500 * GIB,
                rotational: true,
                model: Some("WDC WD5003ABYX".into()),
                vendor: Some("ATA".into()),
                serial: Some("WD-WMAYP0982329".into()),
                wwn: Some("0x50014ee2b5a8d6a1".into()),
                hctl: Some("0:0:0:0".into()),
                by_path: Some("/dev/disk/by-path/pci-0000:00:1f.2-ata-1".into()),
                ..Default::default()
            },
            Disk {
                name: "/dev/sdb".into(),
                size: 120 * GIB,
                rotational: false,
                model: Some("Samsung SSD 850".into()),
                vendor: Some("ATA".into()),
                serial: Some("S21NNXAG123456".into()),
                hctl: Some("1:0:0:0".into()),
                ..Default::default()
            },
            Disk {
                name: "/dev/vda".into(),
                size: 2 * GIB,
                rotational: true,
                ..Default::default()
            },
        ]
    }

    fn pick(hints: Value) -> Result<Option<String>, String> {
        let d = disks();
        let Value::Object(m) = hints else {
            panic!("hints must be an object")
        };
        match_hints(&d, &m).map(|o| o.map(|d| d.name.clone()))
    }

    #[test]
    fn plain_values_are_equality() {
        assert_eq!(
            pick(json!({"name": "/dev/sdb"})).unwrap().as_deref(),
            Some("/dev/sdb")
        );
        assert_eq!(
            pick(json!({"serial": "s21nnxag123456"}))
                .unwrap()
                .as_deref(),
            Some("/dev/sdb")
        );
        // Spaces are url-quoted on both sides.
        assert_eq!(
            pick(json!({"model": "Samsung SSD 850"}))
                .unwrap()
                .as_deref(),
            Some("/dev/sdb")
        );
        assert_eq!(
            pick(json!({"wwn": "0x50014ee2b5a8d6a1"}))
                .unwrap()
                .as_deref(),
            Some("/dev/sda")
        );
        assert_eq!(
            pick(json!({"hctl": "1:0:0:0"})).unwrap().as_deref(),
            Some("/dev/sdb")
        );
        assert_eq!(
            pick(json!({"by_path": "/dev/disk/by-path/pci-0000:00:1f.2-ata-1"}))
                .unwrap()
                .as_deref(),
            Some("/dev/sda")
        );
        assert_eq!(pick(json!({"name": "/dev/sdz"})).unwrap(), None);
        // All hints must match.
        assert_eq!(
            pick(json!({"vendor": "ATA", "rotational": false}))
                .unwrap()
                .as_deref(),
            Some("/dev/sdb")
        );
        assert_eq!(
            pick(json!({"vendor": "ATA", "name": "/dev/vda"})).unwrap(),
            None
        );
    }

    #[test]
    fn size_is_gib_with_numeric_operators() {
        assert_eq!(
            pick(json!({"size": 120})).unwrap().as_deref(),
            Some("/dev/sdb")
        );
        assert_eq!(
            pick(json!({"size": "120"})).unwrap().as_deref(),
            Some("/dev/sdb")
        );
        assert_eq!(
            pick(json!({"size": ">= 200"})).unwrap().as_deref(),
            Some("/dev/sda")
        );
        assert_eq!(
            pick(json!({"size": "< 100"})).unwrap().as_deref(),
            Some("/dev/vda")
        );
        // "=" means ">=" in specs_matcher.
        assert_eq!(
            pick(json!({"size": "= 100"})).unwrap().as_deref(),
            Some("/dev/sda")
        );
        assert_eq!(
            pick(json!({"size": "!= 500"})).unwrap().as_deref(),
            Some("/dev/sdb")
        );
        assert_eq!(pick(json!({"size": 121})).unwrap(), None);
        assert!(pick(json!({"size": 0})).is_err());
        assert!(pick(json!({"size": "big"})).is_err());
        assert!(pick(json!({"size": "> x"})).is_err());
    }

    #[test]
    fn string_operators() {
        assert_eq!(
            pick(json!({"model": "<in> 850"})).unwrap().as_deref(),
            Some("/dev/sdb")
        );
        assert_eq!(
            pick(json!({"model": "<in> WDC"})).unwrap().as_deref(),
            Some("/dev/sda")
        );
        assert_eq!(
            pick(json!({"name": "<or> /dev/sdx <or> /dev/vda"}))
                .unwrap()
                .as_deref(),
            Some("/dev/vda")
        );
        assert_eq!(
            pick(json!({"serial": "s!= WD-WMAYP0982329"}))
                .unwrap()
                .as_deref(),
            Some("/dev/sdb")
        );
        assert_eq!(
            pick(json!({"name": "s== /dev/sda"})).unwrap().as_deref(),
            Some("/dev/sda")
        );
        assert_eq!(
            pick(json!({"name": "s>= /dev/sdb"})).unwrap().as_deref(),
            Some("/dev/sdb")
        );
        // A missing attribute is the string "None", as in Python.
        assert_eq!(
            pick(json!({"wwn": "None"})).unwrap().as_deref(),
            Some("/dev/sdb")
        );
    }

    #[test]
    fn booleans_and_invalid_hints() {
        assert_eq!(
            pick(json!({"rotational": "no"})).unwrap().as_deref(),
            Some("/dev/sdb")
        );
        assert_eq!(
            pick(json!({"rotational": true})).unwrap().as_deref(),
            Some("/dev/sda")
        );
        assert!(pick(json!({"rotational": "maybe"})).is_err());
        let err = pick(json!({"colour": "red"})).unwrap_err();
        assert!(err.contains("\"colour\" are invalid"), "{err}");
        assert!(pick(json!({"model": 5})).is_err());
        assert!(pick(json!({"model": "  "})).is_err());
    }

    #[test]
    fn without_hints_the_smallest_disk_of_4_gib() {
        let d = disks();
        assert_eq!(guess(&d).map(|d| d.name.as_str()), Some("/dev/sdb"));
        let mut same = d.clone();
        same[0].size = 120 * GIB;
        assert_eq!(guess(&same).map(|d| d.name.as_str()), Some("/dev/sda"));
        assert_eq!(guess(&d[2..]), None);
    }
}

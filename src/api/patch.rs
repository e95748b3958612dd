//! JSON Patch (RFC 6902 subset) exactly as Ironic applies it to resources.
//!
//! Ironic validates a PATCH body in three steps and Berth keeps their order
//! and their words, because clients and tests print and grep them:
//!
//! 1. the body must match the `patch` JSON schema of `ironic/common/args.py`
//!    ([`parse_patch`], "Schema error for patch: …" as `jsonschema` words it);
//! 2. every path must start with an updatable field
//!    (`patch_validate_allowed_fields`), and `add` may not create a new
//!    top-level key (`apply_jsonpatch`);
//! 3. the operations are applied one at a time with the `jsonpatch` and
//!    `jsonpointer` libraries, so a failure names the failing operation:
//!    "Couldn't apply patch '<Python repr of the op>'. Reason: <reason>".
//!
//! Python's data model leaks into the reasons (a string is a sequence, an
//! unknown type prints as `<class 'int'>`); they are reproduced here from
//! jsonpatch 1.33 and jsonpointer 3.1. Two deliberate differences: a missing
//! member does not echo the enclosing document (Ironic prints its whole repr,
//! secrets included), and removing a character of a string is a 400 where
//! Ironic fails with a 500.

use serde_json::Value;

use crate::error::{Error, Result};

/// The only path shape Ironic's schema accepts, at every microversion.
const PATH_PATTERN: &str = r"^(/[\w-]+)+$";
/// What Berth accepts when escaped keys are allowed (1.98, see [`parse_patch`]).
const SPECIAL_PATH_PATTERN: &str = r"^(/[^/]+)+$";

/// The operations Ironic's schema allows, in its order (the enum message lists them).
const OP_NAMES: [&str; 3] = ["add", "replace", "remove"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Add,
    Replace,
    Remove,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Add => "add",
            Op::Replace => "replace",
            Op::Remove => "remove",
        }
    }

    fn from_name(name: &str) -> Option<Op> {
        match name {
            "add" => Some(Op::Add),
            "replace" => Some(Op::Replace),
            "remove" => Some(Op::Remove),
            _ => None,
        }
    }
}

/// One validated operation. `value` is `None` when the client sent none: the
/// schema allows that even for `add`/`replace`, which then fail when applied.
#[derive(Clone, Debug, PartialEq)]
pub struct PatchOp {
    pub op: Op,
    pub path: String,
    pub value: Option<Value>,
}

/// Parse and validate the request body: a JSON array of
/// `{"op", "path"[, "value"]}` with `op` one of add, replace, remove.
///
/// Errors are `InvalidParameter("Schema error for patch: …")` with the message
/// `jsonschema` picks: the shallowest error, then the last array item, then
/// `path` before `op` (its `best_match`). Paths must match `^(/[\w-]+)+$`;
/// like Python's `re`, `\w` is Unicode-aware and `$` also matches before one
/// trailing newline.
///
/// `allow_special_chars` is for microversion 1.98 ("keys containing ~ or /").
/// Ironic only taught its allowed-field check to decode `~0`/`~1` there; its
/// schema still enforces the pattern above, so real Ironic rejects such paths
/// at every version. With the flag Berth does what 1.98 announces: any
/// non-empty segments, escapes decoded as RFC 6901 says (a bad escape fails in
/// [`apply_patch`] with jsonpointer's reason). Pass `false` to behave exactly
/// like Ironic.
pub fn parse_patch(body: &Value, allow_special_chars: bool) -> Result<Vec<PatchOp>> {
    let Some(items) = body.as_array() else {
        return Err(schema_error(&format!(
            "{} is not of type 'array'",
            python_repr(body)
        )));
    };
    // Errors about an item itself beat errors about one of its members; among
    // equals the last item wins.
    let mut item_error = None;
    let mut member_error = None;
    let mut ops = Vec::with_capacity(items.len());
    for item in items {
        match parse_item(item, allow_special_chars) {
            Ok(op) => ops.push(op),
            Err(SchemaError::Item(msg)) => item_error = Some(msg),
            Err(SchemaError::Member(msg)) => member_error = Some(msg),
        }
    }
    match item_error.or(member_error) {
        Some(msg) => Err(schema_error(&msg)),
        None => Ok(ops),
    }
}

/// Apply `ops` in order to `doc`, the resource as a JSON object carrying every
/// updatable field (null when unset).
///
/// `updatable` lists the top-level fields the caller may touch; the refusal
/// prints it in the order given, as Ironic does. Checks run over the whole
/// patch before anything is applied: first the allowed fields, then "no new
/// top-level key". Then each operation sees the effects of the earlier ones,
/// and any failure rejects the whole patch (`doc` itself is never modified).
///
/// A removed top-level field comes back as `null`; the caller resets it to its
/// default, as Ironic's object layer does.
pub fn apply_patch(doc: &Value, ops: &[PatchOp], updatable: &[&str]) -> Result<Value> {
    // Ironic decodes the field name from 1.98 on; below that the schema
    // leaves nothing to decode.
    for op in ops {
        let field = unescape(op.path.split('/').nth(1).unwrap_or(""));
        if !updatable.contains(&field.as_str()) {
            return Err(Error::InvalidParameter(format!(
                "Cannot patch {}. Only the following can be updated: {}",
                op.path,
                updatable.join(", ")
            )));
        }
    }
    let Some(fields) = doc.as_object() else {
        return Err(Error::internal("a patched resource must be a JSON object"));
    };
    // Ironic compares the undecoded name here; for field names without `~`
    // or `/` (all of them) that is the same.
    for op in ops {
        let top_level = op.path.matches('/').count() == 1;
        if op.op == Op::Add
            && top_level
            && !fields.contains_key(&unescape(op.path.trim_start_matches('/')))
        {
            return Err(Error::InvalidParameter(format!(
                "Adding a new attribute ({}) to the root of the resource is not allowed",
                op.path
            )));
        }
    }

    let mut patched = doc.clone();
    for op in ops {
        apply_one(&mut patched, op).map_err(|reason| {
            Error::InvalidParameter(format!(
                "Couldn't apply patch '{}'. Reason: {reason}",
                op_repr(op)
            ))
        })?;
    }
    if let Value::Object(patched_fields) = &mut patched {
        for name in fields.keys() {
            if !patched_fields.contains_key(name) {
                patched_fields.insert(name.clone(), Value::Null);
            }
        }
    }
    Ok(patched)
}

/// Python's `repr()` of the value `json.loads` would produce: `None`, `True`,
/// `'text'`, `1.0`, `{'a': [1, 2]}`. Keys print in serde_json's (sorted) order
/// where Python would keep the client's; non-printable characters are escaped
/// like Python does for all but unassigned code points.
pub fn python_repr(value: &Value) -> String {
    let mut out = String::new();
    write_repr(&mut out, value);
    out
}

fn write_repr(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(number) => match (number.as_i64(), number.as_u64(), number.as_f64()) {
            (Some(int), _, _) => out.push_str(&int.to_string()),
            (None, Some(int), _) => out.push_str(&int.to_string()),
            (None, None, Some(float)) => out.push_str(&python_float_repr(float)),
            (None, None, None) => out.push_str(&number.to_string()),
        },
        Value::String(text) => write_str_repr(out, text),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                write_repr(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (index, (key, item)) in map.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                write_str_repr(out, key);
                out.push_str(": ");
                write_repr(out, item);
            }
            out.push('}');
        }
    }
}

fn str_repr(text: &str) -> String {
    let mut out = String::new();
    write_str_repr(&mut out, text);
    out
}

fn write_str_repr(out: &mut String, text: &str) {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_ascii_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c if c.is_ascii() || python_printable(c) => out.push(c),
            c => {
                let code = u32::from(c);
                if code < 0x100 {
                    out.push_str(&format!("\\x{code:02x}"));
                } else if code < 0x10000 {
                    out.push_str(&format!("\\u{code:04x}"));
                } else {
                    out.push_str(&format!("\\U{code:08x}"));
                }
            }
        }
    }
    out.push(quote);
}

/// Python's `str.isprintable()` for a non-ASCII character: false for control,
/// format, separator and private-use characters and for noncharacters.
fn python_printable(c: char) -> bool {
    const NOT_PRINTABLE: &[(u32, u32)] = &[
        (0x80, 0xa0),
        (0xad, 0xad),
        (0x600, 0x605),
        (0x61c, 0x61c),
        (0x6dd, 0x6dd),
        (0x70f, 0x70f),
        (0x890, 0x891),
        (0x8e2, 0x8e2),
        (0x1680, 0x1680),
        (0x180e, 0x180e),
        (0x2000, 0x200f),
        (0x2028, 0x202f),
        (0x205f, 0x2064),
        (0x2066, 0x206f),
        (0x3000, 0x3000),
        (0xe000, 0xf8ff),
        (0xfdd0, 0xfdef),
        (0xfeff, 0xfeff),
        (0xfff9, 0xfffb),
        (0x110bd, 0x110bd),
        (0x110cd, 0x110cd),
        (0x13430, 0x1343f),
        (0x1bca0, 0x1bca3),
        (0x1d173, 0x1d17a),
        (0xe0001, 0xe0001),
        (0xe0020, 0xe007f),
        (0xf0000, 0x10ffff),
    ];
    let code = u32::from(c);
    let noncharacter = code & 0xfffe == 0xfffe;
    !noncharacter
        && !NOT_PRINTABLE
            .iter()
            .any(|&(first, last)| (first..=last).contains(&code))
}

/// Python's `repr(float)`: the shortest digits that round-trip, positional
/// for exponents -4..=15, otherwise scientific with a signed two-digit exponent.
fn python_float_repr(float: f64) -> String {
    if float.is_nan() {
        return "nan".to_string();
    }
    if float.is_infinite() {
        return if float > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    // Python prints the shortest digits that read back as the same float and,
    // among those, the closest; Rust's `{:e}` may pick another of equal
    // length, so take the first correctly rounded precision that round-trips.
    let magnitude = float.abs();
    let scientific = (0..17)
        .map(|precision| format!("{magnitude:.precision$e}"))
        .find(|text| text.parse::<f64>() == Ok(magnitude))
        .unwrap_or_else(|| format!("{magnitude:e}"));
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if float.is_sign_negative() { "-" } else { "" };
    if !(-4..16).contains(&exponent) {
        let (first, rest) = digits.split_at(1);
        let fraction = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        return format!(
            "{sign}{first}{fraction}e{exponent_sign}{:02}",
            exponent.unsigned_abs()
        );
    }
    if exponent < 0 {
        let zeros = "0".repeat(exponent.unsigned_abs() as usize - 1);
        return format!("{sign}0.{zeros}{digits}");
    }
    let int_len = exponent as usize + 1;
    if digits.len() <= int_len {
        let zeros = "0".repeat(int_len - digits.len());
        format!("{sign}{digits}{zeros}.0")
    } else {
        let (int_part, fraction) = digits.split_at(int_len);
        format!("{sign}{int_part}.{fraction}")
    }
}

enum SchemaError {
    /// About the array item itself (jsonschema path `[i]`).
    Item(String),
    /// About its `op` or `path` member (path `[i, member]`).
    Member(String),
}

fn schema_error(msg: &str) -> Error {
    Error::InvalidParameter(format!("Schema error for patch: {msg}"))
}

fn parse_item(item: &Value, allow_special_chars: bool) -> Result<PatchOp, SchemaError> {
    let Some(fields) = item.as_object() else {
        return Err(SchemaError::Item(format!(
            "{} is not of type 'object'",
            python_repr(item)
        )));
    };
    // jsonschema's keyword order: additionalProperties, then required.
    let mut extras: Vec<&String> = fields
        .keys()
        .filter(|key| !matches!(key.as_str(), "op" | "path" | "value"))
        .collect();
    extras.sort();
    if !extras.is_empty() {
        let names: Vec<String> = extras.iter().map(|key| str_repr(key)).collect();
        let verb = if extras.len() == 1 { "was" } else { "were" };
        return Err(SchemaError::Item(format!(
            "Additional properties are not allowed ({} {verb} unexpected)",
            names.join(", ")
        )));
    }
    let (Some(op), Some(path)) = (fields.get("op"), fields.get("path")) else {
        let missing = if fields.contains_key("op") {
            "path"
        } else {
            "op"
        };
        return Err(SchemaError::Item(format!(
            "'{missing}' is a required property"
        )));
    };

    // `path` sorts after `op`, so best_match reports it first.
    let path = match path {
        Value::String(path) if path_matches(path, allow_special_chars) => path,
        Value::String(_) => {
            let pattern = if allow_special_chars {
                SPECIAL_PATH_PATTERN
            } else {
                PATH_PATTERN
            };
            return Err(SchemaError::Member(format!(
                "{} does not match {}",
                python_repr(path),
                str_repr(pattern)
            )));
        }
        other => {
            return Err(SchemaError::Member(format!(
                "{} is not of type 'string'",
                python_repr(other)
            )))
        }
    };
    let op = match op {
        Value::String(name) => Op::from_name(name).ok_or_else(|| {
            let names: Vec<String> = OP_NAMES.iter().map(|name| str_repr(name)).collect();
            SchemaError::Member(format!(
                "{} is not one of [{}]",
                python_repr(op),
                names.join(", ")
            ))
        })?,
        other => {
            return Err(SchemaError::Member(format!(
                "{} is not of type 'string'",
                python_repr(other)
            )))
        }
    };
    Ok(PatchOp {
        op,
        path: path.clone(),
        value: fields.get("value").cloned(),
    })
}

fn path_matches(path: &str, allow_special_chars: bool) -> bool {
    if allow_special_chars {
        return path.starts_with('/') && path[1..].split('/').all(|part| !part.is_empty());
    }
    // Python's `$` also matches just before a final newline.
    let path = path.strip_suffix('\n').unwrap_or(path);
    // `[\w-]`: Unicode letters and digits, underscore, hyphen.
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    path.starts_with('/')
        && path[1..]
            .split('/')
            .all(|part| !part.is_empty() && part.chars().all(word))
}

fn op_repr(op: &PatchOp) -> String {
    let mut out = format!(
        "{{'op': {}, 'path': {}",
        str_repr(op.op.as_str()),
        str_repr(&op.path)
    );
    if let Some(value) = &op.value {
        out.push_str(", 'value': ");
        write_repr(&mut out, value);
    }
    out.push('}');
    out
}

/// RFC 6901 decoding, in jsonpointer's order (`~1` first).
fn unescape(part: &str) -> String {
    part.replace("~1", "/").replace("~0", "~")
}

/// jsonpointer's `JsonPointer(path).parts`.
fn pointer_parts(path: &str) -> Result<Vec<String>, String> {
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.clone().next() {
                Some('0' | '1') => {}
                Some(next) => return Err(format!("Found invalid escape ~{next}")),
                None => return Err("Found invalid escape ~".to_string()),
            }
        }
    }
    let mut parts = path.split('/');
    if parts.next() != Some("") {
        return Err("Location must start with /".to_string());
    }
    Ok(parts.map(unescape).collect())
}

/// Where a pointer has led so far. Python strings are sequences, so indexing
/// one yields a detached one-character string; walking `-` of a list yields
/// jsonpointer's `EndOfList`, which supports nothing.
enum Target<'a> {
    Json(&'a mut Value),
    Char(String),
    EndOfList,
}

/// One pointer step, typed the way jsonpointer's `get_part` types it.
enum Part {
    Key(String),
    /// A valid array index; `None` when it does not even fit a `usize`.
    Index(Option<usize>, String),
    /// `-`, one past the end of a list.
    End,
}

impl Part {
    fn text(&self) -> &str {
        match self {
            Part::Key(text) | Part::Index(_, text) => text,
            Part::End => "-",
        }
    }
}

fn get_part(target: &Target<'_>, part: &str) -> Result<Part, String> {
    let python_type = match target {
        Target::Json(Value::Object(_)) => return Ok(Part::Key(part.to_string())),
        Target::Json(Value::Array(_) | Value::String(_)) | Target::Char(_) => {
            return sequence_part(part)
        }
        Target::Json(Value::Null) => "NoneType",
        Target::Json(Value::Bool(_)) => "bool",
        Target::Json(Value::Number(number)) if number.is_f64() => "float",
        Target::Json(Value::Number(_)) => "int",
        Target::EndOfList => "jsonpointer.EndOfList",
    };
    Err(format!(
        "Document '<class '{python_type}'>' does not support indexing, \
         must be mapping/sequence or support __getitem__"
    ))
}

fn sequence_part(part: &str) -> Result<Part, String> {
    if part == "-" {
        return Ok(Part::End);
    }
    let digits = !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !digits || (part.len() > 1 && part.starts_with('0')) {
        return Err(format!("'{part}' is not a valid sequence index"));
    }
    Ok(Part::Index(part.parse().ok(), part.to_string()))
}

fn walk<'a>(target: Target<'a>, part: &str) -> Result<Target<'a>, String> {
    let part = get_part(&target, part)?;
    let out_of_bounds = || format!("index '{}' is out of bounds", part.text());
    match (target, &part) {
        (Target::Json(Value::Object(fields)), Part::Key(key)) => fields
            .get_mut(key)
            .map(Target::Json)
            .ok_or_else(|| format!("member '{key}' not found")),
        (Target::Json(Value::Array(_)), Part::End)
        | (Target::Json(Value::String(_)) | Target::Char(_), Part::End) => Ok(Target::EndOfList),
        (Target::Json(Value::Array(items)), Part::Index(index, _)) => index
            .and_then(|index| items.get_mut(index))
            .map(Target::Json)
            .ok_or_else(out_of_bounds),
        (Target::Json(Value::String(text)), Part::Index(index, _)) => {
            char_at(text, *index).ok_or_else(out_of_bounds)
        }
        (Target::Char(text), Part::Index(index, _)) => {
            char_at(&text, *index).ok_or_else(out_of_bounds)
        }
        // get_part only returns a key for objects and indexes for sequences.
        _ => Err(format!("unable to walk to '{}'", part.text())),
    }
}

fn char_at(text: &str, index: Option<usize>) -> Option<Target<'static>> {
    let c = text.chars().nth(index?)?;
    Some(Target::Char(c.to_string()))
}

/// jsonpointer's `to_last`: walk all but the last step, type the last one.
fn to_last<'a>(doc: &'a mut Value, parts: &[String]) -> Result<(Target<'a>, Part), String> {
    let Some((last, parents)) = parts.split_last() else {
        return Err("the document root can't be patched".to_string());
    };
    let mut target = Target::Json(doc);
    for part in parents {
        target = walk(target, part)?;
    }
    let last = get_part(&target, last)?;
    Ok((target, last))
}

/// One jsonpatch operation; the error is jsonpatch's or jsonpointer's reason.
fn apply_one(doc: &mut Value, op: &PatchOp) -> Result<(), String> {
    let parts = pointer_parts(&op.path)?;
    let value = match (op.op, &op.value) {
        (Op::Remove, _) => None,
        (_, Some(value)) => Some(value.clone()),
        (_, None) => return Err("The operation does not contain a 'value' member".to_string()),
    };
    let (target, part) = to_last(doc, &parts)?;
    let unresolved = || {
        format!(
            "unable to fully resolve json pointer {}, part {}",
            op.path,
            part.text()
        )
    };
    match (op.op, target, value) {
        (Op::Add, Target::Json(Value::Array(items)), Some(value)) => match &part {
            Part::End => items.push(value),
            Part::Index(Some(index), _) if *index <= items.len() => items.insert(*index, value),
            _ => return Err("can't insert outside of list".to_string()),
        },
        (Op::Add, Target::Json(Value::Object(fields)), Some(value)) => {
            fields.insert(part.text().to_string(), value);
        }
        // jsonpatch compares the raw part, so an object's "-" key fails too.
        (Op::Replace, _, _) if part.text() == "-" => {
            return Err("'path' with '-' can't be applied to 'replace' operation".to_string())
        }
        (Op::Replace, Target::Json(Value::Array(items)), Some(value)) => {
            match &part {
                Part::Index(Some(index), _) if *index < items.len() => items[*index] = value,
                _ => return Err("can't replace outside of list".to_string()),
            };
        }
        (Op::Replace, Target::Json(Value::Object(fields)), Some(value)) => {
            match fields.get_mut(part.text()) {
                Some(slot) => *slot = value,
                None => {
                    return Err(format!(
                        "can't replace a non-existent object '{}'",
                        part.text()
                    ))
                }
            };
        }
        (Op::Add | Op::Replace, _, _) => return Err(unresolved()),
        (Op::Remove, Target::Json(Value::Object(fields)), _) => {
            if fields.remove(part.text()).is_none() {
                return Err(format!(
                    "can't remove a non-existent object '{}'",
                    part.text()
                ));
            }
        }
        (Op::Remove, _, _) if matches!(part, Part::End) => {
            return Err("invalid array index '-'".to_string())
        }
        (Op::Remove, Target::Json(Value::Array(items)), _) => match &part {
            Part::Index(Some(index), _) if *index < items.len() => {
                items.remove(*index);
            }
            _ => {
                return Err(format!(
                    "can't remove a non-existent object '{}'",
                    part.text()
                ))
            }
        },
        // A string: an index too big for a C `ssize_t` is an IndexError, any
        // other a TypeError, which Ironic does not catch (500).
        (Op::Remove, _, _) => {
            return Err(match part {
                Part::Index(Some(index), _) if isize::try_from(index).is_ok() => {
                    "'str' object doesn't support item deletion".to_string()
                }
                _ => format!("can't remove a non-existent object '{}'", part.text()),
            })
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const UPDATABLE: &[&str] = &[
        "name",
        "driver",
        "maintenance",
        "chassis_uuid",
        "extra",
        "driver_info",
        "instance_info",
        "traits",
        "description",
        "owner",
    ];

    fn node() -> Value {
        json!({
            "name": "node-1",
            "driver": "ipmi",
            "maintenance": false,
            "chassis_uuid": null,
            "extra": {"foo": "bar", "list": [1, 2], "a/b": 1, "t~x": 2, "-": 0, "num": 1.5},
            "driver_info": {"ipmi_address": "198.18.0.1", "ipmi_port": 623},
            "instance_info": {},
            "traits": ["CUSTOM_A", "CUSTOM_B"],
            "description": "abc",
            "provision_state": "enroll",
        })
    }

    fn message<T: std::fmt::Debug>(result: Result<T>) -> String {
        match result {
            Err(Error::InvalidParameter(msg)) => msg,
            other => panic!("expected InvalidParameter, got {other:?}"),
        }
    }

    fn parse_error(body: Value) -> String {
        message(parse_patch(&body, false))
    }

    /// Parse and apply `body` to the test node, as a handler would.
    fn patch(body: Value) -> Result<Value> {
        apply_patch(&node(), &parse_patch(&body, false)?, UPDATABLE)
    }

    fn patch_error(body: Value) -> String {
        message(patch(body))
    }

    #[test]
    fn parses_operations() {
        let ops = parse_patch(
            &json!([
                {"op": "add", "path": "/extra/x", "value": {"k": [1]}},
                {"op": "replace", "path": "/name", "value": null},
                {"op": "remove", "path": "/instance_info/image_source"},
            ]),
            false,
        )
        .unwrap();
        assert_eq!(
            ops,
            vec![
                PatchOp {
                    op: Op::Add,
                    path: "/extra/x".into(),
                    value: Some(json!({"k": [1]})),
                },
                PatchOp {
                    op: Op::Replace,
                    path: "/name".into(),
                    value: Some(Value::Null),
                },
                PatchOp {
                    op: Op::Remove,
                    path: "/instance_info/image_source".into(),
                    value: None,
                },
            ]
        );
        assert_eq!(parse_patch(&json!([]), false).unwrap(), vec![]);
    }

    #[test]
    fn schema_errors_read_like_jsonschema() {
        assert_eq!(
            parse_error(json!({"op": "add", "path": "/x"})),
            "Schema error for patch: {'op': 'add', 'path': '/x'} is not of type 'array'"
        );
        assert_eq!(
            parse_error(json!(null)),
            "Schema error for patch: None is not of type 'array'"
        );
        assert_eq!(
            parse_error(json!(["x"])),
            "Schema error for patch: 'x' is not of type 'object'"
        );
        assert_eq!(
            parse_error(json!([{"op": "add"}])),
            "Schema error for patch: 'path' is a required property"
        );
        assert_eq!(
            parse_error(json!([{}])),
            "Schema error for patch: 'op' is a required property"
        );
        assert_eq!(
            parse_error(json!([{"op": 1, "path": "/x"}])),
            "Schema error for patch: 1 is not of type 'string'"
        );
        assert_eq!(
            parse_error(json!([{"op": null, "path": "/x"}])),
            "Schema error for patch: None is not of type 'string'"
        );
        assert_eq!(
            parse_error(json!([{"op": "add", "path": ["/x"]}])),
            "Schema error for patch: ['/x'] is not of type 'string'"
        );
    }

    #[test]
    fn only_add_replace_remove_without_extra_keys() {
        assert_eq!(
            parse_error(json!([{"op": "move", "path": "/name"}])),
            "Schema error for patch: 'move' is not one of ['add', 'replace', 'remove']"
        );
        assert_eq!(
            parse_error(json!([{"op": "ADD", "path": "/name"}])),
            "Schema error for patch: 'ADD' is not one of ['add', 'replace', 'remove']"
        );
        // A `from` key is refused before the op name is even looked at.
        assert_eq!(
            parse_error(json!([{"op": "move", "path": "/name", "from": "/driver"}])),
            "Schema error for patch: Additional properties are not allowed \
             ('from' was unexpected)"
        );
        assert_eq!(
            parse_error(json!([{"op": "add", "path": "/x", "zz": 1, "from": "/y"}])),
            "Schema error for patch: Additional properties are not allowed \
             ('from', 'zz' were unexpected)"
        );
    }

    #[test]
    fn paths_must_match_ironic_pattern() {
        for path in ["x", "/x/", "", "/", "/a.b", "/a b", "/extra/a~1b", "/x\n\n"] {
            assert_eq!(
                parse_error(json!([{"op": "remove", "path": path}])),
                format!(
                    "Schema error for patch: {} does not match '^(/[\\\\w-]+)+$'",
                    python_repr(&json!(path))
                ),
                "{path:?}"
            );
        }
        // `\w` is Unicode-aware, and Python's `$` accepts one trailing newline.
        for path in ["/x_y-Z0", "/extra/é", "/extra/٣", "/name\n"] {
            assert!(
                parse_patch(&json!([{"op": "remove", "path": path}]), false).is_ok(),
                "{path:?}"
            );
        }
        assert_eq!(
            parse_error(json!([{"op": "remove", "path": "/extra/a~1b"}])),
            r"Schema error for patch: '/extra/a~1b' does not match '^(/[\\w-]+)+$'"
        );
    }

    #[test]
    fn schema_reports_the_error_jsonschema_would_pick() {
        // Item-level errors beat member errors; the last item wins; `path`
        // beats `op` inside one item.
        assert_eq!(
            parse_error(json!([{"op": "bad", "path": "/x"}, {"op": "add", "path": "bad"}])),
            r"Schema error for patch: 'bad' does not match '^(/[\\w-]+)+$'"
        );
        assert_eq!(
            parse_error(json!([{"op": "bad", "path": "bad"}])),
            r"Schema error for patch: 'bad' does not match '^(/[\\w-]+)+$'"
        );
        assert_eq!(
            parse_error(json!([{"op": "bad"}])),
            "Schema error for patch: 'path' is a required property"
        );
        assert_eq!(
            parse_error(json!([5, {"op": "bad", "path": "/x"}])),
            "Schema error for patch: 5 is not of type 'object'"
        );
        assert_eq!(
            parse_error(json!([{"op": "add", "path": "/x", "from": "/y"}, 5])),
            "Schema error for patch: 5 is not of type 'object'"
        );
        assert_eq!(
            parse_error(
                json!([{"op": "add", "path": "/x", "value": 1}, {"op": "x", "path": "/y"}])
            ),
            "Schema error for patch: 'x' is not one of ['add', 'replace', 'remove']"
        );
    }

    #[test]
    fn special_characters_need_the_flag() {
        let body = json!([
            {"op": "replace", "path": "/extra/a~1b", "value": 10},
            {"op": "replace", "path": "/extra/t~0x", "value": 20},
            {"op": "add", "path": "/extra/new key.1", "value": 30},
        ]);
        assert!(parse_patch(&body, false).is_err());
        let ops = parse_patch(&body, true).unwrap();
        let patched = apply_patch(&node(), &ops, UPDATABLE).unwrap();
        assert_eq!(patched["extra"]["a/b"], json!(10));
        assert_eq!(patched["extra"]["t~x"], json!(20));
        assert_eq!(patched["extra"]["new key.1"], json!(30));

        assert_eq!(
            message(parse_patch(
                &json!([{"op": "remove", "path": "/extra//x"}]),
                true
            )),
            "Schema error for patch: '/extra//x' does not match '^(/[^/]+)+$'"
        );
        // Bad escapes pass the schema and fail in jsonpointer, as in Ironic.
        let bad = parse_patch(&json!([{"op": "remove", "path": "/extra/x~2"}]), true).unwrap();
        assert_eq!(
            message(apply_patch(&node(), &bad, UPDATABLE)),
            "Couldn't apply patch '{'op': 'remove', 'path': '/extra/x~2'}'. \
             Reason: Found invalid escape ~2"
        );
        let bad = parse_patch(&json!([{"op": "remove", "path": "/extra/x~"}]), true).unwrap();
        assert_eq!(
            message(apply_patch(&node(), &bad, UPDATABLE)),
            "Couldn't apply patch '{'op': 'remove', 'path': '/extra/x~'}'. \
             Reason: Found invalid escape ~"
        );
        // The allowed-field check decodes the first segment too.
        let ops = parse_patch(&json!([{"op": "add", "path": "/a~1b", "value": 1}]), true).unwrap();
        let doc = json!({"a/b": 0});
        assert_eq!(
            apply_patch(&doc, &ops, &["a/b"]).unwrap(),
            json!({"a/b": 1})
        );
    }

    #[test]
    fn nested_add_overwrites_and_creates() {
        let patched = patch(json!([
            {"op": "add", "path": "/extra/foo", "value": "baz"},
            {"op": "add", "path": "/instance_info/image_source", "value": "http://x/img"},
            {"op": "replace", "path": "/driver_info/ipmi_port", "value": 6230},
            {"op": "remove", "path": "/extra/list"},
        ]))
        .unwrap();
        assert_eq!(patched["extra"]["foo"], json!("baz"));
        assert_eq!(patched["extra"].get("list"), None);
        assert_eq!(
            patched["instance_info"],
            json!({"image_source": "http://x/img"})
        );
        assert_eq!(patched["driver_info"]["ipmi_port"], json!(6230));
        assert_eq!(patched["driver_info"]["ipmi_address"], json!("198.18.0.1"));
    }

    #[test]
    fn top_level_scalars_are_set() {
        let patched = patch(json!([
            {"op": "replace", "path": "/name", "value": "node-2"},
            {"op": "add", "path": "/maintenance", "value": true},
            {"op": "add", "path": "/chassis_uuid", "value": "1be26c0b-03f2-4d2e-ae87-c02d7f33c123"},
        ]))
        .unwrap();
        assert_eq!(patched["name"], json!("node-2"));
        assert_eq!(patched["maintenance"], json!(true));
        assert_eq!(
            patched["chassis_uuid"],
            json!("1be26c0b-03f2-4d2e-ae87-c02d7f33c123")
        );
    }

    #[test]
    fn missing_keys_fail_with_ironic_wording() {
        let doc = json!({"instance_info": {}});
        let ops = parse_patch(
            &json!([{"op": "remove", "path": "/instance_info/image_source"}]),
            false,
        )
        .unwrap();
        assert_eq!(
            message(apply_patch(&doc, &ops, &["instance_info"])),
            "Couldn't apply patch '{'op': 'remove', 'path': '/instance_info/image_source'}'. \
             Reason: can't remove a non-existent object 'image_source'"
        );
        assert_eq!(
            patch_error(json!([{"op": "replace", "path": "/extra/x", "value": true}])),
            "Couldn't apply patch '{'op': 'replace', 'path': '/extra/x', 'value': True}'. \
             Reason: can't replace a non-existent object 'x'"
        );
        // Walking through a missing key; Ironic also prints the enclosing
        // document here, which Berth leaves out.
        assert_eq!(
            patch_error(json!([{"op": "add", "path": "/extra/nope/x", "value": 1}])),
            "Couldn't apply patch '{'op': 'add', 'path': '/extra/nope/x', 'value': 1}'. \
             Reason: member 'nope' not found"
        );
    }

    #[test]
    fn only_updatable_fields_listed_in_given_order() {
        assert_eq!(
            patch_error(json!([{"op": "replace", "path": "/provision_state", "value": "active"}])),
            "Cannot patch /provision_state. Only the following can be updated: name, driver, \
             maintenance, chassis_uuid, extra, driver_info, instance_info, traits, description, \
             owner"
        );
        assert_eq!(
            patch_error(json!([{"op": "remove", "path": "/provision_state/x"}])),
            "Cannot patch /provision_state/x. Only the following can be updated: name, driver, \
             maintenance, chassis_uuid, extra, driver_info, instance_info, traits, description, \
             owner"
        );
        // Checked for the whole patch before anything is applied.
        assert!(patch_error(json!([
            {"op": "remove", "path": "/extra/missing"},
            {"op": "remove", "path": "/bogus"},
        ]))
        .starts_with("Cannot patch /bogus. "));
    }

    #[test]
    fn no_new_top_level_keys() {
        assert_eq!(
            patch_error(json!([{"op": "add", "path": "/owner", "value": "p"}])),
            "Adding a new attribute (/owner) to the root of the resource is not allowed"
        );
        // Checked for the whole patch before anything is applied.
        assert_eq!(
            patch_error(json!([
                {"op": "remove", "path": "/extra/missing"},
                {"op": "add", "path": "/owner", "value": "p"},
            ])),
            "Adding a new attribute (/owner) to the root of the resource is not allowed"
        );
        assert_eq!(
            patch_error(json!([{"op": "replace", "path": "/owner", "value": "p"}])),
            "Couldn't apply patch '{'op': 'replace', 'path': '/owner', 'value': 'p'}'. \
             Reason: can't replace a non-existent object 'owner'"
        );
        assert_eq!(
            patch_error(json!([{"op": "remove", "path": "/owner"}])),
            "Couldn't apply patch '{'op': 'remove', 'path': '/owner'}'. \
             Reason: can't remove a non-existent object 'owner'"
        );
    }

    #[test]
    fn removed_top_level_fields_come_back_null() {
        let patched = patch(json!([
            {"op": "remove", "path": "/description"},
            {"op": "remove", "path": "/extra"},
            {"op": "remove", "path": "/chassis_uuid"},
        ]))
        .unwrap();
        assert_eq!(patched["description"], Value::Null);
        assert_eq!(patched["extra"], Value::Null);
        assert_eq!(patched["chassis_uuid"], Value::Null);
        assert_eq!(patched["name"], json!("node-1"));
        assert_eq!(
            patched.as_object().map(|fields| fields.len()),
            node().as_object().map(|fields| fields.len())
        );
    }

    #[test]
    fn later_operations_see_earlier_ones() {
        let patched = patch(json!([
            {"op": "add", "path": "/extra/new", "value": {"a": 1}},
            {"op": "replace", "path": "/extra/new/a", "value": 2},
            {"op": "add", "path": "/extra/new/b", "value": 3},
            {"op": "remove", "path": "/name"},
            {"op": "add", "path": "/name", "value": "again"},
            {"op": "add", "path": "/traits/0", "value": "CUSTOM_Z"},
            {"op": "remove", "path": "/traits/1"},
        ]))
        .unwrap();
        assert_eq!(patched["extra"]["new"], json!({"a": 2, "b": 3}));
        assert_eq!(patched["name"], json!("again"));
        assert_eq!(patched["traits"], json!(["CUSTOM_Z", "CUSTOM_B"]));

        // A removed field is really gone for the operations after it.
        assert_eq!(
            patch_error(json!([
                {"op": "remove", "path": "/name"},
                {"op": "remove", "path": "/name"},
            ])),
            "Couldn't apply patch '{'op': 'remove', 'path': '/name'}'. \
             Reason: can't remove a non-existent object 'name'"
        );
        assert_eq!(
            patch_error(json!([
                {"op": "remove", "path": "/extra"},
                {"op": "add", "path": "/extra/foo", "value": 1},
            ])),
            "Couldn't apply patch '{'op': 'add', 'path': '/extra/foo', 'value': 1}'. \
             Reason: member 'extra' not found"
        );
    }

    #[test]
    fn any_failure_rejects_the_whole_patch() {
        let doc = node();
        let ops = parse_patch(
            &json!([
                {"op": "replace", "path": "/name", "value": "changed"},
                {"op": "add", "path": "/extra/foo", "value": "changed"},
                {"op": "remove", "path": "/extra/missing"},
                {"op": "replace", "path": "/driver", "value": "changed"},
            ]),
            false,
        )
        .unwrap();
        let error = message(apply_patch(&doc, &ops, UPDATABLE));
        assert_eq!(
            error,
            "Couldn't apply patch '{'op': 'remove', 'path': '/extra/missing'}'. \
             Reason: can't remove a non-existent object 'missing'"
        );
        assert_eq!(doc, node());
    }

    #[test]
    fn arrays_follow_jsonpatch() {
        let patched = patch(json!([
            {"op": "add", "path": "/traits/-", "value": "CUSTOM_C"},
            {"op": "add", "path": "/traits/3", "value": "CUSTOM_D"},
            {"op": "replace", "path": "/traits/0", "value": "CUSTOM_Z"},
        ]))
        .unwrap();
        assert_eq!(
            patched["traits"],
            json!(["CUSTOM_Z", "CUSTOM_B", "CUSTOM_C", "CUSTOM_D"])
        );

        let reason = |body: Value| {
            let msg = patch_error(body);
            msg.split_once("Reason: ")
                .map(|(_, reason)| reason.to_string())
                .unwrap_or(msg)
        };
        let cases = [
            (
                json!({"op": "add", "path": "/traits/3", "value": 1}),
                "can't insert outside of list",
            ),
            (
                json!({"op": "replace", "path": "/traits/2", "value": 1}),
                "can't replace outside of list",
            ),
            (
                json!({"op": "replace", "path": "/traits/-", "value": 1}),
                "'path' with '-' can't be applied to 'replace' operation",
            ),
            (
                json!({"op": "remove", "path": "/traits/-"}),
                "invalid array index '-'",
            ),
            (
                json!({"op": "remove", "path": "/traits/2"}),
                "can't remove a non-existent object '2'",
            ),
            (
                json!({"op": "remove", "path": "/traits/01"}),
                "'01' is not a valid sequence index",
            ),
            (
                json!({"op": "remove", "path": "/traits/x"}),
                "'x' is not a valid sequence index",
            ),
            (
                json!({"op": "remove", "path": "/traits/9/x"}),
                "index '9' is out of bounds",
            ),
            (
                json!({"op": "remove", "path": "/traits/99999999999999999999999"}),
                "can't remove a non-existent object '99999999999999999999999'",
            ),
            (
                json!({"op": "add", "path": "/traits/-/x", "value": 1}),
                "Document '<class 'jsonpointer.EndOfList'>' does not support indexing, \
                 must be mapping/sequence or support __getitem__",
            ),
        ];
        for (op, expected) in cases {
            assert_eq!(reason(json!([op])), expected, "{op}");
        }
    }

    #[test]
    fn objects_treat_dash_as_a_key() {
        let patched = patch(json!([{"op": "add", "path": "/extra/-", "value": 5}])).unwrap();
        assert_eq!(patched["extra"]["-"], json!(5));
        assert_eq!(
            patch_error(json!([{"op": "replace", "path": "/extra/-", "value": 5}])),
            "Couldn't apply patch '{'op': 'replace', 'path': '/extra/-', 'value': 5}'. \
             Reason: 'path' with '-' can't be applied to 'replace' operation"
        );
        let patched = patch(json!([{"op": "remove", "path": "/extra/-"}])).unwrap();
        assert_eq!(patched["extra"].get("-"), None);
    }

    #[test]
    fn scalars_cannot_be_walked_into() {
        let reason = |path: &str| {
            let msg = patch_error(json!([{"op": "add", "path": path, "value": 1}]));
            msg.split_once("Reason: ")
                .map(|(_, reason)| reason.to_string())
                .unwrap_or(msg)
        };
        let unsupported = |class: &str| {
            format!(
                "Document '<class '{class}'>' does not support indexing, \
                 must be mapping/sequence or support __getitem__"
            )
        };
        assert_eq!(reason("/maintenance/x"), unsupported("bool"));
        assert_eq!(reason("/chassis_uuid/x"), unsupported("NoneType"));
        assert_eq!(reason("/driver_info/ipmi_port/x"), unsupported("int"));
        assert_eq!(reason("/extra/num/x"), unsupported("float"));
        assert_eq!(reason("/maintenance/x/y"), unsupported("bool"));
    }

    #[test]
    fn strings_are_python_sequences() {
        let reason = |op: Value| {
            let msg = patch_error(json!([op]));
            msg.split_once("Reason: ")
                .map(|(_, reason)| reason.to_string())
                .unwrap_or(msg)
        };
        assert_eq!(
            reason(json!({"op": "add", "path": "/description/0", "value": "x"})),
            "unable to fully resolve json pointer /description/0, part 0"
        );
        assert_eq!(
            reason(json!({"op": "replace", "path": "/description/1/0", "value": "x"})),
            "unable to fully resolve json pointer /description/1/0, part 0"
        );
        assert_eq!(
            reason(json!({"op": "add", "path": "/description/-", "value": "x"})),
            "unable to fully resolve json pointer /description/-, part -"
        );
        assert_eq!(
            reason(json!({"op": "add", "path": "/description/x", "value": "x"})),
            "'x' is not a valid sequence index"
        );
        assert_eq!(
            reason(json!({"op": "add", "path": "/description/3/0", "value": "x"})),
            "index '3' is out of bounds"
        );
        assert_eq!(
            reason(json!({"op": "remove", "path": "/description/-"})),
            "invalid array index '-'"
        );
        // Ironic answers this one with a 500 (an uncaught TypeError).
        assert_eq!(
            reason(json!({"op": "remove", "path": "/description/0"})),
            "'str' object doesn't support item deletion"
        );
    }

    #[test]
    fn add_and_replace_need_a_value() {
        assert_eq!(
            patch_error(json!([{"op": "add", "path": "/extra/foo"}])),
            "Couldn't apply patch '{'op': 'add', 'path': '/extra/foo'}'. \
             Reason: The operation does not contain a 'value' member"
        );
        // Checked before the pointer is resolved.
        assert_eq!(
            patch_error(json!([{"op": "replace", "path": "/maintenance/x"}])),
            "Couldn't apply patch '{'op': 'replace', 'path': '/maintenance/x'}'. \
             Reason: The operation does not contain a 'value' member"
        );
        // `remove` ignores a value but the message still shows it.
        assert_eq!(
            patch_error(json!([{"op": "remove", "path": "/extra/x", "value": [1, "a"]}])),
            "Couldn't apply patch '{'op': 'remove', 'path': '/extra/x', 'value': [1, 'a']}'. \
             Reason: can't remove a non-existent object 'x'"
        );
    }

    #[test]
    fn escaped_keys_resolve() {
        let doc = node();
        let ops = [
            PatchOp {
                op: Op::Replace,
                path: "/extra/a~1b".into(),
                value: Some(json!("slash")),
            },
            PatchOp {
                op: Op::Remove,
                path: "/extra/t~0x".into(),
                value: None,
            },
        ];
        let patched = apply_patch(&doc, &ops, UPDATABLE).unwrap();
        assert_eq!(patched["extra"]["a/b"], json!("slash"));
        assert_eq!(patched["extra"].get("t~x"), None);
    }

    #[test]
    fn python_repr_of_scalars() {
        let cases = [
            (json!(null), "None"),
            (json!(true), "True"),
            (json!(false), "False"),
            (json!(0), "0"),
            (json!(-42), "-42"),
            (json!(18446744073709551615_u64), "18446744073709551615"),
            (json!(1.0), "1.0"),
            (json!(-0.0), "-0.0"),
            (json!(0.1), "0.1"),
            (json!(1.5e300), "1.5e+300"),
            (json!(1e16), "1e+16"),
            (json!(1e15), "1000000000000000.0"),
            (json!(123456.789), "123456.789"),
            (json!(0.0001), "0.0001"),
            (json!(0.00001), "1e-05"),
            (json!(1.2345e-7), "1.2345e-07"),
        ];
        for (value, expected) in cases {
            assert_eq!(python_repr(&value), expected, "{value}");
        }
    }

    #[test]
    fn python_repr_of_strings() {
        let cases = [
            ("", "''"),
            ("abc", "'abc'"),
            ("it's", "\"it's\""),
            ("say \"hi\"", "'say \"hi\"'"),
            ("both ' and \"", "'both \\' and \"'"),
            ("back\\slash", "'back\\\\slash'"),
            ("tab\tnl\ncr\r", "'tab\\tnl\\ncr\\r'"),
            ("\u{0}\u{1f}\u{7f}", "'\\x00\\x1f\\x7f'"),
            ("\u{85}\u{a0}\u{ad}", "'\\x85\\xa0\\xad'"),
            ("zero\u{200b}width\u{2028}", "'zero\\u200bwidth\\u2028'"),
            ("private\u{e000}\u{f0000}", "'private\\ue000\\U000f0000'"),
            ("\u{fffe}", "'\\ufffe'"),
            ("é ü 中文 🙂", "'é ü 中文 🙂'"),
        ];
        for (text, expected) in cases {
            assert_eq!(python_repr(&json!(text)), expected, "{text:?}");
        }
    }

    #[test]
    fn python_repr_of_containers() {
        assert_eq!(python_repr(&json!([])), "[]");
        assert_eq!(python_repr(&json!({})), "{}");
        assert_eq!(
            python_repr(&json!({"b": [1, "x", null], "a": {"k": true}})),
            "{'a': {'k': True}, 'b': [1, 'x', None]}"
        );
        let op = PatchOp {
            op: Op::Add,
            path: "/extra/x".into(),
            value: Some(json!({"it's": [1.5, false]})),
        };
        assert_eq!(
            op_repr(&op),
            "{'op': 'add', 'path': '/extra/x', 'value': {\"it's\": [1.5, False]}}"
        );
    }

    #[test]
    fn non_object_documents_are_an_internal_error() {
        let ops = parse_patch(&json!([{"op": "remove", "path": "/x"}]), false).unwrap();
        assert!(matches!(
            apply_patch(&json!([1]), &ops, &["x"]),
            Err(Error::Internal(_))
        ));
    }
}

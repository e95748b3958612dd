//! Inspection rules (Ironic's `ironic/common/inspection_rules/`): the
//! validation of a rule as the API stores it, and the engine that evaluates
//! conditions against the inventory, plugin data and node and applies
//! actions, highest priority first.
//!
//! The engine is pure: it works on a [`Subject`] (the node's attributes,
//! traits and ports as JSON) and the plugin data, and the conductor writes
//! what changed. Differences from Ironic, deliberately: argument errors of a
//! stored rule are 400s (Ironic answers 500), only a node's and port's
//! writable attributes can be set (never `uuid` or `provision_state`), and
//! `api-call` is refused when it runs (Berth does not call out from rules).

use std::cmp::Ordering;

use serde_json::{json, Map, Value};

use super::pyformat::{self, py_str, Context, FormatError};
use crate::api::patch::python_repr;

/// Condition operators, in Ironic's order (its schema lists them so).
pub const OPERATORS: &[&str] = &[
    "eq", "lt", "gt", "is-empty", "in-net", "matches", "contains", "one-of", "is-none", "is-true",
    "is-false",
];

/// Actions, in Ironic's order.
pub const ACTIONS: &[&str] = &[
    "fail",
    "log",
    "set-attribute",
    "extend-attribute",
    "del-attribute",
    "set-capability",
    "unset-capability",
    "add-trait",
    "remove-trait",
    "set-plugin-data",
    "extend-plugin-data",
    "unset-plugin-data",
    "set-port-attribute",
    "extend-port-attribute",
    "del-port-attribute",
    "api-call",
];

/// The only phase Ironic has.
pub const PHASES: &[&str] = &["main"];
pub const DEFAULT_PHASE: &str = "main";
/// Highest priority of a user-defined rule.
pub const MAX_USER_PRIORITY: i64 = 9999;
/// Inventory and plugin data keys hidden from rules that may not see secrets.
const SENSITIVE_FIELDS: &[&str] = &["password", "auth_token", "bmc_password"];
const LOG_LEVELS: &[&str] = &["debug", "info", "warning", "error", "critical"];

/// The arguments of an operator or action (Python's call signature).
struct Signature {
    required: &'static [&'static str],
    optional: &'static [&'static str],
    /// Arguments interpolated outside loops (`FORMATTED_ARGS`).
    formatted: &'static [&'static str],
    /// Takes the plugin data as its last required argument.
    plugin_data: bool,
}

const fn sig(
    required: &'static [&'static str],
    optional: &'static [&'static str],
    formatted: &'static [&'static str],
) -> Signature {
    Signature {
        required,
        optional,
        formatted,
        plugin_data: false,
    }
}

const fn sig_pd(
    required: &'static [&'static str],
    optional: &'static [&'static str],
    formatted: &'static [&'static str],
) -> Signature {
    Signature {
        required,
        optional,
        formatted,
        plugin_data: true,
    }
}

fn operator_signature(op: &str) -> Option<Signature> {
    Some(match op {
        "eq" | "lt" | "gt" => sig(&["values"], &["force_strings"], &["values"]),
        "is-empty" | "is-none" | "is-true" | "is-false" => sig(&["value"], &[], &["value"]),
        "in-net" => sig(&["address", "subnet"], &[], &["address", "subnet"]),
        "matches" | "contains" => sig(&["value", "regex"], &[], &["value"]),
        "one-of" => sig(&["value"], &["values"], &["value"]),
        _ => return None,
    })
}

fn action_signature(op: &str) -> Option<Signature> {
    Some(match op {
        "fail" => sig(&["msg"], &[], &[]),
        "log" => sig(&["msg"], &["level"], &["msg"]),
        "set-attribute" => sig(&["path", "value"], &[], &["value"]),
        "extend-attribute" => sig(&["path", "value"], &["unique"], &["value"]),
        "del-attribute" => sig(&["path"], &[], &[]),
        "set-capability" => sig(&["name", "value"], &[], &["value"]),
        "unset-capability" | "add-trait" | "remove-trait" => sig(&["name"], &[], &[]),
        "set-plugin-data" => sig_pd(&["path", "value", "plugin_data"], &[], &["value"]),
        "extend-plugin-data" => sig_pd(&["path", "value", "plugin_data"], &["unique"], &["value"]),
        "unset-plugin-data" => sig_pd(&["path", "plugin_data"], &[], &[]),
        "set-port-attribute" => sig(&["port_id", "path", "value"], &[], &["value"]),
        "extend-port-attribute" => sig(&["port_id", "path", "value"], &["unique"], &["value"]),
        "del-port-attribute" => sig(&["port_id", "path"], &[], &[]),
        "api-call" => sig(
            &["url"],
            &["headers", "proxies", "timeout", "retries", "backoff_factor"],
            &["url"],
        ),
        _ => return None,
    })
}

/// `"!eq"` → `("eq", true)`; more than one `!` is refused.
pub fn parse_inverted_operator(op: &str) -> Result<(String, bool), String> {
    let op = op.trim();
    if op.matches('!').count() > 1 {
        return Err("Multiple exclamation marks are not allowed. To apply the invert of an operation, simply add an exclamation mark (with an optional space) before the operator, e.g. eq - !eq.".into());
    }
    Ok((
        op.trim_start_matches('!').trim().to_string(),
        op.starts_with('!'),
    ))
}

/// Positional (deprecated list) arguments as named ones.
fn normalize_args(s: &Signature, args: &Value) -> Result<Map<String, Value>, String> {
    match args {
        Value::Object(m) => Ok(m.clone()),
        Value::Array(items) => {
            let mut items = items.clone();
            if s.plugin_data {
                items.push(json!({}));
            }
            if items.len() < s.required.len() {
                return Err(format!(
                    "Not enough arguments provided. Missing: {}",
                    s.required[items.len()..].join(", ")
                ));
            }
            Ok(s.required
                .iter()
                .chain(s.optional.iter())
                .zip(items)
                .map(|(k, v)| ((*k).to_string(), v))
                .collect())
        }
        _ => Err("args must be either a list or dictionary".into()),
    }
}

/// Ironic's `Base.validate`: required arguments present, nothing unknown.
/// A dict gains the `plugin_data` placeholder Ironic stores with it.
fn validate_args(s: &Signature, args: &mut Value) -> Result<(), String> {
    if let (true, Value::Object(m)) = (s.plugin_data, &mut *args) {
        m.insert("plugin_data".into(), json!({}));
    }
    let named = normalize_args(s, args)?;
    let missing: Vec<&str> = s
        .required
        .iter()
        .copied()
        .filter(|k| !named.contains_key(*k))
        .collect();
    let unexpected: Vec<&str> = named
        .keys()
        .map(String::as_str)
        .filter(|k| !s.required.contains(k) && !s.optional.contains(k))
        .collect();
    let mut msg = Vec::new();
    if !missing.is_empty() {
        msg.push(format!(
            "missing required argument(s): {}",
            missing.join(", ")
        ));
    }
    if !unexpected.is_empty() {
        msg.push(format!("unexpected argument(s): {}", unexpected.join(", ")));
    }
    if msg.is_empty() {
        Ok(())
    } else {
        Err(msg.join("; "))
    }
}

/// How a rule failed validation: a schema error (worded as `jsonschema`
/// words it, the caller adds its prefix) or a rule error.
#[derive(Debug, PartialEq, Eq)]
pub enum RuleInvalid {
    Schema(String),
    Rule(String),
}

fn type_error(v: &Value, types: &str) -> RuleInvalid {
    RuleInvalid::Schema(format!("{} is not of type {types}", python_repr(v)))
}

fn enum_error(v: &Value, names: &[String]) -> RuleInvalid {
    let listed: Vec<Value> = names.iter().map(|n| json!(n)).collect();
    RuleInvalid::Schema(format!(
        "{} is not one of {}",
        python_repr(v),
        python_repr(&Value::Array(listed))
    ))
}

const RULE_KEYS: &[&str] = &[
    "actions",
    "conditions",
    "description",
    "phase",
    "priority",
    "sensitive",
    "uuid",
];

fn is_integer(v: &Value) -> bool {
    match v {
        Value::Number(n) => {
            n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => false,
    }
}

/// Ironic's `create_request_body` schema, the shallowest error first.
fn check_schema(rule: &Map<String, Value>) -> Result<(), RuleInvalid> {
    let extra: Vec<&str> = rule
        .keys()
        .map(String::as_str)
        .filter(|k| !RULE_KEYS.contains(k))
        .collect();
    if !extra.is_empty() {
        let quoted: Vec<String> = extra.iter().map(|k| format!("'{k}'")).collect();
        let verb = if extra.len() == 1 { "was" } else { "were" };
        return Err(RuleInvalid::Schema(format!(
            "Additional properties are not allowed ({} {verb} unexpected)",
            quoted.join(", ")
        )));
    }
    let Some(actions) = rule.get("actions") else {
        return Err(RuleInvalid::Schema(
            "'actions' is a required property".into(),
        ));
    };
    let actions = actions
        .as_array()
        .ok_or_else(|| type_error(actions, "'array'"))?;
    let conditions = match rule.get("conditions") {
        None => None,
        Some(Value::Array(c)) => Some(c),
        Some(other) => return Err(type_error(other, "'array'")),
    };
    for (key, max) in [("description", 255), ("phase", 16)] {
        match rule.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.chars().count() > max => {
                return Err(RuleInvalid::Schema(format!(
                    "{} is too long",
                    python_repr(&json!(s))
                )))
            }
            Some(Value::String(_)) => {}
            Some(other) => return Err(type_error(other, "'string', 'null'")),
        }
    }
    if let Some(p) = rule.get("priority") {
        if !is_integer(p) {
            return Err(type_error(p, "'integer'"));
        }
        if p.as_f64().is_some_and(|p| p < 0.0) {
            return Err(RuleInvalid::Schema(format!(
                "{} is less than the minimum of 0",
                python_repr(p)
            )));
        }
    }
    match rule.get("sensitive") {
        None | Some(Value::Null) | Some(Value::Bool(_)) => {}
        Some(other) => return Err(type_error(other, "'boolean', 'null'")),
    }
    match rule.get("uuid") {
        None | Some(Value::Null) | Some(Value::String(_)) => {}
        Some(other) => return Err(type_error(other, "'string', 'null'")),
    }
    if actions.is_empty() {
        return Err(RuleInvalid::Schema("[] should be non-empty".into()));
    }
    let action_names: Vec<String> = ACTIONS.iter().map(|s| s.to_string()).collect();
    let condition_names: Vec<String> = OPERATORS
        .iter()
        .map(|s| s.to_string())
        .chain(OPERATORS.iter().map(|s| format!("!{s}")))
        .collect();
    let multiples: Vec<String> = ["any", "all", "first", "last"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let items = actions.iter().map(|a| (a, &action_names, false)).chain(
        conditions
            .into_iter()
            .flatten()
            .map(|c| (c, &condition_names, true)),
    );
    for (item, names, is_condition) in items {
        let Value::Object(m) = item else {
            return Err(type_error(item, "'object'"));
        };
        for key in ["op", "args"] {
            if !m.contains_key(key) {
                return Err(RuleInvalid::Schema(format!(
                    "'{key}' is a required property"
                )));
            }
        }
        let op = &m["op"];
        if !op.as_str().is_some_and(|o| names.iter().any(|n| n == o)) {
            return Err(enum_error(op, names));
        }
        for key in ["args", "loop"] {
            if let Some(v) = m.get(key) {
                if !(v.is_array() || v.is_object()) {
                    return Err(type_error(v, "'array', 'object'"));
                }
            }
        }
        if is_condition {
            if let Some(v) = m.get("multiple") {
                if !v.as_str().is_some_and(|s| multiples.iter().any(|n| n == s)) {
                    return Err(enum_error(v, &multiples));
                }
            }
        }
    }
    Ok(())
}

/// Ironic's `validate_rule`. `rule` is the body (or the patched rule); its
/// arguments are normalized in place as Ironic stores them.
pub fn validate_rule(rule: &mut Map<String, Value>, built_in: bool) -> Result<(), RuleInvalid> {
    check_schema(rule)?;
    let mut errors = Vec::new();
    let phase = rule
        .get("phase")
        .cloned()
        .unwrap_or_else(|| json!(DEFAULT_PHASE));
    if !phase.as_str().is_some_and(|p| PHASES.contains(&p)) {
        errors.push(format!(
            "Invalid phase: {}. Valid phases are: {}",
            py_str(&phase),
            PHASES.join(", ")
        ));
    }
    let priority = rule.get("priority").and_then(Value::as_f64).unwrap_or(0.0);
    if priority < 0.0 && !built_in {
        errors.push("Priority cannot be negative for user-defined rules.".into());
    }
    if priority > MAX_USER_PRIORITY as f64 && !built_in {
        errors.push("Priority must be between 0 and 9999 for user-defined rules.".into());
    }
    // The first bad argument list stops validation, as in Ironic.
    if let Some(Value::Array(conditions)) = rule.get_mut("conditions") {
        for c in conditions.iter_mut() {
            let (op, _) = parse_inverted_operator(c["op"].as_str().unwrap_or_default())
                .map_err(RuleInvalid::Rule)?;
            let s = operator_signature(&op)
                .ok_or_else(|| RuleInvalid::Rule(format!("Unsupported operator '{op}'.")))?;
            validate_args(&s, &mut c["args"]).map_err(RuleInvalid::Rule)?;
        }
    }
    if let Some(Value::Array(actions)) = rule.get_mut("actions") {
        for a in actions.iter_mut() {
            let op = a["op"].as_str().unwrap_or_default().to_string();
            let s = action_signature(&op)
                .ok_or_else(|| RuleInvalid::Rule(format!("Unsupported action '{op}'.")))?;
            validate_args(&s, &mut a["args"]).map_err(RuleInvalid::Rule)?;
        }
    }
    match errors.len() {
        0 => Ok(()),
        1 => Err(RuleInvalid::Rule(errors.remove(0))),
        _ => Err(RuleInvalid::Rule(format!(
            "Multiple validation errors occurred: {}",
            errors.join("; ")
        ))),
    }
}

/// A condition or action as the API shows it: `op`, `args`, and `loop`
/// when one is set (conditions add `multiple`, `any` by default).
pub fn view_step(step: &Value, condition: bool) -> Value {
    let mut out = Map::new();
    out.insert("op".into(), step["op"].clone());
    out.insert("args".into(), step["args"].clone());
    if truthy(step.get("loop")) {
        out.insert("loop".into(), step["loop"].clone());
        if condition {
            out.insert(
                "multiple".into(),
                step.get("multiple").cloned().unwrap_or(json!("any")),
            );
        }
    }
    Value::Object(out)
}

/// Python truthiness of an optional JSON value.
pub fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(m)) => !m.is_empty(),
        Some(Value::Bool(true)) => true,
    }
}

/// A rule as the engine runs it.
#[derive(Clone, Debug)]
pub struct Rule {
    pub uuid: String,
    pub priority: i64,
    pub sensitive: bool,
    pub conditions: Vec<Value>,
    pub actions: Vec<Value>,
}

/// `[inspection_rules]mask_secrets`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaskSecrets {
    Always,
    Never,
    Sensitive,
}

impl MaskSecrets {
    pub fn parse(raw: &str) -> Option<MaskSecrets> {
        match raw {
            "always" => Some(MaskSecrets::Always),
            "never" => Some(MaskSecrets::Never),
            "sensitive" => Some(MaskSecrets::Sensitive),
            _ => None,
        }
    }
}

/// What rules read and change: the node's attributes (every column, JSON
/// ones decoded), its traits and its ports (each a map of attributes).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Subject {
    pub node: Map<String, Value>,
    pub traits: Vec<String>,
    pub ports: Vec<Map<String, Value>>,
}

/// How a field of a node or port may be written by a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    Json,
    Text,
    RequiredText,
    Bool,
}

/// Node attributes rules may write.
pub const NODE_WRITABLE: &[(&str, FieldKind)] = &[
    ("properties", FieldKind::Json),
    ("extra", FieldKind::Json),
    ("driver_info", FieldKind::Json),
    ("instance_info", FieldKind::Json),
    ("network_data", FieldKind::Json),
    ("driver", FieldKind::RequiredText),
    ("name", FieldKind::Text),
    ("description", FieldKind::Text),
    ("resource_class", FieldKind::Text),
    ("owner", FieldKind::Text),
    ("lessee", FieldKind::Text),
    ("shard", FieldKind::Text),
    ("parent_node", FieldKind::Text),
    ("bios_interface", FieldKind::Text),
    ("boot_interface", FieldKind::Text),
    ("console_interface", FieldKind::Text),
    ("deploy_interface", FieldKind::Text),
    ("firmware_interface", FieldKind::Text),
    ("inspect_interface", FieldKind::Text),
    ("management_interface", FieldKind::Text),
    ("network_interface", FieldKind::Text),
    ("power_interface", FieldKind::Text),
    ("raid_interface", FieldKind::Text),
    ("rescue_interface", FieldKind::Text),
    ("storage_interface", FieldKind::Text),
    ("vendor_interface", FieldKind::Text),
];

/// Port attributes rules may write.
pub const PORT_WRITABLE: &[(&str, FieldKind)] = &[
    ("extra", FieldKind::Json),
    ("local_link_connection", FieldKind::Json),
    ("name", FieldKind::Text),
    ("description", FieldKind::Text),
    ("physical_network", FieldKind::Text),
    ("category", FieldKind::Text),
    ("vendor", FieldKind::Text),
    ("pxe_enabled", FieldKind::Bool),
    ("is_smartnic", FieldKind::Bool),
];

/// Why applying the rules failed; the text is what Ironic records after
/// "Failed to finish inspection: ".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleFailure(pub String);

impl std::fmt::Display for RuleFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An error inside one rule: Ironic's own exceptions keep their message,
/// anything else is wrapped with the rule and node.
enum StepError {
    Ironic(String),
    Other(String),
}

fn action_failure(reason: String) -> StepError {
    StepError::Ironic(format!(
        "Inspection rule action execution failed. Reason: {reason}"
    ))
}

fn masked(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    if SENSITIVE_FIELDS.contains(&k.as_str()) {
                        (k.clone(), json!("***"))
                    } else {
                        (k.clone(), masked(v))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(masked).collect()),
        other => other.clone(),
    }
}

/// What a step's arguments are interpolated against.
struct Views<'a> {
    node: &'a Map<String, Value>,
    inventory: &'a Value,
    plugin_data: &'a Value,
}

fn safe_format(s: &str, views: &Views<'_>, item: Option<&Value>, op: &str) -> Value {
    let ctx = Context {
        node: views.node,
        inventory: views.inventory,
        plugin_data: views.plugin_data,
        item,
    };
    match pyformat::format(s, &ctx) {
        Ok(out) => Value::String(out),
        Err(FormatError::Key(_)) if op == "is-empty" => Value::Null,
        Err(e) => {
            tracing::warn!(value = %s, error = ?e, "inspection rule interpolation failed");
            Value::String(s.to_string())
        }
    }
}

/// Ironic's `interpolate_variables`.
fn interpolate(value: &Value, views: &Views<'_>, item: Option<&Value>, op: &str) -> Value {
    let mut value = value.clone();
    if item.is_some() {
        if let Value::String(s) = &value {
            value = safe_format(s, views, item, op);
        }
    }
    match &value {
        Value::String(s) => safe_format(s, views, item, op),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let key = match safe_format(k, views, item, op) {
                        Value::String(k2) => k2,
                        _ => k.clone(),
                    };
                    (key, interpolate(v, views, item, op))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| match v {
                    Value::String(s) => safe_format(s, views, item, op),
                    other => interpolate(other, views, item, op),
                })
                .collect(),
        ),
        _ => value,
    }
}

/// Named, interpolated arguments of a step (`plugin_data` excluded: the
/// engine passes the real one).
fn process_args(
    s: &Signature,
    step: &Value,
    views: &Views<'_>,
    item: Option<&Value>,
    op: &str,
) -> Result<Map<String, Value>, StepError> {
    let raw = step.get("args").cloned().unwrap_or_else(|| json!({}));
    let mut named = normalize_args(s, &raw).map_err(StepError::Other)?;
    named.remove("plugin_data");
    let missing: Vec<&str> = s
        .required
        .iter()
        .copied()
        .filter(|k| *k != "plugin_data" && !named.contains_key(*k))
        .collect();
    if !missing.is_empty() {
        return Err(StepError::Other(format!(
            "missing required argument(s): {}",
            missing.join(", ")
        )));
    }
    Ok(named
        .into_iter()
        .map(|(k, v)| {
            let v = if item.is_some() || s.formatted.contains(&k.as_str()) {
                interpolate(&v, views, item, op)
            } else {
                v
            };
            (k, v)
        })
        .collect())
}

/// Python's `==` between JSON values (`1 == 1.0 == True`).
pub fn py_eq(a: &Value, b: &Value) -> bool {
    match (py_number(a), py_number(b)) {
        (Some(x), Some(y)) => return x == y,
        (Some(_), None) | (None, Some(_)) => return false,
        _ => {}
    }
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| py_eq(v, w)))
        }
        _ => a == b,
    }
}

fn py_number(v: &Value) -> Option<f64> {
    match v {
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

/// Python's ordering of two values, or its TypeError.
fn py_cmp(a: &Value, b: &Value) -> Result<Ordering, String> {
    if let (Some(x), Some(y)) = (py_number(a), py_number(b)) {
        return x.partial_cmp(&y).ok_or_else(|| "nan".to_string());
    }
    match (a, b) {
        (Value::String(x), Value::String(y)) => Ok(x.cmp(y)),
        (Value::Array(x), Value::Array(y)) => {
            for (p, q) in x.iter().zip(y) {
                if !py_eq(p, q) {
                    return py_cmp(p, q);
                }
            }
            Ok(x.len().cmp(&y.len()))
        }
        _ => Err(format!(
            "'<' not supported between instances of '{}' and '{}'",
            py_type(a),
            py_type(b)
        )),
    }
}

fn py_type(v: &Value) -> &'static str {
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

fn arg<'a>(args: &'a Map<String, Value>, name: &str) -> &'a Value {
    args.get(name).unwrap_or(&Value::Null)
}

fn compile_regex(pattern: &str) -> Result<regex::Regex, StepError> {
    regex::Regex::new(pattern)
        .map_err(|e| StepError::Ironic(format!("invalid regular expression: {e}")))
}

/// `netaddr.IPNetwork(subnet)` contains `IPAddress(address)`.
fn in_net(address: &Value, subnet: &Value) -> Result<bool, StepError> {
    let subnet = py_str(subnet);
    let (net, prefix) = match subnet.split_once('/') {
        Some((n, p)) => (n.to_string(), Some(p.to_string())),
        None => (subnet.clone(), None),
    };
    let invalid = || StepError::Ironic(format!("invalid value: invalid IPNetwork {subnet}"));
    let net: std::net::IpAddr = net.parse().map_err(|_| invalid())?;
    let bits = if net.is_ipv4() { 32 } else { 128 };
    let prefix: u32 = match prefix {
        Some(p) => p.parse().ok().filter(|p| *p <= bits).ok_or_else(invalid)?,
        None => bits,
    };
    let address = py_str(address);
    let addr: std::net::IpAddr = address.parse().map_err(|_| {
        StepError::Other(format!(
            "failed to detect a valid IP address from '{address}'"
        ))
    })?;
    let to_bits = |ip: std::net::IpAddr| -> u128 {
        match ip {
            std::net::IpAddr::V4(v4) => u128::from(u32::from(v4)),
            std::net::IpAddr::V6(v6) => u128::from(v6),
        }
    };
    if addr.is_ipv4() != net.is_ipv4() {
        return Ok(false);
    }
    let mask: u128 = if prefix == 0 {
        0
    } else {
        (!0u128 << (bits - prefix))
            & if bits == 32 {
                u128::from(u32::MAX)
            } else {
                !0u128
            }
    };
    Ok(to_bits(addr) & mask == to_bits(net) & mask)
}

/// Evaluates one operator on processed arguments (before inversion).
fn operator(op: &str, args: &Map<String, Value>) -> Result<bool, StepError> {
    match op {
        "eq" | "lt" | "gt" => {
            let Value::Array(values) = arg(args, "values") else {
                let values = arg(args, "values");
                return Err(StepError::Ironic(format!(
                    "Inspection rule condition check failed. Reason: Failed to check condition: '{op}' on values: {}: Expected list for 'values', got: {}",
                    py_str(values),
                    py_type(values)
                )));
            };
            if values.len() < 2 {
                return Ok(true);
            }
            let values: Vec<Value> = if truthy(args.get("force_strings")) {
                values.iter().map(|v| json!(py_str(v))).collect()
            } else {
                values.clone()
            };
            for pair in values.windows(2) {
                let holds = match op {
                    "eq" => py_eq(&pair[0], &pair[1]),
                    "lt" => py_cmp(&pair[0], &pair[1]).map_err(StepError::Other)? == Ordering::Less,
                    _ => py_cmp(&pair[0], &pair[1]).map_err(StepError::Other)? == Ordering::Greater,
                };
                if !holds {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        "is-empty" => Ok(["", "None", "[]", "{}"].contains(&py_str(arg(args, "value")).as_str())),
        "in-net" => in_net(arg(args, "address"), arg(args, "subnet")),
        "is-true" => Ok(match arg(args, "value") {
            Value::Bool(b) => *b,
            Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
            Value::String(s) => ["yes", "true"].contains(&s.to_lowercase().as_str()),
            _ => false,
        }),
        "is-false" => Ok(match arg(args, "value") {
            Value::Bool(b) => !*b,
            Value::Number(n) => n.as_f64().is_some_and(|f| f == 0.0),
            Value::String(s) => ["no", "false"].contains(&s.to_lowercase().as_str()),
            Value::Null => true,
            _ => false,
        }),
        "is-none" => Ok(arg(args, "value").is_null()),
        "one-of" => {
            let value = arg(args, "value");
            Ok(match args.get("values") {
                None => false,
                Some(Value::Array(items)) => items.iter().any(|v| py_eq(v, value)),
                Some(Value::Object(m)) => value.as_str().is_some_and(|k| m.contains_key(k)),
                Some(Value::String(s)) => match value {
                    Value::String(v) => s.contains(v.as_str()),
                    other => {
                        return Err(StepError::Other(format!(
                            "'in <string>' requires string as left operand, not {}",
                            py_type(other)
                        )))
                    }
                },
                Some(other) => {
                    return Err(StepError::Other(format!(
                        "argument of type '{}' is not iterable",
                        py_type(other)
                    )))
                }
            })
        }
        "matches" | "contains" => {
            let Value::String(pattern) = arg(args, "regex") else {
                return Err(StepError::Other("regex must be a string".into()));
            };
            let value = py_str(arg(args, "value"));
            if op == "matches" {
                let mut anchored = pattern.clone();
                if !anchored.ends_with('$') {
                    anchored.push('$');
                }
                Ok(compile_regex(&format!("^(?:{anchored})"))?.is_match(&value))
            } else {
                Ok(compile_regex(pattern)?.is_match(&value))
            }
        }
        other => Err(StepError::Other(format!(
            "Unsupported operator: '{other}'. Supported operators are: {}.",
            OPERATORS.join(", ")
        ))),
    }
}

/// Loop items of a step: a dict is one item; an empty loop is none.
fn loop_items(step: &Value) -> Option<Vec<Value>> {
    match step.get("loop") {
        Some(Value::Array(items)) if !items.is_empty() => Some(items.clone()),
        Some(v @ Value::Object(m)) if !m.is_empty() => Some(vec![v.clone()]),
        _ => None,
    }
}

fn check_condition(condition: &Value, views: &Views<'_>) -> Result<bool, StepError> {
    let (op, inverted) = parse_inverted_operator(condition["op"].as_str().unwrap_or_default())
        .map_err(StepError::Other)?;
    let s = operator_signature(&op).ok_or_else(|| {
        StepError::Other(format!(
            "Unsupported operator: '{op}'. Supported operators are: {}.",
            OPERATORS.join(", ")
        ))
    })?;
    let check = |item: Option<&Value>| -> Result<bool, StepError> {
        let mut args = process_args(&s, condition, views, item, &op)?;
        if item.is_some() && s.optional.contains(&"force_strings") {
            args.insert("force_strings".into(), json!(true));
        }
        let result = operator(&op, &args)?;
        Ok(result != inverted)
    };
    let Some(items) = loop_items(condition) else {
        return check(None);
    };
    let multiple = condition
        .get("multiple")
        .and_then(Value::as_str)
        .unwrap_or("any");
    let is_dict = condition["loop"].is_object();
    let mut results = Vec::new();
    for item in &items {
        let result = check(Some(item))?;
        if is_dict {
            results.push(result);
            if matches!(multiple, "first" | "last") {
                return Ok(result);
            }
            break;
        }
        results.push(result);
        if multiple == "first" && result {
            return Ok(true);
        }
        if multiple == "last" {
            results = vec![result];
        }
    }
    Ok(match multiple {
        "any" => results.iter().any(|r| *r),
        "all" => results.iter().all(|r| *r),
        _ => results.first().copied().unwrap_or(false),
    })
}

/// Ironic's `normalize_path`: slashes if there are any, else dots.
fn path_parts(path: &Value) -> Result<Vec<String>, String> {
    let Value::String(path) = path else {
        return Err(format!(
            "'{}' object has no attribute 'split'",
            py_type(path)
        ));
    };
    Ok(if path.contains('/') {
        path.trim_matches('/')
            .split('/')
            .map(str::to_string)
            .collect()
    } else {
        path.split('.').map(str::to_string).collect()
    })
}

/// A value as a field of `kind` would store it (oslo's coercion).
fn coerce(kind: FieldKind, name: &str, value: Value) -> Result<Value, String> {
    match (kind, value) {
        (FieldKind::Json, Value::Object(m)) => Ok(Value::Object(m)),
        (FieldKind::Json, Value::Null) => Ok(json!({})),
        (FieldKind::Json, Value::String(s)) => match serde_json::from_str::<Value>(&s) {
            Ok(v @ Value::Object(_)) => Ok(v),
            _ => Err(format!(
                "Field `{name}' cannot be set to {}",
                python_repr(&json!(s))
            )),
        },
        (FieldKind::Text | FieldKind::RequiredText, v @ Value::String(_)) => Ok(v),
        (FieldKind::Text, Value::Null) => Ok(Value::Null),
        (FieldKind::Text | FieldKind::RequiredText, v @ (Value::Number(_) | Value::Bool(_))) => {
            Ok(json!(py_str(&v)))
        }
        (FieldKind::Bool, v) => Ok(json!(truthy(Some(&v)))),
        (_, v) => Err(format!(
            "Field `{name}' cannot be assigned a value of type {}",
            py_type(&v)
        )),
    }
}

fn kind_of(table: &[(&str, FieldKind)], name: &str) -> Result<FieldKind, String> {
    table
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, k)| *k)
        .ok_or_else(|| format!("attribute '{name}' cannot be changed by inspection rules"))
}

/// The container `parts[1..len-1]` names inside the JSON attribute
/// `parts[0]`, created on the way (`setdefault`).
fn container<'a>(
    target: &'a mut Map<String, Value>,
    table: &[(&str, FieldKind)],
    parts: &[String],
    create: bool,
) -> Result<&'a mut Map<String, Value>, String> {
    let kind = kind_of(table, &parts[0])?;
    if kind != FieldKind::Json {
        return Err(format!(
            "'{}' object does not support item assignment",
            py_type(target.get(&parts[0]).unwrap_or(&Value::Null))
        ));
    }
    let mut current = target.entry(parts[0].clone()).or_insert_with(|| json!({}));
    if current.is_null() {
        *current = json!({});
    }
    for part in &parts[1..parts.len() - 1] {
        let Value::Object(m) = current else {
            return Err(format!(
                "'{}' object has no attribute 'setdefault'",
                py_type(current)
            ));
        };
        current = if create {
            m.entry(part.clone()).or_insert_with(|| json!({}))
        } else {
            m.get_mut(part).ok_or_else(|| format!("'{part}'"))?
        };
    }
    match current {
        Value::Object(m) => Ok(m),
        other => Err(format!(
            "'{}' object does not support item assignment",
            py_type(other)
        )),
    }
}

fn set_attribute(
    target: &mut Map<String, Value>,
    table: &[(&str, FieldKind)],
    path: &Value,
    value: Value,
) -> Result<(), String> {
    let parts = path_parts(path)?;
    if parts.len() == 1 {
        let kind = kind_of(table, &parts[0])?;
        target.insert(parts[0].clone(), coerce(kind, &parts[0], value)?);
        return Ok(());
    }
    let last = parts[parts.len() - 1].clone();
    container(target, table, &parts, true)?.insert(last, value);
    Ok(())
}

fn extend_attribute(
    target: &mut Map<String, Value>,
    table: &[(&str, FieldKind)],
    path: &Value,
    value: Value,
    unique: bool,
) -> Result<(), String> {
    let parts = path_parts(path)?;
    let last = parts[parts.len() - 1].clone();
    let list = if parts.len() == 1 {
        kind_of(table, &last)?;
        target.entry(last.clone()).or_insert_with(|| json!([]))
    } else {
        container(target, table, &parts, true)?
            .entry(last)
            .or_insert_with(|| json!([]))
    };
    let Value::Array(items) = list else {
        return Err(format!(
            "Cannot extend non-list attribute {} with value {}",
            py_str(path),
            py_str(&value)
        ));
    };
    if !unique || !items.iter().any(|v| py_eq(v, &value)) {
        items.push(value);
    }
    Ok(())
}

fn del_attribute(
    target: &mut Map<String, Value>,
    table: &[(&str, FieldKind)],
    path: &Value,
) -> Result<(), String> {
    let parts = path_parts(path)?;
    if parts.len() == 1 {
        let kind = kind_of(table, &parts[0])?;
        let reset = match kind {
            FieldKind::Json => json!({}),
            FieldKind::Bool => json!(false),
            FieldKind::RequiredText => return Err(format!("Field `{}' cannot be None", parts[0])),
            FieldKind::Text => Value::Null,
        };
        target.insert(parts[0].clone(), reset);
        return Ok(());
    }
    let last = &parts[parts.len() - 1];
    container(target, table, &parts, false)?
        .remove(last)
        .map(|_| ())
        .ok_or_else(|| format!("'{last}'"))
}

fn plugin_keys(path: &Value) -> Result<Vec<String>, String> {
    match path {
        Value::String(s) => Ok(s.split('.').map(str::to_string).collect()),
        other => Err(format!("'{}' object is not iterable", py_type(other))),
    }
}

/// Ironic's `update_nested_dict`.
fn set_nested(data: &mut Value, keys: &[String], value: Value) -> Result<(), String> {
    let mut current = data;
    for key in &keys[..keys.len() - 1] {
        let Value::Object(m) = current else {
            return Err(format!(
                "'{}' object has no attribute 'setdefault'",
                py_type(current)
            ));
        };
        current = m.entry(key.clone()).or_insert_with(|| json!({}));
    }
    match current {
        Value::Object(m) => {
            m.insert(keys[keys.len() - 1].clone(), value);
            Ok(())
        }
        other => Err(format!(
            "'{}' object does not support item assignment",
            py_type(other)
        )),
    }
}

fn get_nested<'a>(data: &'a Value, keys: &[String]) -> Option<&'a Value> {
    keys.iter().try_fold(data, |cur, k| cur.get(k))
}

/// Ironic's `_unset_nested_dict`, quirks included: removing the only key of
/// a nested dict removes that dict from its parent.
fn unset_nested(data: &mut Value, keys: &[String]) -> bool {
    let parent_len = keys.len() - 1;
    let Some(holder) = keys[..parent_len]
        .iter()
        .try_fold(&*data, |cur, k| cur.as_object().and_then(|m| m.get(k)))
    else {
        return false;
    };
    let Some(m) = holder.as_object() else {
        return false;
    };
    let target = &keys[parent_len];
    if !m.contains_key(target) {
        return false;
    }
    let only = m.len() == 1;
    if only && keys.len() > 1 {
        let grand = keys[..keys.len() - 2]
            .iter()
            .try_fold(&mut *data, |cur, k| cur.get_mut(k));
        if let Some(Value::Object(g)) = grand {
            g.remove(&keys[keys.len() - 2]);
        }
    } else {
        let holder = keys[..parent_len]
            .iter()
            .try_fold(&mut *data, |cur, k| cur.get_mut(k));
        if let Some(Value::Object(h)) = holder {
            h.remove(target);
        }
    }
    true
}

fn port_mut<'a>(
    subject: &'a mut Subject,
    port_id: &Value,
) -> Result<&'a mut Map<String, Value>, StepError> {
    let id = py_str(port_id);
    subject
        .ports
        .iter_mut()
        .find(|p| p.get("uuid").and_then(Value::as_str) == Some(id.as_str()))
        .ok_or_else(|| StepError::Ironic(format!("Port {id} could not be found.")))
}

fn capabilities(node: &Map<String, Value>) -> String {
    node.get("properties")
        .and_then(|p| p.get("capabilities"))
        .map(py_str)
        .unwrap_or_default()
}

fn set_capabilities(node: &mut Map<String, Value>, caps: String) {
    let props = node.entry("properties").or_insert_with(|| json!({}));
    if !props.is_object() {
        *props = json!({});
    }
    props["capabilities"] = json!(caps);
}

fn run_action(
    op: &str,
    args: &Map<String, Value>,
    subject: &mut Subject,
    plugin_data: &mut Value,
) -> Result<(), StepError> {
    let unique = truthy(args.get("unique"));
    let value = || arg(args, "value").clone();
    match op {
        "fail" => Err(StepError::Ironic(format!(
            "Failed to inspect hardware. Reason: {}",
            py_str(arg(args, "msg"))
        ))),
        "log" => {
            let level = match args.get("level") {
                None => "info".to_string(),
                Some(Value::String(l)) => l.to_lowercase(),
                Some(other) => {
                    return Err(StepError::Other(format!(
                        "'{}' object has no attribute 'lower'",
                        py_type(other)
                    )))
                }
            };
            let msg = py_str(arg(args, "msg"));
            match level.as_str() {
                "debug" => tracing::debug!(target: "berth::inspection::rules", "{msg}"),
                "info" => tracing::info!(target: "berth::inspection::rules", "{msg}"),
                "warning" => tracing::warn!(target: "berth::inspection::rules", "{msg}"),
                "error" | "critical" => {
                    tracing::error!(target: "berth::inspection::rules", "{msg}")
                }
                _ => {
                    return Err(StepError::Ironic(format!(
                        "Invalid log level: {level}. Choose from {{{}}}",
                        LOG_LEVELS
                            .iter()
                            .map(|l| format!("'{l}'"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )))
                }
            }
            Ok(())
        }
        "set-attribute" => {
            set_attribute(&mut subject.node, NODE_WRITABLE, arg(args, "path"), value()).map_err(
                |e| {
                    action_failure(format!(
                        "Failed to set attribute {} with value {}: {e}",
                        py_str(arg(args, "path")),
                        py_str(arg(args, "value"))
                    ))
                },
            )
        }
        "extend-attribute" => extend_attribute(
            &mut subject.node,
            NODE_WRITABLE,
            arg(args, "path"),
            value(),
            unique,
        )
        .map_err(|e| {
            action_failure(format!(
                "Failed to extend attribute {}: {e}",
                py_str(arg(args, "path"))
            ))
        }),
        "del-attribute" => del_attribute(&mut subject.node, NODE_WRITABLE, arg(args, "path"))
            .map_err(|e| {
                action_failure(format!(
                    "Failed to delete attribute at {}: {e}",
                    py_str(arg(args, "path"))
                ))
            }),
        "add-trait" => {
            let name = py_str(arg(args, "name"));
            if !subject.traits.contains(&name) {
                subject.traits.push(name);
            }
            Ok(())
        }
        "remove-trait" => {
            let name = py_str(arg(args, "name"));
            if !subject.traits.contains(&name) {
                tracing::warn!(trait_name = %name, "inspection rule: the node has no such trait");
            }
            subject.traits.retain(|t| *t != name);
            Ok(())
        }
        "set-capability" => {
            let (Value::String(name), Value::String(v)) = (arg(args, "name"), arg(args, "value"))
            else {
                return Err(action_failure(format!(
                    "Failed to set capability {}: sequence item 1: expected str instance, {} found",
                    py_str(arg(args, "name")),
                    py_type(arg(args, "value"))
                )));
            };
            let current = capabilities(&subject.node);
            let new = format!("{name}:{v}");
            let caps = if current.is_empty() {
                new
            } else {
                format!("{current},{new}")
            };
            set_capabilities(&mut subject.node, caps);
            Ok(())
        }
        "unset-capability" => {
            let name = py_str(arg(args, "name"));
            let prefix = format!("{name}:");
            let kept: Vec<String> = capabilities(&subject.node)
                .split(',')
                .filter(|c| !c.starts_with(&prefix))
                .map(str::to_string)
                .collect();
            set_capabilities(&mut subject.node, kept.join(","));
            Ok(())
        }
        "set-plugin-data" => {
            let keys = plugin_keys(arg(args, "path")).map_err(StepError::Other)?;
            set_nested(plugin_data, &keys, value()).map_err(|e| {
                action_failure(format!(
                    "Failed to set plugin data at {}: {e}",
                    py_str(arg(args, "path"))
                ))
            })
        }
        "extend-plugin-data" => {
            let keys = plugin_keys(arg(args, "path")).map_err(StepError::Other)?;
            let fail = |e: String| {
                action_failure(format!(
                    "Failed to extend plugin data at {}: {e}",
                    py_str(arg(args, "path"))
                ))
            };
            let existing = get_nested(plugin_data, &keys)
                .filter(|v| truthy(Some(v)))
                .cloned()
                .unwrap_or_else(|| json!([]));
            let Value::Array(mut items) = existing else {
                return Err(fail(format!(
                    "'{}' object has no attribute 'append'",
                    py_type(&existing)
                )));
            };
            if !unique || !items.iter().any(|v| py_eq(v, &value())) {
                items.push(value());
            }
            set_nested(plugin_data, &keys, Value::Array(items)).map_err(fail)
        }
        "unset-plugin-data" => {
            let keys = plugin_keys(arg(args, "path")).map_err(StepError::Other)?;
            if !unset_nested(plugin_data, &keys) {
                tracing::warn!(path = %py_str(arg(args, "path")), "inspection rule: plugin data path not found");
            }
            Ok(())
        }
        "set-port-attribute" | "extend-port-attribute" | "del-port-attribute" => {
            let path = arg(args, "path");
            let port_id = py_str(arg(args, "port_id"));
            let port = port_mut(subject, arg(args, "port_id"))?;
            let (result, what) = match op {
                "set-port-attribute" => (
                    set_attribute(port, PORT_WRITABLE, path, value()),
                    "set attribute",
                ),
                "extend-port-attribute" => (
                    extend_attribute(port, PORT_WRITABLE, path, value(), unique),
                    "extend attribute",
                ),
                _ => (del_attribute(port, PORT_WRITABLE, path), "delete attribute"),
            };
            result.map_err(|e| {
                action_failure(format!(
                    "Failed to {what} {} for port {port_id}: {e}",
                    py_str(path)
                ))
            })
        }
        "api-call" => Err(action_failure(format!(
            "Request to {} failed: api-call actions are not supported by Berth",
            py_str(arg(args, "url"))
        ))),
        other => Err(StepError::Other(format!(
            "Unsupported action: '{other}'. Supported actions are: {}.",
            ACTIONS.join(", ")
        ))),
    }
}

fn apply_action(
    action: &Value,
    subject: &mut Subject,
    inventory: &Value,
    plugin_data: &mut Value,
    mask: bool,
) -> Result<(), StepError> {
    let op = action["op"].as_str().unwrap_or_default().to_string();
    let s = action_signature(&op).ok_or_else(|| {
        StepError::Other(format!(
            "Unsupported action: '{op}'. Supported actions are: {}.",
            ACTIONS.join(", ")
        ))
    })?;
    let items = loop_items(action);
    let runs: Vec<Option<Value>> = match items {
        Some(items) => items.into_iter().map(Some).collect(),
        None => vec![None],
    };
    for item in runs {
        let node_view = subject.node.clone();
        let (inv_view, pd_view) = if mask {
            (masked(inventory), masked(plugin_data))
        } else {
            (inventory.clone(), plugin_data.clone())
        };
        let views = Views {
            node: &node_view,
            inventory: &inv_view,
            plugin_data: &pd_view,
        };
        let args = process_args(&s, action, &views, item.as_ref(), &op)?;
        run_action(&op, &args, subject, plugin_data)?;
    }
    Ok(())
}

/// Ironic's `apply_rules`: every rule, highest priority first (ties keep
/// their order), whose conditions all hold has its actions applied. The
/// first failure stops everything.
pub fn apply_rules(
    rules: &[Rule],
    subject: &mut Subject,
    inventory: &Value,
    plugin_data: &mut Value,
    mask_secrets: MaskSecrets,
) -> Result<(), RuleFailure> {
    let mut ordered: Vec<&Rule> = rules.iter().collect();
    ordered.sort_by_key(|r| std::cmp::Reverse(r.priority));
    let node_uuid = subject.node.get("uuid").map(py_str).unwrap_or_default();
    for rule in ordered {
        let mask = match mask_secrets {
            MaskSecrets::Always => true,
            MaskSecrets::Never => false,
            MaskSecrets::Sensitive => !rule.sensitive,
        };
        let result = (|| -> Result<bool, StepError> {
            let (inv_view, pd_view) = if mask {
                (masked(inventory), masked(plugin_data))
            } else {
                (inventory.clone(), plugin_data.clone())
            };
            let node_view = subject.node.clone();
            let views = Views {
                node: &node_view,
                inventory: &inv_view,
                plugin_data: &pd_view,
            };
            for condition in &rule.conditions {
                if !check_condition(condition, &views)? {
                    tracing::debug!(rule = %rule.uuid, node = %node_uuid, "inspection rule skipped: a condition failed");
                    return Ok(false);
                }
            }
            tracing::info!(rule = %rule.uuid, node = %node_uuid, "applying inspection rule");
            for action in &rule.actions {
                apply_action(action, subject, inventory, plugin_data, mask)?;
            }
            Ok(true)
        })();
        match result {
            Ok(_) => {}
            Err(StepError::Ironic(msg)) => {
                tracing::error!(rule = %rule.uuid, node = %node_uuid, error = %msg, "inspection rule failed");
                return Err(RuleFailure(msg));
            }
            Err(StepError::Other(msg)) => {
                return Err(RuleFailure(format!(
                    "Failed to apply rule {} to node {node_uuid}: {msg}",
                    rule.uuid
                )))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;

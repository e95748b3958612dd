//! What deploy templates and runbooks share: Ironic's step schema and its
//! messages (`DEPLOY_STEP_SCHEMA`, `RUNBOOK_STEP_SCHEMA`, `duplicate_steps`),
//! the rendering of steps, the "best" schema error as `jsonschema` picks it,
//! and the list arguments both collections take.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::collection::{requested_fields, Page};
use super::field_table::{detail_flag, is_logical_name, since, FieldSpec};
use super::views::mask_secrets;
use crate::api::error::routing_body;
use crate::api::microversion::Version;
use crate::api::patch::python_repr;
use crate::db::datastore::deploy_template::NewStep;
use crate::error::{Error, Result};

/// The interfaces a deploy, clean or runbook step may name, in Ironic's
/// order (its enum message lists them so).
pub const STEP_INTERFACES: &[&str] = &[
    "vendor",
    "power",
    "management",
    "firmware",
    "deploy",
    "bios",
    "raid",
];

/// How a step is ranked: deploy template steps by `priority` (and need
/// `args`), runbook steps by `order` (`args` optional).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepRank {
    Priority,
    Order,
}

impl StepRank {
    pub fn key(self) -> &'static str {
        match self {
            StepRank::Priority => "priority",
            StepRank::Order => "order",
        }
    }

    /// The schema's properties in its order, and its required keys.
    fn schema(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            StepRank::Priority => (
                &["args", "interface", "priority", "step"],
                &["interface", "step", "args", "priority"],
            ),
            StepRank::Order => (
                &["args", "interface", "step", "order"],
                &["interface", "step", "order"],
            ),
        }
    }
}

/// The error `jsonschema.best_match` reports: the shallowest, then one not
/// from `anyOf`, then the first found.
#[derive(Default)]
pub struct SchemaErrors {
    best: Option<(usize, bool, String)>,
}

impl SchemaErrors {
    pub fn push(&mut self, depth: usize, weak: bool, message: String) {
        let better = match &self.best {
            None => true,
            Some((d, w, _)) => depth < *d || (depth == *d && *w && !weak),
        };
        if better {
            self.best = Some((depth, weak, message));
        }
    }

    /// `Schema error for <name>: <message>` when anything failed.
    pub fn into_result(self, name: &str) -> Result<()> {
        match self.best {
            None => Ok(()),
            Some((_, _, m)) => Err(Error::InvalidParameter(format!(
                "Schema error for {name}: {m}"
            ))),
        }
    }
}

/// jsonschema's words for a type mismatch; `types` like `'string', 'null'`.
pub fn not_of_type(v: &Value, types: &str) -> String {
    format!("{} is not of type {types}", python_repr(v))
}

/// The request body as an object, or the schema's type error.
pub fn object_body<'a>(body: &'a Value, what: &str) -> Result<&'a Map<String, Value>> {
    body.as_object().ok_or_else(|| {
        Error::InvalidParameter(format!(
            "Schema error for {what}: {}",
            not_of_type(body, "'object'")
        ))
    })
}

/// `required` and `additionalProperties` of an object at `depth`.
pub fn check_keys(
    errs: &mut SchemaErrors,
    depth: usize,
    map: &Map<String, Value>,
    required: &[&str],
    allowed: &[&str],
) {
    for key in required {
        if !map.contains_key(*key) {
            errs.push(depth, false, format!("'{key}' is a required property"));
        }
    }
    let extra: Vec<String> = map
        .keys()
        .filter(|k| !allowed.contains(&k.as_str()))
        .map(|k| python_repr(&json!(k)))
        .collect();
    match extra.len() {
        0 => {}
        1 => errs.push(
            depth,
            false,
            format!(
                "Additional properties are not allowed ({} was unexpected)",
                extra[0]
            ),
        ),
        _ => errs.push(
            depth,
            false,
            format!(
                "Additional properties are not allowed ({} were unexpected)",
                extra.join(", ")
            ),
        ),
    }
}

/// A `['string', 'null']` property with a maximum length.
pub fn check_optional_string(errs: &mut SchemaErrors, depth: usize, v: &Value, max: usize) {
    match v {
        Value::Null => {}
        Value::String(s) if s.chars().count() > max => {
            errs.push(depth, false, format!("{} is too long", python_repr(v)))
        }
        Value::String(_) => {}
        _ => errs.push(depth, false, not_of_type(v, "'string', 'null'")),
    }
}

/// A `['<kind>', 'null']` property (`object` or `boolean`).
pub fn check_optional(errs: &mut SchemaErrors, depth: usize, v: &Value, kind: &str) {
    let ok = v.is_null()
        || match kind {
            "object" => v.is_object(),
            "boolean" => v.is_boolean(),
            _ => true,
        };
    if !ok {
        errs.push(depth, false, not_of_type(v, &format!("'{kind}', 'null'")));
    }
}

/// A trait name as `TRAITS_SCHEMA` checks it (an `anyOf`, hence weak).
pub fn check_trait_name(errs: &mut SchemaErrors, depth: usize, v: &Value) {
    match v {
        Value::String(s) if s.is_empty() => {
            errs.push(depth, false, "'' should be non-empty".into())
        }
        Value::String(s) => {
            if let Some(m) = super::traits::trait_schema_error(s) {
                let weak = !m.ends_with("is too long");
                errs.push(depth, weak, m);
            }
        }
        _ => errs.push(depth, false, not_of_type(v, "'string'")),
    }
}

/// The `priority`/`order` value: a non-negative integer or a string of
/// digits (an `anyOf`).
fn check_rank(errs: &mut SchemaErrors, depth: usize, v: &Value) {
    let shown = python_repr(v);
    match v {
        Value::Number(n) if n.is_i64() || n.is_u64() => {
            if n.as_i64().is_some_and(|i| i < 0) {
                errs.push(depth, true, format!("{shown} is less than the minimum of 0"));
            }
        }
        Value::String(s) if s.is_empty() => {
            errs.push(depth, true, format!("{shown} should be non-empty"))
        }
        Value::String(s) if !s.chars().all(|c| c.is_ascii_digit()) => {
            errs.push(depth, true, format!("{shown} does not match '^[0-9]+$'"))
        }
        Value::String(_) => {}
        _ => errs.push(
            depth,
            true,
            format!(
                "{shown} is not valid under any of the given schemas. Possible root cause: {shown} is not of type 'integer'"
            ),
        ),
    }
}

/// One step object at `depth` (its members one deeper).
pub fn check_step(errs: &mut SchemaErrors, depth: usize, v: &Value, rank: StepRank) {
    let Value::Object(m) = v else {
        errs.push(depth, false, not_of_type(v, "'object'"));
        return;
    };
    let (properties, required) = rank.schema();
    check_keys(errs, depth, m, required, properties);
    for name in properties {
        let Some(val) = m.get(*name) else { continue };
        let d = depth + 1;
        match *name {
            "args" if !val.is_object() => errs.push(d, false, not_of_type(val, "'object'")),
            "interface" => match val {
                Value::String(s) if STEP_INTERFACES.contains(&s.as_str()) => {}
                Value::String(_) => errs.push(
                    d,
                    false,
                    format!(
                        "{} is not one of [{}]",
                        python_repr(val),
                        STEP_INTERFACES
                            .iter()
                            .map(|i| format!("'{i}'"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
                _ => errs.push(d, false, not_of_type(val, "'string'")),
            },
            "step" => match val {
                Value::String(s) if s.is_empty() => {
                    errs.push(d, false, "'' should be non-empty".into())
                }
                Value::String(_) => {}
                _ => errs.push(d, false, not_of_type(val, "'string'")),
            },
            "priority" | "order" => check_rank(errs, d, val),
            _ => {}
        }
    }
}

/// The `steps` property at `depth`: a non-empty array of steps.
pub fn check_steps(errs: &mut SchemaErrors, depth: usize, v: &Value, rank: StepRank) {
    match v {
        Value::Array(items) if items.is_empty() => {
            errs.push(depth, false, "[] should be non-empty".into())
        }
        Value::Array(items) => {
            for item in items {
                check_step(errs, depth + 1, item, rank);
            }
        }
        _ => errs.push(depth, false, not_of_type(v, "'array'")),
    }
}

/// Steps that passed [`check_steps`], converted; then Ironic's
/// `duplicate_steps` (one interface/step pair at most once).
pub fn parse_steps(v: &Value, rank: StepRank) -> Result<Vec<NewStep>> {
    let steps: Vec<NewStep> = v
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| NewStep {
            interface: s["interface"].as_str().unwrap_or_default().to_string(),
            step: s["step"].as_str().unwrap_or_default().to_string(),
            args: s
                .get("args")
                .cloned()
                .unwrap_or_else(|| Value::Object(Map::new())),
            rank: match &s[rank.key()] {
                Value::String(d) => d.parse().unwrap_or(i32::MAX),
                other => other
                    .as_i64()
                    .and_then(|i| i32::try_from(i).ok())
                    .unwrap_or(i32::MAX),
            },
        })
        .collect();
    let mut dups: Vec<String> = Vec::new();
    for (i, a) in steps.iter().enumerate() {
        let again = steps[..i]
            .iter()
            .any(|b| a.interface == b.interface && a.step == b.step);
        let shown = format!("interface: {}, step: {}", a.interface, a.step);
        if again && !dups.contains(&shown) {
            dups.push(shown);
        }
    }
    if !dups.is_empty() {
        return Err(Error::InvalidParameter(format!(
            "Deploy template invalid: Duplicate deploy steps. A template cannot have multiple deploy steps with the same interface and step. Duplicates: {}.",
            dups.join("; ")
        )));
    }
    Ok(steps)
}

/// A stored step as the API shows it, secrets in `args` masked.
pub fn step_view(interface: &str, step: &str, args: &str, rank: i32, key: StepRank) -> Value {
    let args = serde_json::from_str::<Value>(args).unwrap_or_else(|_| json!({}));
    let mut m = Map::new();
    m.insert("interface".into(), json!(interface));
    m.insert("step".into(), json!(step));
    m.insert("args".into(), mask_secrets(args));
    m.insert(key.key().into(), json!(rank));
    Value::Object(m)
}

/// A path identifier of a template or runbook: a UUID or a logical name.
pub fn checked_ident(raw: &str, what: &str) -> Result<String> {
    if uuid::Uuid::parse_str(raw).is_ok() || is_logical_name(raw) {
        Ok(raw.to_string())
    } else {
        Err(Error::InvalidParameter(format!(
            "Expected UUID or name for {what}: {raw}"
        )))
    }
}

/// What Ironic's router answers below the version of a collection: 404 for
/// GET, 405 for anything else, with `description`.
pub fn below_version(req: &HttpRequest, description: &str) -> HttpResponse {
    if req.method() == actix_web::http::Method::GET {
        HttpResponse::NotFound().json(routing_body(StatusCode::NOT_FOUND, description))
    } else {
        HttpResponse::MethodNotAllowed()
            .json(routing_body(StatusCode::METHOD_NOT_ALLOWED, description))
    }
}

/// The query of a template or runbook list.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub limit: Option<i64>,
    pub marker: Option<String>,
    pub sort_key: Option<String>,
    pub sort_dir: Option<String>,
    pub fields: Option<String>,
    pub detail: Option<String>,
    /// Runbooks only (a boolean in Ironic).
    pub project: Option<String>,
}

/// Validated list arguments: the page, the attributes to show (`None`: all)
/// and the arguments the `next` link repeats.
pub struct ListArgs {
    pub page: Page,
    pub only: Option<Vec<String>>,
    pub echo: Vec<(&'static str, String)>,
}

/// `enum_names`: the names a query schema allows in `fields` (deploy
/// templates have one); without it any name that the view lacks is the
/// usual "not valid". `unsortable`: Ironic's `invalid_sort_key_list`.
#[allow(clippy::too_many_arguments)]
pub fn list_args<T>(
    q: &ListQuery,
    v: Version,
    table: &[FieldSpec<T>],
    default_fields: &[&str],
    enum_names: Option<&[&str]>,
    unsortable: &[&str],
    sortable: &[&str],
    max_limit: usize,
) -> Result<ListArgs> {
    let fields = requested_fields(q.fields.as_deref(), v)?;
    if let Some(f) = &fields {
        if let Some(names) = enum_names {
            if let Some(bad) = f.iter().find(|n| !names.contains(&n.as_str())) {
                return Err(Error::InvalidParameter(format!(
                    "Schema error: {} is not one of [{}]",
                    python_repr(&json!(bad)),
                    names
                        .iter()
                        .map(|n| format!("'{n}'"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        check_visible(table, f, v)?;
    }
    let detail = detail_flag(q.detail.as_deref(), v, fields.is_some())?;
    let sort_key = q.sort_key.clone().unwrap_or_else(|| "id".into());
    if unsortable.contains(&sort_key.as_str()) {
        return Err(Error::InvalidParameter(format!(
            "The sort_key value {sort_key} is an invalid field for sorting"
        )));
    }
    let page = Page::from_query(
        q.limit,
        q.marker.clone(),
        Some(sort_key),
        q.sort_dir.clone(),
        max_limit,
        sortable,
    )?;
    let only = match (fields.clone(), detail) {
        (Some(f), _) => Some(f),
        (None, true) => None,
        (None, false) => Some(default_fields.iter().map(|s| s.to_string()).collect()),
    };
    let mut echo = Vec::new();
    if let Some(f) = &fields {
        echo.push(("fields", f.join(",")));
    }
    if q.detail.is_some() {
        echo.push(("detail", if detail { "True" } else { "False" }.to_string()));
    }
    Ok(ListArgs { page, only, echo })
}

/// Ironic's `check_for_invalid_fields`: a name the view does not show at
/// `v` is a 400.
pub fn check_visible<T>(table: &[FieldSpec<T>], names: &[String], v: Version) -> Result<()> {
    let bad: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| !since(table, n).is_some_and(|s| v.at_least(s)))
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(Error::InvalidParameter(format!(
            "Field(s) \"{}\" are not valid",
            bad.join(", ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_error(v: Value, rank: StepRank) -> String {
        let mut errs = SchemaErrors::default();
        check_steps(&mut errs, 1, &v, rank);
        errs.into_result("t").unwrap_err().to_string()
    }

    #[test]
    fn step_errors_read_like_jsonschema() {
        let p = StepRank::Priority;
        assert_eq!(
            first_error(json!([]), p),
            "Schema error for t: [] should be non-empty"
        );
        assert_eq!(
            first_error(
                json!([{"interface": "bios", "step": "x", "priority": 1}]),
                p
            ),
            "Schema error for t: 'args' is a required property"
        );
        assert_eq!(
            first_error(
                json!([{"interface": "bios", "step": "x", "args": {}, "priority": -1}]),
                p
            ),
            "Schema error for t: -1 is less than the minimum of 0"
        );
        assert_eq!(
            first_error(json!([{"interface": "bios", "step": "x", "args": {}, "priority": true}]), p),
            "Schema error for t: True is not valid under any of the given schemas. Possible root cause: True is not of type 'integer'"
        );
        // A plain error beats an anyOf one at the same depth.
        assert_eq!(
            first_error(json!([{"interface": "foo", "step": "x", "args": {}, "priority": "a"}]), p),
            "Schema error for t: 'foo' is not one of ['vendor', 'power', 'management', 'firmware', 'deploy', 'bios', 'raid']"
        );
        assert_eq!(
            first_error(
                json!([{"interface": "deploy", "step": "x", "priority": 1}]),
                StepRank::Order
            ),
            "Schema error for t: 'order' is a required property"
        );
    }

    #[test]
    fn duplicates_and_string_ranks() {
        let v = json!([
            {"interface": "bios", "step": "x", "args": {}, "priority": "5"},
            {"interface": "raid", "step": "y", "args": {}, "priority": 1},
        ]);
        let steps = parse_steps(&v, StepRank::Priority).unwrap();
        assert_eq!(steps[0].rank, 5);
        let v = json!([
            {"interface": "bios", "step": "x", "args": {}, "priority": 1},
            {"interface": "bios", "step": "x", "args": {}, "priority": 2},
        ]);
        assert!(parse_steps(&v, StepRank::Priority)
            .unwrap_err()
            .to_string()
            .ends_with("Duplicates: interface: bios, step: x."));
    }

    #[test]
    fn args_are_masked() {
        let v = step_view(
            "bios",
            "x",
            r#"{"password": "p", "a": 1}"#,
            3,
            StepRank::Order,
        );
        assert_eq!(
            v,
            json!({"interface": "bios", "step": "x", "args": {"password": "******", "a": 1}, "order": 3})
        );
    }
}

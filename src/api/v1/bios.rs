//! `/v1/nodes/{node}/bios` (Ironic 1.40): the BIOS settings a node's BIOS
//! interface last cached (name, value, links, times); from 1.74 with the
//! attribute registry (`?detail`, `?fields`, and always for one setting).

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::field_table::strict_bool;
use super::node_access::node_with_rule;
use super::views::timestamp;
use crate::api::links::base_url;
use crate::api::microversion::Version;
use crate::api::middleware::version_of;
use crate::api::ApiState;
use crate::db::datastore::bios_setting::{bios_setting_get, bios_setting_list, BiosSettingRow};
use crate::error::{Error, Result};

/// The BIOS sub-resource appeared in 1.40.
pub const BIOS: Version = Version::new(1, 40);
/// Registry attributes, `?detail` and `?fields` (1.74).
pub const BIOS_REGISTRY: Version = Version::new(1, 74);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/nodes/{node}/bios", web::get().to(list))
        .route("/v1/nodes/{node}/bios/{setting}", web::get().to(show));
}

/// Until 1.74 (`detail`, `fields`) a listing takes no query arguments;
/// one setting never does.
fn no_arguments(q: &HashMap<String, String>) -> Result<()> {
    let mut keys: Vec<&String> = q.keys().collect();
    keys.sort();
    match keys.first() {
        None => Ok(()),
        Some(k) => Err(Error::InvalidParameter(format!(
            "Schema error: Additional properties are not allowed ('{k}' was unexpected)"
        ))),
    }
}

/// Ironic's setting name pattern, case-insensitive.
const NAME_PATTERN: &str = "(?i)^[A-Z0-9-._~]+$";

fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidParameter(format!(
            "Schema error: '{name}' does not match '{NAME_PATTERN}'"
        )))
    }
}

/// The registry attributes (1.74), shown with `?detail=true` and by a
/// single setting.
const REGISTRY_FIELDS: &[&str] = &[
    "attribute_type",
    "allowable_values",
    "lower_bound",
    "max_length",
    "min_length",
    "read_only",
    "reset_required",
    "unique",
    "upper_bound",
];
/// What `fields=` may name (Ironic's schema, in its order).
const KNOWN_FIELDS: &[&str] = &[
    "allowable_values",
    "attribute_type",
    "created_at",
    "lower_bound",
    "links",
    "max_length",
    "min_length",
    "name",
    "node_uuid",
    "read_only",
    "reset_required",
    "unique",
    "updated_at",
    "value",
];

fn field(s: &BiosSettingRow, name: &str) -> Value {
    match name {
        "name" => json!(s.name),
        "value" => json!(s.value),
        "attribute_type" => json!(s.attribute_type),
        // Stored as a JSON list; Ironic shows an empty list for none.
        "allowable_values" => s
            .allowable_values
            .as_deref()
            .and_then(|a| serde_json::from_str(a).ok())
            .unwrap_or_else(|| json!([])),
        "lower_bound" => json!(s.lower_bound),
        "max_length" => json!(s.max_length),
        "min_length" => json!(s.min_length),
        "read_only" => json!(s.read_only),
        "reset_required" => json!(s.reset_required),
        "unique" => json!(s.unique_),
        "upper_bound" => json!(s.upper_bound),
        _ => Value::Null,
    }
}

/// `node` is the node as the request named it (Ironic links a listing
/// that way, a single setting by UUID). `fields`: the attributes besides
/// the times and links, which are always shown.
fn view(s: &BiosSettingRow, base: &str, node: &str, fields: &[&str]) -> Value {
    let path = format!("nodes/{node}/bios/{}", s.name);
    let mut m = serde_json::Map::new();
    m.insert("created_at".into(), timestamp(Some(s.created_at)));
    m.insert("updated_at".into(), timestamp(s.updated_at));
    for f in fields {
        if !matches!(*f, "created_at" | "updated_at" | "links" | "node_uuid") {
            m.insert((*f).into(), field(s, f));
        }
    }
    m.insert(
        "links".into(),
        json!([
            {"href": format!("{base}/v1/{path}"), "rel": "self"},
            {"href": format!("{base}/{path}"), "rel": "bookmark"},
        ]),
    );
    Value::Object(m)
}

/// The attributes a request shows: name and value, the registry too from
/// 1.74 when asked for with `detail` (a listing) or always (one setting).
fn default_fields(registry: bool) -> Vec<&'static str> {
    let mut f = vec!["name", "value"];
    if registry {
        f.extend_from_slice(REGISTRY_FIELDS);
    }
    f
}

/// A listing's `detail` and `fields` (1.74); before, no arguments.
fn list_fields(q: &HashMap<String, String>, v: Version) -> Result<Vec<&'static str>> {
    if !v.at_least(BIOS_REGISTRY) {
        no_arguments(q)?;
        return Ok(default_fields(false));
    }
    if let Some(k) = q
        .keys()
        .find(|k| !["detail", "fields"].contains(&k.as_str()))
    {
        return Err(Error::InvalidParameter(format!(
            "Schema error: Additional properties are not allowed ('{k}' was unexpected)"
        )));
    }
    let detail = match q.get("detail") {
        Some(raw) => strict_bool("detail", raw)?,
        None => false,
    };
    let Some(raw) = q.get("fields") else {
        return Ok(default_fields(detail));
    };
    let mut out = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let known = KNOWN_FIELDS.iter().find(|k| **k == name).ok_or_else(|| {
            let listed: Vec<String> = KNOWN_FIELDS.iter().map(|k| format!("'{k}'")).collect();
            Error::InvalidParameter(format!(
                "Schema error: '{name}' is not one of [{}]",
                listed.join(", ")
            ))
        })?;
        out.push(*known);
    }
    if detail {
        return Err(Error::InvalidParameter(
            "Can not specify ?detail=True and fields in the same request.".into(),
        ));
    }
    Ok(out)
}

async fn list(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(BIOS) {
        return Ok(crate::api::middleware::not_found(req).await);
    }
    let fields = list_fields(&q, version_of(&req))?;
    let ident = path.into_inner();
    let node = node_with_rule(&state, &req, &ident, "baremetal:node:bios:get").await?;
    let id = node.id;
    let settings = state
        .datastore
        .run(move |c| bios_setting_list(c, id))
        .await?;
    let base = base_url(&state, &req);
    let items: Vec<Value> = settings
        .iter()
        .map(|s| view(s, &base, &ident, &fields))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"bios": items})))
}

async fn show(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(BIOS) {
        return Ok(crate::api::middleware::not_found(req).await);
    }
    let (ident, name) = path.into_inner();
    check_name(&name)?;
    no_arguments(&q)?;
    let node = node_with_rule(&state, &req, &ident, "baremetal:node:bios:get").await?;
    let (id, uuid, n) = (node.id, node.uuid.clone(), name.clone());
    let setting = state
        .datastore
        .run(move |c| bios_setting_get(c, id, &uuid, &n))
        .await?;
    let base = base_url(&state, &req);
    let mut body = serde_json::Map::new();
    let fields = default_fields(version_of(&req).at_least(BIOS_REGISTRY));
    body.insert(name, view(&setting, &base, &node.uuid, &fields));
    Ok(HttpResponse::Ok().json(Value::Object(body)))
}

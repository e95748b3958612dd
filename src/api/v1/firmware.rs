//! `GET /v1/nodes/{node}/firmware` (Ironic 1.86): the firmware components
//! a node's firmware interface last cached; 1.114 adds their vendor, model
//! and serial number. `created_at`/`updated_at` are always shown.

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::node_access::node_with_rule;
use super::views::timestamp;
use crate::api::microversion::Version;
use crate::api::middleware::version_of;
use crate::api::ApiState;
use crate::db::datastore::firmware_component::{firmware_component_list, FirmwareComponentRow};
use crate::error::{Error, Result};

/// The firmware sub-resource (with the firmware interface) in 1.86.
pub const FIRMWARE: Version = Version::new(1, 86);
/// vendor, model, serial_number.
pub const FIRMWARE_IDENTITY: Version = Version::new(1, 114);

const DEFAULT_FIELDS: &[&str] = &[
    "component",
    "initial_version",
    "current_version",
    "last_version_flashed",
];
const IDENTITY_FIELDS: &[&str] = &["vendor", "model", "serial_number"];
/// Every name `fields=` accepts, in Ironic's schema order.
const KNOWN_FIELDS: &[&str] = &[
    "created_at",
    "updated_at",
    "component",
    "initial_version",
    "current_version",
    "last_version_flashed",
    "vendor",
    "model",
    "serial_number",
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/nodes/{node}/firmware", web::get().to(list));
}

fn field(c: &FirmwareComponentRow, name: &str) -> Value {
    match name {
        "component" => json!(c.component),
        "initial_version" => json!(c.initial_version),
        "current_version" => json!(c.current_version),
        "last_version_flashed" => json!(c.last_version_flashed),
        "vendor" => json!(c.vendor),
        "model" => json!(c.model),
        "serial_number" => json!(c.serial_number),
        _ => Value::Null,
    }
}

fn view(c: &FirmwareComponentRow, fields: &[&str]) -> Value {
    let mut m = Map::new();
    m.insert("created_at".into(), timestamp(Some(c.created_at)));
    m.insert("updated_at".into(), timestamp(c.updated_at));
    for f in fields {
        if !matches!(*f, "created_at" | "updated_at") {
            m.insert((*f).into(), field(c, f));
        }
    }
    Value::Object(m)
}

/// The names asked for, checked against Ironic's schema and the version.
fn requested(q: &HashMap<String, String>, v: Version) -> Result<Vec<&'static str>> {
    if let Some(k) = q
        .keys()
        .find(|k| !["fields", "detail"].contains(&k.as_str()))
    {
        return Err(Error::InvalidParameter(format!(
            "Schema error: Additional properties are not allowed ('{k}' was unexpected)"
        )));
    }
    // Ironic's schema wants a JSON boolean, which a query string never is.
    if let Some(d) = q.get("detail") {
        return Err(Error::InvalidParameter(format!(
            "Schema error: '{d}' is not of type 'boolean'"
        )));
    }
    let Some(raw) = q.get("fields") else {
        let mut all = DEFAULT_FIELDS.to_vec();
        if v.at_least(FIRMWARE_IDENTITY) {
            all.extend_from_slice(IDENTITY_FIELDS);
        }
        return Ok(all);
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
    if !v.at_least(FIRMWARE_IDENTITY) {
        let mut newer: Vec<&str> = out
            .iter()
            .copied()
            .filter(|f| IDENTITY_FIELDS.contains(f))
            .collect();
        if !newer.is_empty() {
            newer.sort_unstable();
            newer.dedup();
            return Err(Error::InvalidParameter(format!(
                "Fields {} are not allowed in this API version. They require at least API version {FIRMWARE_IDENTITY}.",
                newer.join(", ")
            )));
        }
    }
    Ok(out)
}

async fn list(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse> {
    let v = version_of(&req);
    if !v.at_least(FIRMWARE) {
        return Ok(crate::api::middleware::not_found(req).await);
    }
    let fields = requested(&q, v)?;
    let node = node_with_rule(&state, &req, &path, "baremetal:node:firmware:get").await?;
    let id = node.id;
    let components = state
        .datastore
        .run(move |c| firmware_component_list(c, id))
        .await?;
    let items: Vec<Value> = components.iter().map(|c| view(c, &fields)).collect();
    Ok(HttpResponse::Ok().json(json!({"firmware": items})))
}

//! `/v1/nodes/{node}/bios` (Ironic 1.40): the BIOS settings a node's BIOS
//! interface last cached, in the 1.40 shape (name, value, links, times).

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

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

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/nodes/{node}/bios", web::get().to(list))
        .route("/v1/nodes/{node}/bios/{setting}", web::get().to(show));
}

/// Until 1.74 (`detail`, `fields`) these GETs take no query arguments.
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

/// `node` is the node as the request named it (Ironic links a listing
/// that way, a single setting by UUID).
fn view(s: &BiosSettingRow, base: &str, node: &str) -> Value {
    let path = format!("nodes/{node}/bios/{}", s.name);
    json!({
        "created_at": timestamp(Some(s.created_at)),
        "updated_at": timestamp(s.updated_at),
        "name": s.name,
        "value": s.value,
        "links": [
            {"href": format!("{base}/v1/{path}"), "rel": "self"},
            {"href": format!("{base}/{path}"), "rel": "bookmark"},
        ],
    })
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
    no_arguments(&q)?;
    let ident = path.into_inner();
    let node = node_with_rule(&state, &req, &ident, "baremetal:node:bios:get").await?;
    let id = node.id;
    let settings = state
        .datastore
        .run(move |c| bios_setting_list(c, id))
        .await?;
    let base = base_url(&state, &req);
    let items: Vec<Value> = settings.iter().map(|s| view(s, &base, &ident)).collect();
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
    body.insert(name, view(&setting, &base, &node.uuid));
    Ok(HttpResponse::Ok().json(Value::Object(body)))
}

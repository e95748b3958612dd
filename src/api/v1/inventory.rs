//! `GET /v1/nodes/{node}/inventory` (Ironic 1.81): the hardware inventory
//! and plugin data the last in-band inspection stored.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::node_access::node_with_rule;
use super::ramdisk::NODE_INVENTORY;
use crate::api::middleware::version_of;
use crate::api::ApiState;
use crate::db::datastore::node_inventory::node_inventory_get;
use crate::error::Result;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/nodes/{node}/inventory", web::get().to(show));
}

fn parsed(raw: Option<&str>) -> Value {
    raw.and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_else(|| json!({}))
}

async fn show(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(NODE_INVENTORY) {
        return Ok(crate::api::middleware::not_found(req).await);
    }
    let node = node_with_rule(&state, &req, &path, "baremetal:node:inventory:get").await?;
    let id = node.id;
    let row = state
        .datastore
        .run(move |c| node_inventory_get(c, id))
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "inventory": parsed(Some(&row.inventory_data)),
        "plugin_data": parsed(row.plugin_data.as_deref()),
    })))
}

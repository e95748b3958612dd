//! `PATCH /v1/nodes/{node}`: Ironic's JSON Patch on a node, its guards
//! (versions, transitions, console) and `?reset_interfaces=` (1.45).

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::node_fields::{
    patchable, set_field, to_node_changes, writable, REMOVE_CHASSIS, RESET_INTERFACES,
};
use super::node_view::{node_field, NodeView, INSPECT_WAIT_STATE};
use super::nodes::{
    authorize, canonical_driver, linked_node, load_node, node_ident, node_target, pick_conductor,
};
use super::views::json_object;
use crate::api::links::base_url;
use crate::api::microversion::Version;
use crate::api::middleware::{context_of, version_of};
use crate::api::patch::{apply_patch, parse_patch, Op, PatchOp};
use crate::api::ApiState;
use crate::db::datastore::chassis::chassis_get;
use crate::db::datastore::node::NodeRow;
use crate::error::{Error, Result};
use crate::rpc::Target;
use crate::states::UPDATE_ALLOWED_STATES;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchQuery {
    reset_interfaces: Option<String>,
}

/// The node as PATCH sees it: every patchable field, secrets unmasked.
fn patch_document(row: &NodeRow, chassis_uuid: Option<&str>) -> Value {
    let view = NodeView {
        row,
        chassis_uuid,
        traits: &[],
        allocation_uuid: None,
        conductor: None,
        version: crate::api::microversion::MAX,
        base: "",
    };
    let mut m = Map::new();
    for name in patchable() {
        // Views mask these two; a patch works on the stored values.
        let value = match name {
            "driver_info" => json_object(&row.driver_info),
            "instance_info" => json_object(&row.instance_info),
            _ => node_field(name).map_or(Value::Null, |f| f.value(&view)),
        };
        m.insert(name.to_string(), value);
    }
    Value::Object(m)
}

pub async fn update(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<PatchQuery>,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    let ctx = context_of(&req);
    let v = version_of(&req);
    let reset_interfaces = match &query.reset_interfaces {
        None => false,
        Some(_) if !v.at_least(RESET_INTERFACES) => {
            return Err(Error::NotAcceptable("Request not acceptable.".into()))
        }
        Some(raw) => matches!(
            raw.to_ascii_lowercase().as_str(),
            "1" | "t" | "true" | "on" | "y" | "yes"
        ),
    };
    let ident = node_ident(&path, v)?;
    let ops = parse_patch(&body, false)?;
    let top = |op: &PatchOp| -> String {
        op.path
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or("")
            .to_string()
    };
    if reset_interfaces && !ops.iter().any(|op| top(op) == "driver") {
        return Err(Error::InvalidParameter(
            "The reset_interfaces parameter can only be used when changing the node's driver."
                .into(),
        ));
    }
    let lookup = ident.clone();
    let timeout = state.conf.conductor.heartbeat_timeout;
    let node = state
        .datastore
        .run(move |c| load_node(c, &lookup, timeout))
        .await?;
    let row = &node.row;
    let target = node_target(row, &ctx);
    if authorize(&state, "baremetal:node:get", &target, &ctx).is_err() {
        return Err(Error::NotFound(format!("Node {ident} could not be found.")));
    }
    authorize(&state, "baremetal:node:update", &target, &ctx)?;
    let allowed = patchable();
    let doc = patch_document(row, node.chassis_uuid.as_deref());
    let patched = apply_patch(&doc, &ops, &allowed)?;
    for op in &ops {
        let field = top(op);
        let since = writable(&field).map_or(Version::new(1, 1), |w| w.since);
        if !v.at_least(since) {
            return Err(Error::NotAcceptable("Request not acceptable.".into()));
        }
    }
    let only_unassociating = row.maintenance
        && ops.len() == 1
        && ops[0].op == Op::Remove
        && ops[0].path == "/instance_uuid";
    let in_transition = row.target_provision_state.is_some()
        && !UPDATE_ALLOWED_STATES
            .iter()
            .any(|s| s.as_str() == row.provision_state);
    if in_transition && !only_unassociating {
        return Err(Error::Conflict(format!(
            "Node {ident} can not be updated while a state transition is in progress."
        )));
    }
    if !only_unassociating && row.provision_state == "inspecting" && v.at_least(INSPECT_WAIT_STATE)
    {
        return Err(Error::Conflict(format!(
            "Cannot update node \"{}\" while it is in state \"inspecting\".",
            row.uuid
        )));
    }
    // Unsetting the chassis (by remove or by null) came with 1.25.
    if node.chassis_uuid.is_some()
        && patched["chassis_uuid"].is_null()
        && !v.at_least(REMOVE_CHASSIS)
    {
        return Err(Error::NotAcceptable("Request not acceptable.".into()));
    }
    let mut changes = Map::new();
    for name in &allowed {
        if patched.get(*name) == doc.get(*name) {
            continue;
        }
        let value = patched.get(*name).cloned().unwrap_or(Value::Null);
        let Some(field) = writable(name) else {
            continue;
        };
        if *name == "name" {
            if let Value::String(n) = &value {
                if !super::node_fields::is_logical_name(n) {
                    return Err(Error::InvalidParameter(format!(
                        "Node {ident}: Cannot change name to invalid name '{n}'"
                    )));
                }
            }
        }
        if *name == "parent_node" {
            if let Value::String(parent) = &value {
                let uuid = linked_node(&state, &req, parent, row.owner.as_deref()).await?;
                changes.insert("parent_node".into(), json!(uuid));
                continue;
            }
        }
        set_field(&mut changes, field, &value)?;
        if *name == "chassis_uuid" {
            let chassis_id = match &value {
                Value::Null => None,
                Value::String(u) => {
                    let u = u.clone();
                    let found = state.datastore.run(move |c| chassis_get(c, &u)).await;
                    Some(
                        found
                            .map_err(|e| Error::InvalidParameter(e.to_string()))?
                            .id,
                    )
                }
                other => {
                    return Err(Error::InvalidParameter(format!(
                        "Expected a UUID for chassis_uuid: {other}"
                    )))
                }
            };
            changes.insert("chassis_id".into(), json!(chassis_id));
        }
    }
    let mut warning = None;
    if let Some(Value::String(d)) = changes.get("driver").cloned() {
        let (driver, w) = canonical_driver(&d);
        changes.insert("driver".into(), json!(driver));
        warning = w;
        if row.console_enabled && driver != row.driver {
            return Err(Error::Conflict(format!(
                "Node {ident} can not update the driver while the console is enabled. Please stop the console first."
            )));
        }
    }
    if !changes.is_empty() {
        to_node_changes(changes.clone())?;
        let driver = changes
            .get("driver")
            .and_then(Value::as_str)
            .unwrap_or(&row.driver)
            .to_string();
        let host = pick_conductor(&state, &driver).await?;
        state
            .rpc
            .call(
                &Target::Conductor(host),
                &ctx,
                "update_node",
                json!({"uuid": row.uuid, "changes": changes, "reset_interfaces": reset_interfaces}),
                state.rpc_timeout(),
            )
            .await?;
    }
    let uuid = row.uuid.clone();
    let node = state
        .datastore
        .run(move |c| load_node(c, &uuid, timeout))
        .await?;
    let base = base_url(&state, &req);
    let mut resp = HttpResponse::Ok();
    if let Some(w) = warning {
        tracing::warn!(node = %node.row.uuid, "{w}");
        resp.insert_header(("Warning", format!("299 - \"{w}\"")));
    }
    Ok(resp.json(node.view(v, &base).render(None)))
}

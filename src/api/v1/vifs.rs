//! `/v1/nodes/{node}/vifs` (Ironic 1.28): list, attach and detach the
//! node's virtual network interfaces, through the node's conductor.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::node_access::node_with_rule;
use super::volume::is_logical_name;
use crate::api::microversion::Version;
use crate::api::middleware::{context_of, version_of};
use crate::api::patch::python_repr;
use crate::api::ApiState;
use crate::db::datastore::node::NodeRow;
use crate::error::{Error, Result};
use crate::rpc::Target;

/// The VIFs sub-resource appeared in 1.28.
pub const VIFS: Version = Version::new(1, 28);
/// `port_uuid` / `portgroup_uuid` in the VIF body choose where it goes (the
/// conductor honours them at any version; from here both at once is a 400).
pub const VIF_ATTACH_PORT: Version = Version::new(1, 67);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/nodes/{node}/vifs", web::get().to(list))
        .route("/v1/nodes/{node}/vifs", web::post().to(attach))
        .route("/v1/nodes/{node}/vifs/{vif}", web::delete().to(detach));
}

fn uuid_or_name(field: &str, v: &str) -> Result<()> {
    if uuid::Uuid::parse_str(v).is_ok() || is_logical_name(v) {
        Ok(())
    } else {
        Err(Error::InvalidParameter(format!(
            "Expected UUID or name for {field}: {v}"
        )))
    }
}

/// Ironic's VIF body: an object with a string `id` (other keys pass).
fn vif_id_of(body: &Value) -> Result<String> {
    let err = |m: String| Error::InvalidParameter(format!("Schema error for vif: {m}"));
    let Value::Object(map) = body else {
        return Err(err(format!(
            "{} is not of type 'object'",
            python_repr(body)
        )));
    };
    let id = match map.get("id") {
        None => return Err(err("'id' is a required property".into())),
        Some(Value::String(id)) => id.clone(),
        Some(other) => {
            return Err(err(format!(
                "{} is not of type 'string'",
                python_repr(other)
            )))
        }
    };
    uuid_or_name("id", &id)?;
    Ok(id)
}

/// Calls the node's conductor; no conductor for its driver is a 400.
async fn call(
    state: &ApiState,
    req: &HttpRequest,
    node: &NodeRow,
    method: &str,
    args: Value,
) -> Result<Value> {
    let host = super::nodes::pick_conductor(state, &node.driver).await?;
    state
        .rpc
        .call(
            &Target::Conductor(host),
            &context_of(req),
            method,
            args,
            state.rpc_timeout(),
        )
        .await
}

async fn list(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(VIFS) {
        return Ok(crate::api::middleware::not_found(req).await);
    }
    let node = node_with_rule(&state, &req, &path, "baremetal:node:vif:list").await?;
    let vifs = call(&state, &req, &node, "vif_list", json!({"uuid": node.uuid})).await?;
    Ok(HttpResponse::Ok().json(vifs))
}

async fn attach(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(VIFS) {
        return Ok(crate::api::middleware::not_found(req).await);
    }
    let vif_info = body.into_inner();
    vif_id_of(&vif_info)?;
    let node = node_with_rule(&state, &req, &path, "baremetal:node:vif:attach").await?;
    let both = vif_info.get("port_uuid").is_some() && vif_info.get("portgroup_uuid").is_some();
    if both && version_of(&req).at_least(VIF_ATTACH_PORT) {
        return Err(Error::InvalidParameter(
            "Cannot specify both port_uuid and portgroup_uuid".into(),
        ));
    }
    call(
        &state,
        &req,
        &node,
        "vif_attach",
        json!({"uuid": node.uuid, "vif_info": vif_info}),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn detach(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(VIFS) {
        return Ok(crate::api::middleware::not_found(req).await);
    }
    let (ident, vif_id) = path.into_inner();
    uuid_or_name("vif_id", &vif_id)?;
    let node = node_with_rule(&state, &req, &ident, "baremetal:node:vif:detach").await?;
    call(
        &state,
        &req,
        &node,
        "vif_detach",
        json!({"uuid": node.uuid, "vif_id": vif_id}),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

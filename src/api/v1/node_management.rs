//! Node management sub-resources: boot device, NMI, maintenance, driver
//! validation, console and target RAID (Ironic's NodeManagementController,
//! NodeMaintenanceController, NodeConsoleController, `states/raid` and
//! `validate`). Every action is answered by the node's conductor over RPC.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::nodes::NODE_NAME;
use crate::api::links::base_url;
use crate::api::microversion::Version;
use crate::api::middleware::{context_of, version_of};
use crate::api::ApiState;
use crate::auth::policy::owner_target;
use crate::db::datastore::node::{node_get, NodeRow};
use crate::error::{Error, Result};
use crate::rpc::Target;

/// `PUT /v1/nodes/{id}/states/raid` and the driver RAID properties.
pub const RAID_CONFIG: Version = Version::new(1, 12);
/// `PUT /v1/nodes/{id}/management/inject_nmi`.
pub const INJECT_NMI: Version = Version::new(1, 29);

pub fn routes(cfg: &mut web::ServiceConfig) {
    // Before `/v1/nodes/{ident}`, which would take "validate" for a name.
    cfg.route("/v1/nodes/validate", web::get().to(validate_legacy))
        .route("/v1/nodes/{ident}/validate", web::get().to(validate))
        .route(
            "/v1/nodes/{ident}/management/boot_device",
            web::get().to(get_boot_device),
        )
        .route(
            "/v1/nodes/{ident}/management/boot_device",
            web::put().to(set_boot_device),
        )
        .route(
            "/v1/nodes/{ident}/management/boot_device/supported",
            web::get().to(supported_boot_devices),
        )
        .route(
            "/v1/nodes/{ident}/management/inject_nmi",
            web::put().to(inject_nmi),
        )
        .route(
            "/v1/nodes/{ident}/maintenance",
            web::put().to(set_maintenance),
        )
        .route(
            "/v1/nodes/{ident}/maintenance",
            web::delete().to(clear_maintenance),
        )
        .route(
            "/v1/nodes/{ident}/states/console",
            web::get().to(get_console),
        )
        .route(
            "/v1/nodes/{ident}/states/console",
            web::put().to(set_console),
        )
        .route("/v1/nodes/{ident}/states/raid", web::put().to(set_raid));
}

/// Ironic's `check_node_policy_and_retrieve`: a node the caller may not see
/// is 404, a visible one without `rule` is 403.
pub(crate) async fn node_for(
    state: &ApiState,
    req: &HttpRequest,
    ident: &str,
    rule: &str,
) -> Result<NodeRow> {
    let not_found = || Error::NotFound(format!("Node {ident} could not be found."));
    if uuid::Uuid::parse_str(ident).is_err() && !version_of(req).at_least(NODE_NAME) {
        return Err(not_found());
    }
    let ctx = context_of(req);
    let i = ident.to_string();
    let row = state.datastore.run(move |c| node_get(c, &i)).await?;
    let creds = ctx.policy_credentials();
    let target = owner_target("node", &creds, row.owner.as_deref(), row.lessee.as_deref());
    if !state.policy.check("baremetal:node:get", &target, &creds) {
        return Err(not_found());
    }
    if !state.policy.check(rule, &target, &creds) {
        return Err(Error::Forbidden(format!(
            "Access was denied to the following resource: {rule}"
        )));
    }
    Ok(row)
}

/// Sends `method` to a conductor that has the node's driver.
pub(crate) async fn call(
    state: &ApiState,
    req: &HttpRequest,
    row: &NodeRow,
    method: &str,
    args: Value,
) -> Result<Value> {
    let host = super::nodes::pick_conductor(state, &row.driver).await?;
    let mut args = args;
    args["uuid"] = json!(row.uuid);
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

/// A JSON object body; an empty body is an empty object.
pub(crate) fn body_object(body: &web::Bytes, what: &str) -> Result<serde_json::Map<String, Value>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(Error::InvalidParameter(format!(
            "Invalid {what}: the request body must be a JSON object"
        ))),
        Err(e) => Err(Error::InvalidParameter(format!("Invalid JSON body: {e}"))),
    }
}

/// Unknown body keys are refused, as Ironic's argument validation does.
pub(crate) fn only_keys(body: &serde_json::Map<String, Value>, allowed: &[&str]) -> Result<()> {
    let mut extra: Vec<&str> = body
        .keys()
        .map(String::as_str)
        .filter(|k| !allowed.contains(k))
        .collect();
    if extra.is_empty() {
        return Ok(());
    }
    extra.sort_unstable();
    Err(Error::InvalidParameter(format!(
        "Unexpected arguments: {}",
        extra.join(", ")
    )))
}

/// Ironic's `args.boolean`: a JSON boolean or one of its boolean strings.
fn boolean(name: &str, v: &Value) -> Result<bool> {
    let invalid = || Error::InvalidParameter(format!("Invalid {name}: {v} is not a boolean"));
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "1" | "t" | "true" | "on" | "y" | "yes" => Ok(true),
            "0" | "f" | "false" | "off" | "n" | "no" => Ok(false),
            _ => Err(invalid()),
        },
        _ => Err(invalid()),
    }
}

pub(crate) fn missing(name: &str) -> Error {
    Error::InvalidParameter(format!("Missing mandatory parameter: {name}"))
}

async fn get_boot_device(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let row = node_for(&state, &req, &path, "baremetal:node:get_boot_device").await?;
    let device = call(&state, &req, &row, "get_boot_device", json!({})).await?;
    Ok(HttpResponse::Ok().json(device))
}

async fn set_boot_device(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    let body = body_object(&body, "boot device")?;
    only_keys(&body, &["boot_device", "persistent"])?;
    let device = match body.get("boot_device") {
        Some(Value::String(d)) => d.clone(),
        Some(other) => {
            return Err(Error::InvalidParameter(format!(
                "Invalid boot_device: {other} is not a string"
            )))
        }
        None => return Err(missing("boot_device")),
    };
    let persistent = match body.get("persistent") {
        None => false,
        Some(v) => boolean("persistent", v)?,
    };
    let row = node_for(&state, &req, &path, "baremetal:node:set_boot_device").await?;
    call(
        &state,
        &req,
        &row,
        "set_boot_device",
        json!({"device": device, "persistent": persistent}),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn supported_boot_devices(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    // Ironic checks the get_boot_device rule here too.
    let row = node_for(&state, &req, &path, "baremetal:node:get_boot_device").await?;
    let devices = call(&state, &req, &row, "get_supported_boot_devices", json!({})).await?;
    Ok(HttpResponse::Ok().json(json!({"supported_boot_devices": devices})))
}

async fn inject_nmi(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(INJECT_NMI) {
        return Err(Error::NotFound("Resource could not be found.".into()));
    }
    let row = node_for(&state, &req, &path, "baremetal:node:inject_nmi").await?;
    call(&state, &req, &row, "inject_nmi", json!({})).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn set_maintenance(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<std::collections::HashMap<String, String>>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    let body = body_object(&body, "maintenance request")?;
    only_keys(&body, &["reason"])?;
    let mut args: Vec<&str> = query
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "reason")
        .collect();
    if !args.is_empty() {
        args.sort_unstable();
        return Err(Error::InvalidParameter(format!(
            "Unexpected arguments: {}",
            args.join(", ")
        )));
    }
    // Ironic takes the reason from the body or, as older clients send it,
    // from the query string.
    let reason = match body.get("reason") {
        Some(Value::String(r)) => Some(r.clone()),
        Some(Value::Null) | None => query.get("reason").cloned(),
        Some(other) => {
            return Err(Error::InvalidParameter(format!(
                "Invalid reason: {other} is not a string"
            )))
        }
    };
    let row = node_for(&state, &req, &path, "baremetal:node:set_maintenance").await?;
    call(
        &state,
        &req,
        &row,
        "set_node_maintenance",
        json!({"maintenance": true, "reason": reason}),
    )
    .await?;
    Ok(HttpResponse::Accepted().finish())
}

async fn clear_maintenance(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let row = node_for(&state, &req, &path, "baremetal:node:clear_maintenance").await?;
    call(
        &state,
        &req,
        &row,
        "set_node_maintenance",
        json!({"maintenance": false}),
    )
    .await?;
    Ok(HttpResponse::Accepted().finish())
}

async fn validate_node(state: &ApiState, req: &HttpRequest, ident: &str) -> Result<HttpResponse> {
    let row = node_for(state, req, ident, "baremetal:node:validate").await?;
    let result = call(state, req, &row, "validate_driver_interfaces", json!({})).await?;
    Ok(HttpResponse::Ok().json(result))
}

async fn validate(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let ident = path.into_inner();
    if uuid::Uuid::parse_str(&ident).is_err() && !version_of(&req).at_least(NODE_NAME) {
        return Err(Error::NotAcceptable("Request not acceptable.".into()));
    }
    validate_node(&state, &req, &ident).await
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ValidateQuery {
    node: Option<String>,
    node_uuid: Option<String>,
}

/// `GET /v1/nodes/validate?node=<ident>` (or the deprecated `node_uuid=`).
async fn validate_legacy(
    state: web::Data<ApiState>,
    req: HttpRequest,
    query: web::Query<ValidateQuery>,
) -> Result<HttpResponse> {
    let query = query.into_inner();
    if let Some(n) = &query.node {
        if uuid::Uuid::parse_str(n).is_err() && !version_of(&req).at_least(NODE_NAME) {
            return Err(Error::NotAcceptable("Request not acceptable.".into()));
        }
    }
    if let Some(u) = &query.node_uuid {
        if uuid::Uuid::parse_str(u).is_err() {
            return Err(Error::InvalidParameter(format!(
                "Expected a UUID for node_uuid: {u}"
            )));
        }
    }
    let ident = query
        .node_uuid
        .or(query.node)
        .ok_or_else(|| missing("node"))?;
    validate_node(&state, &req, &ident).await
}

async fn get_console(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let row = node_for(&state, &req, &path, "baremetal:node:get_console").await?;
    let console = call(&state, &req, &row, "get_console_information", json!({})).await?;
    Ok(HttpResponse::Ok().json(console))
}

async fn set_console(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    let ident = path.into_inner();
    let body = body_object(&body, "console request")?;
    only_keys(&body, &["enabled"])?;
    let enabled = boolean(
        "enabled",
        body.get("enabled").ok_or_else(|| missing("enabled"))?,
    )?;
    let row = node_for(&state, &req, &ident, "baremetal:node:set_console_state").await?;
    call(
        &state,
        &req,
        &row,
        "set_console_mode",
        json!({"enabled": enabled}),
    )
    .await?;
    Ok(HttpResponse::Accepted()
        .insert_header((
            "Location",
            format!("{}/v1/nodes/{ident}/states/console", base_url(&state, &req)),
        ))
        .finish())
}

async fn set_raid(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    let row = node_for(&state, &req, &path, "baremetal:node:set_raid_state").await?;
    if !version_of(&req).at_least(RAID_CONFIG) {
        return Err(Error::NotAcceptable("Request not acceptable.".into()));
    }
    let config = match serde_json::from_slice::<Value>(&body) {
        Ok(v @ Value::Object(_)) => v,
        Ok(other) => {
            return Err(Error::InvalidParameter(format!(
                "Invalid target_raid_config: {other} is not a dict"
            )))
        }
        Err(_) => return Err(missing("target_raid_config")),
    };
    call(
        &state,
        &req,
        &row,
        "set_target_raid_config",
        json!({"target_raid_config": config}),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

//! `/v1/nodes/{ident}/states`: read the states, request provision and
//! power changes. The API decides only what Ironic's API decides (version,
//! maintenance, whether the verb applies); the conductor does the rest.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::views::timestamp;
use crate::api::links::base_url;
use crate::api::microversion::Version;
use crate::api::middleware::{context_of, version_of};
use crate::api::ApiState;
use crate::auth::policy::owner_target;
use crate::db::datastore::node::{node_get, NodeRow};
use crate::error::{Error, Result};
use crate::rpc::Target;
use crate::states::{next, PowerState, ProvisionState, Verb, POWER_TARGETS};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/nodes/{ident}/states", web::get().to(show))
        .route(
            "/v1/nodes/{ident}/states/provision",
            web::put().to(provision),
        )
        .route("/v1/nodes/{ident}/states/power", web::put().to(power));
}

/// Loads the node and checks `rule` on it; hidden nodes are 404.
async fn node_for(state: &ApiState, req: &HttpRequest, ident: &str, rule: &str) -> Result<NodeRow> {
    let ctx = context_of(req);
    let i = ident.to_string();
    let row = state.datastore.run(move |c| node_get(c, &i)).await?;
    let creds = ctx.policy_credentials();
    let target = owner_target("node", &creds, row.owner.as_deref(), row.lessee.as_deref());
    if !state.policy.check("baremetal:node:get", &target, &creds) {
        return Err(Error::NotFound(format!("Node {ident} could not be found.")));
    }
    if !state.policy.check(rule, &target, &creds) {
        return Err(Error::Forbidden(format!(
            "Access was denied to the following resource: {rule}"
        )));
    }
    Ok(row)
}

async fn show(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let row = node_for(&state, &req, &path, "baremetal:node:get").await?;
    let v = version_of(&req);
    let provision_state = if row.provision_state == "available" && !v.at_least(Version::new(1, 2)) {
        Value::Null
    } else {
        json!(row.provision_state)
    };
    Ok(HttpResponse::Ok().json(json!({
        "console_enabled": row.console_enabled,
        "last_error": row.last_error,
        "power_state": row.power_state,
        "provision_state": provision_state,
        "provision_updated_at": timestamp(row.provision_updated_at),
        "target_power_state": row.target_power_state,
        "target_provision_state": row.target_provision_state,
    })))
}

fn not_acceptable() -> Error {
    Error::NotAcceptable("Request not acceptable.".into())
}

fn accepted(state: &ApiState, req: &HttpRequest, ident: &str) -> HttpResponse {
    HttpResponse::Accepted()
        .insert_header((
            "Location",
            format!("{}/v1/nodes/{ident}/states", base_url(state, req)),
        ))
        .finish()
}

async fn conductor_for(state: &ApiState, row: &NodeRow) -> Result<String> {
    super::nodes::pick_conductor(state, &row.driver).await
}

async fn provision(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    let ident = path.into_inner();
    let row = node_for(&state, &req, &ident, "baremetal:node:set_provision_state").await?;
    let v = version_of(&req);
    let raw = body
        .get("target")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Error::InvalidParameter(
                "Schema error for provision: 'target' is a required property".into(),
            )
        })?
        .to_string();
    let not_actionable = |row: &NodeRow| {
        match &row.reservation {
        Some(host) => Error::NodeLocked { node: row.uuid.clone(), host: host.clone() },
        None => Error::InvalidParameter(format!(
            "The requested action \"{raw}\" can not be performed on node \"{ident}\" while it is in state \"{}\".",
            row.provision_state
        )),
    }
    };
    // An unknown target is, as in Ironic, simply not actionable.
    let Ok(verb) = raw.parse::<Verb>() else {
        return Err(not_actionable(&row));
    };
    let (major, minor) = verb.min_version();
    if !v.at_least(Version::new(major, minor)) {
        return Err(not_acceptable());
    }
    if row.maintenance && verb.refused_in_maintenance() {
        return Err(Error::InvalidParameter(format!(
            "The requested action \"{raw}\" can not be performed on node \"{ident}\" while it is in maintenance mode."
        )));
    }
    if row.protected && matches!(verb, Verb::Rebuild | Verb::Deleted | Verb::Undeploy) {
        return Err(Error::Forbidden(format!(
            "Node {} is protected and cannot be undeployed, rebuilt or deleted",
            row.uuid
        )));
    }
    let current: ProvisionState = row
        .provision_state
        .parse()
        .map_err(|e| Error::Internal(format!("{e}")))?;
    if next(current, verb.event()).is_none() {
        return Err(not_actionable(&row));
    }
    if let Some((major, minor)) = verb.min_version_after_state_check(current) {
        if !v.at_least(Version::new(major, minor)) {
            return Err(not_acceptable());
        }
    }
    let host = conductor_for(&state, &row).await?;
    state
        .rpc
        .call(
            &Target::Conductor(host),
            &context_of(&req),
            "do_provisioning_action",
            json!({"uuid": row.uuid, "target": verb.as_str()}),
            state.rpc_timeout(),
        )
        .await?;
    Ok(accepted(&state, &req, &ident))
}

async fn power(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    let ident = path.into_inner();
    let row = node_for(&state, &req, &ident, "baremetal:node:set_power_state").await?;
    let v = version_of(&req);
    if body.get("timeout").is_some() && !v.at_least(Version::new(1, 27)) {
        return Err(not_acceptable());
    }
    let raw = body
        .get("target")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let target = raw
        .parse::<PowerState>()
        .ok()
        .filter(|t| POWER_TARGETS.contains(t))
        .ok_or_else(|| {
            Error::InvalidParameter(format!(
                "The requested action \"{raw}\" can not be performed on node \"{ident}\" while it is in state \"{}\".",
                row.power_state.as_deref().unwrap_or("None")
            ))
        })?;
    if let Some((major, minor)) = target.min_version_as_target() {
        if !v.at_least(Version::new(major, minor)) {
            return Err(not_acceptable());
        }
    }
    let host = conductor_for(&state, &row).await?;
    state
        .rpc
        .call(
            &Target::Conductor(host),
            &context_of(&req),
            "change_node_power_state",
            json!({"uuid": row.uuid, "target": target.as_str()}),
            state.rpc_timeout(),
        )
        .await?;
    Ok(accepted(&state, &req, &ident))
}

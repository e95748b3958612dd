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
    } else if row.provision_state == "inspect wait" && !v.at_least(Version::new(1, 39)) {
        json!("inspecting")
    } else {
        json!(row.provision_state)
    };
    let mut doc = json!({
        "console_enabled": row.console_enabled,
        "last_error": row.last_error,
        "power_state": row.power_state,
        "provision_state": provision_state,
        "provision_updated_at": timestamp(row.provision_updated_at),
        "target_power_state": row.target_power_state,
        "target_provision_state": row.target_provision_state,
    });
    if v.at_least(Version::new(1, 12)) {
        doc["raid_config"] = super::views::json_object(&row.raid_config);
        doc["target_raid_config"] = super::views::json_object(&row.target_raid_config);
    }
    Ok(HttpResponse::Ok().json(doc))
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
    let mut body = body.into_inner();
    super::runbooks::apply_runbook(&state, &req, &row, verb, &mut body).await?;
    let extras = check_provision_body(&body, verb, v)?;
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
            json!({"uuid": row.uuid, "target": verb.as_str(), "clean_steps": extras.clean_steps}),
            state.rpc_timeout(),
        )
        .await?;
    Ok(accepted(&state, &req, &ident))
}

/// What a provision request carries besides its target.
struct ProvisionExtras {
    clean_steps: Option<Value>,
}

/// Body keys of `PUT …/states/provision` and the version that allows each.
const PROVISION_KEYS: &[(&str, Version)] = &[
    ("target", Version::new(1, 1)),
    ("configdrive", Version::new(1, 1)),
    ("clean_steps", Version::new(1, 15)),
    ("rescue_password", Version::new(1, 38)),
    ("deploy_steps", Version::new(1, 69)),
    ("disable_ramdisk", Version::new(1, 70)),
    ("service_steps", Version::new(1, 87)),
    ("runbook", Version::new(1, 92)),
];

/// A config drive given as a JSON object came with 1.56; on rebuild, 1.35.
const CONFIGDRIVE_DICT: Version = Version::new(1, 56);
const REBUILD_CONFIGDRIVE: Version = Version::new(1, 35);

/// Ironic's checks of the provision body, before anything is sent.
fn check_provision_body(body: &Value, verb: Verb, v: Version) -> Result<ProvisionExtras> {
    let Value::Object(map) = body else {
        return Err(Error::InvalidParameter(
            "Invalid provision request: body must be an object".into(),
        ));
    };
    let mut unexpected = Vec::new();
    for key in map.keys() {
        match PROVISION_KEYS.iter().find(|(k, _)| k == key) {
            None => unexpected.push(key.as_str()),
            Some((_, since)) if !v.at_least(*since) => return Err(not_acceptable()),
            Some(_) => {}
        }
    }
    if !unexpected.is_empty() {
        return Err(Error::InvalidParameter(format!(
            "Unexpected arguments: {}",
            unexpected.join(", ")
        )));
    }
    let present = |k: &str| map.get(k).is_some_and(|x| !x.is_null());
    if let Some(cd) = map.get("configdrive").filter(|x| !x.is_null()) {
        if !matches!(verb, Verb::Active | Verb::Rebuild | Verb::Deploy) {
            return Err(Error::InvalidParameter(
                "Adding a config drive is only supported when setting provision state to active or rebuild"
                    .into(),
            ));
        }
        match cd {
            Value::String(_) => {}
            Value::Object(_) if v.at_least(CONFIGDRIVE_DICT) => {}
            Value::Object(_) => return Err(not_acceptable()),
            _ => {
                return Err(Error::InvalidParameter(
                    "Invalid configdrive: expected a string or an object".into(),
                ))
            }
        }
        if verb == Verb::Rebuild && !v.at_least(REBUILD_CONFIGDRIVE) {
            return Err(not_acceptable());
        }
    }
    if verb == Verb::Rescue {
        let ok = map
            .get("rescue_password")
            .and_then(Value::as_str)
            .is_some_and(|p| !p.trim().is_empty());
        if !ok {
            return Err(Error::InvalidParameter(
                "A non-empty \"rescue_password\" is required when setting target provision state to rescue"
                    .into(),
            ));
        }
    } else if present("rescue_password") {
        return Err(Error::InvalidParameter(
            "\"rescue_password\" is only valid when setting target provision state to rescue"
                .into(),
        ));
    }
    let clean_steps = map.get("clean_steps").filter(|x| !x.is_null()).cloned();
    if verb == Verb::Clean {
        let Some(steps) = &clean_steps else {
            return Err(Error::InvalidParameter(
                "\"clean_steps\" is required when setting target provision state to clean".into(),
            ));
        };
        check_steps("clean", steps)?;
    } else if clean_steps.is_some() {
        return Err(Error::InvalidParameter(
            "\"clean_steps\" is only valid when setting target provision state to clean".into(),
        ));
    }
    Ok(ProvisionExtras { clean_steps })
}

/// Each step: `{"interface": <kind>, "step": <name>[, "args": {…}]}`.
fn check_steps(kind: &str, steps: &Value) -> Result<()> {
    let bad = |why: String| Error::InvalidParameter(format!("Invalid {kind}_steps: {why}"));
    let Value::Array(list) = steps else {
        return Err(bad("expected a list of steps".into()));
    };
    if list.is_empty() {
        return Err(Error::InvalidParameter(format!(
            "\"{kind}_steps\" is required when setting target provision state to {kind}"
        )));
    }
    for step in list {
        let Value::Object(m) = step else {
            return Err(bad(format!("{step} is not an object")));
        };
        for key in m.keys() {
            if !["interface", "step", "args", "order"].contains(&key.as_str()) {
                return Err(bad(format!(
                    "Additional properties are not allowed ('{key}' was unexpected)"
                )));
            }
        }
        let iface = m
            .get("interface")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if crate::drivers::InterfaceKind::ALL
            .iter()
            .all(|k| k.as_str() != iface)
        {
            return Err(bad(format!(
                "'interface' must be one of the driver interfaces, not {:?}",
                iface
            )));
        }
        if !m.get("step").is_some_and(Value::is_string) {
            return Err(bad("'step' is a required string".into()));
        }
        if m.get("args").is_some_and(|a| !a.is_object()) {
            return Err(bad("'args' must be an object".into()));
        }
    }
    Ok(())
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
    if let Some(t) = body.get("timeout") {
        if !v.at_least(Version::new(1, 27)) {
            return Err(not_acceptable());
        }
        if !t.as_i64().is_some_and(|t| t > 0) {
            return Err(Error::InvalidParameter(format!(
                "Invalid timeout value {t}. The timeout has to be a positive integer."
            )));
        }
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

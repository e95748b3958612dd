//! `/v1/nodes/{ident}/states`: read the states, request provision and
//! power changes. The API decides only what Ironic's API decides (version,
//! maintenance, whether the verb applies); the conductor does the rest.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::field_table::strict_bool;
use super::views::timestamp;
use crate::api::links::base_url;
use crate::api::microversion::Version;
use crate::api::middleware::{context_of, version_of};
use crate::api::patch::python_repr;
use crate::api::ApiState;
use crate::auth::policy::owner_target;
use crate::db::datastore::node::{node_get, NodeRow};
use crate::error::{Error, Result};
use crate::rpc::Target;
use crate::states::{next, PowerState, ProvisionState, Verb, POWER_TARGETS, UNSTABLE_STATES};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/nodes/{ident}/states", web::get().to(show))
        .route(
            "/v1/nodes/{ident}/states/provision",
            web::put().to(provision),
        )
        .route("/v1/nodes/{ident}/states/power", web::put().to(power))
        .route(
            "/v1/nodes/{ident}/states/boot_mode",
            web::put().to(boot_mode),
        )
        .route(
            "/v1/nodes/{ident}/states/secure_boot",
            web::put().to(secure_boot),
        );
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
    if v.at_least(BOOT_MODE_FIELDS) {
        doc["boot_mode"] = json!(row.boot_mode);
        doc["secure_boot"] = json!(row.secure_boot);
    }
    Ok(HttpResponse::Ok().json(doc))
}

/// `boot_mode` and `secure_boot` joined the states document with 1.75.
const BOOT_MODE_FIELDS: Version = Version::new(1, 75);

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
    let args = ProvisionBody::parse(&body)?;
    let row = node_for(&state, &req, &ident, "baremetal:node:set_provision_state").await?;
    let v = version_of(&req);
    let raw = args.target.clone();
    let not_actionable = |row: &NodeRow| {
        match &row.reservation {
        Some(host) => Error::NodeLocked {
            node: row.uuid.clone(),
            host: host.clone(),
        },
        None => Error::InvalidParameter(format!(
            "The requested action \"{raw}\" can not be performed on node \"{}\" while it is in state \"{}\".",
            row.uuid, row.provision_state
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
    // A runbook's steps become the request's clean or service steps.
    let mut body = body.into_inner();
    super::runbooks::apply_runbook(&state, &req, &row, verb, &mut body).await?;
    let args = ProvisionBody::parse(&body)?;
    step_policies(&state, &req, &row, &args)?;
    if row.maintenance && verb.refused_in_maintenance() {
        return Err(Error::InvalidParameter(format!(
            "The provisioning operation can't be performed on node {} because it's in maintenance mode.",
            row.uuid
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
    // Ironic's conductor refuses to provide a retired node.
    if row.retired && verb == Verb::Provide && current == ProvisionState::Manageable {
        return Err(Error::InvalidParameter(format!(
            "The providing operation can't be performed on node {} because it is retired.",
            row.uuid
        )));
    }
    if next(current, verb.event()).is_none() {
        return Err(not_actionable(&row));
    }
    check_provision_body(&args, verb, current, v)?;
    let host = conductor_for(&state, &row).await?;
    state
        .rpc
        .call(
            &Target::Conductor(host),
            &context_of(&req),
            "do_provisioning_action",
            json!({
                "uuid": row.uuid,
                "target": verb.as_str(),
                "configdrive": args.configdrive,
                "clean_steps": args.clean_steps,
                "deploy_steps": args.deploy_steps,
                "service_steps": args.service_steps,
                "disable_ramdisk": args.disable_ramdisk,
            }),
            state.rpc_timeout(),
        )
        .await?;
    Ok(accepted(&state, &req, &ident))
}

/// The body of `PUT …/states/provision`, with Ironic's argument types
/// checked (before the node is even looked up, as its decorators do).
struct ProvisionBody {
    target: String,
    configdrive: Option<Value>,
    clean_steps: Option<Value>,
    deploy_steps: Option<Value>,
    service_steps: Option<Value>,
    rescue_password: Option<String>,
    disable_ramdisk: Option<bool>,
    runbook: Option<String>,
}

/// Body keys of `PUT …/states/provision`; `runbook` needs 1.92.
const PROVISION_KEYS: &[&str] = &[
    "target",
    "configdrive",
    "clean_steps",
    "deploy_steps",
    "rescue_password",
    "disable_ramdisk",
    "service_steps",
    "runbook",
];

/// Named minimums of the provision body's checks.
const REBUILD_CONFIGDRIVE: Version = Version::new(1, 35);
const CONFIGDRIVE_DICT: Version = Version::new(1, 56);
const CONFIGDRIVE_VENDOR_DATA: Version = Version::new(1, 59);
const DEPLOY_STEPS: Version = Version::new(1, 69);
const CLEAN_DISABLE_RAMDISK: Version = Version::new(1, 70);
const RUNBOOKS: Version = Version::new(1, 92);
const SERVICE_DISABLE_RAMDISK: Version = Version::new(1, 108);

impl ProvisionBody {
    fn parse(body: &Value) -> Result<ProvisionBody> {
        let Value::Object(map) = body else {
            return Err(Error::InvalidParameter(
                "Missing mandatory parameter: target".into(),
            ));
        };
        let mut unexpected: Vec<&str> = map
            .keys()
            .map(String::as_str)
            .filter(|k| !PROVISION_KEYS.contains(k))
            .collect();
        if !unexpected.is_empty() {
            unexpected.sort_unstable();
            return Err(Error::InvalidParameter(format!(
                "Unexpected arguments: {}",
                unexpected.join(", ")
            )));
        }
        let get = |k: &str| map.get(k).filter(|v| !v.is_null()).cloned();
        let string = |k: &str| -> Result<Option<String>> {
            match get(k) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(other) => Err(Error::InvalidParameter(format!(
                    "Expected a string for {k}: {}",
                    python_repr(&other)
                ))),
            }
        };
        let list = |k: &str| -> Result<Option<Value>> {
            match get(k) {
                Some(v) if !v.is_array() => Err(Error::InvalidParameter(format!(
                    "Expected types <class 'NoneType'>, <class 'list'> for {k}: {}",
                    python_repr(&v)
                ))),
                other => Ok(other),
            }
        };
        let target = string("target")?
            .ok_or_else(|| Error::InvalidParameter("Missing mandatory parameter: target".into()))?;
        let configdrive = match get("configdrive") {
            Some(v) if !(v.is_object() || v.is_string()) => {
                return Err(Error::InvalidParameter(format!(
                    "Expected types <class 'NoneType'>, <class 'dict'>, <class 'str'> for configdrive: {}",
                    python_repr(&v)
                )))
            }
            other => other,
        };
        let disable_ramdisk = match map.get("disable_ramdisk") {
            None => None,
            Some(v) => bool_value(v)?,
        };
        Ok(ProvisionBody {
            target,
            configdrive,
            clean_steps: list("clean_steps")?,
            deploy_steps: list("deploy_steps")?,
            service_steps: list("service_steps")?,
            rescue_password: string("rescue_password")?,
            disable_ramdisk,
            runbook: string("runbook")?,
        })
    }
}

/// Ironic's `args.boolean` on `disable_ramdisk`.
fn bool_value(v: &Value) -> Result<Option<bool>> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        Value::String(s) => strict_bool("disable_ramdisk", s).map(Some),
        other => strict_bool("disable_ramdisk", &other.to_string()).map(Some),
    }
}

fn non_empty(v: &Option<Value>) -> bool {
    v.as_ref()
        .and_then(Value::as_array)
        .is_some_and(|l| !l.is_empty())
}

/// Arbitrary clean and service steps need their own rules too.
fn step_policies(
    state: &ApiState,
    req: &HttpRequest,
    row: &NodeRow,
    args: &ProvisionBody,
) -> Result<()> {
    let creds = context_of(req).policy_credentials();
    let target = owner_target("node", &creds, row.owner.as_deref(), row.lessee.as_deref());
    for (present, rule) in [
        (
            non_empty(&args.clean_steps),
            "baremetal:node:set_provision_state:clean_steps",
        ),
        (
            non_empty(&args.service_steps),
            "baremetal:node:set_provision_state:service_steps",
        ),
    ] {
        if present && args.runbook.is_none() && !state.policy.check(rule, &target, &creds) {
            return Err(Error::Forbidden(format!(
                "Access was denied to the following resource: {rule}"
            )));
        }
    }
    Ok(())
}

/// Ironic's checks of the provision body after the state check, in its
/// order (`NodeStatesController.provision` and `_do_provision_action`).
fn check_provision_body(
    args: &ProvisionBody,
    verb: Verb,
    current: ProvisionState,
    v: Version,
) -> Result<()> {
    let bad = |m: &str| Err(Error::InvalidParameter(m.to_string()));
    if let Some(cd) = &args.configdrive {
        check_configdrive(cd, verb, v)?;
    }
    if args.runbook.is_some() && !v.at_least(RUNBOOKS) {
        return Err(not_acceptable());
    }
    if args.disable_ramdisk.is_some() {
        match verb {
            Verb::Clean if !v.at_least(CLEAN_DISABLE_RAMDISK) => return Err(ramdisk_too_new()),
            Verb::Service if !v.at_least(SERVICE_DISABLE_RAMDISK) => return Err(ramdisk_too_new()),
            Verb::Clean | Verb::Service => {}
            _ => return bad("disable_ramdisk is supported only with manual cleaning or servicing"),
        }
    }
    if non_empty(&args.clean_steps) && verb != Verb::Clean {
        return bad("\"clean_steps\" is only valid when setting target provision state to clean");
    }
    if non_empty(&args.deploy_steps) {
        if !v.at_least(DEPLOY_STEPS) {
            return Err(Error::NotAcceptable(format!(
                "Request not acceptable. The minimal required API version should be {DEPLOY_STEPS}"
            )));
        }
        if !matches!(verb, Verb::Active | Verb::Rebuild) {
            return bad(
                "\"deploy_steps\" is only valid when setting target provision state to active or rebuild",
            );
        }
    }
    if args.rescue_password.is_some() && verb != Verb::Rescue {
        return bad(
            "\"rescue_password\" is only valid when setting target provision state to rescue",
        );
    }
    let late_minimum = |verb: Verb| match verb.min_version_after_state_check(current) {
        Some((major, minor)) if !v.at_least(Version::new(major, minor)) => Err(not_acceptable()),
        _ => Ok(()),
    };
    if matches!(verb, Verb::Abort | Verb::Unhold) {
        late_minimum(verb)?;
    }
    if non_empty(&args.service_steps) && verb != Verb::Service {
        return bad(
            "\"service_steps\" is only valid when setting target provision state to service",
        );
    }
    if verb == Verb::Service {
        late_minimum(verb)?;
    }
    match verb {
        Verb::Active | Verb::Rebuild | Verb::Deploy if non_empty(&args.deploy_steps) => {
            check_steps("deploy", args.deploy_steps.as_ref(), &DEPLOY_STEP_KEYS)
        }
        Verb::Rescue => {
            if args
                .rescue_password
                .as_deref()
                .is_some_and(|p| !p.trim().is_empty())
            {
                Ok(())
            } else {
                bad("A non-empty \"rescue_password\" is required when setting target provision state to rescue")
            }
        }
        Verb::Clean => check_steps("clean", args.clean_steps.as_ref(), &STEP_KEYS),
        Verb::Service => check_steps("service", args.service_steps.as_ref(), &STEP_KEYS),
        _ => Ok(()),
    }
}

fn ramdisk_too_new() -> Error {
    Error::NotAcceptable("disable_ramdisk is not acceptable in this API version".into())
}

/// Characters of a base64 config drive (whitespace allowed).
fn is_base64ish(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "+/=\n\r\t ".contains(c))
}

/// `check_allow_configdrive`: targets, schema, and the versions that
/// allowed a JSON object (1.56) and its `vendor_data` (1.59), all 400.
fn check_configdrive(cd: &Value, verb: Verb, v: Version) -> Result<()> {
    let empty = match cd {
        Value::String(s) => s.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    };
    if empty {
        return Ok(());
    }
    let allowed = if v.at_least(REBUILD_CONFIGDRIVE) {
        "active, rebuild"
    } else {
        "active"
    };
    let ok_target = verb == Verb::Active || (verb == Verb::Rebuild && allowed.contains("rebuild"));
    if !ok_target {
        return Err(Error::InvalidParameter(format!(
            "Adding a config drive is only supported when setting provision state to {allowed}"
        )));
    }
    let invalid =
        |why: String| Error::InvalidParameter(format!("Invalid configdrive format: {why}"));
    match cd {
        Value::Object(map) => {
            for (key, value) in map {
                let fits = match key.as_str() {
                    "meta_data" | "network_data" | "vendor_data" => value.is_object(),
                    "user_data" => !(value.is_number() || value.is_boolean()),
                    _ => {
                        return Err(invalid(format!(
                            "Additional properties are not allowed ('{key}' was unexpected)"
                        )))
                    }
                };
                if !fits {
                    let wanted = if key == "user_data" {
                        "'object', 'array', 'string', 'null'"
                    } else {
                        "'object'"
                    };
                    return Err(invalid(format!(
                        "{} is not of type {wanted}",
                        python_repr(value)
                    )));
                }
            }
            if !v.at_least(CONFIGDRIVE_DICT) {
                return Err(Error::InvalidParameter(format!(
                    "Providing a JSON object for configdrive is only supported starting with API version {CONFIGDRIVE_DICT}"
                )));
            }
            if map.contains_key("vendor_data") && !v.at_least(CONFIGDRIVE_VENDOR_DATA) {
                return Err(Error::InvalidParameter(format!(
                    "Providing vendor_data in configdrive is only supported starting with API version {CONFIGDRIVE_VENDOR_DATA}"
                )));
            }
            Ok(())
        }
        Value::String(s) if s.contains("://") || is_base64ish(s) => Ok(()),
        _ => Err(invalid(
            "it is neither a JSON, nor a URL, nor a base64 string".into(),
        )),
    }
}

/// The keys of a clean or service step and whether each is required.
const STEP_KEYS: [(&str, bool); 6] = [
    ("interface", true),
    ("step", true),
    ("args", false),
    ("order", false),
    ("execute_on_child_nodes", false),
    ("limit_child_node_execution", false),
];

/// The keys of a deploy step (all required).
const DEPLOY_STEP_KEYS: [(&str, bool); 4] = [
    ("args", true),
    ("interface", true),
    ("priority", true),
    ("step", true),
];

/// The interfaces steps may name (Ironic's step interface priorities).
const STEP_INTERFACES: &[&str] = &[
    "vendor",
    "power",
    "management",
    "firmware",
    "deploy",
    "bios",
    "raid",
];

/// Ironic's step schemas; the message is jsonschema's first line.
fn check_steps(kind: &str, steps: Option<&Value>, keys: &[(&str, bool)]) -> Result<()> {
    let list = steps.and_then(Value::as_array).filter(|l| !l.is_empty());
    let Some(list) = list else {
        return Err(Error::InvalidParameter(format!(
            "\"{kind}_steps\" is required when setting target provision state to {kind}"
        )));
    };
    let bad = |why: String| Error::InvalidParameter(format!("Invalid {kind}_steps: {why}"));
    for step in list {
        let Value::Object(m) = step else {
            return Err(bad(format!(
                "{} is not of type 'object'",
                python_repr(step)
            )));
        };
        for (key, required) in keys {
            if *required && !m.contains_key(*key) {
                return Err(bad(format!("'{key}' is a required property")));
            }
        }
        for (key, value) in m {
            let problem = match key.as_str() {
                _ if !keys.iter().any(|(k, _)| k == key) => {
                    return Err(bad(format!(
                        "Additional properties are not allowed ('{key}' was unexpected)"
                    )))
                }
                "interface" if !value.as_str().is_some_and(|i| STEP_INTERFACES.contains(&i)) => {
                    format!(
                        "{} is not one of ['{}']",
                        python_repr(value),
                        STEP_INTERFACES.join("', '")
                    )
                }
                "step" if !value.as_str().is_some_and(|s| !s.is_empty()) => match value {
                    Value::String(_) => format!("{} is too short", python_repr(value)),
                    _ => format!("{} is not of type 'string'", python_repr(value)),
                },
                "args" if !value.is_object() => {
                    format!("{} is not of type 'object'", python_repr(value))
                }
                "priority" | "order" if !is_step_number(value) => match value {
                    Value::String(_) => format!("{} does not match '^[0-9]+$'", python_repr(value)),
                    _ => format!(
                        "{} is not valid under any of the given schemas",
                        python_repr(value)
                    ),
                },
                "execute_on_child_nodes" if !value.is_boolean() => {
                    format!("{} is not of type 'boolean'", python_repr(value))
                }
                "limit_child_node_execution" if !value.is_array() => {
                    format!("{} is not of type 'array'", python_repr(value))
                }
                _ => continue,
            };
            return Err(bad(problem));
        }
    }
    Ok(())
}

/// `priority`/`order`: an integer ≥ 0 or a string of digits.
fn is_step_number(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.as_u64().is_some(),
        Value::String(s) => !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()),
        _ => false,
    }
}

/// `PUT …/states/boot_mode` and `…/states/secure_boot` came with 1.76.
const CHANGE_BOOT_MODE: Version = Version::new(1, 76);
const BOOT_MODES: &[&str] = &["bios", "uefi"];

async fn boot_mode(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    let target = boot_target(&body)?;
    let ident = path.into_inner();
    let row = node_for(&state, &req, &ident, "baremetal:node:set_boot_mode").await?;
    let target = match target {
        Value::String(s) => s,
        other => python_repr(&other),
    };
    if !BOOT_MODES.contains(&target.as_str()) {
        return Err(Error::InvalidParameter(format!(
            "Invalid boot mode {target} requested for node. Allowed boot modes are: {}",
            BOOT_MODES.join(", ")
        )));
    }
    boot_change(
        &state,
        &req,
        &ident,
        &row,
        "change_node_boot_mode",
        json!(target),
    )
    .await
}

async fn secure_boot(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    let target = match boot_target(&body)? {
        Value::Bool(b) => b,
        Value::String(s) => strict_bool("target", &s)?,
        other => strict_bool("target", &python_repr(&other))?,
    };
    let ident = path.into_inner();
    let row = node_for(&state, &req, &ident, "baremetal:node:set_secure_boot").await?;
    boot_change(
        &state,
        &req,
        &ident,
        &row,
        "change_node_secure_boot",
        json!(target),
    )
    .await
}

/// The `target` of a boot-mode or secure-boot body (the only key).
fn boot_target(body: &Value) -> Result<Value> {
    let map = body.as_object().cloned().unwrap_or_default();
    let mut extra: Vec<&str> = map
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "target")
        .collect();
    if !extra.is_empty() {
        extra.sort_unstable();
        return Err(Error::InvalidParameter(format!(
            "Unexpected arguments: {}",
            extra.join(", ")
        )));
    }
    map.get("target")
        .filter(|t| !t.is_null())
        .cloned()
        .ok_or_else(|| Error::InvalidParameter("Missing mandatory parameter: target".into()))
}

/// The version gate (404), the transient-state refusal (409) and the RPC.
async fn boot_change(
    state: &ApiState,
    req: &HttpRequest,
    ident: &str,
    row: &NodeRow,
    method: &str,
    target: Value,
) -> Result<HttpResponse> {
    if !version_of(req).at_least(CHANGE_BOOT_MODE) {
        return Err(Error::NotFound(format!(
            "This endpoint is supported starting with the API version {CHANGE_BOOT_MODE}"
        )));
    }
    let transient = UNSTABLE_STATES
        .iter()
        .any(|s| s.as_str() == row.provision_state);
    if transient {
        return Err(Error::Conflict(format!(
            "Node is in {} state. Since node is transitioning, the boot mode will not be set as this may interfere with ongoing changes and result in erroneous modification. Try again later.",
            row.provision_state
        )));
    }
    let host = conductor_for(state, row).await?;
    state
        .rpc
        .call(
            &Target::Conductor(host),
            &context_of(req),
            method,
            json!({"uuid": row.uuid, "target": target}),
            state.rpc_timeout(),
        )
        .await?;
    Ok(accepted(state, req, ident))
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
            json!({"uuid": row.uuid, "target": target.as_str(), "timeout": body.get("timeout")}),
            state.rpc_timeout(),
        )
        .await?;
    Ok(accepted(&state, &req, &ident))
}

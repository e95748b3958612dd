//! The ramdisk agent's endpoints: `GET /v1/lookup`, `POST /v1/heartbeat/{node}`
//! (1.22) and `POST /v1/continue_inspection` (1.1 for ironic-inspector
//! compatibility, else 1.84); what inspection stored is shown by
//! `inventory.rs`. The agent's endpoints are public,
//! as in Ironic: the agent has no credentials; it proves itself with the
//! one-time token of its lookup.
//!
//! Deliberate difference: below 1.62 Ironic's lookup shows the node's stored
//! agent token in clear to anyone who knows a MAC; Berth shows `******`.

use std::collections::BTreeSet;

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::nodes::pick_conductor;
use super::ports::normalize_mac;
use super::views::{json_object, mask_secrets};
use crate::api::links::{base_url, resource_links};
use crate::api::microversion::Version;
use crate::api::middleware::{context_of, version_of};
use crate::api::ApiState;
use crate::conductor::agent::{
    fast_track_enabled, internal_info, Heartbeat, MASKED_TOKEN, TOKEN_KEY, URL_KEY,
};
use crate::db::datastore::node::{node_get, node_get_by_uuid, node_list, NodeFilter, NodeRow};
use crate::db::datastore::node_agent::node_list_by_port_addresses;
use crate::error::{Error, Result};
use crate::rpc::Target;
use crate::states::{ProvisionState, FASTTRACK_LOOKUP_ALLOWED_STATES, LOOKUP_ALLOWED_STATES};

/// `lookup` and `heartbeat` exist.
pub const RAMDISK_ENDPOINTS: Version = Version::new(1, 22);
/// Heartbeats may carry `agent_version`.
pub const HEARTBEAT_AGENT_VERSION: Version = Version::new(1, 36);
/// Lookup mints the one-time agent token.
pub const AGENT_TOKEN: Version = Version::new(1, 62);
/// Heartbeats may carry `agent_verify_ca`.
pub const HEARTBEAT_VERIFY_CA: Version = Version::new(1, 68);
/// Heartbeats may carry `agent_status` and `agent_status_message`.
pub const HEARTBEAT_STATUS: Version = Version::new(1, 72);
/// `GET /v1/nodes/{node}/inventory`.
pub const NODE_INVENTORY: Version = Version::new(1, 81);
/// `continue_inspection` proper: `node_uuid`, a token and a lookup-style answer.
pub const CONTINUE_INSPECTION: Version = Version::new(1, 84);
/// The version ironic-inspector's clients speak (no header).
const INSPECTOR_COMPAT: Version = Version::new(1, 1);

/// Body limit of `continue_inspection`: inventories carry every disk and NIC.
const INSPECTION_BODY_LIMIT: usize = 1024 * 1024;

/// The node fields a lookup returns.
const LOOKUP_FIELDS: &[&str] = &[
    "uuid",
    "properties",
    "instance_info",
    "driver_internal_info",
];
const AGENT_STATUSES: &[&str] = &["start", "end", "error"];
const HEARTBEAT_ARGS: &[&str] = &[
    "callback_url",
    "agent_version",
    "agent_token",
    "agent_verify_ca",
    "agent_status",
    "agent_status_message",
];
/// `driver_internal_info` key the inspection start fills with BMC addresses.
const LOOKUP_BMC_ADDRESSES: &str = "lookup_bmc_addresses";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/lookup", web::get().to(lookup))
        .route("/v1/lookup/", web::get().to(lookup))
        .route("/v1/heartbeat/{node_ident}", web::post().to(heartbeat))
        .service(
            web::resource(["/v1/continue_inspection", "/v1/continue_inspection/"])
                .app_data(web::PayloadConfig::new(INSPECTION_BODY_LIMIT))
                .route(web::post().to(continue_inspection)),
        );
}

/// Paths reached without credentials (Ironic's `acl_public_routes`): the
/// agent's endpoints; a heartbeat only for lower-case UUIDs and names.
pub fn is_public_path(path: &str) -> bool {
    let path = path.trim_end_matches('/');
    if path == "/v1/lookup" || path == "/v1/continue_inspection" {
        return true;
    }
    path.strip_prefix("/v1/heartbeat/").is_some_and(|ident| {
        !ident.is_empty()
            && ident
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    })
}

fn disabled(req: &HttpRequest) -> Error {
    Error::Forbidden(format!(
        "Access was denied to the following resource: {}",
        req.path()
    ))
}

fn not_found() -> Error {
    Error::NotFound("Resource could not be found.".into())
}

fn authorize(state: &ApiState, req: &HttpRequest, rule: &str) -> Result<()> {
    let creds = context_of(req).policy_credentials();
    state.policy.authorize(rule, &creds, &creds)
}

/// Query arguments as pairs; anything not in `known` is refused as Ironic does.
pub(super) fn query_pairs(req: &HttpRequest, known: &[&str]) -> Result<Vec<(String, String)>> {
    let pairs: Vec<(String, String)> =
        web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .map_err(|e| Error::InvalidParameter(format!("Invalid query arguments: {e}")))?
            .into_inner();
    let unexpected: BTreeSet<&str> = pairs
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| !known.contains(k))
        .collect();
    if !unexpected.is_empty() {
        return Err(Error::InvalidParameter(format!(
            "Unexpected arguments: {}",
            unexpected.into_iter().collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(pairs)
}

fn checked_node_uuid(raw: Option<String>) -> Result<Option<String>> {
    match raw {
        Some(u) if uuid::Uuid::parse_str(&u).is_err() => Err(Error::InvalidParameter(format!(
            "Expected UUID for node_uuid: {u}"
        ))),
        other => Ok(other),
    }
}

/// Ironic's `string_list`: comma-separated, trimmed, lower-cased, unique.
fn string_list(values: &[String]) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    for v in values.iter().flat_map(|v| v.split(',')) {
        let v = v.trim().to_ascii_lowercase();
        if !v.is_empty() && !items.contains(&v) {
            items.push(v);
        }
    }
    items
}

/// Valid MACs, normalized; invalid ones are logged and ignored.
fn valid_macs<'a>(addresses: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut valid = Vec::new();
    for raw in addresses {
        match normalize_mac(raw) {
            Ok(mac) if !valid.contains(&mac) => valid.push(mac),
            Ok(_) => {}
            Err(_) => {
                tracing::warn!(address = %raw, "ignoring an invalid MAC address in a ramdisk lookup")
            }
        }
    }
    valid
}

/// The single node owning ports with these MACs; none or several is NotFound.
async fn node_by_macs(state: &ApiState, macs: Vec<String>) -> Result<Option<NodeRow>> {
    let shown = macs.join(", ");
    let mut found = state
        .datastore
        .run(move |c| node_list_by_port_addresses(c, &macs))
        .await?;
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => {
            tracing::error!(macs = %shown, "several nodes match the MAC addresses of a ramdisk lookup");
            Err(not_found())
        }
    }
}

/// What the agent is told at lookup (Ironic's `config`); options Berth does
/// not have carry Ironic's defaults.
fn agent_config(state: &ApiState, node: &NodeRow, token: Option<String>) -> Value {
    let agent = &state.conf.agent;
    let skip_bmc_detect = matches!(
        node.management_interface.as_deref(),
        Some("redfish" | "idrac-redfish")
    );
    json!({
        "metrics": {"backend": "noop", "prepend_host": false, "prepend_uuid": false,
                    "prepend_host_reverse": true, "global_prefix": null},
        "metrics_statsd": {"statsd_host": "localhost", "statsd_port": 8125},
        "heartbeat_timeout": state.conf.api.ramdisk_heartbeat_timeout,
        "agent_containers": {
            "allow_arbitrary_containers": false,
            "allowed_containers": [],
            "container_steps_file": "/etc/ironic-python-agent.d/mysteps.yaml",
            "runner": "podman",
            "pull_options": [],
            "run_options": ["--rm", "--network=host"],
        },
        "agent_token": token,
        "agent_token_required": true,
        "agent_md5_checksum_enable": agent.allow_md5_checksum,
        "disable_deep_image_inspection": false,
        "permitted_image_formats": ["raw", "gpt", "qcow2", "iso"],
        "agent_skip_bmc_detect": skip_bmc_detect,
        "enable_bios_bootloader_install": agent.enable_bios_bootloader_install,
        "tls_min_version": agent.tls_minimum_version,
        "tls_cipher_suites": agent.tls_ciphers,
    })
}

/// `{"node": {…the lookup fields…}, "config": {…}}`.
fn lookup_body(
    state: &ApiState,
    req: &HttpRequest,
    node: &NodeRow,
    token: Option<String>,
) -> Value {
    let base = base_url(state, req);
    let mut view = Map::new();
    for field in LOOKUP_FIELDS {
        let value = match *field {
            "uuid" => json!(node.uuid),
            "properties" => json_object(&node.properties),
            "instance_info" => mask_secrets(json_object(&node.instance_info)),
            _ => mask_secrets(json_object(&node.driver_internal_info)),
        };
        view.insert((*field).into(), value);
    }
    view.insert("links".into(), resource_links(&base, "nodes", &node.uuid));
    json!({"node": view, "config": agent_config(state, node, token)})
}

/// Mints (or learns it was already handed out) the node's token on its
/// conductor; returns the node as it is afterwards, and the token.
async fn node_with_token(
    state: &ApiState,
    req: &HttpRequest,
    node: &NodeRow,
) -> Result<(NodeRow, Option<String>)> {
    let host = pick_conductor(state, &node.driver).await?;
    let answer = state
        .rpc
        .call(
            &Target::Conductor(host),
            &context_of(req),
            "get_node_with_token",
            json!({"uuid": node.uuid}),
            state.rpc_timeout(),
        )
        .await?;
    let token = answer
        .get("agent_token")
        .and_then(Value::as_str)
        .map(str::to_string);
    let u = node.uuid.clone();
    let node = state
        .datastore
        .run(move |c| node_get_by_uuid(c, &u))
        .await?;
    Ok((node, token))
}

/// Without minting, a lookup never reveals a stored token.
fn masked_token(node: &NodeRow) -> Option<String> {
    internal_info(node)
        .get(TOKEN_KEY)
        .filter(|t| !t.is_null())
        .map(|_| MASKED_TOKEN.to_string())
}

async fn lookup(state: web::Data<ApiState>, req: HttpRequest) -> Result<HttpResponse> {
    let pairs = query_pairs(&req, &["addresses", "node_uuid"])?;
    let addresses: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "addresses")
        .map(|(_, v)| v.clone())
        .collect();
    let node_uuid = checked_node_uuid(
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k == "node_uuid")
            .map(|(_, v)| v.clone()),
    )?;
    if !state.conf.api.enable_ramdisk_endpoints {
        return Err(disabled(&req));
    }
    let v = version_of(&req);
    if !v.at_least(RAMDISK_ENDPOINTS) {
        return Err(not_found());
    }
    authorize(&state, &req, "baremetal:driver:ipa_lookup")?;
    let addresses = string_list(&addresses);
    let macs = valid_macs(addresses.iter().map(String::as_str));
    if macs.is_empty() && node_uuid.is_none() {
        return Err(Error::InvalidParameter(
            "At least one of 'addresses' and 'node_uuid' parameters is required".into(),
        ));
    }
    // "No such node" and "not in a lookup state" look the same from outside.
    let node = match node_uuid {
        Some(u) => state
            .datastore
            .run(move |c| node_get_by_uuid(c, &u))
            .await
            .map_err(|_| not_found())?,
        None => node_by_macs(&state, macs).await?.ok_or_else(not_found)?,
    };
    if state.conf.api.restrict_lookup {
        let fast_track = fast_track_enabled(
            &json_object(&node.driver_info),
            state.conf.deploy.fast_track,
        )?;
        let allowed = if fast_track {
            FASTTRACK_LOOKUP_ALLOWED_STATES
        } else {
            LOOKUP_ALLOWED_STATES
        };
        let current: Option<ProvisionState> = node.provision_state.parse().ok();
        if !current.is_some_and(|s| allowed.contains(&s)) {
            tracing::error!(node = %node.uuid, state = %node.provision_state, "lookup is not allowed in this provision state");
            return Err(not_found());
        }
    }
    let (node, token) = if v.at_least(AGENT_TOKEN) {
        node_with_token(&state, &req, &node).await?
    } else {
        let token = masked_token(&node);
        (node, token)
    };
    Ok(HttpResponse::Ok().json(lookup_body(&state, &req, &node, token)))
}

/// Ironic's `is_valid_logical_name` or a UUID.
fn checked_node_ident(ident: &str) -> Result<()> {
    let name_ok = !ident.is_empty()
        && ident.len() <= 255
        && ident
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if name_ok || uuid::Uuid::parse_str(ident).is_ok() {
        Ok(())
    } else {
        Err(Error::InvalidParameter(format!(
            "Expected UUID or name for node_ident: {ident}"
        )))
    }
}

/// Python's `repr` of a JSON value, for messages copied from Ironic.
fn py_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(py_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("'{k}': {}", py_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The callback URL as Ironic accepts it: a scheme mentioning http (the
/// scheme lower-cased), or empty for one-way agents (anaconda).
fn checked_callback_url(raw: &str) -> Result<String> {
    let scheme_end = raw.find(':').filter(|&i| {
        i > 0
            && raw[..i].starts_with(|c: char| c.is_ascii_alphabetic())
            && raw[..i]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    match scheme_end {
        Some(i) if raw[..i].to_ascii_lowercase().contains("http") => {
            Ok(format!("{}{}", raw[..i].to_ascii_lowercase(), &raw[i..]))
        }
        _ if raw.is_empty() => Ok(String::new()),
        _ => Err(Error::InvalidParameter(
            "An issue with the supplied \"callback_url\" has been detected.".into(),
        )),
    }
}

async fn heartbeat(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    let ident = path.into_inner();
    // As pecan: query arguments and a JSON object body are the arguments;
    // a body that is not one counts as no arguments.
    let mut args: Map<String, Value> = Map::new();
    for (k, v) in query_pairs(&req, HEARTBEAT_ARGS)? {
        args.insert(k, Value::String(v));
    }
    if let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(&body) {
        let unexpected: BTreeSet<&str> = m
            .keys()
            .map(String::as_str)
            .filter(|k| !HEARTBEAT_ARGS.contains(k))
            .collect();
        if !unexpected.is_empty() {
            return Err(Error::InvalidParameter(format!(
                "Unexpected arguments: {}",
                unexpected.into_iter().collect::<Vec<_>>().join(", ")
            )));
        }
        args.extend(m);
    }
    let text = |name: &str| -> Result<Option<String>> {
        match args.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(Error::InvalidParameter(format!(
                "Expected string for {name}: {}",
                py_repr(other)
            ))),
        }
    };
    let callback_url = match args.get("callback_url") {
        None => {
            return Err(Error::InvalidParameter(
                "Missing mandatory parameter: callback_url".into(),
            ))
        }
        Some(_) => text("callback_url")?.unwrap_or_default(),
    };
    let agent_version = text("agent_version")?;
    let agent_token = text("agent_token")?;
    let agent_verify_ca = text("agent_verify_ca")?;
    let agent_status = text("agent_status")?;
    let agent_status_message = text("agent_status_message")?;
    checked_node_ident(&ident)?;

    if !state.conf.api.enable_ramdisk_endpoints {
        return Err(disabled(&req));
    }
    let v = version_of(&req);
    if !v.at_least(RAMDISK_ENDPOINTS) {
        return Err(not_found());
    }
    let present = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.is_empty());
    if present(&agent_version) && !v.at_least(HEARTBEAT_AGENT_VERSION) {
        return Err(Error::InvalidParameter(
            "Field \"agent_version\" not recognised".into(),
        ));
    }
    if (present(&agent_status) || present(&agent_status_message)) && !v.at_least(HEARTBEAT_STATUS) {
        return Err(Error::InvalidParameter(
            "Fields \"agent_status\" and \"agent_status_message\" not recognised.".into(),
        ));
    }
    authorize(&state, &req, "baremetal:node:ipa_heartbeat")?;
    if agent_verify_ca.is_some() && !v.at_least(HEARTBEAT_VERIFY_CA) {
        return Err(Error::InvalidParameter(
            "Field \"agent_verify_ca\" not recognised in this version".into(),
        ));
    }
    let i = ident.clone();
    let node = state.datastore.run(move |c| node_get(c, &i)).await?;
    let callback_url = checked_callback_url(&callback_url)?;
    if let Some(known) = internal_info(&node).get(URL_KEY).and_then(Value::as_str) {
        if known != callback_url {
            tracing::error!(node = %node.uuid, url = %callback_url, "heartbeat with a callback URL other than the recorded one");
            return Err(Error::InvalidParameter(
                "Detected change in ramdisk provided \"callback_url\"".into(),
            ));
        }
    }
    if agent_token.is_none() {
        tracing::error!(node = %ident, "agent heartbeat without an agent token");
        return Err(Error::InvalidParameter(
            "Agent token is required for heartbeat processing.".into(),
        ));
    }
    if let Some(s) = &agent_status {
        if !AGENT_STATUSES.contains(&s.as_str()) {
            return Err(Error::InvalidParameter(format!(
                "Agent status is invalid. Valid states are {}.",
                AGENT_STATUSES.join(",")
            )));
        }
    }
    let host = pick_conductor(&state, &node.driver).await?;
    let hb = Heartbeat {
        callback_url,
        agent_version,
        agent_token,
        agent_verify_ca,
        agent_status,
        agent_status_message,
    };
    let mut rpc_args = serde_json::to_value(hb).map_err(Error::internal)?;
    rpc_args["uuid"] = json!(node.uuid);
    state
        .rpc
        .call(
            &Target::Conductor(host),
            &context_of(&req),
            "heartbeat",
            rpc_args,
            state.rpc_timeout(),
        )
        .await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Ironic's minimal inventory schema: an object with `inventory.interfaces`,
/// a non-empty list of objects with a string `mac_address`.
fn validate_inspection_data(data: &Value) -> Result<()> {
    let fail = |why: String| Error::InvalidParameter(format!("Schema error for data: {why}"));
    let Value::Object(top) = data else {
        return Err(fail(format!("{} is not of type 'object'", py_repr(data))));
    };
    let inventory = top
        .get("inventory")
        .ok_or_else(|| fail("'inventory' is a required property".into()))?;
    let Value::Object(inv) = inventory else {
        return Err(fail(format!(
            "{} is not of type 'object'",
            py_repr(inventory)
        )));
    };
    for key in ["bmc_address", "bmc_v6address"] {
        if let Some(v) = inv.get(key) {
            if !(v.is_string() || v.is_null()) {
                return Err(fail(format!(
                    "{} is not of type 'string', 'null'",
                    py_repr(v)
                )));
            }
        }
    }
    let interfaces = inv
        .get("interfaces")
        .ok_or_else(|| fail("'interfaces' is a required property".into()))?;
    let Value::Array(items) = interfaces else {
        return Err(fail(format!(
            "{} is not of type 'array'",
            py_repr(interfaces)
        )));
    };
    if items.is_empty() {
        return Err(fail("[] should be non-empty".into()));
    }
    for item in items {
        let Value::Object(iface) = item else {
            return Err(fail(format!("{} is not of type 'object'", py_repr(item))));
        };
        match iface.get("mac_address") {
            None => return Err(fail("'mac_address' is a required property".into())),
            Some(Value::String(_)) => {}
            Some(other) => return Err(fail(format!("{} is not of type 'string'", py_repr(other)))),
        }
    }
    Ok(())
}

/// BMC addresses a node answers to: the ones cached when its inspection
/// started, else the `*_address` values of its driver_info (the host of a
/// URL; loopback ignored; names are not resolved).
fn bmc_addresses(driver_info: &Value, internal: &Map<String, Value>) -> Vec<String> {
    if let Some(Value::Array(cached)) = internal.get(LOOKUP_BMC_ADDRESSES) {
        return cached
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
    }
    let Value::Object(info) = driver_info else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, value) in info {
        let (true, Some(raw)) = (name.ends_with("_address"), value.as_str()) else {
            continue;
        };
        let host = match raw.split_once("//") {
            Some((_, rest)) => {
                let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
                let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
                match host_port.strip_prefix('[') {
                    Some(v6) => v6.split(']').next().unwrap_or(""),
                    None => host_port.split(':').next().unwrap_or(""),
                }
            }
            None => raw.trim_start_matches('[').trim_end_matches(']'),
        }
        .to_ascii_lowercase();
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if !host.is_empty() && !loopback && !out.contains(&host) {
            out.push(host);
        }
    }
    out
}

/// Ironic's `inspect_utils.lookup_node` without auto-discovery: MACs, BMC
/// addresses and the optional UUID must agree on one node in `inspect wait`.
async fn inspection_node(
    state: &ApiState,
    macs: Vec<String>,
    bmc: Vec<String>,
    node_uuid: Option<String>,
    serial: Option<String>,
) -> Result<Option<NodeRow>> {
    let mut node = match node_uuid {
        Some(u) => Some(
            state
                .datastore
                .run(move |c| node_get_by_uuid(c, &u))
                .await
                .map_err(|_| not_found())?,
        ),
        None => None,
    };
    if !macs.is_empty() {
        if let Some(by_mac) = node_by_macs(state, macs).await? {
            if node.as_ref().is_some_and(|n| n.uuid != by_mac.uuid) {
                tracing::error!(node = %by_mac.uuid, "inspection lookup: the MACs belong to another node than the one named");
                return Err(not_found());
            }
            node = Some(by_mac);
        }
    }
    if let Some(n) = &node {
        let waiting = n.provision_state == ProvisionState::InspectWait.as_str();
        if !waiting && !pre_registered(state, n).await? {
            tracing::error!(node = %n.uuid, state = %n.provision_state, "inspection data for a node that is not waiting for it");
            return Err(not_found());
        }
    }
    if !bmc.is_empty() {
        let waiting = state
            .datastore
            .run(|c| {
                node_list(
                    c,
                    &NodeFilter {
                        provision_state: Some(ProvisionState::InspectWait.as_str().into()),
                        ..Default::default()
                    },
                )
            })
            .await?;
        let by_bmc: Vec<NodeRow> = waiting
            .into_iter()
            .filter(|n| {
                bmc_addresses(&json_object(&n.driver_info), &internal_info(n))
                    .iter()
                    .any(|a| bmc.contains(a))
            })
            .collect();
        match &node {
            Some(known) if !by_bmc.is_empty() && !by_bmc.iter().any(|n| n.uuid == known.uuid) => {
                tracing::error!(node = %known.uuid, "inspection lookup: MACs and BMC address point at different nodes");
                return Err(not_found());
            }
            None if by_bmc.len() > 1 => {
                tracing::error!(
                    "inspection lookup: several nodes have this BMC address and no MAC matches"
                );
                return Err(not_found());
            }
            None => node = by_bmc.into_iter().next(),
            Some(_) => {}
        }
    }
    // Last, a node imported with the serial number the machine reports.
    if node.is_none() && state.conf.auto_discovery.enabled {
        if let Some(serial) = serial {
            node = node_by_expected_serial(state, &serial).await?;
        }
    }
    // None: unknown hardware, which auto-discovery may enroll.
    Ok(node)
}

/// With auto-discovery, a node imported ahead of its hardware (in
/// `enroll`, never inspected) takes the inventory of the machine that
/// boots with its MAC or serial number, instead of a new node being
/// enrolled for it.
async fn pre_registered(state: &ApiState, node: &NodeRow) -> Result<bool> {
    if !state.conf.auto_discovery.enabled || node.provision_state != ProvisionState::Enroll.as_str()
    {
        return Ok(false);
    }
    let id = node.id;
    let inventory = state
        .datastore
        .run(move |c| crate::db::datastore::node_inventory::node_inventory_get(c, id))
        .await;
    Ok(inventory.is_err())
}

/// The one pre-registered node whose `extra.serial_number` is `serial`.
async fn node_by_expected_serial(state: &ApiState, serial: &str) -> Result<Option<NodeRow>> {
    let enrolled = state
        .datastore
        .run(|c| {
            node_list(
                c,
                &NodeFilter {
                    provision_state: Some(ProvisionState::Enroll.as_str().into()),
                    ..Default::default()
                },
            )
        })
        .await?;
    let key = crate::conductor::discovery::EXPECTED_SERIAL_KEY;
    let mut matching = Vec::new();
    for n in enrolled {
        let expected = json_object(&n.extra)
            .get(key)
            .and_then(Value::as_str)
            .map(|s| s.trim().eq_ignore_ascii_case(serial.trim()))
            .unwrap_or(false);
        if expected && pre_registered(state, &n).await? {
            matching.push(n);
        }
    }
    if matching.len() > 1 {
        tracing::error!(serial = %serial, "inspection lookup: several nodes expect this serial number");
        return Err(not_found());
    }
    Ok(matching.pop())
}

/// Ironic's `_auto_enroll`: a new node in `enroll` with the discovery
/// driver, for hardware whose inspection data matched no node, created by
/// a conductor (`create_node`) so its interfaces are resolved as for any
/// node. Failures say nothing to the caller (Ironic hides them too), only
/// to the log.
async fn auto_enroll(
    state: &ApiState,
    req: &HttpRequest,
    macs: &[String],
    bmc: &[String],
) -> Result<NodeRow> {
    let hidden = || Error::Internal("An unknown exception occurred.".into());
    let driver = state
        .conf
        .auto_discovery
        .driver
        .clone()
        .ok_or_else(hidden)?;
    let host = match pick_conductor(state, &driver).await {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(driver = %driver, error = %e, "no conductor for the newly discovered node");
            return Err(hidden());
        }
    };
    let uuid = uuid::Uuid::new_v4().to_string();
    tracing::info!(node = %uuid, driver = %driver, macs = %macs.join(", "), bmc = %bmc.join(", "),
        "enrolling a newly discovered node");
    let args = json!({
        "uuid": uuid,
        "initial_state": ProvisionState::Enroll.as_str(),
        "fields": {"driver": driver},
    });
    let created = state
        .rpc
        .call(
            &Target::Conductor(host),
            &context_of(req),
            "create_node",
            args,
            state.rpc_timeout(),
        )
        .await;
    if let Err(e) = created {
        tracing::error!(error = %e, "failed to enroll the discovered node");
        return Err(hidden());
    }
    state
        .datastore
        .run(move |c| node_get_by_uuid(c, &uuid))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "the discovered node vanished");
            hidden()
        })
}

async fn continue_inspection(
    state: web::Data<ApiState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse> {
    let pairs = query_pairs(&req, &["node_uuid"])?;
    let node_uuid = checked_node_uuid(pairs.into_iter().next_back().map(|(_, v)| v))?;
    let data: Value = serde_json::from_slice(&body)
        .map_err(|e| Error::InvalidParameter(format!("Invalid JSON body: {e}")))?;
    validate_inspection_data(&data)?;
    if !state.conf.api.enable_ramdisk_endpoints {
        return Err(disabled(&req));
    }
    let v = version_of(&req);
    let new_endpoint = v.at_least(CONTINUE_INSPECTION);
    // 1.1 (ironic-inspector's clients) is accepted too, but without node_uuid.
    let allowed = new_endpoint || (v == INSPECTOR_COMPAT && node_uuid.is_none());
    if !allowed {
        return Err(Error::NotFound(format!(
            "API version {CONTINUE_INSPECTION} or newer is required"
        )));
    }
    authorize(&state, &req, "baremetal:driver:ipa_continue_inspection")?;
    let Value::Object(mut plugin_data) = data else {
        return Err(Error::InvalidParameter(
            "Schema error for data: body must be an object".into(),
        ));
    };
    let inventory = plugin_data.remove("inventory").unwrap_or(Value::Null);
    let macs = valid_macs(
        inventory["interfaces"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["mac_address"].as_str()),
    );
    let bmc: Vec<String> = ["bmc_address", "bmc_v6address"]
        .iter()
        .filter_map(|k| inventory[*k].as_str())
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .collect();
    if macs.is_empty() && bmc.is_empty() && node_uuid.is_none() {
        return Err(Error::InvalidParameter(
            "No lookup information provided".into(),
        ));
    }
    let serial = crate::conductor::discovery::reported_serial(&inventory);
    let node = match inspection_node(&state, macs.clone(), bmc.clone(), node_uuid, serial).await? {
        Some(n) => n,
        None if state.conf.auto_discovery.enabled => auto_enroll(&state, &req, &macs, &bmc).await?,
        None => return Err(not_found()),
    };
    let (node, token) = if new_endpoint {
        let (n, t) = node_with_token(&state, &req, &node).await?;
        (n, t)
    } else {
        (node, None)
    };
    let host = pick_conductor(&state, &node.driver).await?;
    state
        .rpc
        .call(
            &Target::Conductor(host),
            &context_of(&req),
            "continue_inspection",
            json!({"uuid": node.uuid, "inventory": inventory, "plugin_data": plugin_data}),
            state.rpc_timeout(),
        )
        .await?;
    let body = if new_endpoint {
        lookup_body(&state, &req, &node, token)
    } else {
        // ironic-inspector's answer.
        json!({"uuid": node.uuid})
    };
    Ok(HttpResponse::Accepted().json(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_paths_are_ironics() {
        assert!(is_public_path("/v1/lookup"));
        assert!(is_public_path("/v1/lookup/"));
        assert!(is_public_path("/v1/continue_inspection"));
        assert!(is_public_path(
            "/v1/heartbeat/1be26c0b-03f2-4d2e-ae87-c02d7f33c123"
        ));
        assert!(is_public_path("/v1/heartbeat/node-1"));
        assert!(!is_public_path("/v1/heartbeat/Node_1"));
        assert!(!is_public_path("/v1/heartbeat/"));
        assert!(!is_public_path("/v1/heartbeat/a/b"));
        assert!(!is_public_path("/v1/lookups"));
        assert!(!is_public_path("/v1/nodes"));
    }

    #[test]
    fn callback_urls_need_an_http_scheme() {
        assert_eq!(
            checked_callback_url("HTTPS://198.18.0.1:9999").unwrap(),
            "https://198.18.0.1:9999"
        );
        assert_eq!(checked_callback_url("").unwrap(), "");
        assert!(checked_callback_url("ftp://198.18.0.1").is_err());
        assert!(checked_callback_url("198.18.0.1:9999").is_err());
        assert!(checked_callback_url("not a url").is_err());
    }

    #[test]
    fn address_lists_are_split_trimmed_and_deduplicated() {
        assert_eq!(
            string_list(&[
                "52:54:00:AA:bb:01, zz,52:54:00:aa:bb:01".into(),
                ",x".into()
            ]),
            vec!["52:54:00:aa:bb:01", "zz", "x"]
        );
        assert_eq!(
            valid_macs(["52:54:00:aa:bb:01", "zz", "52:54:00:aa:bb:01"]),
            vec!["52:54:00:aa:bb:01"]
        );
    }

    #[test]
    fn inspection_schema_errors_read_like_jsonschema() {
        let msg = |v: Value| validate_inspection_data(&v).unwrap_err().to_string();
        assert_eq!(
            msg(json!({})),
            "Schema error for data: 'inventory' is a required property"
        );
        assert_eq!(
            msg(json!({"inventory": {"interfaces": []}})),
            "Schema error for data: [] should be non-empty"
        );
        assert_eq!(
            msg(json!({"inventory": {"interfaces": [{"name": "x"}]}})),
            "Schema error for data: 'mac_address' is a required property"
        );
        assert_eq!(
            msg(json!({"inventory": {"interfaces": [{"mac_address": "x"}], "bmc_address": 5}})),
            "Schema error for data: 5 is not of type 'string', 'null'"
        );
        assert_eq!(
            msg(json!([1])),
            "Schema error for data: [1] is not of type 'object'"
        );
        assert!(validate_inspection_data(
            &json!({"inventory": {"interfaces": [{"mac_address": "x"}], "bmc_address": null}})
        )
        .is_ok());
    }

    #[test]
    fn bmc_addresses_come_from_the_cache_or_driver_info() {
        let cached = json!({"lookup_bmc_addresses": ["198.18.0.1"]});
        assert_eq!(
            bmc_addresses(
                &json!({"ipmi_address": "198.18.0.9"}),
                cached.as_object().unwrap()
            ),
            vec!["198.18.0.1"]
        );
        let mut found = bmc_addresses(
            &json!({"ipmi_address": "198.18.0.9", "redfish_address": "https://user@[2001:DB8::1]:8000/x",
                    "other_address": "127.0.0.1", "ipmi_username": "admin",
                    "drac_address": "http://bmc.example.org:443"}),
            &Map::new(),
        );
        found.sort();
        assert_eq!(found, vec!["198.18.0.9", "2001:db8::1", "bmc.example.org"]);
    }
}

//! `/v1/drivers`: the hardware types alive conductors have enabled, their
//! interfaces (1.30, computed from this service's `[DEFAULT]enabled_*` and
//! `default_*` options), `driver_info` properties and RAID disk properties.

use std::collections::{BTreeMap, HashMap};

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::collection::select_fields;
use super::node_management::RAID_CONFIG;
use crate::api::links::{base_url, resource_links};
use crate::api::microversion::Version;
use crate::api::middleware::{context_of, version_of};
use crate::api::ApiState;
use crate::db::datastore::conductor::conductor_list_alive;
use crate::drivers::{hardware_type, raid, InterfaceKind};
use crate::error::{Error, Result};

/// `properties` links on drivers.
pub const DRIVER_PROPERTIES_LINKS: Version = Version::new(1, 14);
/// `type`, `detail` and the default/enabled interface fields.
pub const DYNAMIC_DRIVERS: Version = Version::new(1, 30);
/// `fields` on driver listings and shows.
pub const DRIVER_FIELDS: Version = Version::new(1, 77);

/// The version that shows each kind's default/enabled fields (absent: 1.30).
const KIND_VERSIONS: &[(InterfaceKind, Version)] = &[
    (InterfaceKind::Storage, Version::new(1, 33)),
    (InterfaceKind::Rescue, Version::new(1, 38)),
    (InterfaceKind::Bios, Version::new(1, 40)),
    (InterfaceKind::Firmware, Version::new(1, 86)),
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/drivers", web::get().to(list))
        .route("/v1/drivers/", web::get().to(list))
        .route("/v1/drivers/{name}", web::get().to(show))
        .route("/v1/drivers/{name}/properties", web::get().to(properties))
        .route(
            "/v1/drivers/{name}/raid/logical_disk_properties",
            web::get().to(raid_properties),
        );
}

/// hardware type → hosts of alive conductors that enable it (sorted).
async fn drivers(state: &ApiState) -> Result<BTreeMap<String, Vec<String>>> {
    let timeout = state.conf.conductor.heartbeat_timeout;
    let alive = state
        .datastore
        .run(move |c| conductor_list_alive(c, timeout))
        .await?;
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in alive {
        let types: Vec<String> = c
            .hardware_types
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default();
        for t in types {
            map.entry(t).or_default().push(c.hostname.clone());
        }
    }
    for hosts in map.values_mut() {
        hosts.sort();
    }
    Ok(map)
}

/// The hosts of an active driver, or Ironic's DriverNotFound (404).
async fn active_driver(state: &ApiState, name: &str) -> Result<Vec<String>> {
    drivers(state).await?.remove(name).ok_or_else(|| {
        Error::NotFound(format!(
            "Could not find the following driver(s) or hardware type(s): {name}."
        ))
    })
}

fn authorize(state: &ApiState, req: &HttpRequest, rule: &str) -> Result<()> {
    let creds = context_of(req).policy_credentials();
    if state.policy.check(rule, &creds, &creds) {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "Access was denied to the following resource: {rule}"
        )))
    }
}

fn view(
    state: &ApiState,
    name: &str,
    hosts: &[String],
    base: &str,
    v: Version,
    detail: bool,
) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(name));
    m.insert("hosts".into(), json!(hosts));
    m.insert("links".into(), resource_links(base, "drivers", name));
    if v.at_least(DRIVER_PROPERTIES_LINKS) {
        m.insert(
            "properties".into(),
            resource_links(base, "drivers", &format!("{name}/properties")),
        );
    }
    if v.at_least(DYNAMIC_DRIVERS) {
        m.insert("type".into(), json!("dynamic"));
        if detail {
            let conf = &state.conf.default.interfaces;
            let hw = hardware_type(name);
            for kind in InterfaceKind::ALL {
                let since = KIND_VERSIONS
                    .iter()
                    .find(|(k, _)| *k == kind)
                    .map_or(DYNAMIC_DRIVERS, |(_, since)| *since);
                if !v.at_least(since) {
                    continue;
                }
                let default = hw.and_then(|h| h.default_interface(conf, kind).ok());
                let enabled = hw
                    .map(|h| h.enabled_interfaces(conf, kind))
                    .unwrap_or_default();
                m.insert(
                    format!("default_{}_interface", kind.as_str()),
                    json!(default),
                );
                m.insert(
                    format!("enabled_{}_interfaces", kind.as_str()),
                    json!(enabled),
                );
            }
        }
    }
    Value::Object(m)
}

/// Ironic's strict boolean strings.
fn query_bool(name: &str, raw: &str) -> Result<bool> {
    match raw.to_ascii_lowercase().as_str() {
        "1" | "t" | "true" | "on" | "y" | "yes" => Ok(true),
        "0" | "f" | "false" | "off" | "n" | "no" => Ok(false),
        _ => Err(Error::InvalidParameter(format!(
            "Invalid value for {name}: Unrecognized value '{raw}', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'"
        ))),
    }
}

fn too_old_for(v: Version, since: Version) -> Result<()> {
    if v.at_least(since) {
        Ok(())
    } else {
        Err(Error::NotAcceptable(format!(
            "Request not acceptable. The minimal required API version should be {since}"
        )))
    }
}

fn unexpected(query: &HashMap<String, String>, allowed: &[&str]) -> Result<()> {
    let mut extra: Vec<&str> = query
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

async fn list(
    state: web::Data<ApiState>,
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse> {
    let v = version_of(&req);
    unexpected(&query, &["type", "detail", "fields"])?;
    if query.contains_key("fields")
        && query
            .get("detail")
            .is_some_and(|d| query_bool("detail", d).unwrap_or(false))
    {
        return Err(Error::InvalidParameter(
            "Can not specify ?detail=True and fields in the same request.".into(),
        ));
    }
    authorize(&state, &req, "baremetal:driver:get")?;
    let detail = match query.get("detail") {
        Some(raw) => {
            too_old_for(v, DYNAMIC_DRIVERS)?;
            query_bool("detail", raw)?
        }
        None => false,
    };
    if let Some(kind) = query.get("type") {
        too_old_for(v, DYNAMIC_DRIVERS)?;
        if kind != "classic" && kind != "dynamic" {
            return Err(Error::InvalidParameter(
                "\"type\" filter must be one of \"classic\" or \"dynamic\", if specified.".into(),
            ));
        }
    }
    let fields = driver_fields(&query, v)?;
    let base = base_url(&state, &req);
    // Classic drivers no longer exist; asking for them lists nothing.
    let items: Vec<Value> = if query.get("type").map(String::as_str) == Some("classic") {
        Vec::new()
    } else {
        drivers(&state)
            .await?
            .iter()
            .map(|(name, hosts)| sanitized(view(&state, name, hosts, &base, v, detail), &fields))
            .collect::<Result<_>>()?
    };
    Ok(HttpResponse::Ok().json(json!({"drivers": items})))
}

async fn show(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse> {
    let v = version_of(&req);
    unexpected(&query, &["fields"])?;
    authorize(&state, &req, "baremetal:driver:get")?;
    let fields = driver_fields(&query, v)?;
    let name = path.into_inner();
    let hosts = active_driver(&state, &name).await?;
    let item = view(&state, &name, &hosts, &base_url(&state, &req), v, true);
    Ok(HttpResponse::Ok().json(sanitized(item, &fields)?))
}

/// `fields=` of a driver request (1.77; 406 before it).
fn driver_fields(query: &HashMap<String, String>, v: Version) -> Result<Option<Vec<String>>> {
    let Some(raw) = query.get("fields") else {
        return Ok(None);
    };
    too_old_for(v, DRIVER_FIELDS)?;
    Ok(Some(
        raw.split(',')
            .map(|f| f.trim().to_string())
            .filter(|f| !f.is_empty())
            .collect(),
    ))
}

/// Ironic's `driver_sanitize`: keep the asked fields and links; an unknown
/// field is a 400.
fn sanitized(item: Value, fields: &Option<Vec<String>>) -> Result<Value> {
    match fields {
        Some(fields) => select_fields(item, fields),
        None => Ok(item),
    }
}

/// The `driver_info` keys of the hardware type's default interfaces.
async fn properties(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    authorize(&state, &req, "baremetal:driver:get_properties")?;
    let name = path.into_inner();
    active_driver(&state, &name).await?;
    let props = hardware_type(&name)
        .map(|hw| hw.properties(&state.conf.default.interfaces))
        .unwrap_or_default();
    Ok(HttpResponse::Ok().json(Value::Object(props)))
}

/// The logical disk properties of Ironic's RAID schema; the hardware type
/// needs a default RAID interface (even `no-raid` documents the schema).
async fn raid_properties(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    authorize(
        &state,
        &req,
        "baremetal:driver:get_raid_logical_disk_properties",
    )?;
    if !version_of(&req).at_least(RAID_CONFIG) {
        return Err(Error::NotAcceptable("Request not acceptable.".into()));
    }
    let name = path.into_inner();
    active_driver(&state, &name).await?;
    if let Some(hw) = hardware_type(&name) {
        hw.default_interface(&state.conf.default.interfaces, InterfaceKind::Raid)?;
    }
    Ok(HttpResponse::Ok().json(raid::logical_disk_properties()))
}

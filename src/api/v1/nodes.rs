//! `/v1/nodes`: list, create and show (the rest of Ironic's node API grows here).

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::collection::{collection, Page, SortDir};
use super::views::{json_object, mask_secrets, object_column, timestamp};
use crate::api::links::{base_url, resource_links};
use crate::api::microversion::Version;
use crate::api::middleware::{context_of, version_of};
use crate::api::patch::{apply_patch, parse_patch, Op};
use crate::api::ApiState;
use crate::auth::policy::owner_target;
use crate::context::RequestContext;
use crate::db::datastore::chassis::{chassis_get, chassis_get_by_id};
use crate::db::datastore::conductor::conductor_list_alive;
use crate::db::datastore::node::{node_get, node_list, NodeFilter, NodeRow};
use crate::error::{Error, Result};
use crate::rpc::Target;
use crate::states::UPDATE_ALLOWED_STATES;

/// `name` on nodes (and lookup by name).
pub const NODE_NAME: Version = Version::new(1, 5);
/// `available` replaces the `None` provision state of older versions.
pub const AVAILABLE_STATE: Version = Version::new(1, 2);
/// New nodes start in `enroll` instead of `available`.
pub const ENROLL_ON_CREATE: Version = Version::new(1, 11);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/nodes", web::get().to(list))
        .route("/v1/nodes/", web::get().to(list))
        .route("/v1/nodes", web::post().to(create))
        .route("/v1/nodes/detail", web::get().to(detail))
        .route("/v1/nodes/{ident}", web::get().to(show))
        .route("/v1/nodes/{ident}", web::patch().to(update))
        .route("/v1/nodes/{ident}", web::delete().to(delete));
}

/// Ironic picks a conductor that has the driver; none means 400.
pub(crate) async fn pick_conductor(state: &ApiState, driver: &str) -> Result<String> {
    let timeout = state.conf.conductor.heartbeat_timeout;
    let alive = state
        .datastore
        .run(move |c| conductor_list_alive(c, timeout))
        .await?;
    alive
        .iter()
        .find(|c| {
            c.hardware_types
                .as_deref()
                .and_then(|t| serde_json::from_str::<Vec<String>>(t).ok())
                .is_some_and(|t| t.iter().any(|d| d == driver))
        })
        .map(|c| c.hostname.clone())
        .ok_or_else(|| {
            Error::InvalidParameter(format!(
                "No valid host was found. Reason: No conductor service registered which supports driver {driver} for conductor group \"\". Ensure the driver is valid and enabled."
            ))
        })
}

fn authorize(state: &ApiState, rule: &str, target: &Value, ctx: &RequestContext) -> Result<()> {
    if state.policy.check(rule, target, &ctx.policy_credentials()) {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "Access was denied to the following resource: {rule}"
        )))
    }
}

fn node_target(row: &NodeRow, ctx: &RequestContext) -> Value {
    owner_target(
        "node",
        &ctx.policy_credentials(),
        row.owner.as_deref(),
        row.lessee.as_deref(),
    )
}

fn shown_provision_state(row: &NodeRow, v: Version) -> Value {
    if row.provision_state == "available" && !v.at_least(AVAILABLE_STATE) {
        Value::Null
    } else {
        Value::String(row.provision_state.clone())
    }
}

/// The short form used by `GET /v1/nodes`.
fn list_view(row: &NodeRow, v: Version, base: &str) -> Value {
    let mut m = Map::new();
    m.insert("uuid".into(), json!(row.uuid));
    if v.at_least(NODE_NAME) {
        m.insert("name".into(), json!(row.name));
    }
    m.insert("instance_uuid".into(), json!(row.instance_uuid));
    m.insert("power_state".into(), json!(row.power_state));
    m.insert("provision_state".into(), shown_provision_state(row, v));
    m.insert("maintenance".into(), json!(row.maintenance));
    m.insert("links".into(), resource_links(base, "nodes", &row.uuid));
    Value::Object(m)
}

/// The full form used by show and create.
fn detail_view(row: &NodeRow, chassis_uuid: Option<String>, v: Version, base: &str) -> Value {
    let mut m = match list_view(row, v, base) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    m.insert("target_power_state".into(), json!(row.target_power_state));
    m.insert(
        "target_provision_state".into(),
        json!(row.target_provision_state),
    );
    m.insert("maintenance_reason".into(), json!(row.maintenance_reason));
    m.insert("last_error".into(), json!(row.last_error));
    m.insert("reservation".into(), json!(row.reservation));
    m.insert("driver".into(), json!(row.driver));
    m.insert(
        "driver_info".into(),
        mask_secrets(json_object(&row.driver_info)),
    );
    m.insert(
        "driver_internal_info".into(),
        mask_secrets(json_object(&row.driver_internal_info)),
    );
    m.insert("properties".into(), json_object(&row.properties));
    m.insert(
        "instance_info".into(),
        mask_secrets(json_object(&row.instance_info)),
    );
    m.insert("extra".into(), json_object(&row.extra));
    m.insert("console_enabled".into(), json!(row.console_enabled));
    m.insert(
        "provision_updated_at".into(),
        timestamp(row.provision_updated_at),
    );
    m.insert("created_at".into(), timestamp(Some(row.created_at)));
    m.insert("updated_at".into(), timestamp(row.updated_at));
    m.insert("chassis_uuid".into(), json!(chassis_uuid));
    m.insert(
        "ports".into(),
        json!([
            {"href": format!("{base}/v1/nodes/{}/ports", row.uuid), "rel": "self"},
            {"href": format!("{base}/nodes/{}/ports", row.uuid), "rel": "bookmark"},
        ]),
    );
    Value::Object(m)
}

/// Unknown query arguments are refused rather than ignored: a filter Berth
/// does not know would otherwise silently return the wrong nodes.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    chassis_uuid: Option<String>,
    limit: Option<i64>,
    marker: Option<String>,
    sort_key: Option<String>,
    sort_dir: Option<String>,
    provision_state: Option<String>,
}

/// One page of the nodes the caller may see, optionally of one chassis.
async fn load_page(
    state: &ApiState,
    req: &HttpRequest,
    query: &ListQuery,
    chassis: Option<String>,
) -> Result<(Page, Vec<(NodeRow, Option<String>)>)> {
    let ctx = context_of(req);
    let creds = ctx.policy_credentials();
    authorize(state, "baremetal:node:list", &creds, &ctx)?;
    // Without list_all a project sees only the nodes it owns, as in Ironic.
    let owner = if state
        .policy
        .check("baremetal:node:list_all", &creds, &creds)
    {
        None
    } else {
        Some(ctx.project_id.clone().ok_or_else(|| {
            Error::Forbidden(
                "Access was denied to the following resource: baremetal:node:list".into(),
            )
        })?)
    };
    // Sorting by other columns comes with the full node listing.
    let page = Page::from_query(
        query.limit,
        query.marker.clone(),
        query.sort_key.clone(),
        query.sort_dir.clone(),
        state.conf.api.max_limit,
        &[],
    )?;
    if page.sort_dir != SortDir::Asc {
        return Err(Error::InvalidParameter(
            "Only sort_dir=asc is supported on nodes for now".into(),
        ));
    }
    let provision_state = query.provision_state.clone();
    let (limit, marker) = (page.limit, page.marker.clone());
    let rows = state
        .datastore
        .run(move |c| {
            let chassis_id = match chassis {
                Some(u) => Some(chassis_get(c, &u)?.id),
                None => None,
            };
            let after_id = match marker {
                Some(m) => Some(node_get(c, &m)?.id),
                None => None,
            };
            let rows = node_list(
                c,
                &NodeFilter {
                    owner,
                    chassis_id,
                    provision_state,
                    limit: Some(limit),
                    after_id,
                },
            )?;
            // Chassis UUIDs for the detailed view, one lookup per chassis.
            let mut known: Vec<(i32, String)> = Vec::new();
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let chassis = match row.chassis_id {
                    Some(id) => match known.iter().find(|(k, _)| *k == id) {
                        Some((_, u)) => Some(u.clone()),
                        None => {
                            let u = chassis_get_by_id(c, id)?.uuid;
                            known.push((id, u.clone()));
                            Some(u)
                        }
                    },
                    None => None,
                };
                out.push((row, chassis));
            }
            Ok(out)
        })
        .await?;
    Ok((page, rows))
}

async fn list(
    state: web::Data<ApiState>,
    req: HttpRequest,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    let v = version_of(&req);
    let (page, rows) = load_page(&state, &req, &query, query.chassis_uuid.clone()).await?;
    let base = base_url(&state, &req);
    let items = rows.iter().map(|(r, _)| list_view(r, v, &base)).collect();
    let args: Vec<(&str, String)> = query
        .chassis_uuid
        .iter()
        .map(|c| ("chassis_uuid", c.clone()))
        .collect();
    Ok(HttpResponse::Ok().json(collection("nodes", items, &page, &base, "nodes", &args)))
}

async fn detail(
    state: web::Data<ApiState>,
    req: HttpRequest,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    let v = version_of(&req);
    let (page, rows) = load_page(&state, &req, &query, query.chassis_uuid.clone()).await?;
    let base = base_url(&state, &req);
    let items = rows
        .into_iter()
        .map(|(r, ch)| detail_view(&r, ch, v, &base))
        .collect();
    Ok(HttpResponse::Ok().json(collection(
        "nodes",
        items,
        &page,
        &base,
        "nodes/detail",
        &[],
    )))
}

/// `GET /v1/chassis/{uuid}/nodes`: the nodes of one chassis.
pub async fn of_chassis(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    let v = version_of(&req);
    let chassis = super::collection::checked_uuid(&path)?;
    if query.chassis_uuid.is_some() {
        return Err(Error::InvalidParameter(
            "Unexpected arguments: chassis_uuid".into(),
        ));
    }
    let url = format!("chassis/{chassis}/nodes");
    let (page, rows) = load_page(&state, &req, &query, Some(chassis)).await?;
    let base = base_url(&state, &req);
    let items = rows.iter().map(|(r, _)| list_view(r, v, &base)).collect();
    Ok(HttpResponse::Ok().json(collection("nodes", items, &page, &base, &url, &[])))
}

async fn show(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let ctx = context_of(&req);
    let v = version_of(&req);
    let ident = path.into_inner();
    let ident = ident.strip_suffix(".json").unwrap_or(&ident).to_string();
    if uuid::Uuid::parse_str(&ident).is_err() && !v.at_least(NODE_NAME) {
        return Err(Error::NotAcceptable("Request not acceptable.".into()));
    }
    let (row, chassis_uuid) = state
        .datastore
        .run(move |c| node_with_chassis(c, &ident))
        .await?;
    // Ironic answers 404, not 403, for a node the caller may not see.
    if authorize(&state, "baremetal:node:get", &node_target(&row, &ctx), &ctx).is_err() {
        return Err(Error::NotFound(format!(
            "Node {} could not be found.",
            row.uuid
        )));
    }
    Ok(HttpResponse::Ok().json(detail_view(&row, chassis_uuid, v, &base_url(&state, &req))))
}

/// Fields a create may carry, and the version that allows each.
const CREATE_FIELDS: &[(&str, Version)] = &[
    ("uuid", Version::new(1, 1)),
    ("driver", Version::new(1, 1)),
    ("driver_info", Version::new(1, 1)),
    ("properties", Version::new(1, 1)),
    ("extra", Version::new(1, 1)),
    ("instance_info", Version::new(1, 1)),
    ("name", NODE_NAME),
];

async fn create(
    state: web::Data<ApiState>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    let ctx = context_of(&req);
    let v = version_of(&req);
    let body = body.into_inner();
    let Value::Object(fields) = &body else {
        return Err(Error::InvalidParameter(
            "Schema error for node: body must be an object".into(),
        ));
    };
    for key in fields.keys() {
        match CREATE_FIELDS.iter().find(|(name, _)| name == key) {
            None => {
                return Err(Error::InvalidParameter(format!(
                    "Schema error for node: Additional properties are not allowed ('{key}' was unexpected)"
                )))
            }
            Some((_, since)) if !v.at_least(*since) => {
                return Err(Error::NotAcceptable("Request not acceptable.".into()))
            }
            Some(_) => {}
        }
    }
    // As Ironic: a project-scoped admin creates nodes owned by its project;
    // everyone else needs baremetal:node:create and creates unowned nodes.
    let creds = ctx.policy_credentials();
    let self_owned = ctx.system_scope.is_none()
        && ctx.project_id.is_some()
        && state
            .policy
            .check("baremetal:node:create:self_owned_node", &creds, &creds);
    let owner = if self_owned {
        ctx.project_id.clone()
    } else {
        authorize(&state, "baremetal:node:create", &creds, &ctx)?;
        None
    };
    let driver = fields
        .get("driver")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Error::InvalidParameter("Schema error for node: 'driver' is a required property".into())
        })?
        .to_string();
    let host = pick_conductor(&state, &driver).await?;
    let mut node = body.clone();
    node["owner"] = json!(owner);
    node["initial_state"] = json!(if v.at_least(ENROLL_ON_CREATE) {
        "enroll"
    } else {
        "available"
    });
    let created = state
        .rpc
        .call(
            &Target::Conductor(host),
            &ctx,
            "create_node",
            json!({"node": node}),
            state.rpc_timeout(),
        )
        .await?;
    let uuid = created
        .get("uuid")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::Internal("create_node returned no uuid".into()))?
        .to_string();
    let (row, chassis_uuid) = state
        .datastore
        .run(move |c| node_with_chassis(c, &uuid))
        .await?;
    let base = base_url(&state, &req);
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("{base}/v1/nodes/{}", row.uuid)))
        .json(detail_view(&row, chassis_uuid, v, &base)))
}

/// A node and the UUID of its chassis, which views show instead of the id.
fn node_with_chassis(
    c: &mut crate::db::DbConnection,
    ident: &str,
) -> Result<(NodeRow, Option<String>)> {
    let row = node_get(c, ident)?;
    let chassis = match row.chassis_id {
        Some(id) => Some(chassis_get_by_id(c, id)?.uuid),
        None => None,
    };
    Ok((row, chassis))
}

/// Top-level fields a PATCH may name, in Ironic's order (its 400 message
/// lists them so).
pub const PATCH_ALLOWED_FIELDS: &[&str] = &[
    "automated_clean",
    "bios_interface",
    "boot_interface",
    "chassis_uuid",
    "conductor_group",
    "console_interface",
    "deploy_interface",
    "description",
    "disable_power_off",
    "driver",
    "driver_info",
    "extra",
    "inspect_interface",
    "instance_info",
    "instance_name",
    "instance_uuid",
    "lessee",
    "maintenance",
    "management_interface",
    "name",
    "network_data",
    "network_interface",
    "owner",
    "power_interface",
    "properties",
    "protected",
    "protected_reason",
    "raid_interface",
    "rescue_interface",
    "resource_class",
    "retired",
    "retired_reason",
    "shard",
    "storage_interface",
    "vendor_interface",
    "parent_node",
    "firmware_interface",
];

/// The microversion that introduced each patchable field (absent: 1.1).
const FIELD_VERSIONS: &[(&str, Version)] = &[
    ("name", NODE_NAME),
    ("network_interface", Version::new(1, 20)),
    ("resource_class", Version::new(1, 21)),
    ("boot_interface", Version::new(1, 31)),
    ("console_interface", Version::new(1, 31)),
    ("deploy_interface", Version::new(1, 31)),
    ("inspect_interface", Version::new(1, 31)),
    ("management_interface", Version::new(1, 31)),
    ("power_interface", Version::new(1, 31)),
    ("raid_interface", Version::new(1, 31)),
    ("vendor_interface", Version::new(1, 31)),
    ("storage_interface", Version::new(1, 33)),
    ("rescue_interface", Version::new(1, 38)),
    ("bios_interface", Version::new(1, 40)),
    ("conductor_group", Version::new(1, 46)),
    ("automated_clean", Version::new(1, 47)),
    ("protected", Version::new(1, 48)),
    ("protected_reason", Version::new(1, 48)),
    ("owner", Version::new(1, 50)),
    ("description", Version::new(1, 51)),
    ("retired", Version::new(1, 61)),
    ("retired_reason", Version::new(1, 61)),
    ("lessee", Version::new(1, 65)),
    ("network_data", Version::new(1, 66)),
    ("shard", Version::new(1, 82)),
    ("parent_node", Version::new(1, 83)),
    ("firmware_interface", Version::new(1, 86)),
    ("disable_power_off", Version::new(1, 95)),
    ("instance_name", Version::new(1, 104)),
];

fn field_version(field: &str) -> Version {
    FIELD_VERSIONS
        .iter()
        .find(|(f, _)| *f == field)
        .map_or(Version::new(1, 1), |(_, v)| *v)
}

/// The node as PATCH sees it: every patchable field, secrets unmasked.
fn patch_document(row: &NodeRow, chassis_uuid: Option<String>) -> Value {
    let mut m = Map::new();
    for field in PATCH_ALLOWED_FIELDS {
        m.insert((*field).to_string(), Value::Null);
    }
    m.insert("chassis_uuid".into(), json!(chassis_uuid));
    m.insert("driver".into(), json!(row.driver));
    m.insert("driver_info".into(), json_object(&row.driver_info));
    m.insert("extra".into(), json_object(&row.extra));
    m.insert("instance_info".into(), json_object(&row.instance_info));
    m.insert("instance_uuid".into(), json!(row.instance_uuid));
    m.insert("maintenance".into(), json!(row.maintenance));
    m.insert("name".into(), json!(row.name));
    m.insert("properties".into(), json_object(&row.properties));
    Value::Object(m)
}

async fn update(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    let ctx = context_of(&req);
    let v = version_of(&req);
    let ident = path.into_inner();
    let ops = parse_patch(&body, false)?;
    let lookup = ident.clone();
    let (row, chassis_uuid) = state
        .datastore
        .run(move |c| node_with_chassis(c, &lookup))
        .await?;
    let target = node_target(&row, &ctx);
    if authorize(&state, "baremetal:node:get", &target, &ctx).is_err() {
        return Err(Error::NotFound(format!("Node {ident} could not be found.")));
    }
    authorize(&state, "baremetal:node:update", &target, &ctx)?;
    let doc = patch_document(&row, chassis_uuid);
    let patched = apply_patch(&doc, &ops, PATCH_ALLOWED_FIELDS)?;
    for op in &ops {
        let field = op
            .path
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or("");
        if !v.at_least(field_version(field)) {
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
    let mut changes = Map::new();
    let changed = |f: &str| patched.get(f) != doc.get(f);
    if changed("driver") {
        let driver = patched["driver"].as_str().ok_or_else(|| {
            Error::InvalidParameter("Invalid value for driver: a driver is required".into())
        })?;
        changes.insert("driver".into(), json!(driver));
    }
    for f in ["driver_info", "extra", "instance_info", "properties"] {
        if changed(f) {
            changes.insert(f.into(), json!(object_column("node", f, &patched[f])?));
        }
    }
    if changed("name") {
        match &patched["name"] {
            Value::Null => {}
            Value::String(n)
                if !n.is_empty() && n.len() <= 255 && uuid::Uuid::parse_str(n).is_err() => {}
            other => {
                return Err(Error::InvalidParameter(format!(
                    "Node {ident}: Cannot change name to invalid name '{}'",
                    other.as_str().unwrap_or(&other.to_string())
                )))
            }
        }
        changes.insert("name".into(), patched["name"].clone());
    }
    if changed("instance_uuid") {
        match &patched["instance_uuid"] {
            Value::Null => {}
            Value::String(u) if uuid::Uuid::parse_str(u).is_ok() => {}
            other => {
                return Err(Error::InvalidParameter(format!(
                    "Expected a UUID for instance_uuid: {other}"
                )))
            }
        }
        changes.insert("instance_uuid".into(), patched["instance_uuid"].clone());
    }
    if changed("maintenance") {
        let m = patched["maintenance"].as_bool().ok_or_else(|| {
            Error::InvalidParameter("Invalid value for maintenance: must be a boolean".into())
        })?;
        changes.insert("maintenance".into(), json!(m));
    }
    if changed("chassis_uuid") {
        let chassis_id = match &patched["chassis_uuid"] {
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
    if !changes.is_empty() {
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
                json!({"uuid": row.uuid, "changes": changes}),
                state.rpc_timeout(),
            )
            .await?;
    }
    let uuid = row.uuid.clone();
    let (row, chassis_uuid) = state
        .datastore
        .run(move |c| node_with_chassis(c, &uuid))
        .await?;
    Ok(HttpResponse::Ok().json(detail_view(&row, chassis_uuid, v, &base_url(&state, &req))))
}

async fn delete(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let ctx = context_of(&req);
    let ident = path.into_inner();
    let lookup = ident.clone();
    let row = state.datastore.run(move |c| node_get(c, &lookup)).await?;
    let target = node_target(&row, &ctx);
    if authorize(&state, "baremetal:node:get", &target, &ctx).is_err() {
        return Err(Error::NotFound(format!("Node {ident} could not be found.")));
    }
    let creds = ctx.policy_credentials();
    let self_owned = state
        .policy
        .check("baremetal:node:delete:self_owned_node", &target, &creds);
    if !self_owned {
        authorize(&state, "baremetal:node:delete", &target, &ctx)?;
    }
    let host = pick_conductor(&state, &row.driver).await?;
    state
        .rpc
        .call(
            &Target::Conductor(host),
            &ctx,
            "destroy_node",
            json!({"uuid": row.uuid}),
            state.rpc_timeout(),
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

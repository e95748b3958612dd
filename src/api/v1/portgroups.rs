//! `/v1/portgroups` (1.23+): list, detail, show, create, update, delete,
//! and the portgroups of a node (1.24); names or UUIDs identify them.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::collection::{collection, requested_fields, Page, ShowQuery, SortDir};
use super::field_table::{
    bool_value, check_requested, detail_flag, is_logical_name, refuse_newer, render, short_string,
    FieldSpec, Gate,
};
use super::node_view::INSPECT_WAIT_STATE;
use super::ports::{
    authorize_on_node, conductor_groups_filter, filter_since, normalize_mac, string_list,
    PORTGROUP_MEMBERSHIP,
};
use super::views::{json_object, object_column, timestamp};
use crate::api::links::{base_url, resource_links};
use crate::api::microversion::Version;
use crate::api::middleware::{context_of, not_found, version_of};
use crate::api::patch::{python_repr, Op};
use crate::api::ApiState;
use crate::db::datastore::node::{node_get, node_get_by_uuid};
use crate::db::datastore::portgroup::{
    portgroup_create, portgroup_delete, portgroup_get, portgroup_list, portgroup_update,
    NewPortgroup, PortgroupChanges, PortgroupFilter, PortgroupWithNode, PORTGROUP_SORT_KEYS,
};
use crate::error::{Error, Result};

/// The portgroup API exists from this version on (404 below).
pub const PORTGROUPS_API: Version = Version::new(1, 23);
/// `mode` and `properties`.
pub const PORTGROUP_MODE_PROPERTIES: Version = Version::new(1, 26);
pub const PORTGROUP_PHYSICAL_NETWORK: Version = Version::new(1, 102);
pub const PORTGROUP_CATEGORY: Version = Version::new(1, 103);
/// `?shard=` on portgroup lists.
pub const PORTGROUP_SHARD_FILTER: Version = Version::new(1, 106);
/// `dynamic_portgroup` (read-only).
pub const PORTGROUP_DYNAMIC: Version = Version::new(1, 111);

/// Renders every field of the table, whatever the request's version.
const EVERY_FIELD: Version = Version::new(1, u32::MAX);

/// Ironic's `[DEFAULT]default_portgroup_mode`.
pub const DEFAULT_PORTGROUP_MODE: &str = "active-backup";

fn string_or_null(v: &Option<String>) -> Value {
    v.as_ref().map_or(Value::Null, |s| json!(s))
}

fn ports_links(p: &PortgroupWithNode, base: &str) -> Value {
    let uuid = &p.portgroup.uuid;
    json!([
        {"href": format!("{base}/v1/portgroups/{uuid}/ports"), "rel": "self"},
        {"href": format!("{base}/portgroups/{uuid}/ports"), "rel": "bookmark"},
    ])
}

const BASE: Version = PORTGROUPS_API;

/// Every attribute of a portgroup, with the version that introduced it.
/// Ironic lets `fields=` name `physical_network` and `category` below their
/// version and hides them.
pub const PORTGROUP_FIELDS: &[FieldSpec<PortgroupWithNode>] = &[
    FieldSpec {
        name: "uuid",
        since: BASE,
        gate: Gate::Refuse,
        get: |p, _| json!(p.portgroup.uuid),
    },
    FieldSpec {
        name: "name",
        since: BASE,
        gate: Gate::Refuse,
        get: |p, _| string_or_null(&p.portgroup.name),
    },
    FieldSpec {
        name: "address",
        since: BASE,
        gate: Gate::Refuse,
        get: |p, _| string_or_null(&p.portgroup.address),
    },
    FieldSpec {
        name: "node_uuid",
        since: BASE,
        gate: Gate::Refuse,
        get: |p, _| json!(p.node_uuid),
    },
    FieldSpec {
        name: "extra",
        since: BASE,
        gate: Gate::Refuse,
        get: |p, _| json_object(&p.portgroup.extra),
    },
    FieldSpec {
        name: "internal_info",
        since: BASE,
        gate: Gate::Refuse,
        get: |p, _| json_object(&p.portgroup.internal_info),
    },
    FieldSpec {
        name: "standalone_ports_supported",
        since: BASE,
        gate: Gate::Refuse,
        get: |p, _| json!(p.portgroup.standalone_ports_supported),
    },
    FieldSpec {
        name: "created_at",
        since: BASE,
        gate: Gate::Refuse,
        get: |p, _| timestamp(Some(p.portgroup.created_at)),
    },
    FieldSpec {
        name: "updated_at",
        since: BASE,
        gate: Gate::Refuse,
        get: |p, _| timestamp(p.portgroup.updated_at),
    },
    FieldSpec {
        name: "links",
        since: BASE,
        gate: Gate::Refuse,
        get: |p, b| resource_links(b, "portgroups", &p.portgroup.uuid),
    },
    FieldSpec {
        name: "ports",
        since: BASE,
        gate: Gate::Refuse,
        get: ports_links,
    },
    FieldSpec {
        name: "mode",
        since: PORTGROUP_MODE_PROPERTIES,
        gate: Gate::Refuse,
        get: |p, _| string_or_null(&p.portgroup.mode),
    },
    FieldSpec {
        name: "properties",
        since: PORTGROUP_MODE_PROPERTIES,
        gate: Gate::Refuse,
        get: |p, _| json_object(&p.portgroup.properties),
    },
    FieldSpec {
        name: "physical_network",
        since: PORTGROUP_PHYSICAL_NETWORK,
        gate: Gate::Hide,
        get: |p, _| string_or_null(&p.portgroup.physical_network),
    },
    FieldSpec {
        name: "category",
        since: PORTGROUP_CATEGORY,
        gate: Gate::Hide,
        get: |p, _| string_or_null(&p.portgroup.category),
    },
    FieldSpec {
        name: "dynamic_portgroup",
        since: PORTGROUP_DYNAMIC,
        gate: Gate::Refuse,
        get: |p, _| json!(p.portgroup.dynamic_portgroup),
    },
];

const LIST_FIELDS: &[&str] = &["uuid", "address", "name", "links"];

/// JSON columns Ironic refuses to sort by (its own message, without quotes).
const UNSORTABLE: &[&str] = &["extra", "internal_info", "properties"];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/portgroups", web::get().to(list))
        .route("/v1/portgroups/", web::get().to(list))
        .route("/v1/portgroups", web::post().to(create))
        .route("/v1/portgroups/detail", web::get().to(detail))
        .route("/v1/nodes/{ident}/portgroups", web::get().to(of_node))
        .route(
            "/v1/nodes/{ident}/portgroups/detail",
            web::get().to(of_node_detail),
        )
        .route("/v1/portgroups/{ident}", web::get().to(show))
        .route("/v1/portgroups/{ident}", web::patch().to(update))
        .route("/v1/portgroups/{ident}", web::delete().to(delete));
}

/// Below 1.23 the portgroup endpoints do not exist (Ironic's words).
fn require_api(req: &HttpRequest) -> Result<Version> {
    let v = version_of(req);
    if v.at_least(PORTGROUPS_API) {
        Ok(v)
    } else {
        Err(Error::NotFound(
            "The API is not supported for this version".into(),
        ))
    }
}

fn denied(rule: &str) -> Error {
    Error::Forbidden(format!(
        "Access was denied to the following resource: {rule}"
    ))
}

/// A path identifier: a UUID or a logical name.
fn checked_ident(ident: &str) -> Result<String> {
    if uuid::Uuid::parse_str(ident).is_ok() || is_logical_name(ident) {
        Ok(ident.to_string())
    } else {
        Err(Error::InvalidParameter(format!(
            "Expected UUID or name for portgroup: {ident}"
        )))
    }
}

/// The portgroup, if the caller may see it and apply `rule` to it; a
/// portgroup of a node the caller cannot see does not exist.
async fn fetch_authorized(
    state: &ApiState,
    req: &HttpRequest,
    ident: &str,
    rule: &str,
) -> Result<PortgroupWithNode> {
    let id = checked_ident(ident)?;
    let i = id.clone();
    let pg = state.datastore.run(move |c| portgroup_get(c, &i)).await?;
    let ctx = context_of(req);
    let (owner, lessee) = (pg.node_owner.as_deref(), pg.node_lessee.as_deref());
    if !authorize_on_node(state, &ctx, "baremetal:portgroup:get", owner, lessee) {
        return Err(Error::NotFound(format!(
            "Portgroup {id} could not be found."
        )));
    }
    if !authorize_on_node(state, &ctx, rule, owner, lessee) {
        return Err(denied(rule));
    }
    Ok(pg)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    node: Option<String>,
    address: Option<String>,
    shard: Option<String>,
    conductor_groups: Option<String>,
    limit: Option<i64>,
    marker: Option<String>,
    sort_key: Option<String>,
    sort_dir: Option<String>,
    fields: Option<String>,
    detail: Option<String>,
}

async fn list(
    state: web::Data<ApiState>,
    req: HttpRequest,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    serve_list(&state, &req, q.into_inner(), None, false).await
}

async fn detail(
    state: web::Data<ApiState>,
    req: HttpRequest,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    serve_list(&state, &req, q.into_inner(), None, true).await
}

/// `GET /v1/nodes/{ident}/portgroups` (1.24).
async fn of_node(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(PORTGROUP_MEMBERSHIP) {
        return Ok(not_found(req).await);
    }
    serve_list(&state, &req, q.into_inner(), Some(path.into_inner()), false).await
}

async fn of_node_detail(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(PORTGROUP_MEMBERSHIP) {
        return Ok(not_found(req).await);
    }
    serve_list(&state, &req, q.into_inner(), Some(path.into_inner()), true).await
}

async fn serve_list(
    state: &ApiState,
    req: &HttpRequest,
    q: ListQuery,
    parent_node: Option<String>,
    detail_endpoint: bool,
) -> Result<HttpResponse> {
    let v = require_api(req)?;
    if detail_endpoint {
        let unexpected: Vec<&str> = [
            ("fields", q.fields.is_some()),
            ("detail", q.detail.is_some()),
        ]
        .iter()
        .filter(|(_, given)| *given)
        .map(|(name, _)| *name)
        .collect();
        if !unexpected.is_empty() {
            return Err(Error::InvalidParameter(format!(
                "Unexpected arguments: {}",
                unexpected.join(", ")
            )));
        }
    }
    let fields = requested_fields(q.fields.as_deref(), v)?;
    if let Some(f) = &fields {
        check_requested(PORTGROUP_FIELDS, f, v)?;
    }
    filter_since(q.shard.is_some(), v, PORTGROUP_SHARD_FILTER)?;
    let sort_key = q.sort_key.clone().unwrap_or_else(|| "id".into());
    refuse_newer(PORTGROUP_FIELDS, [sort_key.as_str()], v)?;
    let detail = detail_flag(q.detail.as_deref(), v, fields.is_some())? || detail_endpoint;
    if UNSORTABLE.contains(&sort_key.as_str()) {
        return Err(Error::InvalidParameter(format!(
            "The sort_key value {sort_key} is an invalid field for sorting"
        )));
    }
    // A node in the path wins over `?node=`, as in Ironic.
    let node = parent_node.clone().or_else(|| q.node.clone());
    let shards = string_list(q.shard.as_deref());
    let conductor_groups = conductor_groups_filter(q.conductor_groups.as_deref());
    let filters = [
        node.is_some(),
        q.address.is_some(),
        shards.is_some(),
        conductor_groups.is_some(),
    ];
    if filters.iter().filter(|given| **given).count() > 1 {
        return Err(Error::InvalidParameter(
            "Filtering by node, address, or shard simultaneously is not supported.".into(),
        ));
    }
    let address = match q.address.as_deref() {
        Some(a) => Some(normalize_mac(a).map_err(|_| {
            Error::InvalidParameter(format!("Schema error: '{a}' is not a 'mac-address'"))
        })?),
        None => None,
    };
    let ctx = context_of(req);
    if let Some(n) = &parent_node {
        let id = n.clone();
        let row = state.datastore.run(move |c| node_get(c, &id)).await?;
        let creds = ctx.policy_credentials();
        let target = crate::auth::policy::owner_target(
            "node",
            &creds,
            row.owner.as_deref(),
            row.lessee.as_deref(),
        );
        if !state.policy.check("baremetal:node:get", &target, &creds) {
            return Err(Error::NotFound(format!("Node {n} could not be found.")));
        }
    }
    if !authorize_on_node(state, &ctx, "baremetal:portgroup:list", None, None) {
        return Err(denied("baremetal:portgroup:list"));
    }
    let owner = if authorize_on_node(state, &ctx, "baremetal:portgroup:list_all", None, None) {
        None
    } else {
        Some(
            ctx.project_id
                .clone()
                .ok_or_else(|| denied("baremetal:portgroup:list"))?,
        )
    };
    let page = Page::from_query(
        q.limit,
        q.marker.clone(),
        Some(sort_key),
        q.sort_dir.clone(),
        state.conf.api.max_limit,
        PORTGROUP_SORT_KEYS,
    )?;
    let p = page.clone();
    let rows = state
        .datastore
        .run(move |c| {
            let node_id = match node {
                Some(n) => Some(node_get(c, &n)?.id),
                None => None,
            };
            portgroup_list(
                c,
                &PortgroupFilter {
                    node_id,
                    address,
                    shards,
                    conductor_groups,
                    owner,
                    limit: p.limit,
                    marker: p.marker.clone(),
                    sort_key: p.sort_key.clone(),
                    descending: p.sort_dir == SortDir::Desc,
                },
            )
        })
        .await?;
    let base = base_url(state, req);
    let default: Vec<String> = LIST_FIELDS.iter().map(|s| s.to_string()).collect();
    let only = match (&fields, detail) {
        (Some(f), _) => Some(f.as_slice()),
        (None, true) => None,
        (None, false) => Some(default.as_slice()),
    };
    // Ironic's portgroup lists hide no field by version (only `fields=` and
    // `sort_key` are checked), unlike its single-portgroup views.
    let items = rows
        .iter()
        .map(|p| render(PORTGROUP_FIELDS, p, &base, EVERY_FIELD, only))
        .collect();
    let mut url = match &parent_node {
        Some(n) => format!("nodes/{n}/portgroups"),
        None => "portgroups".to_string(),
    };
    if detail_endpoint {
        url.push_str("/detail");
    }
    let mut args = Vec::new();
    if parent_node.is_none() {
        if let Some(n) = &q.node {
            args.push(("node", n.clone()));
        }
    }
    if let Some(a) = &q.address {
        args.push(("address", a.clone()));
    }
    if let Some(s) = &q.shard {
        args.push(("shard", s.clone()));
    }
    if let Some(g) = &q.conductor_groups {
        args.push(("conductor_groups", g.clone()));
    }
    if let Some(f) = &fields {
        args.push(("fields", f.join(",")));
    }
    if q.detail.is_some() {
        args.push(("detail", detail.to_string()));
    }
    Ok(HttpResponse::Ok().json(collection("portgroups", items, &page, &base, &url, &args)))
}

async fn show(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<ShowQuery>,
) -> Result<HttpResponse> {
    let v = require_api(&req)?;
    let fields = requested_fields(q.fields.as_deref(), v)?;
    if let Some(f) = &fields {
        check_requested(PORTGROUP_FIELDS, f, v)?;
    }
    let pg = fetch_authorized(&state, &req, &path, "baremetal:portgroup:get").await?;
    let base = base_url(&state, &req);
    Ok(HttpResponse::Ok().json(render(PORTGROUP_FIELDS, &pg, &base, v, fields.as_deref())))
}

/// Keys Ironic's portgroup schema knows.
const SCHEMA_KEYS: &[&str] = &[
    "address",
    "category",
    "extra",
    "mode",
    "name",
    "node_uuid",
    "physical_network",
    "properties",
    "standalone_ports_supported",
    "uuid",
];

fn schema_error(message: String) -> Error {
    Error::InvalidParameter(format!("Schema error for portgroup: {message}"))
}

/// The writable portgroup attributes, validated; each `Some` was given.
#[derive(Default)]
struct PortgroupInput {
    node_uuid: Option<String>,
    address: Option<Option<String>>,
    name: Option<Option<String>>,
    extra: Option<Option<String>>,
    mode: Option<Option<String>>,
    properties: Option<Option<String>>,
    standalone_ports_supported: Option<Option<bool>>,
    physical_network: Option<Option<String>>,
    category: Option<Option<String>>,
}

/// Validates the given attributes as Ironic's schema and validators do; the
/// name rule is the caller's (its message differs between create and update).
fn portgroup_input(fields: &Map<String, Value>) -> Result<PortgroupInput> {
    for key in fields.keys() {
        if !SCHEMA_KEYS.contains(&key.as_str()) {
            return Err(schema_error(format!(
                "Additional properties are not allowed ('{key}' was unexpected)"
            )));
        }
    }
    let mut input = PortgroupInput::default();
    for (key, value) in fields {
        match key.as_str() {
            "node_uuid" => {
                let Value::String(n) = value else {
                    return Err(schema_error(format!(
                        "{} is not of type 'string'",
                        python_repr(value)
                    )));
                };
                if uuid::Uuid::parse_str(n).is_err() {
                    return Err(Error::InvalidParameter(format!(
                        "Expected UUID for node_uuid: {n}"
                    )));
                }
                input.node_uuid = Some(n.clone());
            }
            "address" => {
                input.address = Some(
                    short_string("portgroup", value, None)?
                        .map(|a| normalize_mac(&a))
                        .transpose()?,
                )
            }
            "name" => input.name = Some(short_string("portgroup", value, None)?),
            "extra" => input.extra = Some(object_column("portgroup", "extra", value)?),
            "mode" => input.mode = Some(short_string("portgroup", value, None)?),
            "properties" => {
                input.properties = Some(object_column("portgroup", "properties", value)?)
            }
            "standalone_ports_supported" => {
                input.standalone_ports_supported = Some(bool_value(
                    "portgroup",
                    "standalone_ports_supported",
                    value,
                )?)
            }
            "physical_network" => {
                input.physical_network = Some(short_string("portgroup", value, Some(64))?)
            }
            "category" => input.category = Some(short_string("portgroup", value, Some(80))?),
            _ => {}
        }
    }
    Ok(input)
}

/// Whether a JSON value counts as "given" the way Python's truthiness does.
fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Object(m)) => !m.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(_) => true,
    }
}

/// 406 for attributes newer than the request: Ironic checks only `mode`
/// and `properties` (it stores `physical_network` and `category` at any
/// version and only hides them in its views).
fn refuse_newer_input(fields: &Map<String, Value>, v: Version) -> Result<()> {
    let mode_or_properties = truthy(fields.get("mode")) || truthy(fields.get("properties"));
    if mode_or_properties && !v.at_least(PORTGROUP_MODE_PROPERTIES) {
        return Err(Error::NotAcceptable("Request not acceptable.".into()));
    }
    Ok(())
}

async fn create(
    state: web::Data<ApiState>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    let v = require_api(&req)?;
    let Value::Object(fields) = body.into_inner() else {
        return Err(schema_error("body must be an object".into()));
    };
    let input = portgroup_input(&fields)?;
    let Some(node_uuid) = input.node_uuid.clone() else {
        return Err(schema_error("'node_uuid' is a required property".into()));
    };
    let uuid = match fields.get("uuid") {
        None | Some(Value::Null) => uuid::Uuid::new_v4().to_string(),
        Some(Value::String(u)) if uuid::Uuid::parse_str(u).is_ok() => u.clone(),
        Some(other) => {
            return Err(Error::InvalidParameter(format!(
                "Expected UUID for uuid: {}",
                other.as_str().unwrap_or(&other.to_string())
            )))
        }
    };
    let n = node_uuid.clone();
    let node = state
        .datastore
        .run(move |c| node_get_by_uuid(c, &n))
        .await
        .ok();
    // Policy first (against the node's owner), then the missing node, as Ironic.
    let ctx = context_of(&req);
    let (owner, lessee) = node
        .as_ref()
        .map_or((None, None), |n| (n.owner.as_deref(), n.lessee.as_deref()));
    if !authorize_on_node(&state, &ctx, "baremetal:portgroup:create", owner, lessee) {
        return Err(denied("baremetal:portgroup:create"));
    }
    let node = node
        .ok_or_else(|| Error::InvalidParameter(format!("Node {node_uuid} could not be found.")))?;
    refuse_newer_input(&fields, v)?;
    let name = input.name.flatten();
    if let Some(n) = name.as_deref().filter(|n| !n.is_empty()) {
        if !is_logical_name(n) {
            return Err(Error::InvalidParameter(format!(
                "Cannot create portgroup with invalid name '{n}'"
            )));
        }
    }
    let new = NewPortgroup {
        uuid,
        name,
        node_id: node.id,
        address: input.address.flatten(),
        extra: input.extra.flatten(),
        standalone_ports_supported: input.standalone_ports_supported.flatten().unwrap_or(true),
        mode: Some(
            input
                .mode
                .flatten()
                .unwrap_or_else(|| DEFAULT_PORTGROUP_MODE.to_string()),
        ),
        properties: input.properties.flatten(),
        physical_network: input.physical_network.flatten(),
        category: input.category.flatten(),
        created_at: None,
    };
    let pg = state
        .datastore
        .run(move |c| portgroup_create(c, new))
        .await?;
    let base = base_url(&state, &req);
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("{base}/v1/portgroups/{}", pg.portgroup.uuid),
        ))
        .json(render(PORTGROUP_FIELDS, &pg, &base, v, None)))
}

async fn delete(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    require_api(&req)?;
    let pg = fetch_authorized(&state, &req, &path, "baremetal:portgroup:delete").await?;
    let uuid = pg.portgroup.uuid;
    state
        .datastore
        .run(move |c| portgroup_delete(c, &uuid))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// What a portgroup PATCH may name, in Ironic's order (its refusal lists them).
const PATCH_ALLOWED_FIELDS: &[&str] = &[
    "address",
    "extra",
    "mode",
    "name",
    "node_uuid",
    "properties",
    "standalone_ports_supported",
    "physical_network",
    "category",
];

async fn update(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    let v = require_api(&req)?;
    let ops = crate::api::patch::parse_patch(&body, false)?;
    let pg = fetch_authorized(&state, &req, &path, "baremetal:portgroup:update").await?;
    let touches = |field: &str| {
        ops.iter()
            .any(|op| op.path.split('/').nth(1) == Some(field))
    };
    if (touches("mode") || touches("properties")) && !v.at_least(PORTGROUP_MODE_PROPERTIES) {
        return Err(Error::NotAcceptable("Request not acceptable.".into()));
    }
    let ident = path.into_inner();
    for op in &ops {
        if op.path == "/name" && op.op != Op::Remove {
            if let Some(Value::String(name)) = &op.value {
                if !name.is_empty() && !is_logical_name(name) {
                    return Err(Error::InvalidParameter(format!(
                        "Portgroup {ident}: Cannot change name to invalid name '{name}'"
                    )));
                }
            }
        }
    }
    let row = &pg.portgroup;
    let doc = json!({
        "address": row.address,
        "extra": json_object(&row.extra),
        "mode": row.mode,
        "name": row.name,
        "node_uuid": pg.node_uuid,
        "properties": json_object(&row.properties),
        "standalone_ports_supported": row.standalone_ports_supported,
        "physical_network": row.physical_network,
        "category": row.category,
    });
    let patched = crate::api::patch::apply_patch(&doc, &ops, PATCH_ALLOWED_FIELDS)?;
    if ops
        .iter()
        .any(|op| op.op == Op::Remove && op.path == "/mode")
    {
        return Err(Error::InvalidParameter(
            "'mode' is a mandatory attribute and can not be removed".into(),
        ));
    }
    let changed: Map<String, Value> = patched
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, val)| doc.get(k.as_str()) != Some(val))
                .map(|(k, val)| (k.clone(), val.clone()))
                .collect()
        })
        .unwrap_or_default();
    let input = portgroup_input(&changed)?;
    let mut changes = PortgroupChanges {
        name: input.name,
        address: input.address,
        extra: input.extra,
        mode: input.mode,
        properties: input.properties,
        // Removing the flag resets it to its default.
        standalone_ports_supported: input.standalone_ports_supported.map(|b| b.unwrap_or(true)),
        physical_network: input.physical_network,
        category: input.category,
        ..PortgroupChanges::default()
    };
    let node_uuid = input.node_uuid.unwrap_or_else(|| pg.node_uuid.clone());
    let n = node_uuid.clone();
    let node = state
        .datastore
        .run(move |c| node_get_by_uuid(c, &n))
        .await
        .map_err(|_| Error::InvalidParameter(format!("Node {node_uuid} could not be found.")))?;
    if node.id != row.node_id {
        changes.node_id = Some(node.id);
    }
    let uuid = row.uuid.clone();
    if node.provision_state == "inspecting" && v.at_least(INSPECT_WAIT_STATE) {
        return Err(Error::Conflict(format!(
            "Cannot update portgroup \"{uuid}\" on node \"{node_uuid}\" while it is in state \"inspecting\"."
        )));
    }
    // Setting the portgroup's physical network sets its ports' too; Ironic
    // looks at the first operation only.
    let member_physnet = ops
        .first()
        .filter(|op| op.path == "/physical_network" && op.op != Op::Remove)
        .map(|op| {
            op.value
                .as_ref()
                .and_then(Value::as_str)
                .map(str::to_string)
        });
    let pg = state
        .datastore
        .run(move |c| portgroup_update(c, &uuid, changes, member_physnet))
        .await?;
    let base = base_url(&state, &req);
    Ok(HttpResponse::Ok().json(render(PORTGROUP_FIELDS, &pg, &base, v, None)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_uuids_or_logical_names() {
        assert_eq!(checked_ident("pg-1").unwrap(), "pg-1");
        assert_eq!(
            checked_ident("1be26c0b-03f2-4d2e-ae87-c02d7f33c123").unwrap(),
            "1be26c0b-03f2-4d2e-ae87-c02d7f33c123"
        );
        assert!(checked_ident("bad name").is_err());
    }

    #[test]
    fn mode_and_properties_count_only_when_given_a_value() {
        let v = Version::new(1, 25);
        let empty: Map<String, Value> =
            serde_json::from_value(json!({"mode": null, "properties": {}})).unwrap();
        assert!(refuse_newer_input(&empty, v).is_ok());
        let given: Map<String, Value> = serde_json::from_value(json!({"mode": "802.3ad"})).unwrap();
        assert!(matches!(
            refuse_newer_input(&given, v),
            Err(Error::NotAcceptable(_))
        ));
    }
}

//! `/v1/ports`: list, detail, show, create, update, delete; the port lists
//! of a node and of a portgroup; the port fields each microversion shows.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::collection::{checked_uuid, collection, requested_fields, Page, ShowQuery, SortDir};
use super::field_table::{
    bool_value, check_requested, detail_flag, refuse_newer, render, short_string, FieldSpec, Gate,
};
use super::node_view::INSPECT_WAIT_STATE;
use super::portgroups::PORTGROUP_PHYSICAL_NETWORK;
use super::views::{json_object, object_column, timestamp};
use crate::api::links::{base_url, resource_links};
use crate::api::microversion::Version;
use crate::api::middleware::{context_of, not_found, version_of};
use crate::api::patch::{python_repr, Op, PatchOp};
use crate::api::ApiState;
use crate::auth::policy::owner_target;
use crate::context::RequestContext;
use crate::db::datastore::node::{node_get, node_get_by_uuid};
use crate::db::datastore::port::{
    port_create, port_delete, port_get, port_get_by_ident, port_list, port_update, NewPort,
    PortChanges, PortFilter, PortWithNode,
};
use crate::db::datastore::portgroup::portgroup_get;
use crate::error::{Error, Result};

/// `internal_info` in port views.
pub const PORT_INTERNAL_INFO: Version = Version::new(1, 18);
/// `local_link_connection` and `pxe_enabled`.
pub const PORT_ADVANCED_NET: Version = Version::new(1, 19);
/// Portgroup membership: `portgroup_uuid`, `?portgroup=`, and the port and
/// portgroup sub-collections of nodes and portgroups.
pub const PORTGROUP_MEMBERSHIP: Version = Version::new(1, 24);
pub const PORT_PHYSICAL_NETWORK: Version = Version::new(1, 34);
pub const PORT_SMARTNIC: Version = Version::new(1, 53);
/// `network_type` inside `local_link_connection`.
pub const LOCAL_LINK_NETWORK_TYPE: Version = Version::new(1, 64);
pub const PORT_NAME: Version = Version::new(1, 88);
/// `?shard=` on port lists.
pub const PORT_SHARD_FILTER: Version = Version::new(1, 82);
/// The OVN VTEP keys of `local_link_connection`, accepted and shown from
/// here until `LOCAL_LINK_OVN_VTEP_REMOVED`.
pub const LOCAL_LINK_OVN_VTEP: Version = Version::new(1, 90);
/// `node_ident` (a node name or UUID) when creating a port.
pub const PORT_NODE_IDENT: Version = Version::new(1, 94);
pub const PORT_DESCRIPTION: Version = Version::new(1, 97);
pub const PORT_VENDOR: Version = Version::new(1, 100);
pub const PORT_CATEGORY: Version = Version::new(1, 101);
/// Ironic dropped the OVN VTEP keys again (406 in bodies, hidden in views).
pub const LOCAL_LINK_OVN_VTEP_REMOVED: Version = Version::new(1, 105);
pub const PORT_DYNAMIC_PORTGROUP: Version = Version::new(1, 111);

const BASE: Version = crate::api::microversion::MIN;

fn string_or_null(v: &Option<String>) -> Value {
    v.as_ref().map_or(Value::Null, |s| json!(s))
}

/// Ironic hides a link that uses the OVN VTEP keys outside 1.90–1.104 as
/// `{}`; the view functions have no version, so that rule lives in `port_view`.
fn local_link(p: &PortWithNode) -> Value {
    json_object(&p.port.local_link_connection)
}

/// Every attribute of a port, with the version that introduced it.
pub const PORT_FIELDS: &[FieldSpec<PortWithNode>] = &[
    FieldSpec {
        name: "uuid",
        since: BASE,
        gate: Gate::Refuse,
        get: |p, _| json!(p.port.uuid),
    },
    FieldSpec {
        name: "address",
        since: BASE,
        gate: Gate::Refuse,
        get: |p, _| json!(p.port.address),
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
        get: |p, _| json_object(&p.port.extra),
    },
    FieldSpec {
        name: "created_at",
        since: BASE,
        gate: Gate::Refuse,
        get: |p, _| timestamp(Some(p.port.created_at)),
    },
    FieldSpec {
        name: "updated_at",
        since: BASE,
        gate: Gate::Refuse,
        get: |p, _| timestamp(p.port.updated_at),
    },
    FieldSpec {
        name: "links",
        since: BASE,
        gate: Gate::Refuse,
        get: |p, b| resource_links(b, "ports", &p.port.uuid),
    },
    FieldSpec {
        name: "internal_info",
        since: PORT_INTERNAL_INFO,
        gate: Gate::Hide,
        get: |p, _| json_object(&p.port.internal_info),
    },
    FieldSpec {
        name: "local_link_connection",
        since: PORT_ADVANCED_NET,
        gate: Gate::Refuse,
        get: |p, _| local_link(p),
    },
    FieldSpec {
        name: "pxe_enabled",
        since: PORT_ADVANCED_NET,
        gate: Gate::Refuse,
        get: |p, _| json!(p.port.pxe_enabled),
    },
    FieldSpec {
        name: "portgroup_uuid",
        since: PORTGROUP_MEMBERSHIP,
        gate: Gate::Refuse,
        get: |p, _| string_or_null(&p.portgroup_uuid),
    },
    FieldSpec {
        name: "physical_network",
        since: PORT_PHYSICAL_NETWORK,
        gate: Gate::Refuse,
        get: |p, _| string_or_null(&p.port.physical_network),
    },
    FieldSpec {
        name: "is_smartnic",
        since: PORT_SMARTNIC,
        gate: Gate::Refuse,
        get: |p, _| json!(p.port.is_smartnic),
    },
    FieldSpec {
        name: "name",
        since: PORT_NAME,
        gate: Gate::Refuse,
        get: |p, _| string_or_null(&p.port.name),
    },
    FieldSpec {
        name: "description",
        since: PORT_DESCRIPTION,
        gate: Gate::Refuse,
        get: |p, _| string_or_null(&p.port.description),
    },
    FieldSpec {
        name: "vendor",
        since: PORT_VENDOR,
        gate: Gate::Refuse,
        get: |p, _| string_or_null(&p.port.vendor),
    },
    FieldSpec {
        name: "category",
        since: PORT_CATEGORY,
        gate: Gate::Refuse,
        get: |p, _| string_or_null(&p.port.category),
    },
    FieldSpec {
        name: "available_for_dynamic_portgroup",
        since: PORT_DYNAMIC_PORTGROUP,
        gate: Gate::Refuse,
        get: |p, _| json!(p.port.available_for_dynamic_portgroup),
    },
];

const LIST_FIELDS: &[&str] = &["uuid", "address", "links"];

/// JSON columns Ironic refuses to sort by (its own message, without quotes).
const UNSORTABLE: &[&str] = &["extra", "internal_info", "local_link_connection"];

const OVN_VTEP_KEYS: &[&str] = &["vtep-logical-switch", "vtep-physical-switch"];

/// Whether the version accepts and shows the OVN VTEP keys.
fn ovn_vtep_allowed(v: Version) -> bool {
    v.at_least(LOCAL_LINK_OVN_VTEP) && !v.at_least(LOCAL_LINK_OVN_VTEP_REMOVED)
}

/// A port as the negotiated version shows it.
pub fn port_view(p: &PortWithNode, base: &str, v: Version, only: Option<&[String]>) -> Value {
    let mut view = render(PORT_FIELDS, p, base, v, only);
    if !ovn_vtep_allowed(v) {
        if let Some(llc) = view.get_mut("local_link_connection") {
            if llc
                .as_object()
                .is_some_and(|m| OVN_VTEP_KEYS.iter().any(|k| m.contains_key(*k)))
            {
                *llc = json!({});
            }
        }
    }
    view
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/ports", web::get().to(list))
        .route("/v1/ports/", web::get().to(list))
        .route("/v1/ports", web::post().to(create))
        .route("/v1/ports/detail", web::get().to(detail))
        .route("/v1/nodes/{ident}/ports", web::get().to(of_node))
        .route(
            "/v1/nodes/{ident}/ports/detail",
            web::get().to(of_node_detail),
        )
        .route("/v1/portgroups/{ident}/ports", web::get().to(of_portgroup))
        .route(
            "/v1/portgroups/{ident}/ports/detail",
            web::get().to(of_portgroup_detail),
        )
        .route("/v1/ports/{uuid}", web::get().to(show))
        .route("/v1/ports/{uuid}", web::patch().to(update))
        .route("/v1/ports/{uuid}", web::delete().to(delete));
}

fn denied(rule: &str) -> Error {
    Error::Forbidden(format!(
        "Access was denied to the following resource: {rule}"
    ))
}

/// Port rules are checked against the owning node's owner and lessee.
pub(crate) fn authorize_on_node(
    state: &ApiState,
    ctx: &RequestContext,
    rule: &str,
    owner: Option<&str>,
    lessee: Option<&str>,
) -> bool {
    let creds = ctx.policy_credentials();
    state
        .policy
        .check(rule, &owner_target("node", &creds, owner, lessee), &creds)
}

/// Ironic's MAC rule: six lower-case hex octets separated by colons.
pub fn normalize_mac(raw: &str) -> Result<String> {
    let mac = raw.to_ascii_lowercase();
    let ok = mac.len() == 17
        && mac.split(':').count() == 6
        && mac
            .split(':')
            .all(|o| o.len() == 2 && o.chars().all(|c| c.is_ascii_hexdigit()));
    if ok {
        Ok(mac)
    } else {
        Err(Error::InvalidParameter(format!(
            "Expected valid MAC address for address: {raw}"
        )))
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    node: Option<String>,
    node_uuid: Option<String>,
    address: Option<String>,
    portgroup: Option<String>,
    shard: Option<String>,
    conductor_groups: Option<String>,
    description_contains: Option<String>,
    limit: Option<i64>,
    marker: Option<String>,
    sort_key: Option<String>,
    sort_dir: Option<String>,
    fields: Option<String>,
    detail: Option<String>,
}

/// Where a port list hangs.
enum Parent {
    Root,
    Node(String),
    Portgroup(String),
}

async fn list(
    state: web::Data<ApiState>,
    req: HttpRequest,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    serve_list(&state, &req, q.into_inner(), Parent::Root, false).await
}

async fn detail(
    state: web::Data<ApiState>,
    req: HttpRequest,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    serve_list(&state, &req, q.into_inner(), Parent::Root, true).await
}

/// `GET /v1/nodes/{ident}/ports`: the ports of one node.
async fn of_node(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    serve_list(
        &state,
        &req,
        q.into_inner(),
        Parent::Node(path.into_inner()),
        false,
    )
    .await
}

async fn of_node_detail(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    serve_list(
        &state,
        &req,
        q.into_inner(),
        Parent::Node(path.into_inner()),
        true,
    )
    .await
}

/// `GET /v1/portgroups/{ident}/ports` (1.24): the members of a portgroup.
async fn of_portgroup(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(PORTGROUP_MEMBERSHIP) {
        return Ok(not_found(req).await);
    }
    let parent = Parent::Portgroup(path.into_inner());
    serve_list(&state, &req, q.into_inner(), parent, false).await
}

async fn of_portgroup_detail(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(PORTGROUP_MEMBERSHIP) {
        return Ok(not_found(req).await);
    }
    let parent = Parent::Portgroup(path.into_inner());
    serve_list(&state, &req, q.into_inner(), parent, true).await
}

/// The list and detail endpoints, in Ironic's order of checks.
async fn serve_list(
    state: &ApiState,
    req: &HttpRequest,
    mut q: ListQuery,
    parent: Parent,
    detail_endpoint: bool,
) -> Result<HttpResponse> {
    let v = version_of(req);
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
        check_requested(PORT_FIELDS, f, v)?;
    }
    let sort_key = q.sort_key.clone().unwrap_or_else(|| "id".into());
    refuse_newer(PORT_FIELDS, [sort_key.as_str()], v)?;
    if UNSORTABLE.contains(&sort_key.as_str()) {
        return Err(Error::InvalidParameter(format!(
            "The sort_key value {sort_key} is an invalid field for sorting"
        )));
    }
    if q.portgroup.is_some() && !v.at_least(PORTGROUP_MEMBERSHIP) {
        return Err(Error::NotAcceptable("Request not acceptable.".into()));
    }
    filter_since(q.shard.is_some(), v, PORT_SHARD_FILTER)?;
    if let Some(n) = q.node.as_deref().filter(|_| q.node_uuid.is_none()) {
        if !v.at_least(super::nodes::NODE_NAME) && uuid::Uuid::parse_str(n).is_err() {
            return Err(Error::NotAcceptable("Request not acceptable.".into()));
        }
    }
    let detail = detail_flag(q.detail.as_deref(), v, fields.is_some())? || detail_endpoint;
    let url = match &parent {
        Parent::Root => "ports".to_string(),
        Parent::Node(n) => {
            if q.node.is_some() || q.node_uuid.is_some() {
                return Err(Error::InvalidParameter(
                    "Unexpected arguments: node, node_uuid".into(),
                ));
            }
            q.node = Some(n.clone());
            format!("nodes/{n}/ports")
        }
        Parent::Portgroup(pg) => {
            q.portgroup = Some(pg.clone());
            format!("portgroups/{pg}/ports")
        }
    };
    let url = if detail_endpoint {
        format!("{url}/detail")
    } else {
        url
    };
    if q.node.is_some() && q.node_uuid.is_some() {
        return Err(Error::InvalidParameter(
            "Only one of 'node_uuid' or 'node' should be specified.".into(),
        ));
    }
    let node = q.node.clone().or_else(|| q.node_uuid.clone());
    let shards = string_list(q.shard.as_deref());
    let exclusive = [node.is_some(), q.portgroup.is_some(), shards.is_some()];
    if exclusive.iter().filter(|given| **given).count() > 1 {
        return Err(Error::Forbidden("Operation not permitted.".into()));
    }
    let conductor_groups = conductor_groups_filter(q.conductor_groups.as_deref());
    if conductor_groups.is_some()
        && (node.is_some() || q.portgroup.is_some() || q.address.is_some())
    {
        return Err(Error::InvalidParameter(
            "Filtering by conductor_groups cannot be combined with node_ident, portgroup_ident, or node address filters.".into(),
        ));
    }

    let ctx = context_of(req);
    if let Parent::Portgroup(ident) = &parent {
        // As Ironic: the portgroup of a node the caller cannot see does not exist.
        let id = ident.clone();
        let pg = state.datastore.run(move |c| portgroup_get(c, &id)).await?;
        if !authorize_on_node(
            state,
            &ctx,
            "baremetal:node:get",
            pg.node_owner.as_deref(),
            pg.node_lessee.as_deref(),
        ) {
            return Err(Error::NotFound(format!(
                "Portgroup {ident} could not be found."
            )));
        }
    }
    if !authorize_on_node(state, &ctx, "baremetal:port:list", None, None) {
        return Err(denied("baremetal:port:list"));
    }
    let owner = if authorize_on_node(state, &ctx, "baremetal:port:list_all", None, None) {
        None
    } else {
        Some(
            ctx.project_id
                .clone()
                .ok_or_else(|| denied("baremetal:port:list"))?,
        )
    };
    let page = Page::from_query(
        q.limit,
        q.marker.clone(),
        Some(sort_key),
        q.sort_dir.clone(),
        state.conf.api.max_limit,
        crate::db::datastore::port::PORT_SORT_KEYS,
    )?;
    let address = q.address.as_deref().map(normalize_mac).transpose()?;
    let portgroup = q.portgroup.clone();
    // As Ironic: one lookup applies, in this order (portgroup, node, address,
    // shard, everything); the address lookup takes no other filter, and
    // conductor groups only filter the unscoped list.
    let scoped = node.is_some() || portgroup.is_some();
    let by_address = !scoped && address.is_some();
    let shards = shards.filter(|_| !scoped && !by_address);
    let conductor_groups = conductor_groups.filter(|_| shards.is_none());
    let description_contains = q.description_contains.clone().filter(|_| !by_address);
    let p = page.clone();
    let rows = state
        .datastore
        .run(move |c| {
            let node_id = match node {
                Some(n) => Some(node_get(c, &n)?.id),
                None => None,
            };
            let portgroup_id = match portgroup {
                Some(pg) => Some(portgroup_get(c, &pg)?.portgroup.id),
                None => None,
            };
            port_list(
                c,
                &PortFilter {
                    node_id,
                    portgroup_id,
                    address,
                    shards,
                    conductor_groups,
                    description_contains,
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
    let items = rows.iter().map(|p| port_view(p, &base, v, only)).collect();
    let mut args = Vec::new();
    if matches!(parent, Parent::Root) {
        for (name, value) in [
            ("node", &q.node),
            ("node_uuid", &q.node_uuid),
            ("portgroup", &q.portgroup),
            ("shard", &q.shard),
            ("conductor_groups", &q.conductor_groups),
            ("description_contains", &q.description_contains),
        ] {
            if let Some(value) = value {
                args.push((name, value.clone()));
            }
        }
    }
    if let Some(a) = &q.address {
        args.push(("address", a.clone()));
    }
    if let Some(f) = &fields {
        args.push(("fields", f.join(",")));
    }
    if q.detail.is_some() {
        args.push(("detail", detail.to_string()));
    }
    Ok(HttpResponse::Ok().json(collection("ports", items, &page, &base, &url, &args)))
}

async fn show(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<ShowQuery>,
) -> Result<HttpResponse> {
    let v = version_of(&req);
    let fields = requested_fields(q.fields.as_deref(), v)?;
    if let Some(f) = &fields {
        check_requested(PORT_FIELDS, f, v)?;
    }
    let uuid = checked_ident(&path)?;
    let u = uuid.clone();
    let port = state
        .datastore
        .run(move |c| port_get_by_ident(c, &u))
        .await?;
    let ctx = context_of(&req);
    // As Ironic: a port of a node the caller cannot see does not exist.
    if !authorize_on_node(
        &state,
        &ctx,
        "baremetal:port:get",
        port.node_owner.as_deref(),
        port.node_lessee.as_deref(),
    ) {
        return Err(Error::NotFound(format!("Port {uuid} could not be found.")));
    }
    let base = base_url(&state, &req);
    Ok(HttpResponse::Ok().json(port_view(&port, &base, v, fields.as_deref())))
}

/// The writable port attributes, validated; each `Some` was given.
#[derive(Default)]
struct PortInput {
    address: Option<String>,
    node_uuid: Option<String>,
    node_ident: Option<String>,
    extra: Option<Option<String>>,
    local_link_connection: Option<Option<String>>,
    pxe_enabled: Option<Option<bool>>,
    portgroup_uuid: Option<Option<String>>,
    physical_network: Option<Option<String>>,
    is_smartnic: Option<Option<bool>>,
    name: Option<Option<String>>,
    description: Option<Option<String>>,
    vendor: Option<Option<String>>,
    category: Option<Option<String>>,
    available_for_dynamic_portgroup: Option<bool>,
}

/// Keys Ironic's port schema knows (POST body and PATCH targets).
const SCHEMA_KEYS: &[&str] = &[
    "address",
    "extra",
    "is_smartnic",
    "local_link_connection",
    "node_ident",
    "node_uuid",
    "physical_network",
    "portgroup_uuid",
    "pxe_enabled",
    "uuid",
    "name",
    "description",
    "vendor",
    "category",
    "available_for_dynamic_portgroup",
];

fn schema_error(message: String) -> Error {
    Error::InvalidParameter(format!("Schema error for port: {message}"))
}

/// Ironic's `local_link_connection` schema: known string keys, and one of
/// the shapes a switch port, a Smart NIC, an unmanaged link or an OVN VTEP
/// needs (or nothing at all); `switch_id` is a MAC or an OpenFlow datapath id.
fn local_link_connection(v: &Value) -> Result<Option<String>> {
    const KEYS: &[&str] = &[
        "port_id",
        "switch_id",
        "hostname",
        "switch_info",
        "network_type",
        "vtep-logical-switch",
        "vtep-physical-switch",
    ];
    let map = match v {
        Value::Null => return Ok(None),
        Value::Object(m) => m,
        other => {
            return Err(schema_error(format!(
                "{} is not of type 'null', 'object'",
                python_repr(other)
            )))
        }
    };
    let invalid = |cause: String| {
        Error::InvalidParameter(format!(
            "Schema error for local_link_connection: {} is not valid under any of the given schemas. Possible root cause: {cause}",
            python_repr(v)
        ))
    };
    for (key, value) in map {
        if !KEYS.contains(&key.as_str()) {
            return Err(invalid(format!(
                "Additional properties are not allowed ('{key}' was unexpected)"
            )));
        }
        if !value.is_string() {
            return Err(invalid(format!(
                "{} is not of type 'string'",
                python_repr(value)
            )));
        }
    }
    let has = |k: &str| map.contains_key(k);
    // Each VTEP key needs the other.
    for (key, needs) in [
        ("vtep-physical-switch", "vtep-logical-switch"),
        ("vtep-logical-switch", "vtep-physical-switch"),
    ] {
        if has(key) && !has(needs) {
            return Err(invalid(format!("'{needs}' is a dependency of '{key}'")));
        }
    }
    match map.get("network_type").and_then(Value::as_str) {
        None | Some("managed") | Some("unmanaged") => {}
        Some(other) => {
            return Err(invalid(format!(
                "'{other}' is not one of ['managed', 'unmanaged']"
            )))
        }
    }
    let unmanaged = map.get("network_type").and_then(Value::as_str) == Some("unmanaged");
    let shaped = map.is_empty()
        || unmanaged
        || has("port_id")
            && (has("switch_id")
                || has("hostname")
                || has("vtep-logical-switch") && has("vtep-physical-switch"));
    if !shaped {
        let missing = if has("port_id") {
            "switch_id"
        } else {
            "port_id"
        };
        return Err(invalid(format!("'{missing}' is a required property")));
    }
    let mut map = map.clone();
    if let Some(Value::String(switch)) = map.get("switch_id") {
        let lower = switch.to_ascii_lowercase();
        let normalized = normalize_mac(switch).ok().or_else(|| {
            (lower.len() == 16 && lower.chars().all(|c| c.is_ascii_hexdigit())).then_some(lower)
        });
        let Some(normalized) = normalized else {
            return Err(Error::InvalidParameter(format!(
                "Expected a MAC address or OpenFlow datapath ID but received {switch}."
            )));
        };
        map.insert("switch_id".into(), json!(normalized));
    }
    object_column("port", "local_link_connection", &Value::Object(map))
}

/// Validates the given port attributes as Ironic's schema and validators do.
fn port_input(fields: &Map<String, Value>) -> Result<PortInput> {
    for key in fields.keys() {
        if !SCHEMA_KEYS.contains(&key.as_str()) {
            return Err(schema_error(format!(
                "Additional properties are not allowed ('{key}' was unexpected)"
            )));
        }
    }
    let mut input = PortInput::default();
    for (key, value) in fields {
        match key.as_str() {
            "address" => {
                input.address = Some(match value {
                    Value::String(a) => normalize_mac(a)?,
                    other => {
                        return Err(schema_error(format!(
                            "{} is not of type 'string'",
                            python_repr(other)
                        )))
                    }
                })
            }
            "node_uuid" | "node_ident" => {
                let Value::String(n) = value else {
                    return Err(schema_error(format!(
                        "{} is not of type 'string'",
                        python_repr(value)
                    )));
                };
                if key == "node_uuid" {
                    if uuid::Uuid::parse_str(n).is_err() {
                        return Err(Error::InvalidParameter(format!(
                            "Expected UUID for node_uuid: {n}"
                        )));
                    }
                    input.node_uuid = Some(n.clone());
                } else {
                    input.node_ident = Some(n.clone());
                }
            }
            "extra" => input.extra = Some(object_column("port", "extra", value)?),
            "local_link_connection" => {
                input.local_link_connection = Some(local_link_connection(value)?)
            }
            "pxe_enabled" => input.pxe_enabled = Some(bool_value("port", "pxe_enabled", value)?),
            "is_smartnic" => input.is_smartnic = Some(bool_value("port", "is_smartnic", value)?),
            "portgroup_uuid" => {
                let pg = short_string("port", value, None)?;
                if let Some(pg) = &pg {
                    if uuid::Uuid::parse_str(pg).is_err() {
                        return Err(Error::InvalidParameter(format!(
                            "Expected UUID for portgroup_uuid: {pg}"
                        )));
                    }
                }
                input.portgroup_uuid = Some(pg);
            }
            "physical_network" => {
                let physnet = short_string("port", value, Some(64))?;
                if physnet.as_deref() == Some("") {
                    return Err(Error::InvalidParameter(
                        "A non-empty value is required when setting physical_network".into(),
                    ));
                }
                input.physical_network = Some(physnet);
            }
            "name" => input.name = Some(short_string("port", value, Some(255))?),
            "description" => input.description = Some(short_string("port", value, Some(255))?),
            "vendor" => input.vendor = Some(short_string("port", value, Some(32))?),
            "category" => input.category = Some(short_string("port", value, Some(80))?),
            "available_for_dynamic_portgroup" => {
                let Value::Bool(b) = value else {
                    return Err(schema_error(format!(
                        "{} is not of type 'boolean'",
                        python_repr(value)
                    )));
                };
                input.available_for_dynamic_portgroup = Some(*b);
            }
            _ => {}
        }
    }
    Ok(input)
}

/// 406 for attributes of a new port newer than the request (Ironic checks
/// them after the schema and the node lookup); the keys inside
/// `local_link_connection` count too.
fn refuse_newer_input(fields: &Map<String, Value>, v: Version) -> Result<()> {
    refuse_newer(PORT_FIELDS, fields.keys().map(String::as_str), v)?;
    let link = fields
        .get("local_link_connection")
        .and_then(Value::as_object);
    let link_has = |k: &str| link.is_some_and(|m| m.contains_key(k));
    if link_has("network_type") && !v.at_least(LOCAL_LINK_NETWORK_TYPE)
        || link_has("vtep-logical-switch") && !ovn_vtep_allowed(v)
    {
        return Err(Error::NotAcceptable("Request not acceptable.".into()));
    }
    Ok(())
}

/// Ironic's `string_list` query argument: comma-separated values.
pub(crate) fn string_list(raw: Option<&str>) -> Option<Vec<String>> {
    raw.map(|r| r.split(',').map(|s| s.trim().to_string()).collect())
}

/// `?conductor_groups=` of port and portgroup lists, lower-cased as Ironic
/// stores conductor groups. Ironic accepts it at every version.
pub(crate) fn conductor_groups_filter(raw: Option<&str>) -> Option<Vec<String>> {
    string_list(raw).map(|g| g.iter().map(|g| g.to_lowercase()).collect())
}

/// 406 with Ironic's words for a list filter newer than the request.
pub(crate) fn filter_since(given: bool, v: Version, since: Version) -> Result<()> {
    if given && !v.at_least(since) {
        return Err(Error::NotAcceptable(format!(
            "Request not acceptable. The minimal required API version should be {since}"
        )));
    }
    Ok(())
}

/// A port path identifier: a UUID or a logical name.
fn checked_ident(raw: &str) -> Result<String> {
    let ident = raw.strip_suffix(".json").unwrap_or(raw);
    if uuid::Uuid::parse_str(ident).is_ok() || super::field_table::is_logical_name(ident) {
        Ok(ident.to_string())
    } else {
        Err(Error::InvalidParameter(format!(
            "Expected UUID or name for port_ident: {ident}"
        )))
    }
}

/// A Smart NIC port must say which host and port it is.
fn check_smartnic(is_smartnic: bool, local_link: &Option<String>) -> Result<()> {
    if !is_smartnic {
        return Ok(());
    }
    let llc = json_object(local_link);
    if llc.get("port_id").is_some() && llc.get("hostname").is_some() {
        Ok(())
    } else {
        Err(Error::InvalidParameter(
            "Smart NIC port must have port_id and hostname in local_link_connection".into(),
        ))
    }
}

async fn create(
    state: web::Data<ApiState>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    let v = version_of(&req);
    let Value::Object(fields) = body.into_inner() else {
        return Err(schema_error("body must be an object".into()));
    };
    let input = port_input(&fields)?;
    let Some(address) = input.address.clone() else {
        return Err(schema_error("'address' is a required property".into()));
    };
    let node_ident = match (&input.node_uuid, &input.node_ident) {
        (Some(n), None) | (None, Some(n)) => n.clone(),
        _ => return Err(schema_error("'node_uuid' is a required property".into())),
    };
    let uuid = match fields.get("uuid") {
        None | Some(Value::Null) => uuid::Uuid::new_v4().to_string(),
        Some(Value::String(u)) => checked_uuid(u)?,
        Some(other) => {
            return Err(Error::InvalidParameter(format!(
                "Expected a UUID but received {other}."
            )))
        }
    };
    let by_ident = input.node_ident.is_some();
    if by_ident && !v.at_least(PORT_NODE_IDENT) {
        return Err(Error::NotAcceptable("Request not acceptable.".into()));
    }
    let n = node_ident.clone();
    let node = state
        .datastore
        .run(move |c| {
            if by_ident {
                node_get(c, &n)
            } else {
                node_get_by_uuid(c, &n)
            }
        })
        .await
        .ok();
    // Policy first (against the node's owner), then the missing node, as Ironic.
    let ctx = context_of(&req);
    let (owner, lessee) = node
        .as_ref()
        .map_or((None, None), |n| (n.owner.as_deref(), n.lessee.as_deref()));
    if !authorize_on_node(&state, &ctx, "baremetal:port:create", owner, lessee) {
        return Err(denied("baremetal:port:create"));
    }
    let node = node
        .ok_or_else(|| Error::InvalidParameter(format!("Node {node_ident} could not be found.")))?;
    refuse_newer_input(&fields, v)?;
    let portgroup_id = match input.portgroup_uuid.clone().flatten() {
        Some(pg) => {
            let found = state.datastore.run(move |c| portgroup_get(c, &pg)).await;
            Some(found.map_err(into_bad_request)?.portgroup.id)
        }
        None => None,
    };
    let local_link_connection = input.local_link_connection.clone().flatten();
    let is_smartnic = input.is_smartnic.flatten().unwrap_or(false);
    check_smartnic(is_smartnic, &local_link_connection)?;
    let new = NewPort {
        uuid,
        address,
        node_id: node.id,
        name: input.name.flatten(),
        extra: input.extra.flatten(),
        local_link_connection,
        portgroup_id,
        pxe_enabled: input.pxe_enabled.flatten().unwrap_or(true),
        physical_network: input.physical_network.flatten(),
        is_smartnic,
        vendor: input.vendor.flatten(),
        category: input.category.flatten(),
        description: input.description.flatten(),
        available_for_dynamic_portgroup: input.available_for_dynamic_portgroup,
        created_at: None,
    };
    let port = state.datastore.run(move |c| port_create(c, new)).await?;
    let base = base_url(&state, &req);
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("{base}/v1/ports/{}", port.port.uuid)))
        .json(port_view(&port, &base, v, None)))
}

/// A referenced resource that is missing makes the request bad, not the URL.
fn into_bad_request(e: Error) -> Error {
    match e {
        Error::NotFound(m) => Error::InvalidParameter(m),
        other => other,
    }
}

async fn delete(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let uuid = checked_uuid(&path)?;
    let u = uuid.clone();
    let port = state.datastore.run(move |c| port_get(c, &u)).await?;
    let ctx = context_of(&req);
    if !authorize_on_node(
        &state,
        &ctx,
        "baremetal:port:get",
        port.node_owner.as_deref(),
        port.node_lessee.as_deref(),
    ) {
        return Err(Error::NotFound(format!("Port {uuid} could not be found.")));
    }
    if !authorize_on_node(
        &state,
        &ctx,
        "baremetal:port:delete",
        port.node_owner.as_deref(),
        port.node_lessee.as_deref(),
    ) {
        return Err(denied("baremetal:port:delete"));
    }
    state.datastore.run(move |c| port_delete(c, &uuid)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// What a port PATCH may name, in Ironic's order (its refusal lists them).
const PATCH_ALLOWED_FIELDS: &[&str] = &[
    "address",
    "extra",
    "is_smartnic",
    "local_link_connection",
    "node_ident",
    "node_uuid",
    "physical_network",
    "portgroup_uuid",
    "pxe_enabled",
    "name",
    "description",
    "vendor",
    "category",
    "available_for_dynamic_portgroup",
];

/// The first path segment of a patch operation (the field it touches).
fn patched_field(op: &PatchOp) -> &str {
    op.path.split('/').nth(1).unwrap_or("")
}

async fn update(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    let v = version_of(&req);
    let ident = checked_ident(&path)?;
    let ops = crate::api::patch::parse_patch(&body, false)?;
    refuse_newer(PORT_FIELDS, ops.iter().map(patched_field), v)?;
    if ops
        .iter()
        .any(|op| op.path.starts_with("/local_link_connection/network_type"))
        && !v.at_least(LOCAL_LINK_NETWORK_TYPE)
    {
        return Err(Error::NotAcceptable("Request not acceptable.".into()));
    }
    let i = ident.clone();
    let port = state
        .datastore
        .run(move |c| port_get_by_ident(c, &i))
        .await?;
    let uuid = port.port.uuid.clone();
    let ctx = context_of(&req);
    let (owner, lessee) = (port.node_owner.as_deref(), port.node_lessee.as_deref());
    if !authorize_on_node(&state, &ctx, "baremetal:port:get", owner, lessee) {
        return Err(Error::NotFound(format!("Port {ident} could not be found.")));
    }
    if !authorize_on_node(&state, &ctx, "baremetal:port:update", owner, lessee) {
        return Err(denied("baremetal:port:update"));
    }
    let p = &port.port;
    let doc = json!({
        "address": p.address,
        "node_uuid": port.node_uuid,
        "extra": json_object(&p.extra),
        "local_link_connection": json_object(&p.local_link_connection),
        "pxe_enabled": p.pxe_enabled,
        "portgroup_uuid": port.portgroup_uuid,
        "physical_network": p.physical_network,
        "is_smartnic": p.is_smartnic,
        "name": p.name,
        "description": p.description,
        "vendor": p.vendor,
        "category": p.category,
        "available_for_dynamic_portgroup": p.available_for_dynamic_portgroup,
    });
    let patched = crate::api::patch::apply_patch(&doc, &ops, PATCH_ALLOWED_FIELDS)?;
    let changed: Map<String, Value> = patched
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, val)| doc.get(k.as_str()) != Some(val))
                .map(|(k, val)| (k.clone(), val.clone()))
                .collect()
        })
        .unwrap_or_default();
    let removed_pxe = ops
        .iter()
        .any(|op| op.op == Op::Remove && op.path == "/pxe_enabled");
    let input = port_input(&changed)?;
    let mut changes = PortChanges {
        address: input.address,
        extra: input.extra,
        local_link_connection: input.local_link_connection.clone(),
        // Removing a flag resets it to its default.
        pxe_enabled: input
            .pxe_enabled
            .map(|b| b.unwrap_or(true))
            .or(removed_pxe.then_some(true)),
        physical_network: input.physical_network,
        is_smartnic: input.is_smartnic.map(|b| b.unwrap_or(false)),
        name: input.name,
        description: input.description,
        vendor: input.vendor,
        category: input.category,
        available_for_dynamic_portgroup: input.available_for_dynamic_portgroup,
        ..PortChanges::default()
    };
    let smartnic = changes.is_smartnic.unwrap_or(p.is_smartnic);
    let llc = changes
        .local_link_connection
        .clone()
        .unwrap_or_else(|| p.local_link_connection.clone());
    check_smartnic(smartnic, &llc)?;
    let node_uuid = input.node_uuid.unwrap_or_else(|| port.node_uuid.clone());
    let n = node_uuid.clone();
    let node = state
        .datastore
        .run(move |c| node_get_by_uuid(c, &n))
        .await
        .map_err(into_bad_request)?;
    if node.id != p.node_id {
        changes.node_id = Some(node.id);
    }
    let mut in_portgroup = port.portgroup_uuid.is_some();
    if let Some(pg) = input.portgroup_uuid {
        in_portgroup = pg.is_some();
        changes.portgroup_id = Some(match pg {
            Some(pg) => {
                let found = state.datastore.run(move |c| portgroup_get(c, &pg)).await;
                Some(found.map_err(into_bad_request)?.portgroup.id)
            }
            None => None,
        });
    }
    if node.provision_state == "inspecting" && v.at_least(INSPECT_WAIT_STATE) {
        return Err(Error::Conflict(format!(
            "Cannot update port \"{uuid}\" on \"{node_uuid}\" while it is in state \"inspecting\"."
        )));
    }
    // Ironic looks at the first operation only.
    let first_touches_physnet = ops.first().is_some_and(|op| {
        op.path == "/physical_network" || op.path.starts_with("/physical_network/")
    });
    if first_touches_physnet && in_portgroup && v.at_least(PORTGROUP_PHYSICAL_NETWORK) {
        return Err(Error::InvalidParameter(
            "physical_network cannot be changed while the port belongs to a portgroup.".into(),
        ));
    }
    let port = state
        .datastore
        .run(move |c| port_update(c, &uuid, changes))
        .await?;
    let base = base_url(&state, &req);
    Ok(HttpResponse::Ok().json(port_view(&port, &base, v, None)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_are_validated_and_lower_cased() {
        assert_eq!(
            normalize_mac("52:54:00:AB:cd:01").unwrap(),
            "52:54:00:ab:cd:01"
        );
        for bad in [
            "zz:54:00:12:34:56",
            "52:54:00:12:34",
            "52-54-00-12-34-56",
            "5254.0012.3456",
        ] {
            assert!(normalize_mac(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn local_link_connection_follows_ironic_schema() {
        let ok =
            local_link_connection(&json!({"switch_id": "AA:BB:CC:DD:EE:FF", "port_id": "Eth1"}))
                .unwrap()
                .unwrap();
        assert!(ok.contains("aa:bb:cc:dd:ee:ff"));
        assert!(
            local_link_connection(&json!({"switch_id": "0123456789ABCDEF", "port_id": "p"}))
                .is_ok()
        );
        assert!(local_link_connection(&json!({"port_id": "p", "hostname": "h"})).is_ok());
        assert_eq!(local_link_connection(&json!({})).unwrap(), None);
        for bad in [
            json!({"switch_id": "zz", "port_id": "p"}),
            json!({"port_id": "p"}),
            json!({"switch_id": "aa:bb:cc:dd:ee:ff"}),
            json!({"bogus": "x"}),
            json!({"port_id": 1, "switch_id": "aa:bb:cc:dd:ee:ff"}),
            json!("text"),
        ] {
            assert!(
                matches!(local_link_connection(&bad), Err(Error::InvalidParameter(_))),
                "{bad}"
            );
        }
        assert!(local_link_connection(&json!({"network_type": "unmanaged"})).is_ok());
        assert!(matches!(
            local_link_connection(
                &json!({"port_id": "p", "switch_id": "aa:bb:cc:dd:ee:ff", "vtep-physical-switch": "b"})
            ),
            Err(Error::InvalidParameter(_))
        ));
    }

    #[test]
    fn the_field_table_is_ordered_by_version_and_names_are_unique() {
        let mut names: Vec<&str> = PORT_FIELDS.iter().map(|f| f.name).collect();
        let versions: Vec<Version> = PORT_FIELDS.iter().map(|f| f.since).collect();
        assert!(versions.windows(2).all(|w| w[0] <= w[1]));
        names.sort();
        names.dedup();
        assert_eq!(names.len(), PORT_FIELDS.len());
    }
}

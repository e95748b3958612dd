//! `/v1/nodes`: list, create and show (the rest of Ironic's node API grows here).

pub(crate) use crate::db::datastore::conductor::conductor_for_driver;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::collection::{checked_uuid, collection, requested_fields, Page, ShowQuery, SortDir};
use super::field_table::strict_bool;
use super::node_fields::{set_field, to_node_changes, writable};
use super::node_view::{check_requested_fields, node_field, NodeView};
use crate::api::links::base_url;
use crate::api::microversion::Version;
use crate::api::middleware::{context_of, version_of};
use crate::api::ApiState;
use crate::auth::policy::owner_target;
use crate::context::RequestContext;
use crate::db::datastore::allocation::allocation_uuids_by_id;
use crate::db::datastore::chassis::{chassis_get, chassis_get_by_id};
use crate::db::datastore::conductor::conductor_list_alive;
use crate::db::datastore::node::{
    node_get, node_get_by_uuid, node_list, NodeFilter, NodeRow, ParentFilter, SORT_COLUMNS,
};
use crate::db::datastore::node_trait::node_traits_of;
use crate::error::{Error, Result};
use crate::rpc::Target;

pub use super::node_view::{AVAILABLE_STATE, NODE_NAME};
/// New nodes start in `enroll` instead of `available`.
pub const ENROLL_ON_CREATE: Version = Version::new(1, 11);
/// `GET /v1/nodes/{node}/children` and the parent/child list filters.
pub const CHILD_NODES: Version = Version::new(1, 83);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/nodes", web::get().to(list))
        .route("/v1/nodes/", web::get().to(list))
        .route("/v1/nodes", web::post().to(create))
        .route("/v1/nodes/detail", web::get().to(detail))
        .route("/v1/nodes/{ident}", web::get().to(show))
        .route("/v1/nodes/{ident}/children", web::get().to(children))
        .route(
            "/v1/nodes/{ident}",
            web::patch().to(super::node_update::update),
        )
        .route("/v1/nodes/{ident}", web::delete().to(delete));
}

/// Ironic picks a conductor that has the driver; none means 400.
pub(crate) async fn pick_conductor(state: &ApiState, driver: &str) -> Result<String> {
    let timeout = state.conf.conductor.heartbeat_timeout;
    let alive = state
        .datastore
        .run(move |c| conductor_list_alive(c, timeout))
        .await?;
    conductor_for_driver(&alive, driver).ok_or_else(|| {
            Error::InvalidParameter(format!(
                "No valid host was found. Reason: No conductor service registered which supports driver {driver} for conductor group \"\". Ensure the driver is valid and enabled."
            ))
    })
}

pub(crate) fn authorize(
    state: &ApiState,
    rule: &str,
    target: &Value,
    ctx: &RequestContext,
) -> Result<()> {
    if state.policy.check(rule, target, &ctx.policy_credentials()) {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "Access was denied to the following resource: {rule}"
        )))
    }
}

pub(crate) fn node_target(row: &NodeRow, ctx: &RequestContext) -> Value {
    owner_target(
        "node",
        &ctx.policy_credentials(),
        row.owner.as_deref(),
        row.lessee.as_deref(),
    )
}

/// The query of node listings. Every argument Ironic knows is accepted
/// here and checked against its version; anything else is a 400, as Ironic
/// answers, rather than a filter silently ignored.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    chassis_uuid: Option<String>,
    instance_uuid: Option<String>,
    associated: Option<String>,
    maintenance: Option<String>,
    provision_state: Option<String>,
    driver: Option<String>,
    resource_class: Option<String>,
    fault: Option<String>,
    conductor_group: Option<String>,
    fields: Option<String>,
    detail: Option<String>,
    limit: Option<i64>,
    marker: Option<String>,
    sort_key: Option<String>,
    sort_dir: Option<String>,
    // Known to Ironic, newer than anything Berth advertises: always a 406.
    retired: Option<String>,
    conductor: Option<String>,
    owner: Option<String>,
    description_contains: Option<String>,
    lessee: Option<String>,
    project: Option<String>,
    shard: Option<String>,
    sharded: Option<String>,
    include_children: Option<String>,
    parent_node: Option<String>,
    instance_name: Option<String>,
}

/// Filters and the version that allows each.
const FILTER_VERSIONS: &[(&str, Version)] = &[
    ("provision_state", Version::new(1, 9)),
    ("driver", Version::new(1, 16)),
    ("resource_class", Version::new(1, 21)),
    ("fault", Version::new(1, 42)),
    ("detail", Version::new(1, 43)),
    ("conductor_group", Version::new(1, 46)),
    ("conductor", Version::new(1, 49)),
    ("owner", Version::new(1, 50)),
    ("description_contains", Version::new(1, 51)),
    ("retired", Version::new(1, 61)),
    ("lessee", Version::new(1, 65)),
    ("project", Version::new(1, 65)),
    ("shard", Version::new(1, 82)),
    ("sharded", Version::new(1, 82)),
    ("include_children", Version::new(1, 83)),
    ("parent_node", Version::new(1, 83)),
    ("instance_name", Version::new(1, 104)),
];

/// Faults Ironic records (and accepts as a filter).
const FAULTS: &[&str] = &[
    "power failure",
    "clean failure",
    "rescue abort failure",
    "service failure",
];

impl ListQuery {
    fn given(&self) -> Vec<(&'static str, &Option<String>)> {
        vec![
            ("provision_state", &self.provision_state),
            ("driver", &self.driver),
            ("resource_class", &self.resource_class),
            ("fault", &self.fault),
            ("detail", &self.detail),
            ("conductor_group", &self.conductor_group),
            ("conductor", &self.conductor),
            ("owner", &self.owner),
            ("description_contains", &self.description_contains),
            ("retired", &self.retired),
            ("lessee", &self.lessee),
            ("project", &self.project),
            ("shard", &self.shard),
            ("sharded", &self.sharded),
            ("include_children", &self.include_children),
            ("parent_node", &self.parent_node),
            ("instance_name", &self.instance_name),
        ]
    }

    /// Version gates and value checks, before anything is read.
    fn check(&self, v: Version) -> Result<()> {
        for (name, value) in self.given() {
            if value.is_some() {
                let since = FILTER_VERSIONS
                    .iter()
                    .find(|(f, _)| *f == name)
                    .map_or(Version::new(1, 1), |(_, s)| *s);
                if !v.at_least(since) {
                    return Err(Error::NotAcceptable("Request not acceptable.".into()));
                }
            }
        }
        if let Some(state) = &self.provision_state {
            if state.parse::<crate::states::ProvisionState>().is_err() {
                return Err(Error::InvalidParameter(format!(
                    "Provision state \"{state}\" is not valid"
                )));
            }
        }
        if let Some(f) = &self.fault {
            if !FAULTS.contains(&f.as_str()) {
                return Err(Error::InvalidParameter(format!(
                    "Unknown fault: \"{f}\". Supported faults are: {}",
                    FAULTS.join(", ")
                )));
            }
        }
        if let Some(u) = &self.instance_uuid {
            checked_uuid(u)?;
        }
        Ok(())
    }

    fn filter(&self) -> Result<NodeFilter> {
        let flag = |name: &str, raw: &Option<String>| -> Result<Option<bool>> {
            raw.as_deref().map(|r| strict_bool(name, r)).transpose()
        };
        Ok(NodeFilter {
            provision_state: self.provision_state.clone(),
            driver: self.driver.clone(),
            resource_class: self.resource_class.clone(),
            maintenance: flag("maintenance", &self.maintenance)?,
            associated: flag("associated", &self.associated)?,
            instance_uuid: self.instance_uuid.clone(),
            fault: self.fault.clone(),
            conductor_group: self.conductor_group.clone(),
            owner: self.owner.clone(),
            lessee: self.lessee.clone(),
            project: self.project.clone(),
            retired: flag("retired", &self.retired)?,
            shard_in: self.shard.as_deref().map(|raw| {
                raw.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            }),
            sharded: flag("sharded", &self.sharded)?,
            description_contains: self.description_contains.clone(),
            instance_name: self.instance_name.clone(),
            // As Ironic: children are listed only on request, and
            // include_children wins over parent_node.
            parent: match (
                flag("include_children", &self.include_children)?,
                &self.parent_node,
            ) {
                (Some(true), _) => None,
                (_, Some(parent)) => Some(ParentFilter::ChildrenOf(parent.clone())),
                (_, None) => Some(ParentFilter::TopLevel),
            },
            ..Default::default()
        })
    }

    /// Arguments echoed into the `next` link, so the next page is filtered
    /// the same way.
    fn echoed(&self, include_fields: bool) -> Vec<(&'static str, String)> {
        let mut args = Vec::new();
        let mut push = |k: &'static str, v: &Option<String>| {
            if let Some(v) = v {
                args.push((k, v.clone()));
            }
        };
        push("chassis_uuid", &self.chassis_uuid);
        push("instance_uuid", &self.instance_uuid);
        push("associated", &self.associated);
        push("maintenance", &self.maintenance);
        push("provision_state", &self.provision_state);
        push("driver", &self.driver);
        push("resource_class", &self.resource_class);
        push("fault", &self.fault);
        push("conductor_group", &self.conductor_group);
        push("retired", &self.retired);
        push("conductor", &self.conductor);
        push("owner", &self.owner);
        push("description_contains", &self.description_contains);
        push("lessee", &self.lessee);
        push("project", &self.project);
        push("shard", &self.shard);
        push("sharded", &self.sharded);
        push("include_children", &self.include_children);
        push("parent_node", &self.parent_node);
        push("instance_name", &self.instance_name);
        push("detail", &self.detail);
        if include_fields {
            push("fields", &self.fields);
        }
        args
    }
}

/// One page of the nodes the caller may see, optionally of one chassis,
/// with their chassis UUIDs and traits.
async fn load_page(
    state: &ApiState,
    req: &HttpRequest,
    query: &ListQuery,
    chassis: Option<String>,
) -> Result<(Page, Vec<LoadedNode>)> {
    let ctx = context_of(req);
    let v = version_of(req);
    query.check(v)?;
    let creds = ctx.policy_credentials();
    authorize(state, "baremetal:node:list", &creds, &ctx)?;
    let project = listing_project(state, &ctx, query.project.as_deref())?;
    let page = Page::from_query(
        query.limit,
        query.marker.clone(),
        query.sort_key.clone(),
        query.sort_dir.clone(),
        state.conf.api.max_limit,
        SORT_COLUMNS,
    )?;
    // A sort key newer than the request is refused like a field (406);
    // JSON fields are no sort keys (400), whatever the version.
    if let Some(f) = node_field(&page.sort_key) {
        if !v.at_least(f.since) {
            return Err(Error::NotAcceptable("Request not acceptable.".into()));
        }
    }
    if let Some(m) = &page.marker {
        checked_uuid(m)?;
    }
    let mut filter = query.filter()?;
    filter.project = project;
    filter.limit = Some(page.limit);
    filter.sort = Some((page.sort_key.clone(), page.sort_dir == SortDir::Asc));
    let marker = page.marker.clone();
    let timeout = state.conf.conductor.heartbeat_timeout;
    let mut rows = state
        .datastore
        .run(move |c| {
            if let Some(u) = chassis {
                filter.chassis_id = Some(chassis_get(c, &u)?.id);
            }
            if let Some(m) = marker {
                filter.after_id = Some(node_get_by_uuid(c, &m)?.id);
            }
            let rows = node_list(c, &filter)?;
            load_related(c, rows, timeout)
        })
        .await?;
    // Ironic filters by conductor after the page is read, so can Berth.
    if let Some(host) = &query.conductor {
        rows.retain(|n| n.conductor.as_deref() == Some(host.as_str()));
    }
    Ok((page, rows))
}

/// The project a listing is limited to, as Ironic's `check_list_policy`:
/// none with list_all (unless `?project=` asks for one), otherwise the
/// caller's own, and asking for another project is forbidden.
pub(crate) fn listing_project(
    state: &ApiState,
    ctx: &RequestContext,
    requested: Option<&str>,
) -> Result<Option<String>> {
    let creds = ctx.policy_credentials();
    if state
        .policy
        .check("baremetal:node:list_all", &creds, &creds)
    {
        return Ok(requested.map(str::to_string));
    }
    let denied = || {
        Error::Forbidden("Access was denied to the following resource: baremetal:node:list".into())
    };
    let own = ctx.project_id.clone().ok_or_else(denied)?;
    if requested.is_some_and(|p| p != own) {
        return Err(denied());
    }
    Ok(Some(own))
}

/// A node row with what its views show from other tables.
pub(crate) struct LoadedNode {
    pub row: NodeRow,
    pub chassis_uuid: Option<String>,
    pub traits: Vec<String>,
    pub allocation_uuid: Option<String>,
    pub conductor: Option<String>,
}

impl LoadedNode {
    pub(crate) fn view<'a>(&'a self, v: Version, base: &'a str) -> NodeView<'a> {
        NodeView {
            row: &self.row,
            chassis_uuid: self.chassis_uuid.as_deref(),
            traits: &self.traits,
            allocation_uuid: self.allocation_uuid.as_deref(),
            conductor: self.conductor.as_deref(),
            version: v,
            base,
        }
    }
}

/// Chassis UUIDs (one lookup per chassis), traits, allocation UUIDs and the
/// conductors (one query each; conductors alive within `heartbeat_timeout`
/// seconds) for a set of rows.
fn load_related(
    c: &mut crate::db::DbConnection,
    rows: Vec<NodeRow>,
    heartbeat_timeout: u64,
) -> Result<Vec<LoadedNode>> {
    let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
    let mut traits = node_traits_of(c, &ids)?;
    let allocation_ids: Vec<i32> = rows.iter().filter_map(|r| r.allocation_id).collect();
    let allocations = allocation_uuids_by_id(c, &allocation_ids)?;
    let alive = conductor_list_alive(c, heartbeat_timeout)?;
    let mut known: Vec<(i32, String)> = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let chassis_uuid = match row.chassis_id {
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
        let traits = traits.remove(&row.id).unwrap_or_default();
        let allocation_uuid = allocations
            .iter()
            .find(|(id, _)| Some(*id) == row.allocation_id)
            .map(|(_, u)| u.clone());
        let conductor = conductor_for_driver(&alive, &row.driver);
        out.push(LoadedNode {
            row,
            chassis_uuid,
            traits,
            allocation_uuid,
            conductor,
        });
    }
    Ok(out)
}

async fn list(
    state: web::Data<ApiState>,
    req: HttpRequest,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    let v = version_of(&req);
    let fields = requested_fields(query.fields.as_deref(), v)?;
    let detail = match &query.detail {
        Some(raw) => strict_bool("detail", raw)?,
        None => false,
    };
    if detail && fields.is_some() {
        return Err(Error::InvalidParameter(
            "Can not specify ?detail=True and fields in the same request.".into(),
        ));
    }
    if let Some(f) = &fields {
        check_requested_fields(f, v)?;
    }
    let (page, rows) = load_page(&state, &req, &query, query.chassis_uuid.clone()).await?;
    let base = base_url(&state, &req);
    let items = rows
        .iter()
        .map(|n| {
            let view = n.view(v, &base);
            match (&fields, detail) {
                (Some(f), _) => view.render(Some(f)),
                (None, true) => view.render(None),
                (None, false) => view.render_short(),
            }
        })
        .collect();
    let args = query.echoed(true);
    Ok(HttpResponse::Ok().json(collection("nodes", items, &page, &base, "nodes", &args)))
}

async fn detail(
    state: web::Data<ApiState>,
    req: HttpRequest,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    let v = version_of(&req);
    // Ironic's /detail knows neither fields= nor detail=.
    let unexpected: Vec<&str> = [("fields", &query.fields), ("detail", &query.detail)]
        .iter()
        .filter(|(_, val)| val.is_some())
        .map(|(k, _)| *k)
        .collect();
    if !unexpected.is_empty() {
        return Err(Error::InvalidParameter(format!(
            "Unexpected arguments: {}",
            unexpected.join(", ")
        )));
    }
    let (page, rows) = load_page(&state, &req, &query, query.chassis_uuid.clone()).await?;
    let base = base_url(&state, &req);
    let items = rows.iter().map(|n| n.view(v, &base).render(None)).collect();
    let args = query.echoed(false);
    Ok(HttpResponse::Ok().json(collection(
        "nodes",
        items,
        &page,
        &base,
        "nodes/detail",
        &args,
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
    let chassis = checked_uuid(&path)?;
    if query.chassis_uuid.is_some() {
        return Err(Error::InvalidParameter(
            "Unexpected arguments: chassis_uuid".into(),
        ));
    }
    let fields = requested_fields(query.fields.as_deref(), v)?;
    if let Some(f) = &fields {
        check_requested_fields(f, v)?;
    }
    let url = format!("chassis/{chassis}/nodes");
    let (page, rows) = load_page(&state, &req, &query, Some(chassis)).await?;
    let base = base_url(&state, &req);
    let items = rows
        .iter()
        .map(|n| match &fields {
            Some(f) => n.view(v, &base).render(Some(f)),
            None => n.view(v, &base).render_short(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(collection(
        "nodes",
        items,
        &page,
        &base,
        &url,
        &query.echoed(true),
    )))
}

/// A node by UUID or (from 1.5) name (a `.json` suffix is gone already
/// where Ironic strips it: see `middleware::DOT_JSON_IS_PLAIN`).
pub(crate) fn node_ident(ident: &str, v: Version) -> Result<String> {
    if uuid::Uuid::parse_str(ident).is_err() && !v.at_least(NODE_NAME) {
        return Err(Error::NotAcceptable("Request not acceptable.".into()));
    }
    Ok(ident.to_string())
}

async fn show(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<ShowQuery>,
) -> Result<HttpResponse> {
    let ctx = context_of(&req);
    let v = version_of(&req);
    let ident = node_ident(&path, v)?;
    let fields = requested_fields(query.fields.as_deref(), v)?;
    if let Some(f) = &fields {
        check_requested_fields(f, v)?;
    }
    let timeout = state.conf.conductor.heartbeat_timeout;
    let node = state
        .datastore
        .run(move |c| load_node(c, &ident, timeout))
        .await?;
    // Ironic answers 404, not 403, for a node the caller may not see.
    if authorize(
        &state,
        "baremetal:node:get",
        &node_target(&node.row, &ctx),
        &ctx,
    )
    .is_err()
    {
        return Err(Error::NotFound(format!(
            "Node {} could not be found.",
            node.row.uuid
        )));
    }
    let base = base_url(&state, &req);
    Ok(HttpResponse::Ok().json(node.view(v, &base).render(fields.as_deref())))
}

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
    let mut changes = Map::new();
    let mut uuid = None;
    let mut chassis_uuid = None;
    for (key, value) in fields {
        if key == "uuid" {
            if !value.is_null() {
                uuid = Some(
                    checked_uuid(value.as_str().unwrap_or_default()).map_err(|_| {
                        Error::InvalidParameter(format!("Expected a UUID but received {value}."))
                    })?,
                );
            }
            continue;
        }
        let field = writable(key).filter(|f| f.create).ok_or_else(|| {
            Error::InvalidParameter(format!(
                "Schema error for node: Additional properties are not allowed ('{key}' was unexpected)"
            ))
        })?;
        // Ironic lets an explicit null name through at any version.
        let harmless_null = key == "name" && value.is_null();
        if !v.at_least(field.since) && !harmless_null {
            return Err(Error::NotAcceptable("Request not acceptable.".into()));
        }
        if key == "chassis_uuid" && !value.is_null() {
            chassis_uuid = Some(checked_uuid(value.as_str().unwrap_or_default())?);
        }
        set_field(&mut changes, field, value)?;
    }
    // As Ironic: a project-scoped admin creates nodes owned by its project;
    // everyone else needs baremetal:node:create and creates unowned nodes.
    let creds = ctx.policy_credentials();
    let self_owned = ctx.system_scope.is_none()
        && ctx.project_id.is_some()
        && state
            .policy
            .check("baremetal:node:create:self_owned_node", &creds, &creds);
    if self_owned {
        let requested = fields.get("owner").and_then(Value::as_str);
        if requested.is_some_and(|o| Some(o) != ctx.project_id.as_deref()) {
            return Err(Error::InvalidParameter(
                "Cannot create a node as a project scoped admin with an owner other than your own project.".into(),
            ));
        }
        changes.insert("owner".into(), json!(ctx.project_id));
    } else {
        authorize(&state, "baremetal:node:create", &creds, &ctx)?;
    }
    if let Some(Value::String(parent)) = fields.get("parent_node") {
        let owner = changes
            .get("owner")
            .and_then(Value::as_str)
            .map(str::to_string);
        let parent = linked_node(&state, &req, parent, owner.as_deref()).await?;
        changes.insert("parent_node".into(), json!(parent));
    }
    let driver = fields
        .get("driver")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Error::InvalidParameter("Schema error for node: 'driver' is a required property".into())
        })?
        .to_string();
    if let Some(u) = chassis_uuid {
        // Ironic answers 400 here: the request is about the node.
        let found = state
            .datastore
            .run(move |c| chassis_get(c, &u))
            .await
            .map_err(|e| match e {
                Error::NotFound(m) => Error::InvalidParameter(m),
                other => other,
            })?;
        changes.insert("chassis_id".into(), json!(found.id));
    }
    let (driver, warning) = canonical_driver(&driver);
    changes.insert("driver".into(), json!(driver));
    let host = pick_conductor(&state, &driver).await?;
    let uuid = uuid.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let initial = if v.at_least(ENROLL_ON_CREATE) {
        "enroll"
    } else {
        "available"
    };
    // Checked here so a bad field is a 400 before any RPC.
    to_node_changes(changes.clone())?;
    state
        .rpc
        .call(
            &Target::Conductor(host),
            &ctx,
            "create_node",
            json!({"uuid": uuid, "initial_state": initial, "fields": changes}),
            state.rpc_timeout(),
        )
        .await?;
    let timeout = state.conf.conductor.heartbeat_timeout;
    let node = state
        .datastore
        .run(move |c| load_node(c, &uuid, timeout))
        .await?;
    let base = base_url(&state, &req);
    let mut resp = HttpResponse::Created();
    resp.insert_header(("Location", format!("{base}/v1/nodes/{}", node.row.uuid)));
    if let Some(w) = warning {
        tracing::warn!(node = %node.row.uuid, "{w}");
        resp.insert_header(("Warning", format!("299 - \"{w}\"")));
    }
    Ok(resp.json(node.view(v, &base).render(None)))
}

/// The UUID of the node `ident` names, when a node owned by `owner` may
/// link to it (Ironic's `authorize_node_link`): the caller must see it and
/// both must have the same owner. Any failure is the same 400, so a caller
/// learns nothing about nodes it cannot see.
pub(crate) async fn linked_node(
    state: &ApiState,
    req: &HttpRequest,
    ident: &str,
    owner: Option<&str>,
) -> Result<String> {
    let invalid = || {
        Error::InvalidParameter(format!(
            "Unable to apply the requested parent_node '{ident}'. Requested value was invalid."
        ))
    };
    let i = ident.to_string();
    let Ok(row) = state.datastore.run(move |c| node_get(c, &i)).await else {
        return Err(invalid());
    };
    let visible = super::node_access::allowed_on_node(
        state,
        req,
        "baremetal:node:get",
        row.owner.as_deref(),
        row.lessee.as_deref(),
    );
    if !visible || row.owner.as_deref() != owner {
        return Err(invalid());
    }
    Ok(row.uuid)
}

/// `GET /v1/nodes/{node}/children` (1.83): the UUIDs of the node's children
/// the caller may list, and a link to them as a node listing.
async fn children(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let ctx = context_of(&req);
    let v = version_of(&req);
    if !v.at_least(CHILD_NODES) {
        return Err(Error::NotFound("The resource could not be found.".into()));
    }
    let ident = node_ident(&path, v)?;
    let lookup = ident.clone();
    let parent = state.datastore.run(move |c| node_get(c, &lookup)).await?;
    if authorize(
        &state,
        "baremetal:node:get",
        &node_target(&parent, &ctx),
        &ctx,
    )
    .is_err()
    {
        return Err(Error::NotFound(format!("Node {ident} could not be found.")));
    }
    let filter = NodeFilter {
        project: listing_project(&state, &ctx, None)?,
        parent: Some(ParentFilter::ChildrenOf(parent.uuid.clone())),
        ..Default::default()
    };
    let rows = state.datastore.run(move |c| node_list(c, &filter)).await?;
    let base = base_url(&state, &req);
    Ok(HttpResponse::Ok().json(json!({
        "children": rows.iter().map(|r| r.uuid.as_str()).collect::<Vec<_>>(),
        "links": {
            "href": format!("{base}/v1/nodes?parent_node={}", parent.uuid),
            "rel": "children",
        },
    })))
}

/// Classic driver names become their hardware type, with the warning the
/// operator sees in the response and the log (Ironic would answer 400).
pub(crate) fn canonical_driver(driver: &str) -> (String, Option<String>) {
    match crate::drivers::hardware::classic_alias(driver) {
        Some(hw) => (
            hw.to_string(),
            Some(format!(
                "The classic driver {driver} is deprecated; the node uses the hardware type {hw} instead."
            )),
        ),
        None => (driver.to_string(), None),
    }
}

/// A node with its chassis UUID, traits and conductor, by UUID or name.
pub(crate) fn load_node(
    c: &mut crate::db::DbConnection,
    ident: &str,
    heartbeat_timeout: u64,
) -> Result<LoadedNode> {
    let row = node_get(c, ident)?;
    let mut loaded = load_related(c, vec![row], heartbeat_timeout)?;
    loaded
        .pop()
        .ok_or_else(|| Error::Internal("a loaded node vanished".into()))
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

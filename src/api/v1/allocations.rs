//! `/v1/allocations` (1.52+): list, show, create (1.58 backfill), update
//! (1.57: name and extra), delete; and `/v1/nodes/{node}/allocation`.
//! A conductor finds and reserves the node; the API only records intent.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::collection::{collection, Page, SortDir};
use super::field_table::{check_requested, is_logical_name, render, FieldSpec, Gate};
use super::node_access::{allowed_on_node, denied};
use super::views::{json_object, object_column, timestamp};
use crate::api::error::fault_body;
use crate::api::links::{base_url, resource_links};
use crate::api::microversion::Version;
use crate::api::middleware::{context_of, not_found, version_of};
use crate::api::patch::{python_repr, Op};
use crate::api::ApiState;
use crate::auth::policy::owner_target;
use crate::db::datastore::allocation::{
    allocation_get, allocation_list, allocation_resolve_candidates, allocation_update,
    AllocationChanges, AllocationFilter, AllocationWithNode, ALLOCATION_SORT_KEYS,
};
use crate::db::datastore::node::{node_get, NodeRow};
use crate::error::{Error, Result};
use crate::rpc::Target;

/// The allocation API exists from this version on.
pub const ALLOCATIONS_API: Version = Version::new(1, 52);
/// `PATCH /v1/allocations/{id}` (name and extra).
pub const ALLOCATION_UPDATE: Version = Version::new(1, 57);
/// `node` in a new allocation: backfill for an active node.
pub const ALLOCATION_BACKFILL: Version = Version::new(1, 58);
/// The `owner` field and filter.
pub const ALLOCATION_OWNER: Version = Version::new(1, 60);

const NO_API: &str = "The API version does not allow allocations";
const NO_UPDATE: &str = "The API version does not allow updating allocations";

fn string_or_null(v: &Option<String>) -> Value {
    v.as_ref().map_or(Value::Null, |s| json!(s))
}

const BASE: Version = ALLOCATIONS_API;

/// Every attribute of an allocation, in Ironic's order. `owner` is hidden
/// below 1.60, never refused (Ironic refuses it in the query schema, see
/// `check_list_fields`).
pub const ALLOCATION_FIELDS: &[FieldSpec<AllocationWithNode>] = &[
    FieldSpec {
        name: "uuid",
        since: BASE,
        gate: Gate::Refuse,
        get: |a, _| json!(a.allocation.uuid),
    },
    FieldSpec {
        name: "created_at",
        since: BASE,
        gate: Gate::Refuse,
        get: |a, _| timestamp(Some(a.allocation.created_at)),
    },
    FieldSpec {
        name: "updated_at",
        since: BASE,
        gate: Gate::Refuse,
        get: |a, _| timestamp(a.allocation.updated_at),
    },
    FieldSpec {
        name: "candidate_nodes",
        since: BASE,
        gate: Gate::Refuse,
        get: |a, _| json!(a.allocation.candidate_list()),
    },
    FieldSpec {
        name: "extra",
        since: BASE,
        gate: Gate::Refuse,
        get: |a, _| json_object(&a.allocation.extra),
    },
    FieldSpec {
        name: "last_error",
        since: BASE,
        gate: Gate::Refuse,
        get: |a, _| string_or_null(&a.allocation.last_error),
    },
    FieldSpec {
        name: "name",
        since: BASE,
        gate: Gate::Refuse,
        get: |a, _| string_or_null(&a.allocation.name),
    },
    FieldSpec {
        name: "owner",
        since: ALLOCATION_OWNER,
        gate: Gate::Hide,
        get: |a, _| string_or_null(&a.allocation.owner),
    },
    FieldSpec {
        name: "resource_class",
        since: BASE,
        gate: Gate::Refuse,
        get: |a, _| string_or_null(&a.allocation.resource_class),
    },
    FieldSpec {
        name: "state",
        since: BASE,
        gate: Gate::Refuse,
        get: |a, _| json!(a.allocation.state),
    },
    FieldSpec {
        name: "traits",
        since: BASE,
        gate: Gate::Refuse,
        get: |a, _| json!(a.allocation.trait_list()),
    },
    FieldSpec {
        name: "links",
        since: BASE,
        gate: Gate::Refuse,
        get: |a, b| resource_links(b, "allocations", &a.allocation.uuid),
    },
    FieldSpec {
        name: "node_uuid",
        since: BASE,
        gate: Gate::Refuse,
        get: |a, _| string_or_null(&a.node_uuid),
    },
];

/// JSON columns Ironic refuses to sort by (its own message, without quotes).
const UNSORTABLE: &[&str] = &["extra", "candidate_nodes", "traits"];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/allocations", web::get().to(list))
        .route("/v1/allocations/", web::get().to(list))
        .route("/v1/allocations", web::post().to(create))
        .route("/v1/allocations/{ident}", web::get().to(show))
        .route("/v1/allocations/{ident}", web::patch().to(update))
        .route("/v1/allocations/{ident}", web::delete().to(delete))
        .route("/v1/nodes/{node}/allocation", web::get().to(of_node))
        .route(
            "/v1/nodes/{node}/allocation",
            web::delete().to(delete_of_node),
        );
}

/// Ironic's refusal of a verb below its version: 404 for reads, 405 (with
/// a fault body) for writes.
fn below(
    req: &HttpRequest,
    min: Version,
    status: StatusCode,
    message: &str,
) -> Option<HttpResponse> {
    if version_of(req).at_least(min) {
        return None;
    }
    Some(HttpResponse::build(status).json(fault_body(status, message)))
}

/// Whether `rule` allows the caller on an allocation owned by `owner`.
fn allowed(state: &ApiState, req: &HttpRequest, rule: &str, owner: Option<&str>) -> bool {
    let creds = context_of(req).policy_credentials();
    state.policy.check(
        rule,
        &owner_target("allocation", &creds, owner, None),
        &creds,
    )
}

/// The allocation, if the caller may see it and apply `rule` to it.
async fn fetch_authorized(
    state: &ApiState,
    req: &HttpRequest,
    ident: &str,
    rule: &str,
) -> Result<AllocationWithNode> {
    if uuid::Uuid::parse_str(ident).is_err() && !is_logical_name(ident) {
        return Err(Error::InvalidParameter(format!(
            "Expected a logical name or UUID but received {ident}."
        )));
    }
    let i = ident.to_string();
    let a = state.datastore.run(move |c| allocation_get(c, &i)).await?;
    let owner = a.allocation.owner.as_deref();
    if !allowed(state, req, "baremetal:allocation:get", owner) {
        return Err(Error::NotFound(format!(
            "Allocation {ident} could not be found."
        )));
    }
    if !allowed(state, req, rule, owner) {
        return Err(denied(rule));
    }
    Ok(a)
}

fn schema_error(message: String) -> Error {
    Error::InvalidParameter(format!("Schema error: {message}"))
}

/// Names `fields=` may carry at `v` (Ironic's query schema enum).
fn field_names(v: Version) -> Vec<&'static str> {
    let mut names = vec![
        "candidate_nodes",
        "created_at",
        "extra",
        "last_error",
        "links",
        "name",
        "node_uuid",
        "resource_class",
        "state",
        "traits",
        "updated_at",
        "uuid",
    ];
    if v.at_least(ALLOCATION_OWNER) {
        names.push("owner");
    }
    names
}

/// `fields=` of the list and show endpoints, checked by Ironic's schema.
fn check_list_fields(raw: Option<&str>, v: Version) -> Result<Option<Vec<String>>> {
    let Some(raw) = raw else { return Ok(None) };
    let allowed = field_names(v);
    let names: Vec<String> = raw
        .split(',')
        .map(|f| f.trim().to_string())
        .filter(|f| !f.is_empty())
        .collect();
    if let Some(bad) = names.iter().find(|n| !allowed.contains(&n.as_str())) {
        let listed: Vec<String> = allowed.iter().map(|n| format!("'{n}'")).collect();
        return Err(schema_error(format!(
            "'{bad}' is not one of [{}]",
            listed.join(", ")
        )));
    }
    Ok(Some(names))
}

fn uuid_or_name_schema(v: &str) -> Result<()> {
    if uuid::Uuid::parse_str(v).is_ok() || is_logical_name(v) {
        return Ok(());
    }
    Err(schema_error(format!(
        "'{v}' is not valid under any of the given schemas. Possible root cause: '{v}' is not a 'uuid'"
    )))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    node: Option<String>,
    resource_class: Option<String>,
    state: Option<String>,
    owner: Option<String>,
    limit: Option<i64>,
    marker: Option<String>,
    sort_key: Option<String>,
    sort_dir: Option<String>,
    fields: Option<String>,
}

async fn list(
    state: web::Data<ApiState>,
    req: HttpRequest,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    if let Some(r) = below(&req, ALLOCATIONS_API, StatusCode::NOT_FOUND, NO_API) {
        return Ok(r);
    }
    let v = version_of(&req);
    let q = q.into_inner();
    let fields = check_list_fields(q.fields.as_deref(), v)?;
    if let Some(m) = &q.marker {
        if uuid::Uuid::parse_str(m).is_err() {
            return Err(schema_error(format!("'{m}' is not a 'uuid'")));
        }
    }
    if let Some(n) = &q.node {
        uuid_or_name_schema(n)?;
    }
    if let Some(d) = q
        .sort_dir
        .as_deref()
        .filter(|d| !["asc", "desc"].contains(d))
    {
        return Err(schema_error(format!("'{d}' is not one of ['asc', 'desc']")));
    }
    // Ironic's check_list_policy: list_all, else only the caller's project.
    let ctx = context_of(&req);
    let project = ctx.project_id.clone();
    let scoped_owner = if allowed(&state, &req, "baremetal:allocation:list_all", None) {
        q.owner.clone()
    } else {
        match &project {
            Some(p) if q.owner.as_ref().map_or(true, |o| o == p) => {
                if !allowed(&state, &req, "baremetal:allocation:list", None) {
                    return Err(denied("baremetal:allocation:list"));
                }
                Some(p.clone())
            }
            _ => return Err(denied("baremetal:allocation:list_all")),
        }
    };
    if q.owner.is_some() && !v.at_least(ALLOCATION_OWNER) {
        return Err(Error::NotAcceptable("Request not acceptable.".into()));
    }
    let sort_key = q.sort_key.clone().unwrap_or_else(|| "id".into());
    if UNSORTABLE.contains(&sort_key.as_str()) {
        return Err(Error::InvalidParameter(format!(
            "The sort_key value {sort_key} is an invalid field for sorting"
        )));
    }
    let page = Page::from_query(
        q.limit,
        q.marker.clone(),
        Some(sort_key),
        q.sort_dir.clone(),
        state.conf.api.max_limit,
        ALLOCATION_SORT_KEYS,
    )?;
    let node_row = match &q.node {
        Some(n) => Some(visible_node(&state, &req, n, false).await?),
        None => None,
    };
    let p = page.clone();
    let filter = AllocationFilter {
        node_id: node_row.as_ref().map(|n| n.id),
        resource_class: q.resource_class.clone(),
        state: q.state.clone(),
        owner: scoped_owner,
        limit: p.limit,
        marker: p.marker.clone(),
        sort_key: p.sort_key.clone(),
        descending: p.sort_dir == SortDir::Desc,
    };
    let rows = state
        .datastore
        .run(move |c| allocation_list(c, &filter))
        .await?;
    for a in &rows {
        if !allowed(
            &state,
            &req,
            "baremetal:allocation:get",
            a.allocation.owner.as_deref(),
        ) {
            return Err(denied("baremetal:allocation:get"));
        }
    }
    let base = base_url(&state, &req);
    let items = rows
        .iter()
        .map(|a| render(ALLOCATION_FIELDS, a, &base, v, fields.as_deref()))
        .collect();
    let mut args = Vec::new();
    for (k, val) in [
        ("node", &q.node),
        ("resource_class", &q.resource_class),
        ("state", &q.state),
        ("owner", &q.owner),
    ] {
        if let Some(val) = val {
            args.push((k, val.clone()));
        }
    }
    if let Some(f) = &fields {
        args.push(("fields", f.join(",")));
    }
    Ok(HttpResponse::Ok().json(collection(
        "allocations",
        items,
        &page,
        &base,
        "allocations",
        &args,
    )))
}

/// A node named in a request, if the caller may see it. A missing node is
/// a 400 (`as_parent`: a 404) and a hidden one a 404, as Ironic answers.
async fn visible_node(
    state: &ApiState,
    req: &HttpRequest,
    ident: &str,
    as_parent: bool,
) -> Result<NodeRow> {
    let i = ident.to_string();
    let row = state
        .datastore
        .run(move |c| node_get(c, &i))
        .await
        .map_err(|e| match e {
            Error::NotFound(m) if !as_parent => Error::InvalidParameter(m),
            other => other,
        })?;
    let (owner, lessee) = (row.owner.as_deref(), row.lessee.as_deref());
    if !allowed_on_node(state, req, "baremetal:node:get", owner, lessee) {
        return Err(Error::NotFound(format!("Node {ident} could not be found.")));
    }
    Ok(row)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShowQuery {
    fields: Option<String>,
}

async fn show(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<ShowQuery>,
) -> Result<HttpResponse> {
    if let Some(r) = below(&req, ALLOCATIONS_API, StatusCode::NOT_FOUND, NO_API) {
        return Ok(r);
    }
    let v = version_of(&req);
    let fields = check_list_fields(q.fields.as_deref(), v)?;
    let a = fetch_authorized(&state, &req, &path, "baremetal:allocation:get").await?;
    let base = base_url(&state, &req);
    Ok(HttpResponse::Ok().json(render(ALLOCATION_FIELDS, &a, &base, v, fields.as_deref())))
}

/// The allocation of the node that the caller may see, if any.
async fn allocation_of_node(
    state: &ApiState,
    req: &HttpRequest,
    ident: &str,
    as_parent: bool,
) -> Result<Option<AllocationWithNode>> {
    let node = visible_node(state, req, ident, as_parent).await?;
    let filter = AllocationFilter {
        node_id: Some(node.id),
        limit: 1,
        sort_key: "id".into(),
        ..AllocationFilter::default()
    };
    let found = state
        .datastore
        .run(move |c| allocation_list(c, &filter))
        .await?;
    Ok(found.into_iter().next())
}

fn no_allocation_for(ident: &str) -> Error {
    Error::NotFound(format!("Allocation for node {ident} was not found"))
}

/// `GET /v1/nodes/{node}/allocation`.
async fn of_node(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<ShowQuery>,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(ALLOCATIONS_API) {
        return Ok(not_found(req).await);
    }
    let v = version_of(&req);
    let fields = q.fields.as_deref().map(|raw| {
        raw.split(',')
            .map(|f| f.trim().to_string())
            .filter(|f| !f.is_empty())
            .collect::<Vec<_>>()
    });
    let ident = path.into_inner();
    // A missing node is a 400 here: Ironic looks it up as a list filter.
    let a = allocation_of_node(&state, &req, &ident, false).await?;
    let a = a.ok_or_else(|| no_allocation_for(&ident))?;
    if !allowed(
        &state,
        &req,
        "baremetal:allocation:get",
        a.allocation.owner.as_deref(),
    ) {
        return Err(denied("baremetal:allocation:get"));
    }
    if let Some(f) = &fields {
        check_requested(ALLOCATION_FIELDS, f, v)?;
    }
    let base = base_url(&state, &req);
    Ok(HttpResponse::Ok().json(render(ALLOCATION_FIELDS, &a, &base, v, fields.as_deref())))
}

/// `DELETE /v1/nodes/{node}/allocation`.
async fn delete_of_node(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(ALLOCATIONS_API) {
        return Ok(not_found(req).await);
    }
    let ident = path.into_inner();
    let a = allocation_of_node(&state, &req, &ident, true)
        .await?
        .ok_or_else(|| no_allocation_for(&ident))?;
    if !allowed(
        &state,
        &req,
        "baremetal:allocation:delete",
        a.allocation.owner.as_deref(),
    ) {
        return Err(denied("baremetal:allocation:delete"));
    }
    destroy(&state, &req, &a.allocation.uuid).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn destroy(state: &ApiState, req: &HttpRequest, uuid: &str) -> Result<()> {
    state
        .rpc
        .call(
            &Target::AnyConductor,
            &context_of(req),
            "destroy_allocation",
            json!({"uuid": uuid}),
            state.rpc_timeout(),
        )
        .await?;
    Ok(())
}

async fn delete(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    if let Some(r) = below(
        &req,
        ALLOCATIONS_API,
        StatusCode::METHOD_NOT_ALLOWED,
        NO_API,
    ) {
        return Ok(r);
    }
    let a = fetch_authorized(&state, &req, &path, "baremetal:allocation:delete").await?;
    destroy(&state, &req, &a.allocation.uuid).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A new allocation's attributes, validated as Ironic's request schema.
#[derive(Default)]
struct CreateInput {
    candidate_nodes: Vec<String>,
    extra: Option<Value>,
    name: Option<String>,
    node: Option<String>,
    owner: Option<String>,
    owner_given: bool,
    resource_class: Option<String>,
    traits: Vec<String>,
    uuid: Option<String>,
}

fn optional_string(value: &Value) -> Result<Option<String>> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        other => Err(schema_error(format!(
            "{} is not of type 'string', 'null'",
            python_repr(other)
        ))),
    }
}

fn string_list(value: &Value) -> Result<Vec<String>> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                other => Err(schema_error(format!(
                    "{} is not of type 'string'",
                    python_repr(other)
                ))),
            })
            .collect(),
        other => Err(schema_error(format!(
            "{} is not of type 'array', 'null'",
            python_repr(other)
        ))),
    }
}

fn create_input(body: &Value, v: Version) -> Result<CreateInput> {
    let Value::Object(fields) = body else {
        return Err(schema_error(format!(
            "{} is not of type 'object'",
            python_repr(body)
        )));
    };
    let mut known = vec![
        "candidate_nodes",
        "extra",
        "name",
        "owner",
        "resource_class",
        "traits",
        "uuid",
    ];
    if v.at_least(ALLOCATION_BACKFILL) {
        known.push("node");
    }
    let mut unexpected: Vec<String> = fields
        .keys()
        .filter(|k| !known.contains(&k.as_str()))
        .map(|k| format!("'{k}'"))
        .collect();
    if !unexpected.is_empty() {
        unexpected.sort();
        let verb = if unexpected.len() == 1 { "was" } else { "were" };
        return Err(schema_error(format!(
            "Additional properties are not allowed ({} {verb} unexpected)",
            unexpected.join(", ")
        )));
    }
    let mut input = CreateInput::default();
    for (key, value) in fields {
        match key.as_str() {
            "candidate_nodes" => {
                input.candidate_nodes = string_list(value)?;
                for c in &input.candidate_nodes {
                    uuid_or_name_schema(c)?;
                }
            }
            "extra" => match value {
                Value::Null | Value::Object(_) => input.extra = Some(value.clone()),
                other => {
                    return Err(schema_error(format!(
                        "{} is not of type 'object', 'null'",
                        python_repr(other)
                    )))
                }
            },
            "name" => input.name = optional_string(value)?,
            "node" => input.node = optional_string(value)?,
            "owner" => {
                input.owner_given = true;
                input.owner = optional_string(value)?;
            }
            "resource_class" => {
                input.resource_class = optional_string(value)?;
                if input
                    .resource_class
                    .as_ref()
                    .is_some_and(|r| r.chars().count() > 80)
                {
                    return Err(schema_error(format!("{} is too long", python_repr(value))));
                }
            }
            "traits" => {
                input.traits = string_list(value)?;
                for t in &input.traits {
                    super::traits::check_trait("allocation", t).map_err(|e| match e {
                        Error::InvalidParameter(m) => Error::InvalidParameter(m.replacen(
                            "Schema error for allocation:",
                            "Schema error:",
                            1,
                        )),
                        other => other,
                    })?;
                }
            }
            "uuid" => input.uuid = optional_string(value)?,
            _ => {}
        }
    }
    Ok(input)
}

async fn create(
    state: web::Data<ApiState>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    if let Some(r) = below(
        &req,
        ALLOCATIONS_API,
        StatusCode::METHOD_NOT_ALLOWED,
        NO_API,
    ) {
        return Ok(r);
    }
    let v = version_of(&req);
    let mut input = create_input(&body, v)?;
    let ctx = context_of(&req);
    let project = ctx.project_id.clone();
    let owner_too_new = input.owner_given && !v.at_least(ALLOCATION_OWNER);
    // Ironic's _authorize_create_allocation (new defaults enforced).
    if allowed(&state, &req, "baremetal:allocation:create", None) {
        if owner_too_new {
            return Err(Error::NotAcceptable("Request not acceptable.".into()));
        }
    } else {
        if let (Some(p), Some(o)) = (&project, &input.owner) {
            if p != o {
                return Err(denied("baremetal:allocation:create"));
            }
        }
        if !allowed(&state, &req, "baremetal:allocation:create_restricted", None) {
            return Err(denied("baremetal:allocation:create_restricted"));
        }
        if owner_too_new {
            return Err(Error::NotAcceptable("Request not acceptable.".into()));
        }
        input.owner = project.clone();
    }
    if let Some(name) = input.name.as_deref().filter(|n| !n.is_empty()) {
        if !is_logical_name(name) {
            return Err(Error::InvalidParameter(format!(
                "Cannot create allocation with invalid name '{name}'"
            )));
        }
    }
    let restricted = allowed(&state, &req, "baremetal:allocation:create_restricted", None);
    if ctx.system_scope.as_deref() != Some("all") {
        match &input.owner {
            Some(o) if !restricted && Some(o) != project.as_ref() => {
                return Err(Error::Forbidden(format!(
                    "Cannot create allocation with an owner Project ID value {o} not matching the requester Project ID {}. Policy baremetal:allocation:create_restricted is required for this capability.",
                    project.as_deref().unwrap_or("None")
                )));
            }
            Some(_) => {}
            None => input.owner = project.clone(),
        }
    }
    let node = match input.node.as_deref().filter(|n| !n.is_empty()) {
        Some(n) => Some(visible_node(&state, &req, n, false).await?),
        None => None,
    };
    if input.resource_class.as_deref().map_or(true, str::is_empty) {
        match &node {
            Some(n) => input.resource_class = n.resource_class.clone(),
            None => {
                return Err(Error::InvalidParameter(
                    "The resource_class field is mandatory when not backfilling".into(),
                ))
            }
        }
    }
    if !input.candidate_nodes.is_empty() {
        let idents = input.candidate_nodes.clone();
        let scope = (!restricted).then(|| project.clone()).flatten();
        input.candidate_nodes = state
            .datastore
            .run(move |c| allocation_resolve_candidates(c, &idents, scope.as_deref()))
            .await?;
    }
    let uuid = match input.uuid.as_deref().filter(|u| !u.is_empty()) {
        Some(u) if uuid::Uuid::parse_str(u).is_ok() => u.to_string(),
        Some(u) => {
            return Err(Error::InvalidParameter(format!(
                "Expected UUID for uuid: {u}"
            )))
        }
        None => node
            .as_ref()
            .and_then(|n| n.instance_uuid.clone())
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
    };
    let target = match &node {
        Some(n) => Target::Conductor(super::nodes::pick_conductor(&state, &n.driver).await?),
        None => Target::AnyConductor,
    };
    let args = json!({
        "uuid": uuid,
        "name": input.name,
        "resource_class": input.resource_class,
        "traits": input.traits,
        "candidate_nodes": input.candidate_nodes,
        "extra": input.extra,
        "owner": input.owner,
        "node_uuid": node.as_ref().map(|n| n.uuid.clone()),
    });
    let created = state
        .rpc
        .call(
            &target,
            &ctx,
            "create_allocation",
            args,
            state.rpc_timeout(),
        )
        .await?;
    let a: AllocationWithNode = serde_json::from_value(created).map_err(Error::internal)?;
    let base = base_url(&state, &req);
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("{base}/v1/allocations/{}", a.allocation.uuid),
        ))
        .json(render(ALLOCATION_FIELDS, &a, &base, v, None)))
}

/// What an allocation PATCH may name.
const PATCH_ALLOWED_FIELDS: &[&str] = &["name", "extra"];

async fn update(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    if let Some(r) = below(
        &req,
        ALLOCATION_UPDATE,
        StatusCode::METHOD_NOT_ALLOWED,
        NO_UPDATE,
    ) {
        return Ok(r);
    }
    let v = version_of(&req);
    let a = fetch_authorized(&state, &req, &path, "baremetal:allocation:update").await?;
    let ops = crate::api::patch::parse_patch(&body, false)?;
    let doc = json!({
        "name": a.allocation.name,
        "extra": json_object(&a.allocation.extra),
    });
    for op in &ops {
        if op.path == "/name" && op.op != Op::Remove {
            if let Some(Value::String(name)) = &op.value {
                if !name.is_empty() && !is_logical_name(name) {
                    return Err(Error::InvalidParameter(format!(
                        "Cannot update allocation with invalid name '{name}'"
                    )));
                }
            }
        }
    }
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
    let mut changes = AllocationChanges::default();
    if let Some(name) = changed.get("name") {
        changes.name = Some(optional_string(name)?.filter(|n| !n.is_empty()));
    }
    if let Some(extra) = changed.get("extra") {
        changes.extra = Some(object_column("allocation", "extra", extra).map_err(|_| {
            schema_error(format!(
                "{} is not of type 'object', 'null'",
                python_repr(extra)
            ))
        })?);
    }
    let uuid = a.allocation.uuid.clone();
    let a = state
        .datastore
        .run(move |c| allocation_update(c, &uuid, changes))
        .await?;
    let base = base_url(&state, &req);
    Ok(HttpResponse::Ok().json(render(ALLOCATION_FIELDS, &a, &base, v, None)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_is_a_field_name_from_1_60() {
        assert!(check_list_fields(Some("owner"), Version::new(1, 59)).is_err());
        assert_eq!(
            check_list_fields(Some("uuid,owner"), ALLOCATION_OWNER).unwrap(),
            Some(vec!["uuid".to_string(), "owner".to_string()])
        );
    }

    #[test]
    fn node_is_accepted_from_1_58() {
        let body = json!({"node": "n1"});
        let err = create_input(&body, Version::new(1, 57)).err().unwrap();
        assert_eq!(
            err.to_string(),
            "Schema error: Additional properties are not allowed ('node' was unexpected)"
        );
        assert!(create_input(&body, ALLOCATION_BACKFILL).is_ok());
    }
}

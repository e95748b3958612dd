//! `/v1/runbooks` (1.92+): named, ordered clean/service steps that project
//! members may run on nodes that carry a matching trait. Owned by a project
//! or public; from 1.112 a description, free names, and the traits that
//! approve a runbook for nodes (`/v1/runbooks/{ident}/traits`). Also the
//! use of a runbook by `PUT /v1/nodes/{node}/states/provision`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::collection::{collection, requested_fields, ShowQuery, SortDir};
use super::deploy_templates::patched_document;
use super::field_table::{render, strict_bool, FieldSpec, Gate};
use super::node_access::denied;
use super::steps::{
    below_version, check_keys, check_optional, check_optional_string, check_steps,
    check_trait_name, check_visible, checked_ident, list_args, not_of_type, object_body,
    parse_steps, step_view, ListQuery, SchemaErrors, StepRank,
};
use super::traits::{body_json, check_trait, traits_of_body};
use super::views::{json_object, object_column, timestamp};
use crate::api::error::routing_body;
use crate::api::links::{base_url, resource_links};
use crate::api::microversion::Version;
use crate::api::middleware::{context_of, version_of};
use crate::api::patch::python_repr;
use crate::api::ApiState;
use crate::auth::policy::owner_target;
use crate::db::datastore::deploy_template::NewStep;
use crate::db::datastore::node::NodeRow;
use crate::db::datastore::node_trait::node_traits_of;
use crate::db::datastore::runbook::{
    runbook_create, runbook_delete, runbook_get, runbook_list, runbook_trait_add,
    runbook_traits_remove, runbook_traits_set, runbook_update, NewRunbook, Runbook, RunbookChanges,
    RunbookFilter, RUNBOOK_SORT_KEYS,
};
use crate::error::{Error, Result};
use crate::states::Verb;

/// The runbook API exists from this version on.
pub const RUNBOOKS_API: Version = Version::new(1, 92);
/// Runbook traits, `description` and names that need not be traits.
pub const RUNBOOK_TRAITS: Version = Version::new(1, 112);

const BELOW: &str = "The API version does not allow runbooks";
const BELOW_TRAITS: &str = "The API version does not allow runbook traits";

const ONE_OR_ALL: &str = "A single runbook trait may be added via PUT /v1/runbooks/<runbook identifier>/traits/<trait> with no body, or all runbook traits may be replaced via PUT /v1/runbooks/<runbook identifier>/traits with the list of traits specified in the request body.";

const BASE: Version = RUNBOOKS_API;

pub const RUNBOOK_FIELDS: &[FieldSpec<Runbook>] = &[
    FieldSpec {
        name: "uuid",
        since: BASE,
        gate: Gate::Refuse,
        get: |r, _| json!(r.runbook.uuid),
    },
    FieldSpec {
        name: "created_at",
        since: BASE,
        gate: Gate::Refuse,
        get: |r, _| timestamp(Some(r.runbook.created_at)),
    },
    FieldSpec {
        name: "updated_at",
        since: BASE,
        gate: Gate::Refuse,
        get: |r, _| timestamp(r.runbook.updated_at),
    },
    FieldSpec {
        name: "name",
        since: BASE,
        gate: Gate::Refuse,
        get: |r, _| json!(r.runbook.name),
    },
    FieldSpec {
        name: "extra",
        since: BASE,
        gate: Gate::Refuse,
        get: |r, _| json_object(&r.runbook.extra),
    },
    FieldSpec {
        name: "public",
        since: BASE,
        gate: Gate::Refuse,
        get: |r, _| json!(r.runbook.public),
    },
    FieldSpec {
        name: "owner",
        since: BASE,
        gate: Gate::Refuse,
        get: |r, _| json!(r.runbook.owner),
    },
    FieldSpec {
        name: "disable_ramdisk",
        since: BASE,
        gate: Gate::Refuse,
        get: |r, _| json!(r.runbook.disable_ramdisk),
    },
    FieldSpec {
        name: "description",
        since: RUNBOOK_TRAITS,
        gate: Gate::Refuse,
        get: |r, _| json!(r.runbook.description),
    },
    FieldSpec {
        name: "links",
        since: BASE,
        gate: Gate::Refuse,
        get: |r, b| resource_links(b, "runbooks", &r.runbook.uuid),
    },
    FieldSpec {
        name: "steps",
        since: BASE,
        gate: Gate::Refuse,
        get: |r, _| Value::Array(steps_view(r)),
    },
    FieldSpec {
        name: "traits",
        since: RUNBOOK_TRAITS,
        gate: Gate::Refuse,
        get: |r, _| json!(r.traits),
    },
];

const LIST_FIELDS: &[&str] = &["uuid", "name"];
const UNSORTABLE: &[&str] = &["extra", "steps", "traits"];

const PATCH_FIELDS: &[&str] = &[
    "disable_ramdisk",
    "extra",
    "name",
    "owner",
    "public",
    "steps",
];
const PATCH_FIELDS_1_112: &[&str] = &[
    "disable_ramdisk",
    "extra",
    "name",
    "owner",
    "public",
    "steps",
    "description",
];

fn steps_view(r: &Runbook) -> Vec<Value> {
    r.steps
        .iter()
        .map(|s| step_view(&s.interface, &s.step, &s.args, s.rank, StepRank::Order))
        .collect()
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/runbooks", web::get().to(list))
        .route("/v1/runbooks/", web::get().to(list))
        .route("/v1/runbooks", web::post().to(create))
        .route("/v1/runbooks/{ident}", web::get().to(show))
        .route("/v1/runbooks/{ident}", web::patch().to(update))
        .route("/v1/runbooks/{ident}", web::delete().to(delete))
        .route("/v1/runbooks/{ident}/traits", web::get().to(traits_list))
        .route("/v1/runbooks/{ident}/traits", web::put().to(traits_replace))
        .route(
            "/v1/runbooks/{ident}/traits",
            web::delete().to(traits_remove_all),
        )
        .route(
            "/v1/runbooks/{ident}/traits/{trait}",
            web::put().to(trait_add),
        )
        .route(
            "/v1/runbooks/{ident}/traits/{trait}",
            web::delete().to(trait_remove),
        )
        .route(
            "/v1/runbooks/{ident}/traits/{trait}",
            web::get().to(trait_get),
        );
}

fn allowed(req: &HttpRequest) -> Option<HttpResponse> {
    (!version_of(req).at_least(RUNBOOKS_API)).then(|| below_version(req, BELOW))
}

/// The runbook API's gate, then the traits sub-resource's (404 for every
/// method below 1.112).
fn traits_allowed(req: &HttpRequest) -> Option<HttpResponse> {
    allowed(req).or_else(|| {
        (!version_of(req).at_least(RUNBOOK_TRAITS)).then(|| {
            HttpResponse::NotFound().json(routing_body(StatusCode::NOT_FOUND, BELOW_TRAITS))
        })
    })
}

/// Whether `rule` allows the caller on a runbook with this owner.
fn allowed_on(state: &ApiState, req: &HttpRequest, rule: &str, owner: Option<&str>) -> bool {
    let creds = context_of(req).policy_credentials();
    state
        .policy
        .check(rule, &owner_target("runbook", &creds, owner, None), &creds)
}

/// The runbook named or numbered `ident`, if `rule` allows the caller on
/// it (Ironic's `check_runbook_policy_and_retrieve`: 403, not 404).
async fn fetch(state: &ApiState, req: &HttpRequest, ident: &str, rule: &str) -> Result<Runbook> {
    let i = checked_ident(ident, "runbook_ident")?;
    let rb = state.datastore.run(move |c| runbook_get(c, &i)).await?;
    if !allowed_on(state, req, rule, rb.runbook.owner.as_deref()) {
        return Err(denied(rule));
    }
    Ok(rb)
}

async fn list(
    state: web::Data<ApiState>,
    req: HttpRequest,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    if let Some(r) = allowed(&req) {
        return Ok(r);
    }
    let v = version_of(&req);
    if let Some(p) = &q.project {
        strict_bool("project", p)?;
    }
    let ctx = context_of(&req);
    let project = if allowed_on(&state, &req, "baremetal:runbook:list_all", None) {
        None
    } else {
        let p = ctx
            .project_id
            .clone()
            .ok_or_else(|| denied("baremetal:runbook:list_all"))?;
        if !allowed_on(&state, &req, "baremetal:runbook:list", None) {
            return Err(denied("baremetal:runbook:list"));
        }
        Some(p)
    };
    let args = list_args(
        &q,
        v,
        RUNBOOK_FIELDS,
        LIST_FIELDS,
        None,
        UNSORTABLE,
        RUNBOOK_SORT_KEYS,
        state.conf.api.max_limit,
    )?;
    let p = args.page.clone();
    let rows = state
        .datastore
        .run(move |c| {
            runbook_list(
                c,
                &RunbookFilter {
                    project,
                    limit: p.limit,
                    marker: p.marker.clone(),
                    sort_key: p.sort_key.clone(),
                    descending: p.sort_dir == SortDir::Desc,
                },
            )
        })
        .await?;
    let base = base_url(&state, &req);
    let items = rows
        .iter()
        .map(|r| render(RUNBOOK_FIELDS, r, &base, v, args.only.as_deref()))
        .collect();
    Ok(HttpResponse::Ok().json(collection(
        "runbooks", items, &args.page, &base, "runbooks", &args.echo,
    )))
}

async fn show(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<ShowQuery>,
) -> Result<HttpResponse> {
    if let Some(r) = allowed(&req) {
        return Ok(r);
    }
    let v = version_of(&req);
    let fields = requested_fields(q.fields.as_deref(), v)?;
    let rb = match fetch(&state, &req, &path, "baremetal:runbook:get").await {
        // A runbook the caller may not read is still shown when public.
        Err(Error::Forbidden(m)) => {
            let i = path.clone();
            let rb = state.datastore.run(move |c| runbook_get(c, &i)).await?;
            if !rb.runbook.public {
                return Err(Error::Forbidden(m));
            }
            rb
        }
        other => other?,
    };
    if let Some(f) = &fields {
        check_visible(RUNBOOK_FIELDS, f, v)?;
    }
    let base = base_url(&state, &req);
    Ok(HttpResponse::Ok().json(render(RUNBOOK_FIELDS, &rb, &base, v, fields.as_deref())))
}

/// A runbook body validated as Ironic's schema for the version (`modern`:
/// the 1.112 mutation schema), then its duplicate-step and UUID checks.
struct RunbookInput {
    name: String,
    steps: Vec<NewStep>,
    uuid: Option<String>,
    description: Option<String>,
    public: bool,
    owner: Option<String>,
    disable_ramdisk: bool,
    extra: Option<String>,
}

fn runbook_input(body: &Value, what: &str, modern: bool) -> Result<RunbookInput> {
    let m = object_body(body, what)?;
    let keys: &[&str] = if modern {
        &[
            "uuid",
            "name",
            "steps",
            "disable_ramdisk",
            "extra",
            "public",
            "owner",
            "description",
        ]
    } else {
        &[
            "uuid",
            "name",
            "steps",
            "disable_ramdisk",
            "extra",
            "public",
            "owner",
        ]
    };
    let mut errs = SchemaErrors::default();
    check_keys(&mut errs, 0, m, &["steps", "name"], keys);
    for key in keys {
        let Some(val) = m.get(*key) else { continue };
        match *key {
            "uuid" => {
                if !val.is_null() && !val.is_string() {
                    errs.push(1, false, not_of_type(val, "'string', 'null'"));
                }
            }
            "name" if modern => check_runbook_name(&mut errs, val),
            "name" => check_trait_name(&mut errs, 1, val),
            "steps" => check_steps(&mut errs, 1, val, StepRank::Order),
            "extra" => check_optional(&mut errs, 1, val, "object"),
            "disable_ramdisk" | "public" => check_optional(&mut errs, 1, val, "boolean"),
            _ => check_optional_string(&mut errs, 1, val, 255),
        }
    }
    errs.into_result(what)?;
    let steps = parse_steps(&m["steps"], StepRank::Order)?
        .into_iter()
        .map(|s| NewStep {
            interface: s.interface,
            step: s.step,
            args: s.args,
            rank: s.rank,
        })
        .collect();
    let uuid = match m.get("uuid").and_then(Value::as_str) {
        Some(u) if uuid::Uuid::parse_str(u).is_err() => {
            return Err(Error::InvalidParameter(format!(
                "Expected UUID for uuid: {u}"
            )))
        }
        other => other.map(str::to_string),
    };
    let text = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
    let flag = |k: &str| m.get(k).and_then(Value::as_bool).unwrap_or(false);
    Ok(RunbookInput {
        name: text("name").unwrap_or_default(),
        steps,
        uuid,
        description: text("description"),
        public: flag("public"),
        owner: text("owner"),
        disable_ramdisk: flag("disable_ramdisk"),
        extra: object_column("runbook", "extra", m.get("extra").unwrap_or(&Value::Null))?,
    })
}

/// 1.112's `RUNBOOK_NAME_SCHEMA`: 1–255 RFC 3986 unreserved characters.
fn check_runbook_name(errs: &mut SchemaErrors, val: &Value) {
    match val {
        Value::String(s) if s.is_empty() => errs.push(1, false, "'' should be non-empty".into()),
        Value::String(s) if s.chars().count() > 255 => {
            errs.push(1, false, format!("{} is too long", python_repr(val)))
        }
        Value::String(s)
            if !s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c)) =>
        {
            errs.push(
                1,
                false,
                format!(
                    r"{} does not match '^[A-Za-z0-9\\-._~]+$'",
                    python_repr(val)
                ),
            )
        }
        Value::String(_) => {}
        _ => errs.push(1, false, not_of_type(val, "'string'")),
    }
}

async fn create(
    state: web::Data<ApiState>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    if let Some(r) = allowed(&req) {
        return Ok(r);
    }
    let v = version_of(&req);
    if !allowed_on(&state, &req, "baremetal:runbook:create", None) {
        return Err(denied("baremetal:runbook:create"));
    }
    let mut input = runbook_input(&body, "runbook", v.at_least(RUNBOOK_TRAITS))?;
    let ctx = context_of(&req);
    if ctx.system_scope.as_deref() != Some("all") {
        let project = ctx.project_id.clone();
        if input.owner.is_some() && input.owner != project {
            return Err(Error::InvalidParameter(
                "Cannot create a runbook as a project scoped admin with an owner other than your own project.".into(),
            ));
        }
        if project.is_some() && input.public {
            return Err(Error::InvalidParameter(
                "Cannot create a public runbook as a project scoped admin.".into(),
            ));
        }
        input.owner = project;
    }
    let new = NewRunbook {
        uuid: input
            .uuid
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        name: input.name,
        description: input.description,
        public: input.public,
        owner: input.owner,
        disable_ramdisk: input.disable_ramdisk,
        extra: input.extra,
        created_at: crate::db::datastore::now(),
    };
    let steps = input.steps;
    let rb = state
        .datastore
        .run(move |c| runbook_create(c, new, steps))
        .await?;
    let base = base_url(&state, &req);
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("{base}/v1/runbooks/{}", rb.runbook.uuid),
        ))
        .json(render(RUNBOOK_FIELDS, &rb, &base, v, None)))
}

/// The rules a patch needs, in Ironic's order: `owner` and `public` have
/// their own; anything else (or nothing) needs the generic one.
fn patch_rules(body: &Value) -> Vec<&'static str> {
    let mut rules = Vec::new();
    let mut generic = false;
    for op in body.as_array().into_iter().flatten() {
        let path = op["path"].as_str().unwrap_or("");
        if path.starts_with("/owner") {
            rules.push("baremetal:runbook:update:owner");
        } else if path.starts_with("/public") {
            rules.push("baremetal:runbook:update:public");
        } else {
            generic = true;
        }
    }
    if generic || rules.is_empty() {
        rules.push("baremetal:runbook:update");
    }
    rules
}

/// Ironic's `get_patch_values`: the values given to exactly `path`.
fn patch_values<'a>(body: &'a Value, path: &str) -> Vec<&'a Value> {
    body.as_array()
        .into_iter()
        .flatten()
        .filter(|op| op["path"] == path && op["op"] != "remove")
        .map(|op| &op["value"])
        .collect()
}

fn patch_document(rb: &Runbook) -> Value {
    let steps: Vec<Value> = rb
        .steps
        .iter()
        .map(|s| {
            json!({
                "interface": s.interface,
                "step": s.step,
                "args": serde_json::from_str::<Value>(&s.args).unwrap_or_else(|_| json!({})),
                "order": s.rank,
            })
        })
        .collect();
    let r = &rb.runbook;
    json!({
        "uuid": r.uuid,
        "name": r.name,
        "description": r.description,
        "public": r.public,
        "owner": r.owner,
        "disable_ramdisk": r.disable_ramdisk,
        "extra": json_object(&r.extra),
        "steps": steps,
    })
}

async fn update(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    if let Some(r) = allowed(&req) {
        return Ok(r);
    }
    let v = version_of(&req);
    let fields = if v.at_least(RUNBOOK_TRAITS) {
        PATCH_FIELDS_1_112
    } else {
        PATCH_FIELDS
    };
    let ops = crate::api::patch::parse_patch(&body, false)?;
    for op in &ops {
        let field = op.path.split('/').nth(1).unwrap_or("");
        if !fields.contains(&field) {
            return Err(Error::InvalidParameter(format!(
                "Cannot patch {}. Only the following can be updated: {}",
                op.path,
                fields.join(", ")
            )));
        }
    }
    let rules = patch_rules(&body);
    let rb = fetch(&state, &req, &path, rules[0]).await?;
    for rule in &rules[1..] {
        if !allowed_on(&state, &req, rule, rb.runbook.owner.as_deref()) {
            return Err(denied(rule));
        }
    }
    let owner = patch_values(&body, "/owner");
    let public = patch_values(&body, "/public");
    if !owner.is_empty() {
        let public_value = public.first().is_some_and(|p| truthy(p));
        if (rb.runbook.public && public.is_empty()) || public_value {
            return Err(Error::InvalidParameter(format!(
                "Couldn't apply patch '{}'. Reason: There cannot be an owner for a public runbook",
                python_repr(&body)
            )));
        }
    }
    let mut doc = patch_document(&rb);
    if !public.is_empty() {
        doc["owner"] = Value::Null;
    }
    let (patched, ops) = patched_document(&doc, &body, fields, StepRank::Order)?;
    // Ironic validates every patch with the 1.112 schema, so names made at
    // 1.112 stay patchable at older versions.
    let input = runbook_input(&Value::Object(patched.clone()), "patch", true)?;
    let r = &rb.runbook;
    let changed = |k: &str| patched.get(k) != doc.get(k) || (k == "owner" && !public.is_empty());
    let changes = RunbookChanges {
        name: (input.name != r.name).then_some(input.name),
        description: changed("description").then_some(input.description),
        public: changed("public").then_some(input.public),
        owner: changed("owner").then_some(input.owner),
        disable_ramdisk: changed("disable_ramdisk").then_some(input.disable_ramdisk),
        extra: changed("extra").then_some(input.extra),
        updated_at: None,
    };
    let steps = ops
        .iter()
        .any(|op| op.path.split('/').nth(1) == Some("steps"))
        .then_some(input.steps);
    let uuid = r.uuid.clone();
    let rb = state
        .datastore
        .run(move |c| runbook_update(c, &uuid, changes, steps))
        .await?;
    let base = base_url(&state, &req);
    Ok(HttpResponse::Ok().json(render(RUNBOOK_FIELDS, &rb, &base, v, None)))
}

/// Python truthiness of a JSON value, as Ironic's checks use it.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

async fn delete(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    if let Some(r) = allowed(&req) {
        return Ok(r);
    }
    let rb = fetch(&state, &req, &path, "baremetal:runbook:delete").await?;
    let uuid = rb.runbook.uuid;
    state
        .datastore
        .run(move |c| runbook_delete(c, &uuid))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn traits_list(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    if let Some(r) = traits_allowed(&req) {
        return Ok(r);
    }
    let rb = fetch(&state, &req, &path, "baremetal:runbook:get").await?;
    Ok(HttpResponse::Ok().json(json!({"traits": rb.traits})))
}

async fn traits_replace(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    if let Some(r) = traits_allowed(&req) {
        return Ok(r);
    }
    let traits = match body_json(&body)? {
        Some(b) => traits_of_body(&b)?,
        None => None,
    };
    let rb = fetch(&state, &req, &path, "baremetal:runbook:update").await?;
    let traits = traits.ok_or_else(|| Error::InvalidParameter(ONE_OR_ALL.into()))?;
    let id = rb.runbook.id;
    state
        .datastore
        .run(move |c| runbook_traits_set(c, id, &traits))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn trait_add(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    if let Some(r) = traits_allowed(&req) {
        return Ok(r);
    }
    let (ident, t) = path.into_inner();
    check_trait("trait", &t)?;
    let body = body_json(&body)?;
    if let Some(b) = &body {
        traits_of_body(b)?;
    }
    let rb = fetch(&state, &req, &ident, "baremetal:runbook:update").await?;
    match &body {
        Some(Value::Object(m)) if m.contains_key("traits") => {
            return Err(Error::InvalidParameter(ONE_OR_ALL.into()))
        }
        Some(Value::Object(m)) if !m.is_empty() => {
            return Err(Error::InvalidParameter(
                "No body should be provided when adding a trait".into(),
            ))
        }
        _ => {}
    }
    let (id, added) = (rb.runbook.id, t.clone());
    state
        .datastore
        .run(move |c| runbook_trait_add(c, id, &added))
        .await?;
    Ok(HttpResponse::NoContent()
        .insert_header((
            "Location",
            format!("{}/v1/runbooks/{ident}/traits/{t}", base_url(&state, &req)),
        ))
        .finish())
}

async fn traits_remove_all(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    if let Some(r) = traits_allowed(&req) {
        return Ok(r);
    }
    let rb = fetch(&state, &req, &path, "baremetal:runbook:update").await?;
    let id = rb.runbook.id;
    state
        .datastore
        .run(move |c| runbook_traits_remove(c, id, None))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn trait_remove(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    if let Some(r) = traits_allowed(&req) {
        return Ok(r);
    }
    let (ident, t) = path.into_inner();
    let rb = fetch(&state, &req, &ident, "baremetal:runbook:update").await?;
    let id = rb.runbook.id;
    state
        .datastore
        .run(move |c| runbook_traits_remove(c, id, Some(&t)))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A single trait has no GET in Ironic.
async fn trait_get(req: HttpRequest) -> HttpResponse {
    if let Some(r) = traits_allowed(&req) {
        return r;
    }
    HttpResponse::MethodNotAllowed().json(routing_body(StatusCode::METHOD_NOT_ALLOWED, ""))
}

fn bad_request(message: String) -> Error {
    Error::InvalidParameter(message)
}

/// `PUT /v1/nodes/{node}/states/provision` with a `runbook` (1.92+):
/// Ironic's `_handle_runbook`. The caller must be allowed to use the
/// runbook and the node must carry its name (below 1.112) or one of its
/// traits; its steps then become the request's `clean_steps` (or
/// `service_steps`). Below 1.92 the body is left for the body check (406).
pub async fn apply_runbook(
    state: &ApiState,
    req: &HttpRequest,
    node: &NodeRow,
    verb: Verb,
    body: &mut Value,
) -> Result<()> {
    let v = version_of(req);
    let Some(ident) = body.get("runbook").filter(|r| !r.is_null()).cloned() else {
        return Ok(());
    };
    if !v.at_least(RUNBOOKS_API) {
        return Ok(());
    }
    let Value::String(ident) = ident else {
        return Err(bad_request(format!(
            "Invalid runbook: {} is not a string",
            python_repr(&ident)
        )));
    };
    if uuid::Uuid::parse_str(&ident).is_err() && !super::field_table::is_logical_name(&ident) {
        return Err(bad_request(format!(
            "Expected a logical name or UUID but received {ident}."
        )));
    }
    let rb = fetch(state, req, &ident, "baremetal:runbook:use").await?;
    let node_id = node.id;
    let node_traits = state
        .datastore
        .run(move |c| node_traits_of(c, &[node_id]))
        .await?
        .remove(&node_id)
        .unwrap_or_default();
    if v.at_least(RUNBOOK_TRAITS) {
        if rb.traits.is_empty() {
            return Err(bad_request(format!(
                "Runbook {} has no traits configured. Please ask an administrator to add traits to the runbook.",
                rb.runbook.uuid
            )));
        }
        if !rb.traits.iter().any(|t| node_traits.contains(t)) {
            return Err(bad_request(format!(
                "This runbook has not been approved for use on this node {}. The node does not have any of the runbook's traits {}. Please ask an administrator to add a matching trait to your node.",
                node.uuid,
                python_repr(&json!(rb.traits))
            )));
        }
    } else if !node_traits.contains(&rb.runbook.name) {
        return Err(bad_request(format!(
            "This runbook has not been approved for use on this node {}. Please ask an administrator to add it to your node traits.",
            node.uuid
        )));
    }
    let key = match verb {
        Verb::Clean => "clean_steps",
        Verb::Service => "service_steps",
        // The runbook's disable_ramdisk flag is always given, and Ironic
        // then refuses any other target.
        _ => {
            return Err(bad_request(
                "disable_ramdisk is supported only with manual cleaning or servicing".into(),
            ))
        }
    };
    let Some(map) = body.as_object_mut() else {
        return Ok(());
    };
    if map.get(key).is_some_and(truthy) {
        return Err(bad_request(format!(
            "Please provide either \"{key}\" or a runbook, but not both."
        )));
    }
    map.insert(key.into(), Value::Array(steps_view_unmasked(&rb)));
    Ok(())
}

/// The runbook's steps as the conductor receives them (real arguments).
fn steps_view_unmasked(rb: &Runbook) -> Vec<Value> {
    patch_document(rb)["steps"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

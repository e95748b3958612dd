//! `/v1/runbooks` (1.92+): named, ordered clean/service steps that project
//! members may run on nodes that carry a matching trait. Owned by a project
//! or public; from 1.112 a description, free names, and the traits that
//! approve a runbook for nodes (`/v1/runbooks/{ident}/traits`). Also the
//! use of a runbook by `PUT /v1/nodes/{node}/states/provision`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::field_table::{strict_bool, FieldSpec};
use super::node_access::denied;
use super::step_resources::{
    gate, optional_uuid, patched_document, patched_steps, rule, step_resource_fields,
    steps_unmasked, Common, StepResource,
};
use super::steps::{
    check_keys, check_optional, check_optional_string, check_steps, check_trait_name,
    checked_ident, not_of_type, object_body, parse_steps, ListArgs, ListQuery, SchemaErrors,
    StepRank,
};
use super::traits::{body_json, check_trait, traits_of_body};
use super::views::{json_object, object_column};
use crate::api::error::routing_body;
use crate::api::links::base_url;
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
use crate::db::DbConnection;
use crate::error::{Error, Result};
use crate::states::Verb;

/// The runbook API exists from this version on.
pub const RUNBOOKS_API: Version = Version::new(1, 92);
/// Runbook traits, `description` and names that need not be traits.
pub const RUNBOOK_TRAITS: Version = Version::new(1, 112);

const BELOW_TRAITS: &str = "The API version does not allow runbook traits";

const ONE_OR_ALL: &str = "A single runbook trait may be added via PUT /v1/runbooks/<runbook identifier>/traits/<trait> with no body, or all runbook traits may be replaced via PUT /v1/runbooks/<runbook identifier>/traits with the list of traits specified in the request body.";

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

pub fn routes(cfg: &mut web::ServiceConfig) {
    super::step_resources::routes::<Runbook>(cfg);
    cfg.route("/v1/runbooks/{ident}/traits", web::get().to(traits_list))
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

impl StepResource for Runbook {
    const COLLECTION: &'static str = "runbooks";
    const SINCE: Version = RUNBOOKS_API;
    const BELOW: &'static str = "The API version does not allow runbooks";
    const IDENT: &'static str = "runbook_ident";
    const POLICY: &'static str = "runbook";
    const RANK: StepRank = StepRank::Order;
    const FIELDS: &'static [FieldSpec<Self>] = step_resource_fields!(RUNBOOKS_API;
        FieldSpec::new("public", RUNBOOKS_API, |r, _| json!(r.runbook.public)),
        FieldSpec::new("owner", RUNBOOKS_API, |r, _| json!(r.runbook.owner)),
        FieldSpec::new("disable_ramdisk", RUNBOOKS_API, |r, _| json!(r.runbook.disable_ramdisk)),
        FieldSpec::new("description", RUNBOOK_TRAITS, |r, _| json!(r.runbook.description)),
        FieldSpec::new("traits", RUNBOOK_TRAITS, |r, _| json!(r.traits)),
    );
    const UNSORTABLE: &'static [&'static str] = &["extra", "steps", "traits"];
    const SORT_KEYS: &'static [&'static str] = RUNBOOK_SORT_KEYS;

    fn common(&self) -> Common<'_> {
        let r = &self.runbook;
        Common {
            uuid: &r.uuid,
            name: &r.name,
            extra: &r.extra,
            created_at: r.created_at,
            updated_at: r.updated_at,
            steps: &self.steps,
        }
    }

    /// Ironic's `check_runbook_policy_and_retrieve`: 403, not 404.
    async fn fetch(state: &ApiState, req: &HttpRequest, ident: &str, rule: &str) -> Result<Self> {
        let i = checked_ident(ident, Self::IDENT)?;
        let rb = state.datastore.run(move |c| runbook_get(c, &i)).await?;
        if !allowed_on(state, req, rule, rb.runbook.owner.as_deref()) {
            return Err(denied(rule));
        }
        Ok(rb)
    }

    /// A runbook the caller may not read is still shown when public.
    async fn fetch_shown(state: &ApiState, req: &HttpRequest, ident: &str) -> Result<Self> {
        match Self::fetch(state, req, ident, &rule::<Self>("get")).await {
            Err(Error::Forbidden(m)) => {
                let i = ident.to_string();
                let rb = state.datastore.run(move |c| runbook_get(c, &i)).await?;
                if !rb.runbook.public {
                    return Err(Error::Forbidden(m));
                }
                Ok(rb)
            }
            other => other,
        }
    }

    async fn list(
        state: &ApiState,
        req: &HttpRequest,
        q: &ListQuery,
    ) -> Result<(Vec<Self>, ListArgs)> {
        if let Some(p) = &q.project {
            strict_bool("project", p)?;
        }
        let project = if allowed_on(state, req, "baremetal:runbook:list_all", None) {
            None
        } else {
            let p = context_of(req)
                .project_id
                .clone()
                .ok_or_else(|| denied("baremetal:runbook:list_all"))?;
            if !allowed_on(state, req, "baremetal:runbook:list", None) {
                return Err(denied("baremetal:runbook:list"));
            }
            Some(p)
        };
        let args = Self::list_args(q, version_of(req), state.conf.api.max_limit)?;
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
                        descending: p.descending(),
                    },
                )
            })
            .await?;
        Ok((rows, args))
    }

    async fn create(state: &ApiState, req: &HttpRequest, body: &Value) -> Result<Self> {
        let v = version_of(req);
        if !allowed_on(state, req, "baremetal:runbook:create", None) {
            return Err(denied("baremetal:runbook:create"));
        }
        let mut input = runbook_input(body, "runbook", v.at_least(RUNBOOK_TRAITS))?;
        let ctx = context_of(req);
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
        state
            .datastore
            .run(move |c| runbook_create(c, new, steps))
            .await
    }

    async fn update(
        state: &ApiState,
        req: &HttpRequest,
        ident: &str,
        body: &Value,
    ) -> Result<Self> {
        let v = version_of(req);
        let fields = if v.at_least(RUNBOOK_TRAITS) {
            PATCH_FIELDS_1_112
        } else {
            PATCH_FIELDS
        };
        let ops = crate::api::patch::parse_patch(body, false)?;
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
        let rules = patch_rules(body);
        let rb = Self::fetch(state, req, ident, rules[0]).await?;
        for rule in &rules[1..] {
            if !allowed_on(state, req, rule, rb.runbook.owner.as_deref()) {
                return Err(denied(rule));
            }
        }
        let owner = patch_values(body, "/owner");
        let public = patch_values(body, "/public");
        if !owner.is_empty() {
            let public_value = public.first().is_some_and(|p| truthy(p));
            if (rb.runbook.public && public.is_empty()) || public_value {
                return Err(Error::InvalidParameter(format!(
                    "Couldn't apply patch '{}'. Reason: There cannot be an owner for a public runbook",
                    python_repr(body)
                )));
            }
        }
        let mut doc = patch_document(&rb);
        if !public.is_empty() {
            doc["owner"] = Value::Null;
        }
        let (patched, ops) = patched_document(&doc, body, fields, Self::RANK)?;
        // Ironic validates every patch with the 1.112 schema, so names made at
        // 1.112 stay patchable at older versions.
        let input = runbook_input(&Value::Object(patched.clone()), "patch", true)?;
        let r = &rb.runbook;
        let changed =
            |k: &str| patched.get(k) != doc.get(k) || (k == "owner" && !public.is_empty());
        let changes = RunbookChanges {
            name: (input.name != r.name).then_some(input.name),
            description: changed("description").then_some(input.description),
            public: changed("public").then_some(input.public),
            owner: changed("owner").then_some(input.owner),
            disable_ramdisk: changed("disable_ramdisk").then_some(input.disable_ramdisk),
            extra: changed("extra").then_some(input.extra),
            updated_at: None,
        };
        let steps = patched_steps(&ops, input.steps);
        let uuid = r.uuid.clone();
        state
            .datastore
            .run(move |c| runbook_update(c, &uuid, changes, steps))
            .await
    }

    fn delete(c: &mut DbConnection, uuid: &str) -> Result<()> {
        runbook_delete(c, uuid)
    }
}

/// The runbook API's gate, then the traits sub-resource's (404 for every
/// method below 1.112).
fn traits_allowed(req: &HttpRequest) -> Option<HttpResponse> {
    gate::<Runbook>(req).or_else(|| {
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
    let steps = parse_steps(&m["steps"], StepRank::Order)?;
    let uuid = optional_uuid(m)?;
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

/// The runbook as Ironic's `as_dict` gives it to a patch.
fn patch_document(rb: &Runbook) -> Value {
    let steps = steps_unmasked(&rb.steps, StepRank::Order);
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

async fn traits_list(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    if let Some(r) = traits_allowed(&req) {
        return Ok(r);
    }
    let rb = Runbook::fetch(&state, &req, &path, "baremetal:runbook:get").await?;
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
    let rb = Runbook::fetch(&state, &req, &path, "baremetal:runbook:update").await?;
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
    let rb = Runbook::fetch(&state, &req, &ident, "baremetal:runbook:update").await?;
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
    let rb = Runbook::fetch(&state, &req, &path, "baremetal:runbook:update").await?;
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
    let rb = Runbook::fetch(&state, &req, &ident, "baremetal:runbook:update").await?;
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
    let rb = Runbook::fetch(state, req, &ident, "baremetal:runbook:use").await?;
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
    map.insert(
        key.into(),
        Value::Array(steps_unmasked(&rb.steps, StepRank::Order)),
    );
    Ok(())
}
